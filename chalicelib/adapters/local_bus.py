"""The local bus: publishing an event runs its consumers in this process, in order (`make run`, tests).

The same consumers as on AWS, through the same `dispatch`, so idempotency and order behave the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..domain.events import DomainEvent
from ..observability import logger
from ..services.ports import ClaimBusy, PublishError

if TYPE_CHECKING:
    from ..services.bootstrap import Deps


class LocalPublisher:
    """Implements services.ports.EventPublisher by dispatching each event to the consumers in-process."""

    def __init__(self, deps: Callable[[], Deps]) -> None:
        self._deps = deps

    def publish(self, events: Sequence[DomainEvent]) -> None:
        from ..services.consumers import dispatch

        failed: list[str] = []
        broken: set[str] = set()  # a dossier whose event failed: its later events wait, in order
        for event in events:
            if event.code in broken:
                failed.append(event.id)
                continue
            try:
                dispatch(self._deps(), event)
            except ClaimBusy as exc:
                logger().info("event being applied elsewhere; retried later", extra={"event": event.id,
                                                                                      "reason": str(exc)})
                failed.append(event.id)
                broken.add(event.code)
            except Exception:
                logger().exception("a consumer failed; the event will be delivered again", extra={"event": event.id})
                failed.append(event.id)
                broken.add(event.code)
        if failed:
            raise PublishError(f"{len(failed)} of {len(events)} events not applied locally", failed)
