"""The business metrics, counted where the use case knows the fact (never at import time), through the Metrics
port: CloudWatch (embedded metric format, namespace `motcua`, dimensions `stage` and `service`) in AWS, where
infra/observability.yaml alarms and graphs them.

Each counts a fact once: the statistics consumer applies an event once (its guard), a delivery ends once, a
dossier's sync turns failing once per spell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain import events as ev
from ..domain.events import DomainEvent

if TYPE_CHECKING:
    from .deps import Deps

NAMESPACE = "motcua"
DOSSIERS_RECEIVED = "DossiersReceived"
DOSSIERS_RESOLVED_LATE = "DossiersResolvedLate"
DOSSIERS_FLAGGED_OVERDUE = "DossiersFlaggedOverdue"
APOLOGIES = "Apologies"
WEBHOOK_DELIVERIES_FAILED = "WebhookDeliveriesFailed"
PORTAL_UPDATES_FAILING = "PortalUpdatesFailing"
EVENTS_PUBLISHED_LATE = "EventsPublishedLate"  # by the safety net: the outbox stream path missed them (relay.py)
ALL = (DOSSIERS_RECEIVED, DOSSIERS_RESOLVED_LATE, DOSSIERS_FLAGGED_OVERDUE, APOLOGIES, WEBHOOK_DELIVERIES_FAILED,
       PORTAL_UPDATES_FAILING, EVENTS_PUBLISHED_LATE)


def count(deps: Deps, name: str, value: int = 1) -> None:
    """Count `value` of metric `name`; a metric that cannot be written never fails the use case."""
    if deps.metrics is None:
        return
    try:
        deps.metrics.count(name, value)
    except Exception:  # noqa: BLE001 - a measurement is never worth a failed dossier
        from ..observability import logger

        logger().exception("metric not written", extra={"metric": name})


def of_event(event: DomainEvent) -> str | None:
    """The business metric a counted domain event is (the statistics consumer applies each event once)."""
    if event.type == ev.RECEIVED:
        return DOSSIERS_RECEIVED
    if event.type == ev.RESOLVED and (event.data.get("outcome") or (event.data.get("dossier") or {}).get(
            "outcome")) == "late":
        return DOSSIERS_RESOLVED_LATE
    if event.type == ev.OVERDUE:
        return DOSSIERS_FLAGGED_OVERDUE
    if event.type == ev.APOLOGY_ISSUED:
        return APOLOGIES
    return None
