"""Domain events: what happened to a dossier, recorded in the same transaction as the change.

Every state change of a dossier (an action, an intake, a deadline reached) appends events to
`Dossier.pending_events`; the repository takes them (`Dossier.take_events`) and writes them as outbox
items with the dossier, so an event exists exactly when its change does. A relay publishes them in
`seq` order per dossier, at least once; consumers are idempotent on `id` (code and seq).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clock import iso, parse_iso

SUBMITTED = "dossier.submitted"  # an online submission arrived (status 1)
RECEIVED = "dossier.received"  # the legal clock started (desk/postal intake or accept)
STATUS_CHANGED = "dossier.status_changed"  # any status change, with the action that made it
STEP_STARTED = "dossier.step_started"  # a processing step's clock started at its unit
STEP_COMPLETED = "dossier.step_completed"  # a step finished: early / on time / late
APPOINTMENT_CHANGED = "dossier.appointment_changed"  # the applicant holds a new appointment
DUE_SOON = "dossier.due_soon"  # the warning instant before the due time was reached
OVERDUE = "dossier.overdue"  # the due time passed, the dossier not resolved
STEP_OVERDUE = "dossier.step_overdue"  # the current step's own due time passed
INTAKE_OVERDUE = "dossier.intake_overdue"  # an online submission waited too long for the desk
SUPPLEMENT_OVERDUE = "dossier.supplement_overdue"  # the applicant's supplement period ran out
APOLOGY_ISSUED = "dossier.apology_issued"  # form 04: apology and new appointment
RESOLVED = "dossier.resolved"  # a result (approved or refused after appraisal)
RETURNED = "dossier.returned"  # the result was handed back
CLOSED = "dossier.closed"  # the dossier will not change again (returned, withdrawn, stopped, not accepted, guided)
PAYMENT_CONFIRMED = "dossier.payment_confirmed"  # a fee or charge paid: the channel and the amount (VND)
RATED = "dossier.rated"  # the applicant rated the handling, once, after the result was returned
WITHDRAWAL_REQUESTED = "dossier.withdrawal_requested"  # an online applicant asked to withdraw: the desk confirms
DOCUMENT_DIGITISED = "document.digitised"  # a component scanned at the desk, or reused, verified (docs/documents.md)
RESULT_ISSUED = "result.issued"  # the result as a file (an electronic result), verified

EVENT_TYPES: tuple[str, ...] = (
    SUBMITTED, RECEIVED, STATUS_CHANGED, STEP_STARTED, STEP_COMPLETED, APPOINTMENT_CHANGED, DUE_SOON, OVERDUE,
    STEP_OVERDUE, INTAKE_OVERDUE, SUPPLEMENT_OVERDUE, APOLOGY_ISSUED, RESOLVED, RETURNED, CLOSED,
    PAYMENT_CONFIRMED, RATED, WITHDRAWAL_REQUESTED,
    DOCUMENT_DIGITISED, RESULT_ISSUED,
)

# The fields of the compact dossier snapshot every event carries in data["dossier"].
SNAPSHOT_FIELDS: tuple[str, ...] = (
    "code", "procedure_code", "procedure_version", "field_code", "channel", "status", "national_code",
    "receiving_unit", "competent_unit", "handling_unit", "current_step", "assignee", "submitted_at", "received_at",
    "appointment_at", "due_at", "resolved_at", "outcome", "rescheduled", "appointment_met", "supplement_violations",
    "supplement_requests", "overdue",
)


@dataclass(frozen=True)
class DomainEvent:
    type: str  # one of EVENT_TYPES
    code: str  # the dossier code
    seq: int  # 1, 2, 3 ... per dossier, never reused: the order consumers apply them in
    version: int  # the dossier's version after the change
    at: datetime  # when it happened (aware, UTC)
    data: dict[str, Any] = field(default_factory=dict)  # type-specific fields + "dossier": the snapshot

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.seq < 1:
            raise ValueError("an event's seq starts at 1")
        if self.at.tzinfo is None:
            raise ValueError("an event's instant must carry a timezone")

    @property
    def id(self) -> str:
        """Unique and deterministic: a retried write or a re-published event keeps its id."""
        return f"{self.code}/{self.seq}"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "code": self.code, "seq": self.seq, "version": self.version,
                "at": iso(self.at), "data": self.data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DomainEvent:
        event = cls(str(data["type"]), str(data["code"]), int(data["seq"]), int(data["version"]),
                    parse_iso(str(data["at"])), dict(data.get("data") or {}))
        if "id" in data and data["id"] != event.id:
            raise ValueError(f"event id {data['id']!r} does not match its code and seq ({event.id})")
        return event
