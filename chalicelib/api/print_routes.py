"""Printed forms (PDF): a dossier's forms 01-05 and letters, to whoever may read the dossier (as the JSON forms).

PDF is binary: API Gateway returns it as bytes only to a request whose Accept starts with application/pdf
(registered in app.py's binary_types, as XLSX is: api/files.py), so any other Accept is a 406 naming `accept`.
"""

from __future__ import annotations

from chalice import Blueprint

from ..bootstrap import deps
from ..config import settings
from ..domain.errors import FieldProblem, InvalidInput
from ..services import printing
from .files import PDF, requested_format
from .params import DOSSIER_CODE, dossier_code
from .routing import Call, FileBody, route

bp = Blueprint(__name__)

FORM_FILE = {"type": "string", "enum": [f"{name}.pdf" for name in printing.FORMS], "example": "01.pdf"}


@route(bp, "GET", "/v1/dossiers/{code}/forms/{form}",
       summary="A dossier's form as PDF, laid out as Circular 01/2018's appendices: 01 receipt (with a QR code to "
               "the public lookup), 02 supplement request, 03 refusal at intake, 04 apology, 05 control sheet, the "
               "refusal after appraisal, the stop notice; send Accept: application/pdf",
       tag="dossiers", auth=True, errors=(400, 401, 403, 404, 406), files=(PDF,),
       path_params={"code": DOSSIER_CODE, "form": FORM_FILE})
def get_form(call: Call, code: str, form: str) -> FileBody:
    actor = call.actor()
    code = dossier_code(code)
    name, dot, extension = form.rpartition(".")
    if dot != "." or extension != "pdf" or name not in printing.FORMS:
        raise InvalidInput("unknown form", [FieldProblem("form", f"one of {', '.join(FORM_FILE['enum'])}")])
    requested_format(call, ("pdf",), default="pdf")
    pdf, filename = printing.dossier_form(deps(), actor, code, name, lookup_url(call))
    return FileBody(pdf, PDF, filename)


def lookup_url(call: Call) -> str:
    """Where the receipt's QR code leads: MOTCUA_PUBLIC_LOOKUP_URL, else this API's own public lookup."""
    configured = settings().public_lookup_url
    if configured:
        return configured
    context = call.request.context or {}
    host = call.header("host") or context.get("domainName") or "localhost"
    scheme = "http" if host.startswith(("localhost", "127.0.0.1")) else "https"
    stage = context.get("stage") if context.get("domainName", "").endswith(".amazonaws.com") else None
    prefix = f"/{stage}" if stage else ""
    return f"{scheme}://{host}{prefix}{printing.LOOKUP_PATH}"
