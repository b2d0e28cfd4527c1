"""Statistics: the Decision 766 indicators of a unit, the ranking of the units of a level, the inactive units."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint

from ..config import settings
from ..domain.access import check_may_list, covers
from ..domain.errors import FieldProblem, InvalidInput
from ..services import quality
from ..services.bootstrap import deps
from .params import local_date
from .routing import Call, route

bp = Blueprint(__name__)


@route(bp, "GET", "/v1/stats/quality",
       summary="Decision 766 indicators (on-time share, online share), score and band of a unit's subtree for a "
               "period",
       tag="statistics", query="stats-quality-query", auth=True, response="QualityAssessment",
       errors=(400, 401, 403))
def quality_of_unit(call: Call) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    unit = q.get("unit", actor.unit)
    from_day, to_day = _period(q)
    d = deps()
    d.catalogue.unit(unit, "unit")
    check_may_list(actor, unit, d.catalogue.tree())
    return quality.unit_quality(d, unit, from_day, to_day)


@route(bp, "GET", "/v1/stats/ranking",
       summary="Ranking of the units of a level by their Decision 766 score, with dossier counts and rating bands; "
               "public for the levels in MOTCUA_RANKING_PUBLIC_LEVELS, else a token shows the units it covers",
       tag="statistics", query="stats-ranking-query", response="Ranking", errors=(400, 401))
def ranking(call: Call) -> dict[str, Any]:
    q = call.query()
    from_day, to_day = _period(q)
    level, within = q["level"], q.get("unit")
    d = deps()
    quality.check_scope(d.catalogue.tree(), level, within)  # the catalogue is public: a 400 before any 401
    if level in settings().ranking_public_levels:
        return quality.ranking(d, level, from_day, to_day, within)
    # Not published: an officer sees the units they answer for (a leader their subtree), an admin all of them.
    actor = call.actor()
    tree = d.catalogue.tree()
    visible = None if "admin" in actor.roles else (lambda unit: covers(actor, unit, tree))
    return quality.ranking(d, level, from_day, to_day, within, visible)


@route(bp, "GET", "/v1/stats/inactive",
       summary="Units of a subtree in operation during the period for which no dossier was counted: not using the "
               "system",
       tag="statistics", query="stats-inactive-query", auth=True, response="InactiveUnits", errors=(400, 401, 403))
def inactive_units(call: Call) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    unit = q.get("unit", actor.unit)
    from_day, to_day = _period(q)
    d = deps()
    d.catalogue.unit(unit, "unit")
    check_may_list(actor, unit, d.catalogue.tree())
    return quality.inactive(d, unit, from_day, to_day)


def _period(q: dict[str, str]) -> tuple[date, date]:
    return _day(q.get("from"), "from"), _day(q.get("to"), "to")


def _day(value: str | None, field: str) -> date:
    if value is None:
        raise InvalidInput("missing date", [FieldProblem(field, "required: a date like 2026-03-16")])
    return local_date(value, field)
