"""The statistics consumer: daily counters for report 06 (Circular 01/2020/TT-VPCP), from the domain events.

The rules (which event moves which counter, at which unit and day) are the domain's: domain/counting.py. This use
case only finds the catalogue's unit tree when the dossier was imported (an abolished unit counts there on the days
it worked) and hands the booking to the stats store, which applies it once per event.

Decision 766's 1.4 (`synced`) needs two facts that come from two places: the dossier's receipt (a domain event)
and the national portal's acknowledgement of its dossier sync (services/portal_sync.py). Whichever is second books
it, under one guard per dossier: the consumer after a receipt reads the sync state, and the sync after the
acknowledgement is written reads the dossier (both strongly consistent), so at least one of them sees the other's
fact and a repeat adds nothing. `make reconcile` recounts it from the dossiers and their sync states.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain import events as ev
from ..domain.clock import iso
from ..domain.counting import (
    CountingUnits,
    booking,
    counting_units,
    snapshot_units,
    synced_booking,
    synced_guard,
)
from ..domain.events import DomainEvent
from . import metrics

if TYPE_CHECKING:
    from .deps import Deps


def on_event(deps: Deps, event: DomainEvent) -> None:
    snap = event.data.get("dossier") or {}
    tree = deps.catalogue.tree() if isinstance(snap, dict) and snap.get("imported") else None
    units = snapshot_units(snap, tree) if isinstance(snap, dict) else None
    applied = deps.stats.apply(event, booking(event, units))
    metric = metrics.of_event(event)
    if applied and metric is not None:  # once per event, as its counters
        metrics.count(deps, metric)
    if event.type == ev.RECEIVED and isinstance(snap, dict) and units is not None:
        state = deps.sync.state(event.code)
        if state is not None and state.announced:
            count_synced(deps, event.code, snap, units)


def on_announced(deps: Deps, code: str) -> bool:
    """The portal acknowledged the dossier sync of `code`: count it synced if it was received (else its receipt
    will). Answers whether this call counted it."""
    dossier = deps.dossiers.get(code, consistent=True)
    if dossier is None or dossier.received_at is None:
        return False
    tree = deps.catalogue.tree() if dossier.imported else None
    units = counting_units(dossier.receiving_unit, dossier.competent_unit, dossier.imported, tree)
    snap = {"received_at": iso(dossier.received_at), "field_code": dossier.field_code,
            "procedure_code": dossier.procedure_code}
    return count_synced(deps, code, snap, units)


def count_synced(deps: Deps, code: str, snap: dict[str, Any], units: CountingUnits) -> bool:
    return deps.stats.apply_once(synced_guard(code), synced_booking(snap, units))
