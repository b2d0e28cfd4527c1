"""Moving a dossier: one consistent read, one transaction (dossier + history line, version-checked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.access import check_may_act
from ..domain.catalogue import Procedure
from ..domain.dossier import Actor, CalendarFor, Dossier, HistoryEntry
from ..domain.errors import NotFound, StaleVersion
from ..domain.lifecycle import Action
from ..observability import logger
from .deps import Deps
from .notifications import notify_act
from .ports import MessageRecord
from .queries import unit_names
from .views import (
    apology_view,
    appointment_notice_view,
    dossier_view,
    history_view,
    receipt_view,
    refusal_view,
)


def perform_action(deps: Deps, actor: Actor, code: str, request: dict[str, Any],
                   message: Callable[[Dossier], MessageRecord] | None = None) -> dict[str, Any]:
    """Apply `request` (action, version and its fields); with `message`, the outcome of the inbound message
    that asked for it is recorded in the dossier's own transaction."""
    dossier = deps.dossiers.get(code, consistent=True)
    if dossier is None:
        raise NotFound(f"no dossier {code}")
    action = Action(request["action"])
    check_may_act(actor, dossier, deps.catalogue.tree(), action)
    expected = int(request["version"])
    if expected != dossier.version:
        raise StaleVersion(f"version {expected} is stale: the dossier is at version {dossier.version}",
                           dossier.version)
    now = deps.now()
    calendars = unit_calendars(deps, deps.catalogue.procedure(dossier.procedure_code, dossier.procedure_version))
    entry = dossier.act(action, actor, now, calendars, request, watch=deps.watch)
    if message is None:
        deps.dossiers.save(dossier, entry, expected)
    else:  # an inbound message's outcome, written with the change (services/inbound.py)
        deps.dossiers.save(dossier, entry, expected, message=message(dossier))
    logger().info("dossier action", extra={
        "code": code, "action": entry.action, "from": entry.from_status, "to": entry.to_status,
        "officer": actor.subject, "unit": actor.unit, "step": entry.step_index, "step_met": entry.step_met})
    # The written notices go through the notifications consumer; only one no event carries is sent from here.
    notify_act(deps, dossier, entry)
    names = unit_names(deps)
    return {**dossier_view(dossier, calendars(dossier.receiving_unit), now),
            "history_entry": history_view(entry, names), **_documents_issued(dossier, action, entry, names)}


def unit_calendars(deps: Deps, procedure: Procedure) -> CalendarFor:
    """Each unit's own calendar (province overrides, and the procedure's choice on the intake cutoff for
    online submissions, included), as the dossier and each of its steps count on them."""
    catalogue = deps.catalogue
    return lambda unit_id: catalogue.calendar_for(unit_id, procedure)


def _documents_issued(
    dossier: Dossier, action: Action, entry: HistoryEntry, names: Callable[[str], str]
) -> dict[str, Any]:
    """What the applicant is handed with this change: the receipt (form 01) when an online dossier is
    accepted or a complete supplement restarts the limit, the refusal (form 03), the apology with its new
    appointment (form 04), a new appointment."""
    out: dict[str, Any] = {}
    if action is Action.ACCEPT:
        out["receipt"] = receipt_view(dossier, names)
    elif action is Action.RECEIVE_SUPPLEMENT and entry.details.get("restarted"):
        out["receipt"] = receipt_view(dossier, names, reissued=True)
    elif action is Action.REFUSE_INTAKE:
        out["refusal"] = refusal_view(dossier, names)
    elif action is Action.APOLOGIZE:
        out["apology_letter"] = apology_view(dossier, names)
    notice = appointment_notice_view(dossier, entry)
    if notice is not None:
        out["appointment_notice"] = notice
    return out
