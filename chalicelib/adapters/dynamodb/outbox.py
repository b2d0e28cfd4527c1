"""The outbox: domain events stored in the dossier's own transaction, published from the table's stream.

An event item is written once (`DossierRepository` puts it with the dossier) carrying `pending` (a shard) and
`pending_sk` (`<written at>#<code>#<seq>`, the writer's wall clock), which put it in the sparse `outbox-pending`
index; publishing removes both, so the index holds only what is still to publish. The stream's insert record
carries the whole item (NEW_IMAGE) to the `outbox_stream` function (`event_of_image`); the safety net (the relay)
reads only what the index has held for longer than the stream path could take (`pending(written_before=...)`).
The event is stored packed (models.OutboxModel.event, attribute `packed`), so the item stays under 1 KB; items
written before hold it as plain JSON (`plain_event`), and every reader here takes either (`event_data`).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from ...domain.clock import iso
from ...domain.events import DomainEvent
from ...observability import logger
from .errors import condition_failed
from .models import OutboxModel, shard_of

OUTBOX_SHARDS = 4
# Published events stay readable (replays, audits) this long, then DynamoDB's TTL removes them.
KEEP_PUBLISHED_SECONDS = 90 * 86400


def outbox_item(event: DomainEvent) -> OutboxModel:
    """The item of one event, as the dossier's transaction writes it. Its index key starts with the real time of
    the write, not the event's instant: an event's instant can be a moved clock's (the local stack) and says
    nothing of how long the item has waited to be published, which is what the safety net asks."""
    written = datetime.fromtimestamp(int(time.time()), UTC)
    return OutboxModel(event.code, event.seq, event=event.as_dict(), pending=shard_of(event.code, OUTBOX_SHARDS),
                       pending_sk=f"{iso(written)}#{event.code}#{event.seq:09d}")


def event_of_image(image: dict[str, Any]) -> DomainEvent | None:
    """The event an outbox stream record's new image holds (DynamoDB's attribute-value JSON); None for an item
    that is not an event as written (only inserts are published: `DomainEvent` checks what it reads)."""
    if "packed" not in image and "event" not in image:  # `event`: an item written before packing
        return None
    item = OutboxModel.from_raw_data(image)
    return DomainEvent.from_dict(item.event_data)


class OutboxRepository:
    """Implements services.ports.OutboxStore on the outbox table."""

    def pending(self, limit: int, written_before: datetime | None = None,
                skip: Collection[str] = ()) -> list[DomainEvent]:
        items: list[OutboxModel] = []
        condition = OutboxModel.pending_sk < iso(written_before) if written_before is not None else None
        # Dossiers held at a failed event in this run are passed over by the query itself (at most 100 codes
        # in one expression), so a page is never filled with events that cannot go out.
        passed_over = ~OutboxModel.code.is_in(*sorted(skip)[:100]) if skip else None
        for shard in range(OUTBOX_SHARDS):
            items.extend(OutboxModel.outbox_pending.query(str(shard), condition, passed_over, limit=limit))
        items.sort(key=lambda item: item.pending_sk or "")
        groups: dict[str, list[OutboxModel]] = {}
        for item in items[:limit]:
            groups.setdefault(item.code, []).append(item)
        unsure = self._not_first_pending(groups)
        out: list[DomainEvent] = []
        for code, group in groups.items():
            if code in unsure:
                group = self._pending_of(code, max(int(item.seq) for item in group))
            for item in sorted(group, key=lambda i: int(i.seq)):
                try:
                    out.append(DomainEvent.from_dict(item.event_data))
                except (KeyError, TypeError, ValueError) as exc:
                    self._quarantine(item, exc)
                    break  # the dossier's later events wait behind it, where an admin finds it
        return out

    @staticmethod
    def _quarantine(item: OutboxModel, exc: Exception) -> None:
        """An item that is no event (nothing the code writes): out of the pending index, so it cannot stop the
        safety net's every run, and recorded `failed` with the reason, as a dead letter is."""
        logger().error("an outbox item is not an event; taken out of the pending index",
                       extra={"code": item.code, "seq": int(item.seq), "error": repr(exc)})
        now = datetime.fromtimestamp(int(time.time()), UTC)
        item.update(actions=[OutboxModel.pending.remove(), OutboxModel.pending_sk.remove(),
                             OutboxModel.failed.set({"at": iso(now), "error": repr(exc)[:1000], "attempts": 0})])

    def event_of_image(self, image: dict[str, Any]) -> DomainEvent | None:
        return event_of_image(image)

    @staticmethod
    def event(code: str, seq: int) -> DomainEvent | None:
        try:
            item = OutboxModel.get(code, seq, attributes_to_get=["code", "seq", "packed", "event"],
                                   consistent_read=True)
        except OutboxModel.DoesNotExist:
            return None
        return DomainEvent.from_dict(item.event_data)

    @staticmethod
    def is_published(code: str, seq: int) -> bool:
        try:
            item = OutboxModel.get(code, seq, attributes_to_get=["code", "seq", "pending"], consistent_read=True)
        except OutboxModel.DoesNotExist:
            return True
        return item.pending is None

    def mark_published(self, event: DomainEvent) -> None:
        now = datetime.fromtimestamp(int(time.time()), UTC)
        try:
            OutboxModel(event.code, event.seq).update(
                actions=[OutboxModel.pending.remove(), OutboxModel.pending_sk.remove(),
                         OutboxModel.published_at.set(iso(now) or ""),
                         OutboxModel.expires.set(now + timedelta(seconds=KEEP_PUBLISHED_SECONDS))],
                condition=OutboxModel.pending.exists(),
            )
        except UpdateError as exc:
            if not condition_failed(exc):  # a timeout stays the timeout it is
                raise
            # Another relay marked it first: published at least once, which is all this records.

    @staticmethod
    def record_failure(event: DomainEvent, error: str, attempts: int) -> None:
        """Locally, the dead-letter queue: `event` kept failing in a consumer and was skipped. The outbox item
        keeps why (`failed`: when, the error, the attempts); an admin finds them with a Scan of the local outbox
        table filtered on `attribute_exists(failed)`, besides the error line logged when it happened."""
        now = datetime.fromtimestamp(int(time.time()), UTC)
        OutboxModel(event.code, event.seq).update(actions=[OutboxModel.failed.set(
            {"at": iso(now), "error": error[:1000], "attempts": attempts})])

    # The index orders a shard by time, not by seq. Two writes of one dossier by machines whose clocks
    # disagree, or a page cut between two events of a dossier, could show a later event without an earlier
    # pending one: such a dossier's pending events are read again from the table itself, in seq order.
    def _not_first_pending(self, groups: dict[str, list[OutboxModel]]) -> set[str]:
        unsure: set[str] = set()
        before: dict[tuple[str, int], str] = {}
        for code, group in groups.items():
            seqs = sorted(int(item.seq) for item in group)
            if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
                unsure.add(code)
            elif seqs[0] > 1:
                before[(code, seqs[0] - 1)] = code
        settled = {key for key in before if self._published(*key)}
        # A predecessor still pending, or not yet visible to this (eventually consistent) read: look closer.
        unsure.update(code for key, code in before.items() if key not in settled)
        return unsure

    @staticmethod
    def _published(code: str, seq: int) -> bool:
        """One small GetItem per dossier in the batch (keys and `pending` only); an eventually consistent
        read can only err towards 'not yet', which costs a closer look, never a skipped event."""
        try:
            item = OutboxModel.get(code, seq, attributes_to_get=["code", "seq", "pending"])
        except OutboxModel.DoesNotExist:
            return False
        return item.pending is None

    @staticmethod
    def _pending_of(code: str, up_to: int) -> list[OutboxModel]:
        return list(OutboxModel.query(code, OutboxModel.seq <= up_to, filter_condition=OutboxModel.pending.exists(),
                                      consistent_read=True))
