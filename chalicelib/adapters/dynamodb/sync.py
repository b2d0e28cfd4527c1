"""The national portal sync on its table (models.SyncModel): per dossier a state and one item per event.

Every write of a dossier's state is conditioned on the revision read (`rev`), so the consumer recording an item
and the worker acknowledging one never overwrite each other: the loser gets SyncConflict, reads again and
re-applies its change. Recording an item and the state that counts it is one transaction, conditioned on the
item not existing: an event delivered twice records nothing the second time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.clock import iso
from ...domain.events import DomainEvent
from ...domain.portal import HISTORY, SYNCED, SyncState
from ...services.ports import SyncConflict
from .errors import condition_failed
from .models import OutboxModel, SyncModel, shard_of

SHARDS = 4  # the due index's partitions: a dossier's state stays in one, the worker reads them all
STATE = "state"
_CONDITION_FAILED = "ConditionalCheckFailed"
# The state changed since it was read, or another transaction was writing it at that instant: read it again.
_RETRY = frozenset({_CONDITION_FAILED, "TransactionConflict"})


def _pk(code: str) -> str:
    return f"dossier#{code}"


def _item_sk(seq: int) -> str:
    return f"item#{seq:09d}"


class SyncRepository:
    """Implements services.ports.SyncStore."""

    def state(self, code: str) -> SyncState | None:
        try:
            item = SyncModel.get(_pk(code), STATE, consistent_read=True)
        except SyncModel.DoesNotExist:
            return None
        return SyncState.from_dict({**(item.data or {}), "rev": int(item.rev or 0)})

    def record(self, seq: int, change: dict[str, Any] | None, before: SyncState | None, after: SyncState,
               now: datetime, count_known: bool = True) -> bool:
        """Write item `seq` (a change, or None: a skip) and the state counting it; False if the item exists.
        `count_known`: a new state adds one to its unit's known dossiers (an imported dossier's import counts it)."""
        item = SyncModel(_pk(after.code), _item_sk(seq),
                         data={"seq": seq, "change": change, "recorded_at": iso(now), "acked_at": None})
        try:
            with TransactWrite(connection=SyncModel._get_connection().connection) as transaction:
                transaction.save(item, condition=SyncModel.pk.does_not_exist())
                transaction.save(self._state_item(after), condition=self._expected(before))
                if before is None and count_known:
                    transaction.update(SyncModel(f"unit#{after.unit}", "known"), actions=[SyncModel.known.add(1)])
        except TransactWriteError as exc:
            reasons = [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[0] == _CONDITION_FAILED:
                return False
            if _RETRY.intersection(reasons[1:]) or "TransactionConflict" in reasons:
                raise SyncConflict(after.code) from exc
            raise
        return True

    def save(self, before: SyncState, after: SyncState) -> SyncState:
        """Store `after` if the state is still `before`; answer it as stored (its new revision)."""
        try:
            self._state_item(after).save(condition=self._expected(before))
        except PutError as exc:
            if condition_failed(exc):
                raise SyncConflict(after.code) from exc
            raise
        return replace(after, rev=before.rev + 1)

    def acknowledge(self, item: dict[str, Any], before: SyncState, after: SyncState, now: datetime,
                    answer: dict[str, Any] | None) -> SyncState:
        """Mark `item` handled (with the portal's answer when it was pushed) and save the state, together;
        answer the state as stored."""
        data = {**item, "acked_at": iso(now), "answer": answer}
        try:
            with TransactWrite(connection=SyncModel._get_connection().connection) as transaction:
                transaction.save(SyncModel(_pk(after.code), _item_sk(int(item["seq"])), data=data))
                transaction.save(self._state_item(after), condition=self._expected(before))
        except TransactWriteError as exc:
            reasons = [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]
            if _RETRY.intersection(reasons):
                raise SyncConflict(after.code) from exc
            raise
        return replace(after, rev=before.rev + 1)

    def items(self, code: str, from_seq: int, limit: int) -> list[dict[str, Any]]:
        """Items from `from_seq` on, in seq order (strongly consistent: a just-recorded item is seen)."""
        query = SyncModel.query(_pk(code), SyncModel.sk.between(_item_sk(from_seq), "item#~"), consistent_read=True,
                                limit=limit)
        return [dict(item.data or {}) for item in query]

    def recent(self, code: str, limit: int) -> list[dict[str, Any]]:
        """The latest items, newest first."""
        query = SyncModel.query(_pk(code), SyncModel.sk.startswith("item#"), scan_index_forward=False, limit=limit)
        return [dict(item.data or {}) for item in query]

    def add_history(self, states: list[tuple[SyncState, dict[str, Any]]], now: datetime) -> int:
        """Imported dossiers' history lane: each one's single item (its final state, a BatchWriteItem: keys are
        idempotent) and its state, put only if the dossier has none (a live change recorded first keeps its own;
        an earlier run's state, perhaps pushed since, is left alone). Answers how many states were put; their
        units' known counts are the import's (adapters/dynamodb/stats.py `apply_imported`)."""
        with SyncModel.batch_write() as batch:
            for state, change in states:
                batch.save(SyncModel(_pk(state.code), _item_sk(state.next_seq), data={
                    "seq": state.next_seq, "change": change, "recorded_at": iso(now), "acked_at": None}))
        put = 0
        for state, _ in states:
            try:
                self._state_item(state).save(condition=SyncModel.pk.does_not_exist())
                put += 1
            except PutError as exc:
                if not condition_failed(exc):
                    raise
        return put

    def due(self, now: datetime, limit: int) -> list[str]:
        """Codes of dossiers with something to push whose next try has come, the longest waiting first."""
        return self._due(now, limit, "")

    def due_history(self, now: datetime, limit: int) -> list[str]:
        """The same on the history lane (imported dossiers): its own partitions of the due index."""
        return self._due(now, limit, "h")

    @staticmethod
    def _due(now: datetime, limit: int, lane: str) -> list[str]:
        found: list[tuple[str, str]] = []
        upper = f"{iso(now)}#~"
        for shard in range(SHARDS):
            for item in SyncModel.sync_due.query(f"{lane}{shard}", SyncModel.due_sk <= upper, limit=limit):
                found.append((item.due_sk or "", item.pk.removeprefix("dossier#")))
        return [code for _, code in sorted(found)[:limit]]

    def unit_figures(self, unit: str) -> dict[str, Any]:
        """A unit's known dossiers (its counter), pending and failing (counted on the sparse index, which holds
        only dossiers not synced) and the oldest of each."""
        try:
            known = int(SyncModel.get(f"unit#{unit}", "known").known or 0)
        except SyncModel.DoesNotExist:
            known = 0
        out: dict[str, Any] = {"known": known}
        for kind in ("pending", "failing"):
            key = f"{unit}#{kind}"
            out[kind] = SyncModel.sync_pending.count(key)
            oldest = next(iter(SyncModel.sync_pending.query(key, limit=1)), None) if out[kind] else None
            out[f"oldest_{kind}"] = _oldest(oldest.pending_sk) if oldest is not None else None
        return out

    @staticmethod
    def outbox_event(code: str, seq: int) -> DomainEvent | None:
        """The event itself, from the outbox the dossier's transaction wrote it to (kept 90 days once published)."""
        try:
            item = OutboxModel.get(code, seq, consistent_read=True)
        except OutboxModel.DoesNotExist:
            return None
        return DomainEvent.from_dict(item.event_data)

    @staticmethod
    def _state_item(state: SyncState) -> SyncModel:
        data = state.as_dict()
        rev = data.pop("rev") + 1
        item = SyncModel(_pk(state.code), STATE, data=data, rev=rev)
        if state.status != SYNCED:
            # The history lane has partitions of its own in the same index: "h0".."h3" beside "0".."3".
            item.due_shard = ("h" if state.lane == HISTORY else "") + shard_of(state.code, SHARDS)
            item.due_sk = f"{state.next_at or iso(datetime.now(UTC))}#{state.code}"
            item.pending_unit = f"{state.unit}#{state.status}"
            item.pending_sk = f"{state.pending_since}#{state.code}"
        return item

    @staticmethod
    def _expected(before: SyncState | None) -> Any:
        if before is None:
            return SyncModel.pk.does_not_exist()
        return SyncModel.rev == before.rev


def _oldest(pending_sk: str | None) -> dict[str, str] | None:
    if not pending_sk:
        return None
    since, _, code = pending_sk.partition("#")
    return {"code": code, "since": since}
