"""The statistics consumer: daily counters for report 06 (Circular 01/2020/TT-VPCP), from the domain events.

The rules (which event moves which counter, at which unit and day) are the domain's: domain/counting.py. This use
case only finds the catalogue's unit tree when the dossier was imported (an abolished unit counts there on the days
it worked) and hands the booking to the stats store, which applies it once per event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.counting import booking, snapshot_units
from ..domain.events import DomainEvent
from . import metrics

if TYPE_CHECKING:
    from .deps import Deps


def on_event(deps: Deps, event: DomainEvent) -> None:
    snap = event.data.get("dossier") or {}
    tree = deps.catalogue.tree() if isinstance(snap, dict) and snap.get("imported") else None
    applied = deps.stats.apply(event, booking(event, snapshot_units(snap, tree) if isinstance(snap, dict) else None))
    metric = metrics.of_event(event)
    if applied and metric is not None:  # once per event, as its counters
        metrics.count(deps, metric)
