"""Reading dossiers: by code, their history, lists for a unit, and the public lookup."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..domain.access import check_may_list, may_read
from ..domain.dossier import Actor, Dossier
from ..domain.errors import Forbidden, NotFound
from .bootstrap import Deps
from .ports import DossierQuery
from .views import control_sheet_view, dossier_view, public_view, summary_view


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


def list_dossiers(deps: Deps, actor: Actor, query: DossierQuery) -> dict[str, Any]:
    deps.catalogue.unit(query.unit)
    check_may_list(actor, query.unit, deps.catalogue.tree())
    now: datetime = deps.now()
    items, cursor = deps.dossiers.search(query, now)
    return {"items": [summary_view(i, now) for i in items], "next_cursor": cursor}


def public_lookup(deps: Deps, code: str) -> dict[str, Any]:
    dossier = deps.dossiers.get(code)
    if dossier is None:
        raise NotFound(f"no dossier {code}")
    return public_view(dossier, deps.catalogue.calendar_for(dossier.receiving_unit), deps.now())
