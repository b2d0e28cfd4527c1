"""A dossier's files (docs/documents.md): uploads by presigned PUT, verification, downloads by presigned GET for
officers and for the applicant (code + receipt secret). Bytes never pass through the API."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.errors import FieldProblem, InvalidInput
from ..services import applicant_access, documents
from .files import PDF, requested_format
from .params import DOSSIER_CODE, dossier_code
from .print_routes import lookup_url
from .routing import Call, FileBody, route

bp = Blueprint(__name__)

FILE_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$", "example": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}
_FILE_PARAMS = {"code": DOSSIER_CODE, "file_id": FILE_ID}


def _file_id(file_id: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", file_id):
        raise InvalidInput("invalid file id", [FieldProblem("file_id", "expected 32 lowercase hex digits")])
    return file_id


@route(bp, "POST", "/v1/dossiers/{code}/files", summary="Declare a file (a scanned component or the result) and "
       "get the presigned PUT bound to its size, type and SHA-256", tag="files", body="file-upload", auth=True,
       success=201, response="FileUploadStarted", errors=(400, 401, 403, 404), path_params={"code": DOSSIER_CODE})
def start_upload(call: Call, code: str) -> tuple[int, dict[str, Any]]:
    actor = call.actor()
    return 201, documents.start_upload(deps(), actor, dossier_code(code), call.body())


@route(bp, "POST", "/v1/dossiers/{code}/files/{file_id}/finalise", summary="Verify the uploaded bytes (size, "
       "SHA-256, type sniffed) and keep the file; refused and removed otherwise", tag="files", auth=True,
       response="DossierFile", errors=(400, 401, 403, 404), path_params=_FILE_PARAMS)
def finalise_upload(call: Call, code: str, file_id: str) -> dict[str, Any]:
    actor = call.actor()
    return documents.finalise(deps(), actor, dossier_code(code), _file_id(file_id))


@route(bp, "POST", "/v1/dossiers/{code}/files/reuse", summary="Attach the applicant's digitised copy of a "
       "component from an earlier dossier, without a new upload, when the procedure allows it", tag="files",
       body="file-reuse", auth=True, success=201, response="DossierFile", errors=(400, 401, 403, 404),
       path_params={"code": DOSSIER_CODE})
def reuse_file(call: Call, code: str) -> tuple[int, dict[str, Any]]:
    actor = call.actor()
    return 201, documents.reuse(deps(), actor, dossier_code(code), call.body()["component"])


@route(bp, "GET", "/v1/dossiers/{code}/files", summary="The dossier's files, each component digitised or on "
       "paper, and the download audit", tag="files", auth=True, response="DossierFiles", errors=(400, 401, 403, 404),
       path_params={"code": DOSSIER_CODE})
def list_files(call: Call, code: str) -> dict[str, Any]:
    actor = call.actor()
    return documents.list_files(deps(), actor, dossier_code(code))


@route(bp, "GET", "/v1/dossiers/{code}/files/{file_id}/download", summary="A short-lived URL to download a "
       "file (audited)", tag="files", auth=True, response="FileDownload", errors=(400, 401, 403, 404),
       path_params=_FILE_PARAMS)
def download_file(call: Call, code: str, file_id: str) -> dict[str, Any]:
    actor = call.actor()
    return documents.download(deps(), actor, dossier_code(code), _file_id(file_id))


@route(bp, "POST", "/v1/dossiers/{code}/receipt-secret", summary="Issue the receipt secret the applicant opens "
       "their files and rating with (the previous one stops working): as JSON, or with 'Accept: application/pdf' "
       "the receipt (form 01) with the secret printed on it, the one moment it can be (only its hash is kept)",
       tag="files", auth=True, success=201, response="ReceiptSecretIssued", errors=(400, 401, 403, 404, 406),
       files=(PDF,), path_params={"code": DOSSIER_CODE})
def issue_secret(call: Call, code: str) -> tuple[int, dict[str, Any]] | FileBody:
    actor = call.actor()
    code = dossier_code(code)
    if requested_format(call, ("json", "pdf"), default="json") == "pdf":
        pdf, filename = applicant_access.issue_receipt(deps(), actor, code, lookup_url(call))
        return FileBody(pdf, PDF, filename)
    return 201, applicant_access.issue_secret(deps(), actor, code)


@route(bp, "POST", "/v1/public/dossiers/{code}/files", summary="The applicant's files: the code and the receipt "
       "secret, never the code alone", tag="public", body="receipt-secret", response="PublicFiles",
       errors=(400, 403), path_params={"code": DOSSIER_CODE})
def public_files(call: Call, code: str) -> dict[str, Any]:
    body = call.body()
    return documents.public_files(deps(), dossier_code(code), body["secret"])


@route(bp, "POST", "/v1/public/dossiers/{code}/files/{file_id}/download", summary="A short-lived URL to one of "
       "the applicant's files (the result once returned); audited", tag="public", body="receipt-secret",
       response="FileDownload", errors=(400, 403, 404), path_params=_FILE_PARAMS)
def public_download(call: Call, code: str, file_id: str) -> dict[str, Any]:
    body = call.body()
    return documents.public_download(deps(), dossier_code(code), _file_id(file_id), body["secret"])
