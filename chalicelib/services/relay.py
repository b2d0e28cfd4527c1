"""Publishing the outbox, at least once and in order per dossier: the stream path and its safety net.

- `publish_written`: the main path (docs/events.md). The outbox table's stream hands every new event item to the
  `outbox_stream` function as soon as it is written (api/event_handlers.py; `make run` reads the local stream
  with the same function, scripts/run_local.py). Nothing there waits for a clock, and nothing caps its rate but
  the stream's shards and the function's concurrency, which grow with the table.
- `relay`: the safety net (a schedule, every 5 minutes). It publishes only what the stream path has left pending
  for longer than it could ever take (a batch that failed past its retries, a record older than the stream's
  24 hours), and says so loudly: every event it finds is a fault of the main path (logged at warning level with
  the count `found`, which the production alarm watches).

Both publish the same way (`publish_in_order`): the oldest unpublished event of every dossier in a round (one call
never holds two events of a dossier, since a bus may deliver the entries of one call in any order), then mark
each published one. A dossier whose event failed stops there: nothing after it is published; the stream retries
it from that record, the safety net from that event. A publisher killed between publishing and marking
publishes those events again; consumers are idempotent on the event id, so they apply them once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..domain.events import DomainEvent
from ..observability import logger
from . import metrics
from .ports import PublishError

if TYPE_CHECKING:
    from .deps import Deps

# The stream path publishes an event within seconds (docs/events.md). Its mapping gives a record up after 5
# minutes (infra/events.yaml MaximumRecordAgeInSeconds): an event still pending after 6 was missed by it, and the
# safety net never races a stream that is only slow.
SAFETY_NET_AGE_SECONDS = 360
SAFETY_NET_PAGE = 200  # events read per round; rounds go on until none is older or the budget is spent
MARKS_AT_ONCE = 8  # UpdateItem calls in flight while marking a batch published
SAFETY_NET_BUDGET_SECONDS = 60.0  # the schedule comes again in 5 minutes; its function's timeout is 120 s
# (.chalice/config.json): no page is cut off half-published by the timeout


@dataclass
class Published:
    """What one publishing pass did: `failed` holds the ids left pending (a failed event and those after it in
    its dossier), `unmarked` those published but not marked (they will be published again)."""

    published: int = 0
    failed: set[str] = field(default_factory=set)
    unmarked: int = 0
    dossiers: int = 0
    held: int = 0  # dossiers stopped at a failed event


def publish_in_order(deps: Deps, events: Sequence[DomainEvent]) -> Published:
    """Publish `events` (each dossier's in seq order, as the outbox and its stream give them) and mark each one
    published. A bus that may deliver the entries of one call in any order (EventBridge) gets one event per
    dossier per call; one that keeps the order given (the local bus) gets them all at once."""
    queues: dict[str, deque[DomainEvent]] = {}
    for event in events:
        queues.setdefault(event.code, deque()).append(event)
    out = Published(dossiers=len(queues))
    whole = deps.publisher.keeps_order
    while queues:
        sent = [e for queue in queues.values() for e in queue] if whole else [q[0] for q in queues.values()]
        failed = _publish(deps, sent)
        published = []
        for event in sent:
            queue = queues.get(event.code)
            if queue is None:  # its dossier stopped at an earlier event of this call
                continue
            if event.id in failed:
                out.failed.update(e.id for e in queue)
                out.held += 1
                del queues[event.code]
                continue
            published.append(event)
            queue.popleft()
            if not queue:
                del queues[event.code]
        out.published += len(published)
        out.unmarked += _mark(deps, published)
    return out


def _mark(deps: Deps, events: list[DomainEvent]) -> int:
    """Mark each event published (a few at once); answer how many could not be: published all the same, the
    safety net publishes them again and consumers skip them."""
    def mark(event: DomainEvent) -> int:
        try:
            deps.outbox.mark_published(event)
        except Exception:
            logger().exception("could not mark an event published", extra={"event": event.id})
            return 1
        return 0

    if len(events) <= 1:
        return sum(mark(e) for e in events)
    with ThreadPoolExecutor(max_workers=min(MARKS_AT_ONCE, len(events)), thread_name_prefix="mark") as pool:
        return sum(pool.map(mark, events))


def publish_written(deps: Deps, events: Sequence[DomainEvent]) -> frozenset[str]:
    """The stream path: publish the events of a batch of outbox inserts, in the stream's order; answer the ids
    left pending, which the stream delivers again from the first of them.

    A dossier's first event in the batch goes out only once the event before it is published: the stream keeps
    a dossier's records in order, but one it gave up (past its retries) is left to the safety net, and the
    dossier's later records must wait for it rather than overtake it. One consistent read per such dossier."""
    if not events:
        return frozenset()
    first: dict[str, DomainEvent] = {}
    for event in events:
        first.setdefault(event.code, event)
    waiting = {code for code, event in first.items()
               if event.seq > 1 and not deps.outbox.is_published(code, event.seq - 1)}
    held = {e.id for e in events if e.code in waiting}
    done = publish_in_order(deps, [e for e in events if e.code not in waiting])
    failed = held | done.failed
    if failed:
        logger().warning("events left pending by the stream path; the stream retries them", extra={
            "published": done.published, "failed": len(done.failed), "waiting": len(waiting), "held": done.held})
    return frozenset(failed)


def relay(deps: Deps, limit: int = SAFETY_NET_PAGE, older_than_seconds: float = SAFETY_NET_AGE_SECONDS,
          budget_seconds: float = SAFETY_NET_BUDGET_SECONDS,
          wall_clock: Callable[[], float] = time.time, announce: bool = True) -> dict[str, int]:
    """The safety net: publish what has waited in the outbox longer than `older_than_seconds` (real time: what
    the stream path missed), page after page until nothing that old is left or `budget_seconds` are spent.
    Answers counts: found, published, failed (left pending), unmarked, dossiers (summed over pages), held.
    `announce`: say that the stream path missed them (not for the local stack's catch-up at start)."""
    started = time.monotonic()
    counts = {"found": 0, "published": 0, "failed": 0, "unmarked": 0, "dossiers": 0, "held": 0}
    held: set[str] = set()  # dossiers stopped at a failed event in this run: none of their events goes out after it
    while time.monotonic() - started < budget_seconds:
        cutoff = datetime.fromtimestamp(wall_clock() - older_than_seconds, UTC) if older_than_seconds > 0 else None
        batch = [e for e in deps.outbox.pending(limit, written_before=cutoff, skip=held) if e.code not in held]
        if not batch:
            break
        done = publish_in_order(deps, batch)
        counts["found"] += len(batch)
        if announce:  # every page, so a run cut short still said what it found; the metric is alarmed
            logger().warning("safety net published events the stream path had not", extra={"found": len(batch)})
            metrics.count(deps, metrics.EVENTS_PUBLISHED_LATE, len(batch))
        for key in ("published", "unmarked", "dossiers", "held"):
            counts[key] += getattr(done, key)
        counts["failed"] += len(done.failed)
        held.update(e.code for e in batch if e.id in done.failed)
        if not done.published:  # everything left is held behind failures: the next run tries again
            break
    if counts["found"] and announce:
        # The stream path missed these (docs/events.md "What to watch"): the alarm on `found` fires.
        logger().warning("safety net run", extra=counts)
    return counts


def _publish(deps: Deps, events: list[DomainEvent]) -> frozenset[str]:
    """Publish; answer the ids that were not published."""
    try:
        deps.publisher.publish(events)
    except PublishError as exc:
        return exc.failed
    except Exception:
        logger().exception("publishing failed", extra={"events": [e.id for e in events]})
        return frozenset(e.id for e in events)
    return frozenset()
