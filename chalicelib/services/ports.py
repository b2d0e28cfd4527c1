"""What the use cases need from storage. Adapters (chalicelib/adapters/dynamodb) implement these."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..domain.catalogue import Procedure, Unit
from ..domain.dossier import Dossier, HistoryEntry
from ..domain.errors import DomainError, FieldProblem
from ..domain.events import DomainEvent
from ..domain.status import Status

if TYPE_CHECKING:
    from ..domain.counting import Booking, Key
    from ..domain.import_counts import DossierCounts
    from ..domain.portal import SyncState


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


@dataclass(frozen=True)
class MessageRecord:
    """The outcome of an inbound message (services/inbound.py), recorded once under `key` (`<source>#<message
    id>`): the body it answered (its hash), the HTTP status and the answer, replayed to a resent message."""

    key: str
    body_hash: str
    status: int
    answer: dict[str, Any]


@dataclass(frozen=True)
class VerifiedFile:
    """A dossier's file kept once verified (services/documents.py), written in the dossier's own transaction with
    the event that announces it: the file and its event exist together or not at all. `pending`: the record was a
    pending upload (kept only if it still is; FileConflict otherwise); else a new record (a reused copy).
    `applicant_key`: the applicant's reuse index entry for a component, when the applicant is identified."""

    record: dict[str, Any]
    pending: bool
    applicant_key: str | None = None


class MessageSeen(Exception):
    """The message's outcome was recorded first by another delivery of it: read it and answer with it."""


