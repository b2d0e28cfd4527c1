"""Path parameters: their OpenAPI schemas and the checks that name them in a 400."""

from __future__ import annotations

from datetime import date

from ..domain.codes import MAX_SEQUENCE_DIGITS, is_dossier_code, is_procedure_code
from ..domain.errors import FieldProblem, InvalidInput

# Bounded so that no request can name a DynamoDB key longer than the tables accept: a unit id (35), the
# receipt day, and a daily sequence of up to 9 digits.
MAX_DOSSIER_CODE = 35 + 8 + 1 + MAX_SEQUENCE_DIGITS
MAX_PROCEDURE_CODE = 16
DOSSIER_CODE = {"type": "string", "maxLength": MAX_DOSSIER_CODE,
                "pattern": f"^[0-9A-Z.]{{1,35}}-[0-9]{{6}}-[0-9]{{4,{MAX_SEQUENCE_DIGITS}}}$",
                "example": "000.00.24.H56-260316-0001"}
PROCEDURE_CODE = {"type": "string", "maxLength": MAX_PROCEDURE_CODE, "pattern": "^[0-9]{1,9}\\.[0-9]{5,6}$",
                  "example": "1.001612"}


def dossier_code(code: str) -> str:
    if len(code) > MAX_DOSSIER_CODE or len(code.rpartition("-")[2]) > MAX_SEQUENCE_DIGITS \
            or not is_dossier_code(code):
        raise InvalidInput("invalid dossier code", [FieldProblem("code", "expected <unit id>-<YYMMDD>-<NNNN>")])
    return code


def procedure_code(code: str) -> str:
    if len(code) > MAX_PROCEDURE_CODE or not is_procedure_code(code):
        raise InvalidInput("invalid procedure code", [FieldProblem("code", "expected a code like 1.001612")])
    return code


def local_date(value: str, field: str) -> date:
    """A date parameter (a local day, 2026-03-16) within the years the calendar covers."""
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("invalid date", [FieldProblem(field, "a date like 2026-03-16")]) from exc
    if not 2000 <= day.year <= 2100:
        raise InvalidInput("invalid date", [FieldProblem(field, "a date from 2000 to 2100")])
    return day


def period(query: dict[str, str]) -> tuple[date, date]:
    """The required `from` and `to` of a statistics route, local days; report 06's bounds are checked after."""
    return required_date(query.get("from"), "from"), required_date(query.get("to"), "to")


def required_date(value: str | None, field: str) -> date:
    if value is None:
        raise InvalidInput("missing date", [FieldProblem(field, "required: a date like 2026-03-16")])
    return local_date(value, field)
