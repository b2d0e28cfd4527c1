"""Who may see and act on which dossier: officers by unit, leaders by subtree, admins everywhere."""

from __future__ import annotations

from .catalogue import UnitTree
from .dossier import Actor, Dossier
from .errors import Forbidden


def may_read(actor: Actor, dossier: Dossier, tree: UnitTree) -> bool:
    if "admin" in actor.roles:
        return True
    involved = dossier.units_involved
    if actor.unit in involved:
        return True
    return "leader" in actor.roles and any(tree.is_within(u, actor.unit) for u in involved)


def check_may_act(actor: Actor, dossier: Dossier, tree: UnitTree) -> None:
    """Officers act on dossiers received by their unit or whose current step is their unit's."""
    units = {dossier.receiving_unit, dossier.handling_unit}
    if actor.unit in units:
        return
    if "leader" in actor.roles and any(tree.is_within(u, actor.unit) for u in units):
        return
    raise Forbidden(f"dossier {dossier.code} is handled by another unit")


def check_may_list(actor: Actor, unit_id: str, tree: UnitTree) -> None:
    if "admin" in actor.roles or unit_id == actor.unit:
        return
    if "leader" in actor.roles and tree.is_within(unit_id, actor.unit):
        return
    raise Forbidden(f"unit {unit_id} is outside your scope")
