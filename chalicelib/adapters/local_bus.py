"""The local bus: publishing an event runs its consumers in this process (`make run`, route 1, tests).

The same consumers as on AWS, through the same `dispatch`, so idempotency and order behave the same way. As on AWS,
where each consumer has its own queue and function, each consumer is a lane of its own: the lanes of a batch run
at once, each applying the batch's events in order (several dossiers at once), and a consumer that fails holds
only its own lane's dossier of the failing event (a slow one holds the batch until it is done). An event is
published when every lane applied it; one that a lane failed on is reported failed (`PublishError`) and delivered
again later (a claimed consumer that applied it is then skipped; the others run again and change nothing). Once it
has failed MAX_ATTEMPTS times over at least GIVE_UP_AFTER_SECONDS (a passing fault, a slow database, lasts less),
it is recorded as failed on its outbox item (`failed`: the local dead-letter queue, as a consumer's SQS DLQ is on
AWS), logged at error level, and skipped, so it does not hold the dossier's later events (its timers included)
forever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..domain.events import DomainEvent
from ..observability import logger
from ..services.ports import ClaimBusy, PublishError

DOSSIERS_AT_ONCE = 4  # per consumer lane; DynamoDB Local's two cores are the limit beyond
MAX_ATTEMPTS = 5  # as many deliveries as an SQS queue makes before its DLQ (infra/events.yaml: maxReceiveCount)
# ... which come minutes apart there (the visibility timeout); a stream's retries come back to back.
GIVE_UP_AFTER_SECONDS = 120.0

# apply(event, consumer): run that consumer (None: every consumer) on the event, once (services.consumers.dispatch).
Apply = Callable[[DomainEvent, str | None], object]


class LocalPublisher:
    """Implements services.ports.EventPublisher by dispatching each event to the consumers in-process."""

    keeps_order = True  # a dossier's events are applied in the order given: one call may hold several of them

    def __init__(self, apply: Apply, lanes: Callable[[], Sequence[str | None]] = lambda: (None,),
                 max_attempts: int = MAX_ATTEMPTS,
                 dead_letter: Callable[[DomainEvent, str, int], None] | None = None,
                 dossiers_at_once: int = DOSSIERS_AT_ONCE, give_up_after: float = GIVE_UP_AFTER_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._dossiers_at_once = max(1, dossiers_at_once)
        self._give_up_after = give_up_after
        self._clock = clock
        self._lock = threading.Lock()  # the stream and the safety net publish from threads of their own
        self._first_failed: dict[str, float] = {}
        self._apply = apply  # the composition root's: consumers.dispatch with the container's deps
        self._lanes = lanes  # the consumers' names, read at each publish (the registry can change in tests)
        self._max_attempts = max_attempts
        self._dead_letter = dead_letter
        self._attempts: dict[str, int] = {}  # event id -> failed deliveries so far (this process)

    def publish(self, events: Sequence[DomainEvent]) -> None:
        with self._lock:  # decided once, before any lane runs: a last attempt lets the dossier's later events go on
            now = self._clock()
            last = {e.id for e in events if self._attempts.get(e.id, 0) + 1 >= self._max_attempts
                    and now - self._first_failed.get(e.id, now) >= self._give_up_after}
        lanes = tuple(self._lanes())
        if len(lanes) == 1:
            outcomes = [self._lane(lanes[0], events, last)]
        else:
            with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="consumer") as pool:
                outcomes = list(pool.map(lambda lane: self._lane(lane, events, last), lanes))
        failed: list[str] = []
        for event in events:
            errors = [outcome[event.id] for outcome in outcomes if event.id in outcome]
            if not errors:
                self._forget(event.id)
                continue
            real = [e for e in errors if e is not None and not isinstance(e, ClaimBusy)]
            if not real:  # held behind an earlier event of its dossier, or being applied elsewhere: no attempt
                failed.append(event.id)
                continue
            if event.id in last:
                # Given up: recorded where an admin finds it, and out of the way of the dossier's later events.
                attempts = self._forget(event.id) + 1
                error = real[0]
                logger().error("a consumer kept failing; the event is recorded as failed and skipped",
                               extra={"event": event.id, "attempts": attempts, "error": repr(error)})
                self._record(event, f"{type(error).__name__}: {error}", attempts)
                continue
            with self._lock:
                self._attempts[event.id] = self._attempts.get(event.id, 0) + 1
                self._first_failed.setdefault(event.id, self._clock())
            failed.append(event.id)
        if failed:
            raise PublishError(f"{len(failed)} of {len(events)} events not applied locally", failed)

    def _forget(self, event_id: str) -> int:
        with self._lock:
            self._first_failed.pop(event_id, None)
            return self._attempts.pop(event_id, 0)

    def _lane(self, lane: str | None, events: Sequence[DomainEvent],
              last: set[str]) -> dict[str, BaseException | None]:
        """Apply `events` for one consumer (or all), each dossier's in order and up to DOSSIERS_AT_ONCE dossiers at
        once (as a consumer's function runs many copies on AWS); answer the events not applied: with the error,
        or None for those held behind an earlier failed event of their dossier."""
        by_dossier: dict[str, list[DomainEvent]] = {}
        for event in events:
            by_dossier.setdefault(event.code, []).append(event)
        if len(by_dossier) == 1 or self._dossiers_at_once == 1:
            out: dict[str, BaseException | None] = {}
            for group in by_dossier.values():
                out.update(self._dossier(lane, group, last))
            return out
        out = {}
        with ThreadPoolExecutor(max_workers=min(self._dossiers_at_once, len(by_dossier)),
                                thread_name_prefix=f"lane-{lane}") as pool:
            for answer in pool.map(lambda group: self._dossier(lane, group, last), by_dossier.values()):
                out.update(answer)
        return out

    def _dossier(self, lane: str | None, events: Sequence[DomainEvent],
                 last: set[str]) -> dict[str, BaseException | None]:
        """One dossier's events, in order, for one lane: stops at the first that fails."""
        out: dict[str, BaseException | None] = {}
        broken = False
        for event in events:
            if broken:
                out[event.id] = None
                continue
            try:
                self._apply(event, lane)
            except ClaimBusy as exc:
                logger().info("event being applied elsewhere; retried later", extra={"event": event.id,
                                                                                      "reason": str(exc)})
                out[event.id] = exc
                broken = True
            except Exception as exc:
                out[event.id] = exc
                if event.id in last:
                    continue  # given up now (publish records it): the dossier's later events go on
                logger().exception("a consumer failed; the event will be delivered again",
                                   extra={"event": event.id, "consumer": lane})
                broken = True
        return out

    def _record(self, event: DomainEvent, error: str, attempts: int) -> None:
        if self._dead_letter is not None:
            self._dead_letter(event, error, attempts)
            return
        from .dynamodb.outbox import OutboxRepository

        OutboxRepository.record_failure(event, error, attempts)
