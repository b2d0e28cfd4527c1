"""What each event consumer applied: one item per `<consumer>#<event id>`, claimed as a lease, then done."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from pynamodb.exceptions import DeleteError, PutError

from ...services.ports import ClaimBusy
from .errors import condition_failed
from .models import ProcessedModel

# A consumer runs well within a Lambda's timeout; a claim older than this belongs to a worker that died.
LEASE_SECONDS = 300
# Long after any redelivery (EventBridge retries for 24 h, SQS keeps a message at most 14 days).
KEEP_SECONDS = 30 * 86400


class ProcessedRepository:
    """Implements services.ports.ProcessedEvents on the processed-events table."""

    def __init__(self, lease_seconds: float = LEASE_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self._lease = lease_seconds
        self._clock = clock

    def claim(self, key: str) -> bool:
        now = self._clock()
        fresh = ProcessedModel(key, state="claimed", lease_until=now + self._lease, expires=_keep(now))
        lapsed = (ProcessedModel.state == "claimed") & (ProcessedModel.lease_until < now)
        try:
            fresh.save(condition=ProcessedModel.key.does_not_exist() | lapsed)
            return True
        except PutError as exc:
            if not condition_failed(exc):
                raise
        try:
            current = ProcessedModel.get(key, consistent_read=True)
        except ProcessedModel.DoesNotExist:
            current = None  # released meanwhile: the next delivery claims it
        if current is not None and current.state == "done":
            return False
        raise ClaimBusy(f"{key} is being applied by another worker")

    def complete(self, key: str) -> None:
        now = self._clock()
        ProcessedModel(key, state="done", lease_until=0, expires=_keep(now)).save()

    def release(self, key: str) -> None:
        try:
            ProcessedModel(key).delete(condition=ProcessedModel.state == "claimed")
        except DeleteError as exc:
            if not condition_failed(exc):
                raise


def _keep(now: float) -> datetime:
    return datetime.fromtimestamp(int(now) + KEEP_SECONDS, UTC)
