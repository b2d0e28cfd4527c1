"""The relay: publishes what the outbox holds, in order per dossier, at least once.

Each round publishes the oldest unpublished event of every dossier in the batch (so one call never holds two
events of a dossier), then marks each published one. A dossier whose event failed is left for the next run at
that event: nothing after it is published. A relay killed between publishing and marking publishes those
events again on its next run; consumers are idempotent on the event id, so they apply them once.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from ..domain.events import DomainEvent
from ..observability import logger
from .ports import PublishError

if TYPE_CHECKING:
    from .deps import Deps


def relay(deps: Deps, limit: int = 200) -> dict[str, int]:
    """Publish up to about `limit` pending events; answer counts: found, published, failed (left pending: a
    failed event and those after it in its dossier), unmarked (published but not marked: will be published
    again), dossiers, held (dossiers stopped at a failed event)."""
    batch = deps.outbox.pending(limit)
    queues: dict[str, deque[DomainEvent]] = {}
    for event in batch:
        queues.setdefault(event.code, deque()).append(event)
    counts = {"found": len(batch), "published": 0, "failed": 0, "unmarked": 0, "dossiers": len(queues), "held": 0}
    while queues:
        heads = [queue[0] for queue in queues.values()]
        failed = _publish(deps, heads)
        for event in heads:
            queue = queues[event.code]
            if event.id in failed:
                counts["failed"] += len(queue)
                counts["held"] += 1
                del queues[event.code]
                continue
            counts["published"] += 1
            try:
                deps.outbox.mark_published(event)
            except Exception:  # published all the same: the next run publishes it again, consumers skip it
                logger().exception("could not mark an event published", extra={"event": event.id})
                counts["unmarked"] += 1
            queue.popleft()
            if not queue:
                del queues[event.code]
    if counts["failed"]:
        logger().warning("relay left events pending", extra=counts)
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
