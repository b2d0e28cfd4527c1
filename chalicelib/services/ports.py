"""What the use cases need from storage. Adapters (chalicelib/adapters/dynamodb) implement these."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..domain.catalogue import Procedure, Unit
from ..domain.dossier import Dossier, HistoryEntry
from ..domain.errors import DomainError, FieldProblem
from ..domain.events import DomainEvent
from ..domain.status import Status

if TYPE_CHECKING:
    from .statistics import Booking


@dataclass(frozen=True)
class DossierQuery:
    unit: str
    view: str = "handling"  # "handling": where the dossier is now; "received": what the unit's desk received
    status: Status | None = None
    procedure: str | None = None
    filed_from: datetime | None = None
    filed_to: datetime | None = None
    overdue: bool | None = None
    limit: int = 50
    cursor: str | None = None


class ItemTooLarge(DomainError):
    """What a request asks to store exceeds what one DynamoDB item can hold (HTTP 413)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the dossier would take {size} bytes; at most {limit} can be stored",
                         [FieldProblem("body", "too large once stored: fewer or shorter documents and notes")],
                         "payload_too_large")


class DossierStore(Protocol):
    def get(self, code: str, consistent: bool = False) -> Dossier | None: ...
    def history(self, code: str) -> list[HistoryEntry]: ...
    def search(self, query: DossierQuery, now: datetime) -> tuple[list[dict[str, Any]], str | None]: ...
    def next_sequence(self, name: str) -> int: ...
    def add(self, dossier: Dossier, entry: HistoryEntry, claim: tuple[str, str] | None = None) -> None:
        """Store a new dossier, its first history line and its events (`dossier.take_events()`, as outbox
        items) in one transaction; with `claim` (an Idempotency-Key's id and payload hash), also record in it
        that this key created the dossier. Raises ItemTooLarge."""
        ...

    def check_fits(self, dossier: Dossier, entry: HistoryEntry) -> None:
        """Raise ItemTooLarge if the dossier, its history line or one of its pending events could not be
        stored."""
        ...

    def save(self, dossier: Dossier, entry: HistoryEntry | None, expected_version: int) -> None:
        """Store the changed dossier, its history line (None: a change that writes none, e.g. a deadline flag)
        and its events in one transaction, only if the stored version is still `expected_version`
        (StaleVersion otherwise, and nothing is written)."""
        ...

    def late_steps(self, unit: str, officer: str | None, limit: int,
                   cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the steps flagged overdue at `unit` (held by `officer` when given), latest flagged first,
        read with one Query: each the dossier's list summary when the step was flagged plus `late_steps` (that
        one step: index, name, unit, officer, due_at, flagged_at). Written with the flag, in the dossier's
        transaction, so a step stays listed under its unit after the dossier moves on. The cursor is signed for
        this unit and officer (InvalidInput naming `cursor` otherwise)."""
        ...

    def due_for_wake(self, now: datetime, limit: int) -> list[str]:
        """Codes of dossiers whose next wake (`Dossier.next_wake`) is at or before `now`, earliest first, at
        most `limit`. Reads only what is due (a sparse index), not every open dossier."""
        ...

    # Bulk import of an old system's dossiers (services/importer.py).
    def existing(self, codes: list[str]) -> set[str]:
        """Which of `codes` are stored (keys only, batched)."""
        ...

    def add_imported_many(self, batch: list[tuple[Dossier, list[HistoryEntry]]]) -> list[bool]:
        """Store imported dossiers, each with all its history lines and events (`take_events()`), in as few
        transactions as possible, each dossier all or nothing and only if its code is new; in order, whether each
        was written (False: the code was already stored, nothing written). Raises ItemTooLarge."""
        ...

    def raise_sequence(self, name: str, at_least: int) -> None:
        """Make the daily sequence counter `name` at least `at_least` (never lower it)."""
        ...


class CatalogueStore(Protocol):
    def units(self) -> list[Unit]: ...
    def procedures(self) -> list[Procedure]: ...
    def procedure(self, code: str, version: int | None = None) -> Procedure | None: ...


class OutboxStore(Protocol):
    """The events written with their dossier, waiting to be published."""

    def pending(self, limit: int) -> list[DomainEvent]:
        """At most about `limit` unpublished events, oldest first; each dossier's events in `seq` order and
        starting at its lowest unpublished `seq`, so a relay that publishes them in this order never
        publishes an event before an earlier one of the same dossier."""
        ...

    def mark_published(self, event: DomainEvent) -> None:
        """Record that `event` was published (a no-op if someone already did)."""
        ...


class PublishError(Exception):
    """Some events of a `publish` call were not published. `failed` holds their ids; every other event of
    the call was published."""

    def __init__(self, message: str, failed: Collection[str]) -> None:
        super().__init__(message)
        self.failed = frozenset(failed)


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Publish `events` in the order given. Raises PublishError naming the events that were not
        published; any other exception means none of them may be assumed published."""
        ...


