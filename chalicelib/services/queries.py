"""Reading dossiers: by code, their history, lists for a unit, and the public lookup."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..domain.access import check_may_list, may_read
from ..domain.deadlines import STEP_OVERDUE
from ..domain.dossier import Actor, Dossier
from ..domain.errors import Forbidden, NotFound
from .deps import Deps
from .ports import DossierQuery
from .views import apology_view, control_sheet_view, dossier_view, local, public_view, summary_view


def _readable(deps: Deps, actor: Actor, code: str) -> Dossier:
    dossier = deps.dossiers.get(code)
    if dossier is None:
        raise NotFound(f"no dossier {code}")
    if not may_read(actor, dossier, deps.catalogue.tree()):
        raise Forbidden(f"dossier {code} belongs to another unit")
    return dossier


def get_dossier(deps: Deps, actor: Actor, code: str) -> dict[str, Any]:
    dossier = _readable(deps, actor, code)
    return dossier_view(dossier, deps.catalogue.calendar_for(dossier.receiving_unit), deps.now())


def get_history(deps: Deps, actor: Actor, code: str) -> dict[str, Any]:
    """The process control sheet (form 05)."""
    dossier = _readable(deps, actor, code)
    return control_sheet_view(dossier, deps.dossiers.history(code), unit_names(deps))


def unit_names(deps: Deps) -> Callable[[str], str]:
    """A unit's name from the (cached) catalogue, for the forms; an unknown id stands for itself."""
    tree = deps.catalogue.tree()

    def name(unit_id: str) -> str:
        unit = tree.get(unit_id)
        return unit.name if unit is not None else unit_id

    return name


def get_apology(deps: Deps, actor: Actor, code: str) -> dict[str, Any]:
    """The apology letter (form 04, Circular 01/2018) of a rescheduled dossier; NotFound when none was issued."""
    return apology_view(_readable(deps, actor, code), unit_names(deps))


def list_notifications(deps: Deps, actor: Actor, code: str) -> dict[str, Any]:
    """What was sent (or, locally, would have been sent) about a dossier, oldest first."""
    _readable(deps, actor, code)
    return {"code": code, "items": [notification_view(n) for n in deps.notifications.for_dossier(code)]}


def list_unit_notifications(deps: Deps, actor: Actor, unit: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """What a unit's leader, officers and desk were told (the "internal" channel: deadlines, the daily digest),
    newest first, one page. Who may list the unit's dossiers may read them."""
    if deps.catalogue.tree().get(unit) is None:
        raise NotFound(f"no unit {unit}")
    check_may_list(actor, unit, deps.catalogue.tree())
    items, next_cursor = deps.notifications.unit_page(unit, limit, cursor)
    return {"unit": unit, "items": [notification_view(n) for n in items], "next_cursor": next_cursor}


def notification_view(n: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": n["id"], "at": local(n.get("at")), "event_id": n.get("event_id"), "event_type": n.get("event_type"),
        "template": n.get("template"), "channel": n.get("channel"), "recipient": n.get("recipient"),
        "recipient_kind": n.get("recipient_kind"), "unit": n.get("unit"), "subject": n.get("subject"),
        "body": n.get("body"), "status": n.get("status"), "attempts": int(n.get("attempts") or 0),
        "sent_at": local(n.get("sent_at")), "error": n.get("error"),
    }


def list_dossiers(deps: Deps, actor: Actor, query: DossierQuery, step_overdue: bool | None = None,
                  officer: str | None = None) -> dict[str, Any]:
    """A unit's dossiers. With `step_overdue=true`, the steps flagged overdue at the unit (held by `officer`
    when given), latest flagged first, one item per late step: the step, its unit and its officer are who the
    lateness is attributed to, so it stays listed there after the dossier moves on. Read with one Query from
    the late steps recorded with each flag; the item's dossier fields are as they were when the step was flagged.
    With `step_overdue=false`, one page of the unit's list narrowed to dossiers without a step flagged overdue
    at the unit (such a page may be shorter than `limit`: follow the cursor)."""
    deps.catalogue.unit(query.unit)
    check_may_list(actor, query.unit, deps.catalogue.tree())
    now: datetime = deps.now()
    if step_overdue is True:
        items, cursor = deps.dossiers.late_steps(query.unit, officer, query.limit, query.cursor)
        return {"items": [{**summary_view(item, now), "late_steps": [
            {**step, "due_at": local(step.get("due_at")), "flagged_at": local(step.get("flagged_at"))}
            for step in item.get("late_steps", [])]} for item in items], "next_cursor": cursor}
    items, cursor = deps.dossiers.search(query, now)
    if step_overdue is None:
        return {"items": [summary_view(i, now) for i in items], "next_cursor": cursor}
    out = []
    for item in items:
        dossier = deps.dossiers.get(item["code"])
        late = _late_steps(dossier, query.unit if query.view == "handling" else None, None) if dossier else []
        if not late:
            out.append({**summary_view(item, now), "late_steps": []})
    return {"items": out, "next_cursor": cursor}


def _late_steps(dossier: Dossier, unit: str | None, officer: str | None) -> list[dict[str, Any]]:
    """The dossier's steps flagged overdue (at `unit`, held by `officer`, when given)."""
    late = []
    for name, flagged_at in dossier.flags.items():
        if not name.startswith(f"{STEP_OVERDUE}:"):
            continue
        step = dossier.steps[int(name.split(":", 1)[1])]
        if (unit is None or step.unit == unit) and (officer is None or step.assignee == officer):
            late.append({"index": step.index, "name": step.name, "unit": step.unit, "officer": step.assignee,
                         "due_at": local(step.due_at), "flagged_at": local(flagged_at)})
    return sorted(late, key=lambda s: s["index"])


def public_lookup(deps: Deps, code: str) -> dict[str, Any]:
    dossier = deps.dossiers.get(code)
    if dossier is None:
        raise NotFound(f"no dossier {code}")
    return public_view(dossier, deps.catalogue.calendar_for(dossier.receiving_unit), deps.now())
