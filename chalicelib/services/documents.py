"""A dossier's files: scanned components at the desk, the result, and who may download them (docs/documents.md).

Upload: the officer declares the file (component or result, type, size, SHA-256, pages) and gets a presigned PUT
bound to a pending key; finalising reads the stored object back, and only the declared bytes become a file of the
dossier. Anything else is refused with the field at fault and leaves nothing behind: the pending object and its
record are deleted at once (an upload never finalised expires: the record by TTL, the object by the bucket's
lifecycle rule on `pending/`).
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ..config import settings
from ..domain.access import check_may_act, covers, may_read
from ..domain.counting import local_day
from ..domain.documents import (
    FileLimits,
    applicant_key,
    applicant_may_see,
    check_declared,
    check_stored,
    reusable,
)
from ..domain.dossier import Actor, Dossier
from ..domain.errors import FieldProblem, Forbidden, InvalidInput, NotFound, StaleVersion, Unavailable
from ..domain.status import Status
from ..observability import logger
from .applicant_access import applicant_dossier
from .deps import Deps
from .ports import FileConflict, FileRecords, FileStorage, VerifiedFile
from .views import local

# A result is attached by the competent unit once it has decided; it is handed back with the dossier.
RESULT_STATUSES = frozenset({Status.IN_PROGRESS, Status.RESOLVED})
ANNOUNCE_TRIES = 3
CLOSED = frozenset({Status.WITHDRAWN, Status.STOPPED, Status.REFUSED, Status.NOT_ACCEPTED, Status.GUIDED,
                    Status.RETURNED})


def _real_now() -> datetime:
    """URL lifetimes and the pending record's TTL are kept by S3 and DynamoDB on the real time, whatever clock
    the dossiers run on (the local stack's moved clock)."""
    return datetime.fromtimestamp(int(time.time()), UTC)


def _ports(deps: Deps) -> tuple[FileStorage, FileRecords]:
    if deps.files is None or deps.file_records is None:
        raise Unavailable("file storage is not configured in this deployment (MOTCUA_FILES_BUCKET)")
    return deps.files, deps.file_records


def _within_limits(records: FileRecords, code: str, declared: dict[str, Any]) -> list[dict[str, Any]]:
    """The dossier's file records, once `declared` (type, size) fits the limits and the dossier's quota."""
    held = records.of_dossier(code)
    problems = check_declared(declared, file_limits(), len(held), sum(int(r["size"]) for r in held))
    if problems:
        raise InvalidInput("the file cannot be accepted", problems)
    return held


def file_limits() -> FileLimits:
    f = settings().files
    return FileLimits(f.max_bytes, f.media_types, f.quota_files, f.quota_bytes)


def _dossier(deps: Deps, code: str) -> Dossier:
    dossier = deps.dossiers.get(code)
    if dossier is None:
        raise NotFound(f"no dossier {code}")
    return dossier


def start_upload(deps: Deps, actor: Actor, code: str, request: dict[str, Any]) -> dict[str, Any]:
    """A pending file and the presigned PUT to send its bytes to."""
    storage, records = _ports(deps)
    dossier = _dossier(deps, code)
    tree = deps.catalogue.tree()
    check_may_act(actor, dossier, tree)
    if request["kind"] == "result" and not covers(actor, dossier.competent_unit, tree):
        raise Forbidden(f"the result is attached by the competent unit {dossier.competent_unit}")
    _check_kind(dossier, request)
    _within_limits(records, code, request)
    now = deps.now()
    file_id = uuid.uuid4().hex
    f = settings().files
    record = {
        "id": file_id, "dossier": code, "kind": request["kind"], "component": request.get("component"),
        "filename": request["filename"], "media_type": request["media_type"], "size": int(request["size"]),
        "sha256": request["sha256"], "pages": request.get("pages"), "by": actor.subject, "unit": actor.unit,
        "at": now.isoformat(), "key": f"pending/{code}/{file_id}",
    }
    expires = _real_now() + timedelta(hours=f.pending_hours)
    records.add_pending(record, int(expires.timestamp()))
    sha_b64 = base64.b64encode(bytes.fromhex(request["sha256"])).decode("ascii")
    url, headers = storage.presign_put(record["key"], record["media_type"], record["size"], sha_b64,
                                       f.upload_seconds)
    return {"file": _view(record, "pending"),
            "upload": {"method": "PUT", "url": url, "headers": headers,
                       "expires_at": local(_real_now() + timedelta(seconds=f.upload_seconds))}}


def _check_kind(dossier: Dossier, request: dict[str, Any]) -> None:
    if dossier.status in CLOSED:
        raise InvalidInput("the dossier is closed", [FieldProblem("kind", f"no file is added to a dossier "
                                                                          f"{dossier.status.value}")])
    if request["kind"] == "component":
        if not request.get("component"):
            raise InvalidInput("which component", [FieldProblem("component", "required for a component")])
        listed = dossier.document_list or [str(d.get("name")) for d in dossier.documents]
        if listed and request["component"] not in listed:
            raise InvalidInput("not a component of this dossier", [FieldProblem(
                "component", f"not in the procedure's document list: {', '.join(listed)}")])
    elif dossier.status not in RESULT_STATUSES:
        raise InvalidInput("no result yet", [FieldProblem("kind", f"a result is attached while the dossier is "
                                                                  f"in progress or resolved, not "
                                                                  f"{dossier.status.value}")])


def finalise(deps: Deps, actor: Actor, code: str, file_id: str) -> dict[str, Any]:
    """Verify the uploaded object against what was declared; keep it only if it is that file."""
    storage, records = _ports(deps)
    dossier = _dossier(deps, code)
    check_may_act(actor, dossier, deps.catalogue.tree())
    record = records.get(code, file_id)  # keyed by the dossier: another dossier's file is not found here
    if record is None:
        raise NotFound(f"dossier {code} has no file {file_id}")
    if record["state"] != "pending":
        return _view(record, record["state"])
    size, sha256, head = storage.inspect(record["key"], settings().files.max_bytes)
    problems = check_stored(record, size, sha256, head)
    if problems:
        if size is not None:
            storage.delete(record["key"])
        records.remove_pending(code, file_id)
        logger().info("file refused", extra={"code": code, "file": file_id,
                                             "fields": [p.field for p in problems]})
        raise InvalidInput("the uploaded file is not the one declared; nothing was kept", problems)
    final = {**{k: v for k, v in record.items() if k != "state"}, "key": f"files/{code}/{file_id}",
             "verified_at": deps.now().isoformat()}
    # Copied to its final key first, recorded with its event, and only then the upload removed: a dossier that
    # kept changing (409) leaves the upload pending, to finalise again; nothing half-kept either way.
    storage.copy(record["key"], final["key"])
    try:
        keep_verified(deps, dossier, VerifiedFile(final, True, applicant_key(dossier.applicant.get("id_number"))),
              records.of_dossier(code))
    except FileConflict:  # finalised by a concurrent request: the same bytes, already kept
        current = records.get(code, file_id)
        if current is None:
            raise NotFound(f"dossier {code} has no file {file_id}") from None
        return _view(current, current["state"])
    except StaleVersion:
        storage.delete(final["key"])
        raise
    storage.delete(record["key"])
    logger().info("file verified", extra={"code": code, "file": file_id, "kind": record["kind"]})
    return _view(final, "verified")


def keep_verified(deps: Deps, dossier: Dossier, file: VerifiedFile, held: list[dict[str, Any]]) -> None:
    """Keep a verified file with the domain event that announces it (document.digitised or result.issued), in
    the dossier's own transaction: the file and its event exist together or not at all. The counters of Decision
    766's digitisation group and the webhooks read the event. A dossier changed meanwhile is read again; one that
    keeps changing answers 409 (the upload stays pending: finalise again)."""
    record = file.record

    def same_kind(other: dict[str, Any]) -> bool:
        return (other["state"] == "verified" and other["id"] != record["id"] and other["kind"] == record["kind"]
                and bool(other.get("reused_from")) == bool(record.get("reused_from")))

    first = not any(same_kind(r) for r in held)
    received = dossier.received_at
    at_receipt = (record["kind"] == "component" and received is not None
                  and record["unit"] == dossier.receiving_unit
                  and local_day(record["verified_at"]) == local_day(received))
    listed = set(dossier.document_list or [str(d.get("name")) for d in dossier.documents])
    before = {r["component"] for r in held if r["state"] == "verified" and r["kind"] == "component"}
    completes = (record["kind"] == "component" and bool(listed) and not listed <= before
                 and listed <= before | {record["component"]})
    for attempt in range(ANNOUNCE_TRIES):
        current = deps.dossiers.get(dossier.code, consistent=True)
        if current is None:
            raise NotFound(f"dossier {dossier.code} not found")
        current.record_file(record, deps.now(), first, at_receipt, completes)
        try:
            deps.dossiers.save(current, None, current.version, file=file)
            return
        except StaleVersion:
            if attempt == ANNOUNCE_TRIES - 1:
                raise


def reuse(deps: Deps, actor: Actor, code: str, component: str) -> dict[str, Any]:
    """Attach the applicant's latest digitised copy of `component` from an earlier dossier, without a new upload,
    when the procedure allows it; the object is copied, so each dossier keeps its own."""
    storage, records = _ports(deps)
    dossier = _dossier(deps, code)
    check_may_act(actor, dossier, deps.catalogue.tree())
    _check_kind(dossier, {"kind": "component", "component": component})
    procedure = deps.catalogue.procedure(dossier.procedure_code)
    if not reusable(procedure.documents, component):
        raise InvalidInput("not reusable", [FieldProblem("component", f"procedure {procedure.code} does not let "
                                                                      f"this component be reused")])
    key = applicant_key(dossier.applicant.get("id_number"))
    found = records.latest_of_applicant(key, component) if key else None
    source = records.get(*found) if found else None
    if source is None or source["state"] != "verified" or source["dossier"] == code:
        raise NotFound(f"no digitised {component!r} of this applicant (by ID number) in an earlier dossier")
    held = _within_limits(records, code, source)
    now = deps.now()
    file_id = uuid.uuid4().hex
    record = {**{k: v for k, v in source.items() if k not in ("state", "key")}, "id": file_id, "dossier": code,
              "by": actor.subject, "unit": actor.unit, "at": now.isoformat(), "verified_at": now.isoformat(),
              "key": f"files/{code}/{file_id}", "reused_from": {"dossier": source["dossier"], "file": source["id"]}}
    storage.copy(source["key"], record["key"])
    try:
        keep_verified(deps, dossier, VerifiedFile(record, False), held)
    except (StaleVersion, FileConflict):
        storage.delete(record["key"])  # nothing recorded: the copy goes too
        raise
    logger().info("file reused", extra={"code": code, "file": file_id, "from": source["dossier"]})
    return _view(record, "verified")


def list_files(deps: Deps, actor: Actor, code: str) -> dict[str, Any]:
    _, records = _ports(deps)
    dossier = _dossier(deps, code)
    if not may_read(actor, dossier, deps.catalogue.tree()):
        raise Forbidden(f"dossier {code} belongs to another unit")
    files = [_view(r, r["state"]) for r in records.of_dossier(code) if r["state"] == "verified"]
    return {"code": code, "items": files, "digitisation": _digitisation(dossier, files),
            "downloads": [{**d, "at": local(d["at"])} for d in records.downloads(code)]}


def _digitisation(dossier: Dossier, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each component of the dossier's list: scanned (the files, pages, who, when), reused from an earlier dossier
    of the applicant, or received on paper only."""
    names = dossier.document_list or [str(d.get("name")) for d in dossier.documents]
    out = []
    for name in names:
        scans = [f for f in files if f["kind"] == "component" and f["component"] == name]
        form = "paper"
        if scans:
            form = "reused" if all(f["reused_from"] for f in scans) else "scanned"
        out.append({"component": name, "form": form, "files": [f["id"] for f in scans]})
    return out


def download(deps: Deps, actor: Actor, code: str, file_id: str) -> dict[str, Any]:
    """A short-lived URL to a verified file, for an officer of a unit involved; audited."""
    _, records = _ports(deps)
    dossier = _dossier(deps, code)
    if not may_read(actor, dossier, deps.catalogue.tree()):
        raise Forbidden(f"dossier {code} belongs to another unit")
    return _download(deps, code, file_id, {"who": actor.subject, "unit": actor.unit, "as": "officer"},
                     lambda record: True)


def public_files(deps: Deps, code: str, secret: str) -> dict[str, Any]:
    _, records = _ports(deps)
    dossier = applicant_dossier(deps, code, secret)
    returned = dossier.status is Status.RETURNED
    files = [_view(r, r["state"]) for r in records.of_dossier(code)
             if r["state"] == "verified" and applicant_may_see(r["kind"], returned)]
    return {"code": code, "items": files}


def public_download(deps: Deps, code: str, file_id: str, secret: str) -> dict[str, Any]:
    dossier = applicant_dossier(deps, code, secret)
    returned = dossier.status is Status.RETURNED
    return _download(deps, code, file_id, {"who": "applicant", "unit": None, "as": "applicant"},
                     lambda record: applicant_may_see(record["kind"], returned))


def _download(deps: Deps, code: str, file_id: str, who: dict[str, Any], allowed: Any) -> dict[str, Any]:
    storage, records = _ports(deps)
    record = records.get(code, file_id)
    if record is None or record["state"] != "verified":
        raise NotFound(f"dossier {code} has no file {file_id}")
    if not allowed(record):
        raise Forbidden("the result can be downloaded once it was returned")
    now = deps.now()
    seconds = settings().files.download_seconds
    url = storage.presign_get(record["key"], seconds, record["filename"], record["media_type"])
    records.record_download(code, {"id": uuid.uuid4().hex, "file": file_id, "at": now.isoformat(), **who})
    return {"file": file_id, "url": url, "expires_at": local(_real_now() + timedelta(seconds=seconds))}


def _view(record: dict[str, Any], state: str) -> dict[str, Any]:
    return {"id": record["id"], "kind": record["kind"], "component": record.get("component"),
            "filename": record["filename"], "media_type": record["media_type"], "size": record["size"],
            "sha256": record["sha256"], "pages": record.get("pages"), "state": state, "by": record["by"],
            "at": local(record["at"]), "verified_at": local(record.get("verified_at")),
            "reused_from": record.get("reused_from")}
