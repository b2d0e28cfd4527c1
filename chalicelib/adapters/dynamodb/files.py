"""A dossier's files on the dossier-files table (services/ports.FileRecords): one partition per dossier."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from ...services.ports import VerifiedFile
from .errors import condition_failed
from .models import FileModel

ACCESS = "access"


class FileRepository:
    def add_pending(self, record: dict[str, Any], expires_at: int) -> None:
        item = FileModel(record["dossier"], f"file#{record['id']}", state="pending", data=record,
                         expires=datetime.fromtimestamp(expires_at, UTC))
        item.save(condition=FileModel.sk.does_not_exist())

    def get(self, code: str, file_id: str) -> dict[str, Any] | None:
        try:
            item = FileModel.get(code, f"file#{file_id}", consistent_read=True)
        except FileModel.DoesNotExist:
            return None
        return _record(item)

    def of_dossier(self, code: str) -> list[dict[str, Any]]:
        items = FileModel.query(code, FileModel.sk.startswith("file#"), consistent_read=True)
        records = [_record(i) for i in items]
        return sorted(records, key=lambda r: (r.get("at", ""), r["id"]))

    def latest_of_applicant(self, applicant_key: str, component: str) -> tuple[str, str] | None:
        """The (dossier, file) most recently digitised for this applicant and component."""
        items = FileModel.query(applicant_key, FileModel.sk.startswith(f"{component}#"), scan_index_forward=False,
                                limit=1)
        for item in items:
            return str(item.data["dossier"]), str(item.data["file"])
        return None

    def remove_pending(self, code: str, file_id: str) -> None:
        from pynamodb.exceptions import DeleteError

        try:
            FileModel(code, f"file#{file_id}").delete(condition=FileModel.state == "pending")
        except DeleteError as exc:
            if not condition_failed(exc):
                raise

    def set_access_hash(self, code: str, secret_hash: str, at: str, by: str) -> None:
        FileModel(code, ACCESS, data={"hash": secret_hash, "at": at, "by": by}).save()

    def access_hash(self, code: str) -> str | None:
        try:
            item = FileModel.get(code, ACCESS, consistent_read=True)
        except FileModel.DoesNotExist:
            return None
        value = item.data.get("hash")
        return str(value) if value else None

    def record_download(self, code: str, entry: dict[str, Any]) -> None:
        # Listed in the order they happened: two downloads in the same second (or under a moved clock that stands
        # still) are ordered by the real time of their writing, not by their random ids.
        FileModel(code, f"download#{entry['at']}#{time.time_ns():020d}#{entry['id']}", data=entry).save(
            condition=FileModel.sk.does_not_exist())

    def downloads(self, code: str) -> list[dict[str, Any]]:
        return [dict(i.data) for i in FileModel.query(code, FileModel.sk.startswith("download#"),
                                                      consistent_read=True)]


def verified_items(file: VerifiedFile) -> list[tuple[FileModel, Any]]:
    """The items (with their conditions) that keep a verified file, for the dossier's transaction
    (adapters/dynamodb/dossiers.py): the record, and the applicant's reuse index entry of a component."""
    record = file.record
    condition = FileModel.state == "pending" if file.pending else FileModel.sk.does_not_exist()
    items: list[tuple[FileModel, Any]] = [
        (FileModel(record["dossier"], f"file#{record['id']}", state="verified", data=record, expires=None), condition)]
    if file.applicant_key is not None and record["kind"] == "component":
        items.append((FileModel(file.applicant_key, _reuse_sk(record), data={
            "dossier": record["dossier"], "file": record["id"]}), None))
    return items


def _reuse_sk(record: dict[str, Any]) -> str:
    return f"{record['component']}#{record['verified_at']}#{record['dossier']}#{record['id']}"


def _record(item: FileModel) -> dict[str, Any]:
    return {**item.data, "state": item.state}
