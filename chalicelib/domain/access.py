"""Who may see and act on which dossier: officers by unit, leaders by subtree, admins everywhere.

A unit abolished by the 2025 reform hands its dossiers to its successor (and on along the successor
chain): the successor's officers see and act on the dossiers it left open and list its dossiers, as
its own officers did; leaders above the successor too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from .catalogue import ROLES, UnitTree
from .dossier import Actor, Dossier
from .errors import Forbidden
from .lifecycle import Action

# The processing agency's acts on the step in hand (assign, complete, resolve, refuse, ask for the fee,
# apologise for its lateness: Decree 61/2018 Art 19 has the agency that is late apologise): only the officers
# of the step's unit (or its successor's, or a leader above) do them. The receiving desk acts on the others.
STEP_ACTIONS = frozenset({Action.ASSIGN, Action.COMPLETE_STEP, Action.RESOLVE, Action.REFUSE,
                          Action.REQUEST_PAYMENT, Action.APOLOGIZE})


RECOGNISED_ROLES = frozenset(ROLES)


def check_claims(actor: Actor, tree: UnitTree, today: date) -> Actor:
    """A verified token's claims against the catalogue, before anything is read: its unit must be a unit of the
    catalogue that still operates on local day `today` (an abolished unit's officers act through its successor,
    whose officers see what it left), whatever its roles; and it must hold a role this API knows (names are
    exact: `Admin` is not `admin`). Answers the actor with its recognised roles only."""
    roles = actor.roles & RECOGNISED_ROLES
    if not roles:
        raise Forbidden(f"the token holds no role of this API ({', '.join(ROLES)})")
    unit = tree.get(actor.unit)
    if unit is None:
        raise Forbidden(f"unit {actor.unit} of the token is not in the catalogue")
    if unit.valid_to is not None and today > unit.valid_to:
        successor = tree.successors(unit.id)
        raise Forbidden(f"unit {unit.id} ceased operating after {unit.valid_to.isoformat()}"
                        + (f"; its dossiers are in the hands of {successor[-1]}'s officers" if successor else ""))
    return actor if roles == actor.roles else replace(actor, roles=roles)


def check_role(actor: Actor, role: str, what: str) -> None:
    if role not in actor.roles:
        raise Forbidden(f"{what} needs the {role} role")


def covers(actor: Actor, unit_id: str, tree: UnitTree) -> bool:
    """Whether `actor` answers for `unit_id`: its officer, its successor's, or a leader above either."""
    for uid in (unit_id, *tree.successors(unit_id)):
        if uid == actor.unit or ("leader" in actor.roles and tree.is_within(uid, actor.unit)):
            return True
    return False


def _covers_any(actor: Actor, units: Iterable[str | None], tree: UnitTree) -> bool:
    return any(covers(actor, u, tree) for u in units if u)


def may_read(actor: Actor, dossier: Dossier, tree: UnitTree) -> bool:
    if "admin" in actor.roles:
        return True
    return _covers_any(actor, dossier.units_involved, tree)


def check_may_act(actor: Actor, dossier: Dossier, tree: UnitTree, action: Action | None = None) -> None:
    """Officers act on dossiers received by their unit or whose current step is their unit's; a step action
    (`STEP_ACTIONS`) needs the current step's unit itself: the receiving centre does not sign for the agency
    whose step it is (Decree 61/2018 Art 18: each agency answers for its own part of a liên thông dossier)."""
    if not _covers_any(actor, (dossier.receiving_unit, dossier.handling_unit), tree):
        raise Forbidden(f"dossier {dossier.code} is handled by another unit")
    if action in STEP_ACTIONS and dossier.steps:
        step = dossier.steps[dossier.current_step]
        if not covers(actor, step.unit, tree):
            raise Forbidden(f"action {action.value}: the current step {step.name!r} belongs to unit {step.unit}; "
                            f"only its officers, its successor's or a leader above it may act on it "
                            f"(you act for {actor.unit})")


def check_may_list(actor: Actor, unit_id: str, tree: UnitTree) -> None:
    if "admin" in actor.roles or covers(actor, unit_id, tree):
        return
    raise Forbidden(f"unit {unit_id} is outside your scope")
