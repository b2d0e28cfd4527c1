"""Path parameters: their OpenAPI schemas and the checks that name them in a 400."""

from __future__ import annotations

from ..domain.codes import is_dossier_code, is_procedure_code
from ..domain.errors import FieldProblem, InvalidInput

DOSSIER_CODE = {"type": "string", "pattern": "^[0-9A-Z.]{1,35}-[0-9]{6}-[0-9]{4,}$",
                "example": "000.00.24.H56-260316-0001"}
PROCEDURE_CODE = {"type": "string", "pattern": "^[0-9]+\\.[0-9]{5,6}$", "example": "1.001612"}


def dossier_code(code: str) -> str:
    if not is_dossier_code(code):
        raise InvalidInput("invalid dossier code", [FieldProblem("code", "expected <unit id>-<YYMMDD>-<NNNN>")])
    return code


def procedure_code(code: str) -> str:
    if not is_procedure_code(code):
        raise InvalidInput("invalid procedure code", [FieldProblem("code", "expected a code like 1.001612")])
    return code
