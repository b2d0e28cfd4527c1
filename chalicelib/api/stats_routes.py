"""Statistics: report 06 (Circular 01/2020/TT-VPCP) from the counters, as JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint

from ..domain.access import check_may_list
from ..domain.errors import FieldProblem, InvalidInput
from ..services import reports
from ..services.bootstrap import deps
from .params import local_date
from .routing import Call, route

bp = Blueprint(__name__)


@route(bp, "GET", "/v1/stats/report06",
       summary="Report 06: received, resolved (early, on time, late), in progress and overdue, per unit, field or "
               "procedure of a unit's subtree, for a period",
       tag="statistics", query="stats-report06-query", auth=True, response="Report06", errors=(400, 401, 403))
def report06(call: Call) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    unit = q.get("unit", actor.unit)
    from_day, to_day = _day(q.get("from"), "from"), _day(q.get("to"), "to")
    d = deps()
    d.catalogue.unit(unit, "unit")
    check_may_list(actor, unit, d.catalogue.tree())
    return reports.report06(d, unit, from_day, to_day, q.get("group_by", "unit"))


def _day(value: str | None, field: str) -> date:
    if value is None:
        raise InvalidInput("missing date", [FieldProblem(field, "required: a date like 2026-03-16")])
    return local_date(value, field)
