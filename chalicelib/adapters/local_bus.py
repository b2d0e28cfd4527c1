"""The local bus: publishing an event runs its consumers in this process, in order (`make run`, tests).

The same consumers as on AWS, through the same `dispatch`, so idempotency and order behave the same way. An event
a consumer keeps failing on is retried on the next relay runs, up to MAX_ATTEMPTS, then recorded as failed on its
outbox item (`failed`: the local dead-letter queue, as the consumer's SQS DLQ is on AWS), logged at error level,
and skipped, so it does not hold the dossier's later events (its timers included) forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..domain.events import DomainEvent
from ..observability import logger
from ..services.ports import ClaimBusy, PublishError

if TYPE_CHECKING:
    pass

MAX_ATTEMPTS = 5  # as many deliveries as an SQS queue makes before its DLQ (infra/events.yaml: maxReceiveCount)


class LocalPublisher:
    """Implements services.ports.EventPublisher by dispatching each event to the consumers in-process."""

    def __init__(self, apply: Callable[[DomainEvent], object], max_attempts: int = MAX_ATTEMPTS,
                 dead_letter: Callable[[DomainEvent, str, int], None] | None = None) -> None:
        self._apply = apply  # the composition root's: consumers.dispatch with the container's deps
        self._max_attempts = max_attempts
        self._dead_letter = dead_letter
        self._attempts: dict[str, int] = {}  # event id -> failed deliveries so far (this process)

    def publish(self, events: Sequence[DomainEvent]) -> None:
        failed: list[str] = []
        broken: set[str] = set()  # a dossier whose event failed: its later events wait, in order
        for event in events:
            if event.code in broken:
                failed.append(event.id)
                continue
            try:
                self._apply(event)
            except ClaimBusy as exc:
                logger().info("event being applied elsewhere; retried later", extra={"event": event.id,
                                                                                      "reason": str(exc)})
                failed.append(event.id)
                broken.add(event.code)
            except Exception as exc:
                attempts = self._attempts.get(event.id, 0) + 1
                if attempts >= self._max_attempts:
                    # Given up: recorded where an admin finds it, and out of the way of the dossier's later events.
                    self._attempts.pop(event.id, None)
                    logger().exception("a consumer kept failing; the event is recorded as failed and skipped",
                                       extra={"event": event.id, "attempts": attempts})
                    self._record(event, f"{type(exc).__name__}: {exc}", attempts)
                    continue
                self._attempts[event.id] = attempts
                logger().exception("a consumer failed; the event will be delivered again",
                                   extra={"event": event.id, "attempts": attempts})
                failed.append(event.id)
                broken.add(event.code)
            else:
                self._attempts.pop(event.id, None)
        if failed:
            raise PublishError(f"{len(failed)} of {len(events)} events not applied locally", failed)

    def _record(self, event: DomainEvent, error: str, attempts: int) -> None:
        if self._dead_letter is not None:
            self._dead_letter(event, error, attempts)
            return
        from .dynamodb.outbox import OutboxRepository

        OutboxRepository.record_failure(event, error, attempts)
