"""Statistics: the Decision 766 indicators of a unit, the ranking of the units of a level, the inactive units."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import date
from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..config import settings
from ..domain.access import covers
from ..services import accountability, quality
from ..services.deps import Deps
from .params import period
from .routing import Call, route
from .stats_routes import subtree_period

bp = Blueprint(__name__)


@route(bp, "GET", "/v1/stats/quality",
       summary="Decision 766 indicators (on-time share, online share), score and band of a unit's subtree for a "
               "period",
       tag="statistics", query="stats-quality-query", auth=True, response="QualityAssessment",
       errors=(400, 401, 403))
def quality_of_unit(call: Call) -> dict[str, Any]:
    return quality.unit_quality(*subtree_period(call))


@route(bp, "GET", "/v1/stats/ranking",
       summary="Ranking of the units of a level by their Decision 766 score, with dossier counts and rating bands; "
               "public for the levels in MOTCUA_RANKING_PUBLIC_LEVELS, else a token shows the units it covers",
       tag="statistics", query="stats-ranking-query", response="Ranking", errors=(400, 401, 403))
def ranking(call: Call) -> dict[str, Any]:
    q = call.query()
    from_day, to_day = period(q)
    level, within = q["level"], q.get("unit")
    d = deps()
    quality.check_scope(d.catalogue.tree(), level, within)  # the catalogue is public: a 400 before any 401
    if level in settings().ranking_public_levels:
        return _published(d, level, from_day, to_day, within)
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
    return quality.inactive(*subtree_period(call))


@route(bp, "GET", "/v1/stats/late-without-apology",
       summary="Dossiers late by law with no apology (form 04), by competent unit of a subtree, received in a period",
       tag="statistics", query="stats-accountability-query", auth=True, response="LateWithoutApology",
       errors=(400, 401, 403))
def late_without_apology(call: Call) -> dict[str, Any]:
    d, unit, from_day, to_day = subtree_period(call)
    return accountability.late_without_apology(d, call.actor(), unit, from_day, to_day)


@route(bp, "GET", "/v1/stats/officers",
       summary="Per-officer figures of a unit for its leader: dossiers handled, steps on time and late, open steps "
               "overdue, over the dossiers received in a period",
       tag="statistics", query="stats-accountability-query", auth=True, response="OfficerFigures",
       errors=(400, 401, 403))
def officer_figures(call: Call) -> dict[str, Any]:
    d, unit, from_day, to_day = subtree_period(call)
    return accountability.officer_figures(d, call.actor(), unit, from_day, to_day)


# A published ranking answers anyone: each container keeps an answer for MOTCUA_RANKING_CACHE_SECONDS, so that
# anonymous callers cannot make it re-read every unit's counters at will (API Gateway's throttle bounds the rest).
PUBLISHED_KEPT = 256
_published_answers: OrderedDict[tuple[str, str, str, str], tuple[float, dict[str, Any]]] = OrderedDict()
_published_lock = threading.Lock()


def _published(d: Deps, level: str, from_day: date, to_day: date, within: str | None) -> dict[str, Any]:
    seconds = settings().ranking_cache_seconds
    if seconds <= 0:
        return quality.ranking(d, level, from_day, to_day, within)
    key = (level, from_day.isoformat(), to_day.isoformat(), within or "")
    now = time.monotonic()
    with _published_lock:
        kept = _published_answers.get(key)
        if kept is not None and now - kept[0] < seconds:
            return kept[1]
    answer = quality.ranking(d, level, from_day, to_day, within)
    with _published_lock:
        _published_answers[key] = (now, answer)
        _published_answers.move_to_end(key)
        while len(_published_answers) > PUBLISHED_KEPT:
            _published_answers.popitem(last=False)
    return answer
