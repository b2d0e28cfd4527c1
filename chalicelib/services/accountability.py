"""Responsibility traced to the unit and the person: the dossiers late by law with no apology (form 04), by unit,
and per-officer figures for a unit's leader (dossiers handled, steps on time, steps late).

Both read dossiers (not counters): the dossiers the desks of the unit's province received in the period (the
tracking book's index, services/tracking_book.py), as the competent unit's dossiers may have come through any
centre of the province (two-tier government since 1 Jul 2025). Bounded like the tracking book: at most
MAX_DAYS days and MAX_ROWS dossiers, else a 400 naming `to`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..domain.access import check_may_list
from ..domain.clock import iso
from ..domain.deadlines import OVERDUE
from ..domain.dossier import Actor, Dossier
from ..domain.errors import FieldProblem, InvalidInput
from ..domain.status import Status
from .reports import check_period
from .tracking_book import MAX_DAYS, PAGE, received_codes

if TYPE_CHECKING:
    from .deps import Deps


def late_without_apology(deps: Deps, actor: Actor, unit: str, from_day: date, to_day: date) -> dict[str, Any]:
    """The dossiers received in the period whose competent unit is in `unit`'s subtree, late by law (resolved
    after the legal due time, or open past it now) and never given an apology (form 04: Decree 61/2018 Art 19
    requires one no later than 1 day before the due date), grouped by that competent unit."""
    tree = deps.catalogue.tree()
    deps.catalogue.unit(unit, "unit")
    check_may_list(actor, unit, tree)
    mine = set(tree.subtree(unit))
    now = deps.now()
    groups: dict[str, list[dict[str, Any]]] = {}
    for dossier in _province_dossiers(deps, unit, from_day, to_day):
        if dossier.competent_unit not in mine or dossier.apology is not None:
            continue
        # Open and past the legal due time: running past it now, or flagged overdue before a pause.
        overdue = dossier.is_overdue(now) or OVERDUE in dossier.flags
        late = dossier.final_outcome == "late" or (dossier.final_outcome is None and overdue)
        if not late:
            continue
        groups.setdefault(dossier.competent_unit, []).append({
            "code": dossier.code, "procedure_code": dossier.procedure_code, "status": dossier.status.value,
            "received_at": iso(dossier.received_at), "due_at": iso(dossier.legal_due_at),
            "resolved_at": iso(dossier.resolved_at), "outcome": dossier.final_outcome or "overdue"})
    units = [{"unit": u, "name": tree.units[u].name if u in tree.units else u, "count": len(items),
              "items": sorted(items, key=lambda i: i["code"])} for u, items in sorted(groups.items())]
    return {"unit": unit, "from": from_day.isoformat(), "to": to_day.isoformat(),
            "count": sum(u["count"] for u in units), "units": units}


def officer_figures(deps: Deps, actor: Actor, unit: str, from_day: date, to_day: date) -> dict[str, Any]:
    """Per officer of `unit`, over the steps done at the unit of the dossiers received in the period: steps
    handled (completed), on time (early or on time) and late, and open steps past their due time now. The officer
    is the one the step was assigned to (form 05 records who did each act); unassigned steps count apart."""
    tree = deps.catalogue.tree()
    deps.catalogue.unit(unit, "unit")
    check_may_list(actor, unit, tree)
    now = deps.now()
    people: dict[str, dict[str, Any]] = {}
    for dossier in _province_dossiers(deps, unit, from_day, to_day):
        for step in dossier.steps:
            if step.unit != unit or (step.clock is None and step.completed_at is None):
                continue
            who = step.assignee or "(chưa phân công)"
            row = people.setdefault(who, {"officer": who, "dossiers": set(), "steps_completed": 0,
                                          "steps_on_time": 0, "steps_late": 0, "steps_open_overdue": 0})
            row["dossiers"].add(dossier.code)
            if step.completed_at is not None:
                row["steps_completed"] += 1
                late = step.outcome is not None and step.outcome.value == "late"
                row["steps_late" if late else "steps_on_time"] += 1
            elif step.clock is not None and step.clock.is_overdue(now) and dossier.status not in _ENDED:
                row["steps_open_overdue"] += 1
    rows = [{**row, "dossiers": len(row["dossiers"])} for row in people.values()]
    rows.sort(key=lambda r: (-r["steps_late"] - r["steps_open_overdue"], r["officer"]))
    return {"unit": unit, "from": from_day.isoformat(), "to": to_day.isoformat(), "officers": rows}


_ENDED = frozenset({Status.WITHDRAWN, Status.STOPPED, Status.RESOLVED, Status.REFUSED, Status.RETURNED})


def _province_dossiers(deps: Deps, unit: str, from_day: date, to_day: date) -> Iterator[Dossier]:
    """The dossiers every desk of `unit`'s province received in [from_day, to_day] (the root of its tree)."""
    check_period(from_day, to_day)
    if (to_day - from_day).days + 1 > MAX_DAYS:
        raise InvalidInput("period too long", [FieldProblem("to", f"at most {MAX_DAYS} days after from")])
    tree = deps.catalogue.tree()
    root = ([unit, *tree.ancestors(unit)])[-1]
    zone = deps.catalogue.national_calendar().zone
    start = datetime.combine(from_day, time(0), zone)
    end = datetime.combine(to_day + timedelta(days=1), time(0), zone)
    codes: list[str] = []
    for desk in sorted(tree.subtree(root)):
        received_codes(deps, desk, start, end, codes, too_many="the province's desks")
    for first in range(0, len(codes), PAGE):
        yield from deps.dossiers.get_many(codes[first:first + PAGE])
