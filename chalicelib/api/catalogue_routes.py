"""Public catalogue: units and procedures."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..services.bootstrap import deps
from .params import PROCEDURE_CODE, procedure_code
from .routing import Call, route

bp = Blueprint(__name__)

@route(bp, "GET", "/v1/units", summary="All units (đơn vị) as a tree of any depth", tag="catalogue",
       response="UnitList")
def list_units(call: Call) -> dict[str, Any]:
    units = deps().catalogue.tree().units.values()
    return {"items": [u.as_dict() for u in sorted(units, key=lambda u: u.id)]}


@route(bp, "GET", "/v1/procedures", summary="Current version of every procedure (TTHC)", tag="catalogue",
       response="ProcedureList")
def list_procedures(call: Call) -> dict[str, Any]:
    items = []
    for p in deps().catalogue.procedures():
        data = p.as_dict()
        data.pop("form_schema")
        items.append(data)
    return {"items": items}


@route(bp, "GET", "/v1/procedures/{code}", summary="One procedure with its steps and form schema",
       tag="catalogue", response="Procedure", errors=(400, 404), path_params={"code": PROCEDURE_CODE})
def get_procedure(call: Call, code: str) -> dict[str, Any]:
    return deps().catalogue.procedure(procedure_code(code)).as_dict()