class ClaimBusy(Exception):
    """Another worker holds a live claim on this key: try again later (its lease may still expire)."""


class ProcessedEvents(Protocol):
    """What each consumer has applied, keyed `<consumer>#<event id>`: dispatch runs a consumer once per event.

    A claim is a lease: a worker that dies between `claim` and `complete` leaves a claim that expires, so a
    later delivery runs the consumer again instead of losing the event."""

    def claim(self, key: str) -> bool:
        """True: the caller now holds `key` and must `complete` or `release` it. False: already applied.
        Raises ClaimBusy while another worker's claim is live."""
        ...

    def complete(self, key: str) -> None:
        """The consumer applied the event: later claims of `key` answer False."""
        ...

    def release(self, key: str) -> None:
        """The consumer failed: give the key up so a retry runs it again."""
        ...


class StatsStore(Protocol):
    """Report 06's counters (services/statistics.py)."""

    def apply(self, event: DomainEvent, booking: Booking) -> bool:
        """Apply the booking of `event` once, with a guard keyed by its id in the same transaction: False when
        the event was applied already (nothing written)."""
        ...

    def months(self, unit: str) -> set[str]:
        """The months (YYYY-MM) the unit has counters in."""
        ...

    def read(self, unit: str, month: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """The unit's counter items of that month from `first_day` to `last_day` (ISO dates, inclusive), each
        `{"day", "group", <column>: n, ...}` with its non-zero columns."""
        ...


class Undeliverable(Exception):
    """A notification that can never be delivered as addressed (a landline given for SMS, an address SES
    rejects, a sender not verified): retrying cannot help, so it is recorded as undeliverable and the event
    is not retried. Anything else a notifier raises is taken as transient (throttling, timeouts, 5xx)."""


class NotificationStore(Protocol):
    """Every notification sent, or that would have been sent (locally), so the API can list them.

    A notification is a JSON object with at least `id` (unique and deterministic, e.g. derived from the event
    id, the channel and the recipient: adding the same id again replaces the record, e.g. with its new status
    after a retried send, so it is never listed twice) and `at` (ISO instant); `code` (the dossier) and `unit`
    (the unit it concerns or is addressed to) make it listable by dossier and by unit."""

    def add(self, n: dict[str, Any]) -> None: ...

    def for_dossier(self, code: str) -> list[dict[str, Any]]:
        """A dossier's notifications, oldest first."""
        ...

    def for_unit(self, unit: str, limit: int) -> list[dict[str, Any]]:
        """A unit's latest notifications, newest first."""
        ...

    def unit_page(self, unit: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a unit's notifications (addressed to its leader, officers or desk, and its digests),
        newest first, read with one Query; the cursor of the next page (signed for this unit's list) or None.
        Raises InvalidInput naming `cursor` for a cursor not issued for this list."""
        ...


class TimerScheduler(Protocol):
    """One timer per dossier watch generation (`Dossier.watch_generation`): on AWS a Step Functions execution
    that waits until the next watched instant and wakes the dossier; locally nothing (the sweep wakes them)."""

    def start(self, code: str, generation: int, wake_at: datetime) -> None:
        """Start the timer of `generation`, first waking at `wake_at`. Idempotent: the timer's name comes from
        the code and the generation, so starting it again (a redelivered event) is harmless."""
        ...

    def stop(self, code: str, generation: int) -> None:
        """Stop that generation's timer; a timer that never started or already ended is not an error."""
        ...
