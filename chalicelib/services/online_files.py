"""Files an online dossier carries: references a portal sends in an inbound message (docs/inbound.md, "Files").

Each reference names a component of the procedure's document list, the file's name, type, size and SHA-256, and
the URL to fetch it from. Every reference is fetched and verified before the message acts: bounded in time and
size, https to a public host only (the webhook target check, domain/webhooks.py, and its guarded connection),
and the bytes checked exactly as a desk upload is at finalise (domain/documents.py check_declared, check_stored).
One reference that fails rejects the whole message, its reason naming the file: the portal resends a corrected
message, and no dossier exists with a component silently missing. The verified bytes wait under `pending/` (the
bucket's lifecycle rule removes them if the message then fails); once the dossier is written they become its
files through the desk's own path (the record written with its document.digitised event).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..config import settings
from ..domain.documents import applicant_key, check_declared, check_stored
from ..domain.dossier import Dossier
from ..domain.errors import DomainError, FieldProblem, InvalidInput, StaleVersion
from ..domain.webhooks import check_target
from ..observability import logger
from . import documents
from .deps import Deps
from .ports import FetchFailed, FileConflict, FileFetcher, FileRecords, FileStorage, VerifiedFile

HEAD_BYTES = 64  # enough for every signature domain/documents.py sniffs
# All of a message's files are fetched within this, so its answer comes before API Gateway's 29 s are out.
FETCH_BUDGET_SECONDS = 20.0
MIN_FETCH_SECONDS = 0.5


@dataclass(frozen=True)
class Fetched:
    """A verified reference, its bytes waiting at `pending_key`."""

    id: str
    reference: dict[str, Any]
    pending_key: str


def _ports(deps: Deps) -> tuple[FileStorage, FileRecords, FileFetcher]:
    if deps.files is None or deps.file_records is None or deps.fetcher is None:
        raise InvalidInput("this deployment keeps no files", [FieldProblem(
            "data.files", "file storage is not configured here (MOTCUA_FILES_BUCKET): send the message without "
                          "files, or to a deployment that keeps them")])
    return deps.files, deps.file_records, deps.fetcher


def fetch_all(deps: Deps, references: list[dict[str, Any]], listed: list[str],
              held: list[dict[str, Any]]) -> list[Fetched]:
    """Fetch and verify every reference (InvalidInput naming `data.files[i]` for the first that fails); the
    bytes of all of them stored under `pending/`. `listed`: the procedure's document list; `held`: the dossier's
    files so far (its quota counts them)."""
    if not references:
        return []
    storage, _, fetcher = _ports(deps)
    f = settings().files
    limits = documents.file_limits()
    count, total = len(held), sum(int(r["size"]) for r in held)
    fetched: list[Fetched] = []
    deadline = time.monotonic() + FETCH_BUDGET_SECONDS
    for i, ref in enumerate(references):
        at = f"data.files[{i}]"
        if listed and ref["component"] not in listed:
            raise InvalidInput(f"file {i} ({ref['filename']}) is not a component of this dossier", [FieldProblem(
                f"{at}.component", f"not in the procedure's document list: {', '.join(listed)}")])
        try:
            check_target(ref["url"], settings().webhooks_local)
        except DomainError as exc:
            raise InvalidInput(f"file {i} ({ref['filename']}) cannot be fetched from there", [
                FieldProblem(f"{at}.url", d.reason) for d in exc.details]) from None
        problems = check_declared(ref, limits, count, total)
        if problems:
            raise _refused(i, ref, problems)
        left = deadline - time.monotonic()
        if left < MIN_FETCH_SECONDS:
            raise InvalidInput(f"file {i} ({ref['filename']}) was not fetched in time", [FieldProblem(
                f"{at}.url", f"the message's files took more than {FETCH_BUDGET_SECONDS:g} s to fetch: send "
                             f"fewer files per message, or from a faster host")])
        try:
            body = fetcher.fetch(ref["url"], f.max_bytes, left)
        except FetchFailed as exc:
            raise InvalidInput(f"file {i} ({ref['filename']}) could not be fetched", [
                FieldProblem(f"{at}.url", str(exc))]) from None
        if len(body) > f.max_bytes:
            raise _refused(i, ref, [FieldProblem("size", f"the bytes are over the limit of {f.max_bytes} bytes")])
        problems = check_stored(ref, len(body), hashlib.sha256(body).hexdigest(), body[:HEAD_BYTES])
        if problems:
            raise _refused(i, ref, problems)
        file_id = uuid.uuid4().hex
        key = f"pending/online/{file_id}"
        storage.put(key, body, ref["media_type"])
        fetched.append(Fetched(file_id, ref, key))
        count, total = count + 1, total + len(body)
    return fetched


def _refused(i: int, ref: dict[str, Any], problems: list[FieldProblem]) -> InvalidInput:
    return InvalidInput(f"file {i} ({ref['filename']}) is not the one declared; the message is not applied",
                        [FieldProblem(f"data.files[{i}].{p.field}", p.reason) for p in problems])


def keep(deps: Deps, dossier: Dossier, fetched: list[Fetched], by: str, unit: str) -> list[str]:
    """Make the verified bytes files of `dossier`, each kept as a desk upload is (its record written with its
    document.digitised event in the dossier's transaction, services/documents.py), marked as received online.
    The ids of the files kept."""
    if not fetched:
        return []
    storage, records, _ = _ports(deps)
    now = deps.now()
    key = applicant_key(dossier.applicant.get("id_number"))
    ids = []
    for item in fetched:
        ref = item.reference
        final = {"id": item.id, "dossier": dossier.code, "kind": "component", "component": ref["component"],
                 "filename": ref["filename"], "media_type": ref["media_type"], "size": int(ref["size"]),
                 "sha256": ref["sha256"], "pages": ref.get("pages"), "by": by, "unit": unit,
                 "at": now.isoformat(), "verified_at": now.isoformat(), "key": f"files/{dossier.code}/{item.id}",
                 "received": "online"}
        storage.copy(item.pending_key, final["key"])
        try:
            documents.keep_verified(deps, dossier, VerifiedFile(final, False, key), records.of_dossier(dossier.code))
        except (StaleVersion, FileConflict):
            # The dossier kept changing: this file is not kept (its copy goes too, the pending bytes expire);
            # the desk sees the component missing in its digitisation list.
            storage.delete(final["key"])
            logger().warning("online file not kept: the dossier kept changing",
                             extra={"code": dossier.code, "file": item.id})
            continue
        storage.delete(item.pending_key)
        ids.append(item.id)
    logger().info("online files kept", extra={"code": dossier.code, "files": len(ids)})
    return ids
