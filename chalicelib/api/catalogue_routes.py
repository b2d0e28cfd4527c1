"""Public catalogue: units and procedures."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.errors import FieldProblem, InvalidInput
from ..services import queries
from .params import PROCEDURE_CODE, procedure_code
from .routing import Call, route

bp = Blueprint(__name__)

@route(bp, "GET", "/v1/units", summary="All units (đơn vị) as a tree of any depth", tag="catalogue",
       response="UnitList")
def list_units(call: Call) -> dict[str, Any]:
    units = deps().catalogue.tree().units.values()
    return {"items": [u.as_dict() for u in sorted(units, key=lambda u: u.id)]}


_UNIT_ID = re.compile(r"^[0-9A-Z]+(\.[0-9A-Z]+)*$")
UNIT_ID = {"type": "string", "maxLength": 35, "pattern": "^[0-9A-Z]+(\\.[0-9A-Z]+)*$", "example": "000.00.11.H56"}


@route(bp, "GET", "/v1/units/{id}/notifications",
       summary="What a unit's leader, officers and desk were told (deadlines, the daily digest), newest first",
       tag="catalogue", query="unit-notifications-query", auth=True, response="UnitNotificationPage",
       errors=(400, 401, 403, 404), path_params={"id": UNIT_ID})
def list_unit_notifications(call: Call, id: str) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    if len(id) > 35 or not _UNIT_ID.match(id):
        raise InvalidInput("invalid unit id", [FieldProblem("id", "expected a unit id like 000.00.11.H56")])
    return queries.list_unit_notifications(deps(), actor, id, int(q.get("limit", 50)), q.get("cursor"))


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