class DossierStore(Protocol):
    def get(self, code: str, consistent: bool = False) -> Dossier | None: ...
    def get_many(self, codes: Sequence[str]) -> list[Dossier]:
        """The dossiers of `codes` that exist, in no particular order, read in batches (BatchGetItem, a
        bounded number of attempts for what DynamoDB leaves unprocessed: a dependency error after them)."""
        ...

    def history(self, code: str) -> list[HistoryEntry]: ...
    def search(self, query: DossierQuery, now: datetime) -> tuple[list[dict[str, Any]], str | None]: ...
    def next_sequence(self, name: str) -> int: ...
    def add(self, dossier: Dossier, entry: HistoryEntry, claim: tuple[str, str] | None = None,
            message: MessageRecord | None = None) -> None:
        """Store a new dossier, its first history line and its events (`dossier.take_events()`, as outbox
        items) in one transaction; with `claim` (an Idempotency-Key's id and payload hash), also record in it
        that this key created the dossier; with `message`, the inbound message's outcome (MessageSeen if it
        was recorded already, and nothing is written). Raises ItemTooLarge."""
        ...

    def check_fits(self, dossier: Dossier, entry: HistoryEntry) -> None:
        """Raise ItemTooLarge if the dossier, its history line or one of its pending events could not be
        stored."""
        ...

    def save(self, dossier: Dossier, entry: HistoryEntry | None, expected_version: int,
             message: MessageRecord | None = None, file: VerifiedFile | None = None) -> None:
        """Store the changed dossier, its history line (None: a change that writes none, e.g. a deadline flag)
        and its events in one transaction, only if the stored version is still `expected_version`
        (StaleVersion otherwise, and nothing is written); with `message`, as in `add`; with `file`, the verified
        file's record in the same transaction (FileConflict if it is no longer pending, or already there)."""
        ...

    def low_ratings(self, unit: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """The dossiers of `unit` (competent) rated low, latest rated first, each summary with its `rating`."""
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
    def existing(self, codes: list[str]) -> dict[str, str | None]:
        """Which of `codes` are stored, each with its import fingerprint (None: not an imported dossier)."""
        ...

    def claim_imported(self, dossier: Dossier) -> bool:
        """Store an imported dossier's item only if its code is new (False: stored already, nothing written); its
        pending events are dropped, not stored (the importer does their work). Raises ItemTooLarge."""
        ...

    def add_history_lines(self, lines: list[tuple[str, HistoryEntry]]) -> None:
        """Control-sheet lines (code, entry) of claimed imported dossiers, in bulk; the same again is harmless."""
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

    def pending(self, limit: int, written_before: datetime | None = None,
                skip: Collection[str] = ()) -> list[DomainEvent]:
        """At most about `limit` unpublished events, oldest written first (only those written before
        `written_before`, real time, when given; none of the dossiers in `skip`); each dossier's events in `seq`
        order and starting at its lowest unpublished `seq`, so a relay that publishes them in this order never
        publishes an event before an earlier one of the same dossier."""
        ...

    def event_of_image(self, image: dict[str, Any]) -> DomainEvent | None:
        """The event a stream record of the outbox carries (its new image, as the stream gives it)."""
        ...

    def event(self, code: str, seq: int) -> DomainEvent | None:
        """The dossier's event `seq` as written (a consistent read); None when it is not there."""
        ...

    def is_published(self, code: str, seq: int) -> bool:
        """Whether the dossier's event `seq` is published (a consistent read); True for one that is not there
        (expired long after publication, or never written)."""
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
    # True when the events of one dossier given in one call are delivered in that order (the local bus); False
    # when a call's entries may arrive in any order (EventBridge): then a call holds one event per dossier.
    keeps_order: bool

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

    def apply_once(self, guard: str, booking: Booking) -> bool:
        """Apply a booking that is no event's (no overdue interval in it) once, with the guard `guard` in the same
        transaction: False when that guard exists (nothing written)."""
        ...

    def months(self, unit: str) -> set[str]:
        """The months (YYYY-MM) the unit has counters in."""
        ...

    def read(self, unit: str, month: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """The unit's counter items of that month from `first_day` to `last_day` (ISO dates, inclusive), each
        `{"day", "group", <column>: n, ...}` with its non-zero columns."""
        ...

    def rollups(self, unit: str, last_month: str, first_month: str | None = None) -> list[dict[str, Any]]:
        """The unit's monthly roll-ups (each the sum of its daily items of that month and group) up to
        `last_month` (YYYY-MM, inclusive; from `first_month` if given), in one Query, each `{"month", "group",
        <column>: n, ...}`."""
        ...

    def yearly(self, unit: str, last_year: str) -> list[dict[str, Any]]:
        """The unit's yearly roll-ups (each the sum of its daily items of that year and group) up to `last_year`
        (YYYY, inclusive), in one Query, each `{"year", "group", <column>: n, ...}`."""
        ...

    def adjust(self, increments: dict[Key, dict[str, int]]) -> int:
        """ADD amounts to counter items as given (daily, monthly or yearly keys): the repair of what the recount
        found wrong. Answers the items written."""
        ...

    def imported_counted(self, codes: list[str]) -> set[str]:
        """Which of these imported dossiers had their counters applied (their guards exist)."""
        ...

    def apply_imported(self, counts: list[DossierCounts], workers: int = 1) -> set[str]:
        """Apply imported dossiers' counters, summed per key, exactly once per dossier (a guard each); answers the
        codes this call counted (the others were counted before)."""
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


class InboundStore(Protocol):
    """Inbound messages' outcomes (the same records `DossierStore.add/save` write with a dossier) and the rejected
    messages kept for an admin (services/inbound.py)."""

    def outcome(self, key: str) -> MessageRecord | None:
        """The recorded outcome of the message `key` (a consistent read), or None."""
        ...

    def record(self, message: MessageRecord) -> None:
        """Record an outcome that changed no dossier (a rejection); MessageSeen if one was recorded first."""
        ...

    def keep_rejected(self, source: str, rejected: dict[str, Any]) -> None:
        """Keep a rejected message for the admin list (`rejected["at"]`, ISO, orders it; `rejected["id"]` is
        unique)."""
        ...

    def rejected(self, source: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a source's rejected messages, newest first, read with one Query; the next page's cursor
        (signed for this source's list) or None. InvalidInput naming `cursor` for a cursor of another list."""
        ...
# Outbound webhooks (services/webhooks.py, services/webhook_delivery.py).
class WebhookStore(Protocol):
    """Subscriptions (data, secrets, version) and deliveries (dicts as services/webhook_delivery.py builds)."""

    def create(self, data: dict[str, Any], secrets: list[dict[str, Any]]) -> None: ...
    def get(self, webhook_id: str) -> tuple[dict[str, Any], list[dict[str, Any]], int] | None: ...
    def update(self, data: dict[str, Any], secrets: list[dict[str, Any]], expected_version: int) -> int: ...
    def delete(self, webhook_id: str) -> bool: ...
    def page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]: ...
    def active(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]: ...
    def add_delivery(self, delivery: dict[str, Any]) -> bool: ...
    def save_delivery(self, delivery: dict[str, Any], expected: dict[str, Any]) -> bool: ...
    def delivery(self, delivery_id: str) -> dict[str, Any] | None: ...
    def deliveries_page(self, webhook_id: str, status: str | None, limit: int,
                        cursor: str | None) -> tuple[list[dict[str, Any]], str | None]: ...
    def due(self, now: datetime, limit: int) -> list[str]: ...
    def failed_ids(self, webhook_id: str, limit: int) -> list[str]: ...


@dataclass(frozen=True)
class SendResult:
    status: int | None  # the receiver's HTTP status; None when there was no answer
    error: str | None  # why there was no usable answer (timeout, refused, TLS, a non-public address)
    duration_ms: int


class WebhookSender(Protocol):
    def post(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        """One bounded POST, no redirect followed; never raises for what the receiver does."""
        ...


class DeliveryQueue(Protocol):
    """The webhook delivery queue (SQS on AWS): each message names a delivery and the attempt it is for."""

    def send(self, messages: Sequence[tuple[str, int, int]]) -> int:
        """Send (delivery id, attempt count, delay in seconds) messages, in order; answer how many were sent
        (those after a failure are not: the sweep finds them). Never raises for what the queue does."""
        ...


@dataclass(frozen=True)
class WebhookPorts:
    store: WebhookStore
    sender: WebhookSender
    local: bool  # the local stack: targets may be http on loopback
    draw: Callable[[], float]  # the backoff's jitter, in [0, 1)
    queue: DeliveryQueue | None = None  # None (locally, route 1): the sweep alone sends deliveries
class SyncConflict(Exception):
    """A dossier's sync state changed since it was read: read it again and re-apply the change."""


class SyncStore(Protocol):
    """The national portal sync (services/portal_sync.py): per dossier a `SyncState` and its items, seq 1, 2, ..."""

    def state(self, code: str) -> SyncState | None: ...

    def record(self, seq: int, change: dict[str, Any] | None, before: SyncState | None, after: SyncState,
               now: datetime, count_known: bool = True) -> bool:
        """Write item `seq` and the state `after` in one transaction, only if the item is new (False otherwise)
        and the state still `before`'s revision (SyncConflict otherwise); a new dossier counts in its unit
        (unless `count_known` is False: an imported dossier is counted by its import)."""
        ...

    def add_history(self, states: list[tuple[SyncState, dict[str, Any]]], now: datetime) -> int:
        """Imported dossiers on the history lane: each one's item and state (put only if it has none)."""
        ...

    def due_history(self, now: datetime, limit: int) -> list[str]:
        """Codes of imported dossiers on the history lane whose next try has come."""
        ...

    def save(self, before: SyncState, after: SyncState) -> SyncState:
        """Store `after` if the state is still `before`'s revision (SyncConflict otherwise)."""
        ...

    def acknowledge(self, item: dict[str, Any], before: SyncState, after: SyncState, now: datetime,
                    answer: dict[str, Any] | None) -> SyncState:
        """Mark the item handled and store `after`, together (SyncConflict as `save`)."""
        ...

    def items(self, code: str, from_seq: int, limit: int) -> list[dict[str, Any]]: ...

    def recent(self, code: str, limit: int) -> list[dict[str, Any]]: ...

    def due(self, now: datetime, limit: int) -> list[str]: ...

    def unit_figures(self, unit: str) -> dict[str, Any]: ...

    def outbox_event(self, code: str, seq: int) -> DomainEvent | None: ...


class PortalClient(Protocol):
    """The national portal's services (DongBoHoSoMC, CapNhatTienDoHoSoMC): raises PortalError unless the
    portal acknowledged the payload, within bounded waits."""

    def send(self, service: str, body: dict[str, Any], key: str) -> dict[str, Any]: ...


class PortalError(Exception):
    """The portal did not acknowledge: unreachable, too slow, an error status or a refusal in its answer."""


class Metrics(Protocol):
    """Business metrics (services/metrics.py names them): CloudWatch embedded metric format in AWS
    (adapters/metrics.py), counted in memory locally."""

    def count(self, name: str, value: int = 1) -> None: ...


class FileStorage(Protocol):
    """Where the bytes of scans and results live (S3: adapters/s3_files.py). Clients upload and download by
    presigned URLs; the service only inspects, moves and deletes objects."""

    def presign_put(self, key: str, media_type: str, size: int, sha256_b64: str, seconds: int
                    ) -> tuple[str, dict[str, str]]:
        """A PUT URL bound to `key`, the size, the type and the checksum, and the headers the client must send."""
        ...

    def presign_get(self, key: str, seconds: int, filename: str, media_type: str) -> str: ...

    def inspect(self, key: str, max_bytes: int) -> tuple[int | None, str | None, bytes]:
        """(size, SHA-256 hex, first bytes) of the object; (None, None, b"") when there is none. Reads at most
        `max_bytes` (a larger object is reported with its size and no checksum)."""
        ...

    def copy(self, source_key: str, target_key: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def put(self, key: str, body: bytes, media_type: str) -> None:
        """Store bytes the service itself fetched and verified (a portal's file reference)."""
        ...


class FetchFailed(Exception):
    """A referenced file could not be fetched: the reason, for the refusal."""


class FileFetcher(Protocol):
    """GET of a file a portal references (adapters/http_fetch.py): bounded in time and size, guarded like a
    webhook target."""

    def fetch(self, url: str, max_bytes: int, seconds: float | None = None) -> bytes:
        """At most `max_bytes` + 1 bytes of the body, within `seconds`; FetchFailed with the reason."""
        ...


class FileRecords(Protocol):
    """What is known of a dossier's files (adapters/dynamodb/files.py): pending uploads (they expire),
    verified files, the receipt secret's hash and the download audit. A verified file is written with its event
    in the dossier's transaction (DossierRepository.save with a VerifiedFile)."""

    def add_pending(self, record: dict[str, Any], expires_at: int) -> None: ...

    def get(self, code: str, file_id: str) -> dict[str, Any] | None: ...

    def of_dossier(self, code: str) -> list[dict[str, Any]]:
        """Every file record of the dossier, pending ones included, oldest first."""
        ...

    def latest_of_applicant(self, applicant_key: str, component: str) -> tuple[str, str] | None: ...

    def remove_pending(self, code: str, file_id: str) -> None: ...

    def set_access_hash(self, code: str, secret_hash: str, at: str, by: str) -> None: ...

    def access_hash(self, code: str) -> str | None: ...

    def record_download(self, code: str, entry: dict[str, Any]) -> None: ...

    def downloads(self, code: str) -> list[dict[str, Any]]: ...


class FileConflict(Exception):
    """The pending upload was finalised or removed by another request meanwhile."""
