"""Moving a dossier: one consistent read, one transaction (dossier + history line, version-checked)."""

from __future__ import annotations

from typing import Any

from ..domain.access import check_may_act
from ..domain.dossier import Actor
from ..domain.errors import NotFound, StaleVersion
from ..domain.lifecycle import Action
from ..observability import logger
from .bootstrap import Deps
from .views import dossier_view, history_view


def perform_action(deps: Deps, actor: Actor, code: str, request: dict[str, Any]) -> dict[str, Any]:
    dossier = deps.dossiers.get(code, consistent=True)
    if dossier is None:
        raise NotFound(f"no dossier {code}")
    check_may_act(actor, dossier, deps.catalogue.tree())
    expected = int(request["version"])
    if expected != dossier.version:
        raise StaleVersion(f"version {expected} is stale: the dossier is at version {dossier.version}",
                           dossier.version)
    now = deps.now()
    calendar = deps.catalogue.calendar_for(dossier.receiving_unit)
    entry = dossier.act(Action(request["action"]), actor, now, calendar, request)
    deps.dossiers.save(dossier, entry, expected)
    logger().info("dossier action", extra={
        "code": code, "action": entry.action, "from": entry.from_status, "to": entry.to_status,
        "officer": actor.subject, "unit": actor.unit, "step": entry.step_index, "step_met": entry.step_met})
    return {**dossier_view(dossier, calendar, now), "history_entry": history_view(entry)}
