"""The consumers of domain events, and the one way to run them: `dispatch`.

A consumer is a name, the event types it wants and a handler `(deps, event) -> None`. On AWS each consumer has
its own SQS queue fed by an EventBridge rule on those types, and its handler calls `dispatch(deps, event,
only=name)`; locally (and in route 1) the LocalPublisher calls `dispatch(deps, event, only=name)` in a lane per
consumer for every event the outbox stream publishes (docs/events.md).

To add one (statistics counters, webhooks, the national-portal sync): write `on_event(deps, event)` in a module of
`services/`, add a row to `_CONSUMERS`, and a queue and rule in infra/. Delivery is at least once: a handler's own
writes must be idempotent on `event.id` (a conditional put, a deterministic name). A claimed consumer is also
skipped when it already applied the event (`<consumer>#<event id>`), though a worker that dies after applying and
before recording it leads to one more run. Events of one dossier are published in `seq` order, but
queues may deliver them out of order: a handler that cares compares `event.seq` or `event.version`.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..domain import events as ev
from ..domain.events import DomainEvent

if TYPE_CHECKING:
    from .deps import Deps

Handler = Callable[["Deps", DomainEvent], None]


@dataclass(frozen=True)
class Consumer:
    name: str
    types: frozenset[str]
    handle: Handler
    # Claimed: `dispatch` records `<consumer>#<event id>` (a lease, then done) around the handler, so a redelivery
    # does not run it again. A consumer whose every effect is a write idempotent on the event (a conditional put,
    # a guard in its own transaction, a deterministic name) needs no claim: running it again changes nothing, and
    # the two writes per event are saved. One that sends something outside (an email, an SMS) is claimed.
    claimed: bool = True


# What changes the watched instants (deadline_timers restarts or stops a dossier's timer on them) ...
_WATCH_CHANGES = frozenset({ev.SUBMITTED, ev.RECEIVED, ev.STATUS_CHANGED, ev.STEP_STARTED, ev.APPOINTMENT_CHANGED,
                            ev.RESOLVED, ev.RETURNED, ev.CLOSED})
# ... and what someone must be told (a status change: the written notice of the act that made it).
_NOTIFIED = frozenset({ev.DUE_SOON, ev.OVERDUE, ev.STEP_OVERDUE, ev.INTAKE_OVERDUE, ev.SUPPLEMENT_OVERDUE,
                       ev.APOLOGY_ISSUED, ev.APPOINTMENT_CHANGED, ev.STATUS_CHANGED})
# ... and what report 06's counters count (services/statistics.py TYPES says the same; a test checks).
_COUNTED = frozenset({ev.RECEIVED, ev.RESOLVED, ev.CLOSED, ev.STATUS_CHANGED, ev.APOLOGY_ISSUED, ev.OVERDUE,
                      ev.PAYMENT_CONFIRMED, ev.RATED,
                      ev.DOCUMENT_DIGITISED, ev.RESULT_ISSUED})

# name, the event types it consumes, module of services/ holding `on_event`, claimed (Consumer.claimed).
_CONSUMERS: tuple[tuple[str, frozenset[str], str, bool], ...] = (
    # A timer is started under a name made of the dossier and its watch generation: started twice, it runs once.
    ("deadline_timers", _WATCH_CHANGES, "timers", False),
    ("notifications", _NOTIFIED, "notifications", True),  # sends email and SMS
    ("statistics", _COUNTED, "statistics", False),  # the event's guard item is in the counters' transaction
    # Every type: subscriptions choose (services/webhooks.py). A delivery's id is made of the subscription and the
    # event, put on condition it is new; only a new one is queued.
    ("webhooks", frozenset(ev.EVENT_TYPES), "webhooks", False),
    # Every event: seqs stay contiguous (a skip). The item `seq` is put on condition it is new.
    ("portal_sync", frozenset(ev.EVENT_TYPES), "portal_sync", False),
)


def _lazy(module: str) -> Handler:
    """The module's `on_event`, imported on first use: a Lambda that never runs a consumer never loads it."""
    def handle(deps: Deps, event: DomainEvent) -> None:
        importlib.import_module(f"{__package__}.{module}").on_event(deps, event)

    handle.__qualname__ = f"{module}.on_event"
    return handle


@lru_cache(maxsize=1)
def registry() -> tuple[Consumer, ...]:
    return tuple(Consumer(name, types, _lazy(module), claimed) for name, types, module, claimed in _CONSUMERS)


def event_of_detail(deps: Deps, detail: dict[str, Any]) -> DomainEvent:
    """The event a bus message carries: its detail, or, for a claim check (an event too large for the bus,
    adapters/eventbridge.py), the event the outbox holds under its code and seq. One the outbox no longer has
    raises, so its message goes to the dead-letter queue rather than being applied without its data."""
    if not detail.get("data_in_outbox"):
        return DomainEvent.from_dict(detail)
    event = deps.outbox.event(str(detail["code"]), int(detail["seq"]))
    if event is None or event.id != detail.get("id"):
        raise LookupError(f"event {detail.get('id')!r} is not in the outbox")
    return event


def dispatch(deps: Deps, event: DomainEvent, only: str | None = None) -> list[str]:
    """Run each consumer of `event.type` (or only the one named) that has not applied this event yet, in
    registry order; answer the names that ran. A claimed consumer that raises gives its claim back and the
    exception propagates, so the delivery is retried (and claimed consumers that already succeeded are not run
    again; unclaimed ones run again, changing nothing). Raises ClaimBusy while another worker is applying the
    same event in a claimed consumer."""
    consumers = registry()
    if only is not None and all(c.name != only for c in consumers):
        raise ValueError(f"no consumer named {only!r}")
    ran: list[str] = []
    for consumer in consumers:
        if event.type not in consumer.types or (only is not None and consumer.name != only):
            continue
        if not consumer.claimed:
            consumer.handle(deps, event)
            ran.append(consumer.name)
            continue
        key = f"{consumer.name}#{event.id}"
        if not deps.processed.claim(key):
            continue
        try:
            consumer.handle(deps, event)
        except BaseException:
            # Give the claim back so a retry runs it now; if even that fails, the lease lapses on its own.
            with contextlib.suppress(Exception):
                deps.processed.release(key)
            raise
        deps.processed.complete(key)
        ran.append(consumer.name)
    return ran
