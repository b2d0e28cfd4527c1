"""The national portal sync, as officers and leaders see it: per unit, and per dossier."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.access import check_may_list
from ..services import portal_sync
from .params import DOSSIER_CODE, dossier_code
from .routing import Call, route

bp = Blueprint(__name__)


@route(bp, "GET", "/v1/sync/status",
       summary="National portal sync of a unit's subtree: dossiers synced, pending and failing, the oldest pending",
       tag="sync", query="sync-status-query", auth=True, response="SyncStatus", errors=(400, 401, 403))
def sync_status(call: Call) -> dict[str, Any]:
    actor = call.actor()
    unit = call.query().get("unit", actor.unit)
    d = deps()
    d.catalogue.unit(unit, "unit")
    check_may_list(actor, unit, d.catalogue.tree())
    return portal_sync.unit_status(d, unit)


@route(bp, "GET", "/v1/dossiers/{code}/sync",
       summary="A dossier's national portal sync: its state and the latest changes pushed", tag="sync", auth=True,
       response="DossierSync", errors=(400, 401, 403, 404), path_params={"code": DOSSIER_CODE})
def dossier_sync(call: Call, code: str) -> dict[str, Any]:
    return portal_sync.dossier_status(deps(), call.actor(), dossier_code(code))
