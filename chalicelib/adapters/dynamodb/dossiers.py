"""The dossier repository: one GetItem to read, one transaction to change (dossier + history + its events)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ...domain.clock import iso
from ...domain.codes import MAX_SEQUENCE
from ...domain.dossier import Dossier, HistoryEntry
from ...domain.errors import FieldProblem, SequenceExhausted, StaleVersion
from ...domain.events import STEP_OVERDUE, DomainEvent
from ...services.ports import DossierQuery, FileConflict, ItemTooLarge, MessageRecord, MessageSeen, VerifiedFile
from ..idempotency import IdempotencyConflict
from . import cursors
from .errors import condition_failed
from .files import verified_items
from .inbound import outcome_item
from .models import (
    CounterModel,
    DossierModel,
    HistoryModel,
    IdempotencyModel,
    InboundModel,
    LateStepModel,
    OutboxModel,
    shard_of,
)
from .outbox import outbox_item

_CONFLICTS = {"ConditionalCheckFailed", "TransactionConflict"}
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's limit for one item
# A new dossier leaves room for what processing adds to it (clock ledger, step assignments): ~40 KB.
INTAKE_ITEM_BYTES = 360 * 1024
WAKE_SHARDS = 4
BATCH_GET_KEYS = 100  # DynamoDB's limit for one BatchGetItem
BATCH_GET_ATTEMPTS = 5


class BatchIncomplete(Exception):
    """DynamoDB kept leaving keys unprocessed (throttling): the API answers 503, retry later."""

    cause_response_code = "ProvisionedThroughputExceededException"  # what routing._unavailable recognises


class DossierRepository:
    """Implements services.ports.DossierStore on the dossiers, dossier-history and counters tables."""

    def __init__(self) -> None:
        self._connection: Connection | None = None

    # --- reads ------------------------------------------------------------------------------
    def get(self, code: str, consistent: bool = False) -> Dossier | None:
        try:
            item = DossierModel.get(code, consistent_read=consistent)
        except DossierModel.DoesNotExist:
            return None
        return Dossier.from_dict(stored(item))

    def get_many(self, codes: Sequence[str]) -> list[Dossier]:
        """BatchGetItem, 100 keys a call (DynamoDB's limit), only the stored dossier itself. What DynamoDB leaves
        unprocessed (throttling, the 16 MB answer limit) is asked again with a growing pause, a bounded number
        of times: PynamoDB's own batch_get would retry it forever."""
        found: list[Dossier] = []
        unique = list(dict.fromkeys(codes))  # a key twice in one BatchGetItem is a ValidationException
        for start in range(0, len(unique), BATCH_GET_KEYS):
            pending: Any = [{"code": {"S": code}} for code in unique[start:start + BATCH_GET_KEYS]]
            for attempt in range(BATCH_GET_ATTEMPTS):
                if not pending:
                    break
                if attempt:
                    time.sleep(min(0.05 * 2 ** attempt, 1.0))
                answer = DossierModel._get_connection().batch_get_item(pending,
                                                                       attributes_to_get=["packed", "body"])
                table = DossierModel.Meta.table_name
                found.extend(Dossier.from_dict(stored(DossierModel.from_raw_data(raw)))
                             for raw in answer.get("Responses", {}).get(table, []))
                pending = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if pending:
                raise BatchIncomplete(f"{len(pending)} dossiers were left unprocessed by DynamoDB")
        return found

    def history(self, code: str) -> list[HistoryEntry]:
        return [HistoryEntry.from_dict(h.entry) for h in HistoryModel.query(code, scan_index_forward=True)]

    def search(self, query: DossierQuery, now: datetime) -> tuple[list[dict[str, Any]], str | None]:
        """One Query on the index that serves the most selective filter; the other filters narrow that page."""
        filed_range = _filed_range(query)
        now_sk = iso(now) or ""
        filed: Condition | None = DossierModel.filed_sk.between(*filed_range) if filed_range else None
        due: Condition | None = None if query.overdue is None else (
            DossierModel.due_sk < now_sk if query.overdue else DossierModel.due_sk >= now_sk)

        # Pick the index and what its key already answers.
        index: Any
        if query.view == "received":  # the desk's tracking book
            index, hash_key, key_condition, served = DossierModel.by_receiving_filed, query.unit, filed, {"filed"}
        elif due is not None:
            index, hash_key, key_condition, served = DossierModel.open_by_due, query.unit, due, {"due"}
        elif query.status:
            index, hash_key = DossierModel.by_unit_status, f"{query.unit}#{query.status.value}"
            key_condition, served = filed, {"filed", "status"}
        elif query.procedure:
            index, hash_key = DossierModel.by_unit_procedure, f"{query.unit}#{query.procedure}"
            key_condition, served = filed, {"filed", "procedure"}
        else:
            index, hash_key, key_condition, served = DossierModel.by_unit_filed, query.unit, filed, {"filed"}

        wanted: dict[str, Condition | None] = {
            "status": DossierModel.status == query.status.value if query.status else None,
            "procedure": DossierModel.procedure_code == query.procedure if query.procedure else None,
            "filed": filed,
            "due": due,
        }
        condition: Condition | None = None
        for name, filter_ in wanted.items():
            if filter_ is not None and name not in served:
                condition = filter_ if condition is None else condition & filter_
        results = index.query(
            hash_key,
            range_key_condition=key_condition,
            filter_condition=condition,
            limit=query.limit,
            last_evaluated_key=_decode_cursor(query),
            # Due-time lists show the most overdue first; filed-time lists the newest first.
            scan_index_forward=index is DossierModel.open_by_due,
        )
        # Exactly one request: DynamoDB reads up to `limit` items of the index, the filters narrow them, and its
        # LastEvaluatedKey (whenever it gives one) is the cursor, even when the filters left fewer than `limit`
        # items or none. (PynamoDB's iterator would keep requesting pages until `limit` items passed the filters:
        # a filter that matches little would read the unit's whole partition in one API call.)
        page = next(results.page_iter)
        items = [dict(DossierModel.from_raw_data(raw).summary) for raw in page.get("Items", [])]
        return items, _encode_cursor(results.page_iter.last_evaluated_key, query)

    def late_steps(self, unit: str, officer: str | None, limit: int,
                   cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One Query: the steps flagged overdue at `unit` (held by `officer` when given), latest flagged first."""
        listing = cursors.fingerprint("late-steps", unit, officer)
        if officer is None:
            results = LateStepModel.query(unit, scan_index_forward=False, limit=limit,
                                          last_evaluated_key=cursors.decode(cursor, listing, _LATE_KEY, "unit"))
        else:
            results = LateStepModel.by_officer.query(
                f"{unit}#{officer}", scan_index_forward=False, limit=limit,
                last_evaluated_key=cursors.decode(cursor, listing, (*_LATE_KEY, "officer_key"), "unit"))
        items = [{**dict(step.summary), "late_steps": [{
            "index": int(step.index), "name": step.name, "unit": step.unit, "officer": step.officer,
            "due_at": step.due_at, "flagged_at": step.flagged_at}]} for step in results]
        return items, cursors.encode(results.last_evaluated_key, listing)

    def low_ratings(self, unit: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One Query of the sparse low-ratings index: the dossiers of `unit` (competent) rated low, latest first,
        each with its rating."""
        listing = cursors.fingerprint("low-ratings", unit)
        results = DossierModel.low_ratings.query(
            unit, scan_index_forward=False, limit=limit,
            last_evaluated_key=cursors.decode(cursor, listing, ("code", "low_rating_unit", "rated_sk"), "code"))
        codes = [item.code for item in results]
        last = results.last_evaluated_key
        rated = {d.code: d for d in self.get_many(codes)}
        items = [{**summary(rated[c]), "rating": rated[c].rating} for c in codes if c in rated]
        return items, cursors.encode(last, listing)

    def due_for_wake(self, now: datetime, limit: int) -> list[str]:
        """One Query per shard of the sparse wake-by-time index, keys only, up to `now`: what it reads is
        what is due."""
        upper = f"{iso(now)}#~"  # "~" sorts after every character of a code
        found: list[str] = []
        for shard in range(WAKE_SHARDS):
            found.extend(item.wake_sk or "" for item in
                         DossierModel.wake_by_time.query(str(shard), DossierModel.wake_sk <= upper, limit=limit))
        return [sk.split("#", 1)[1] for sk in sorted(found)[:limit]]

    # --- writes -----------------------------------------------------------------------------
    def next_sequence(self, name: str) -> int:
        """Atomically draw the next number of a counter (never reused, gaps possible), never past the code
        format's last number: a conditional update, so nothing can push a code out of the format."""
        counter = CounterModel(name)
        try:
            counter.update(actions=[CounterModel.value.add(1)],
                           condition=CounterModel.value.does_not_exist() | (CounterModel.value < MAX_SEQUENCE))
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            raise SequenceExhausted(f"every dossier number of {name} is drawn ({MAX_SEQUENCE:,}): the code "
                                    "format holds no more for that day") from exc
        return int(counter.value)

    def add(self, dossier: Dossier, entry: HistoryEntry, claim: tuple[str, str] | None = None,
            message: MessageRecord | None = None) -> None:
        self._write(dossier, entry, DossierModel.code.does_not_exist(), claim, INTAKE_ITEM_BYTES, message)

    def save(self, dossier: Dossier, entry: HistoryEntry | None, expected_version: int,
             message: MessageRecord | None = None, file: VerifiedFile | None = None) -> None:
        self._write(dossier, entry, DossierModel.version == expected_version, None, MAX_ITEM_BYTES, message, file)

    def check_fits(self, dossier: Dossier, entry: HistoryEntry) -> None:
        _check_size([_to_model(dossier), HistoryModel(dossier.code, entry.seq, entry=entry.as_dict()),
                     *(outbox_item(e) for e in dossier.pending_events)], INTAKE_ITEM_BYTES)

    def _write(self, dossier: Dossier, entry: HistoryEntry | None, condition: Condition,
               claim: tuple[str, str] | None, limit: int, message: MessageRecord | None = None,
               file: VerifiedFile | None = None) -> None:
        # The events ride in the dossier's own transaction: they exist exactly when the change does. So does
        # each late step a `dossier.step_overdue` event records, listed under the step's unit from then on.
        taken = dossier.take_events()
        events = [outbox_item(e) for e in taken]
        item = _to_model(dossier)
        late = [_late_step(e, item.summary) for e in taken if e.type == STEP_OVERDUE]
        history = HistoryModel(dossier.code, entry.seq, entry=entry.as_dict()) if entry is not None else None
        recorded = outcome_item(message) if message is not None else None
        kept = verified_items(file) if file is not None else []  # a verified file: with the event announcing it
        _check_size([item, *([history] if history else []), *events, *late], limit)
        try:
            with TransactWrite(connection=self._conn()) as transaction:
                transaction.save(item, condition=condition)
                if history is not None:
                    transaction.save(history, condition=HistoryModel.seq.does_not_exist())
                if claim is not None:
                    transaction.save(IdempotencyModel(claim[0], code=dossier.code, payload_hash=claim[1]),
                                     condition=IdempotencyModel.id.does_not_exist())
                if recorded is not None:  # an inbound message's outcome: exactly when its effect is written
                    transaction.save(recorded, condition=InboundModel.pk.does_not_exist())
                for event in events:
                    transaction.save(event, condition=OutboxModel.seq.does_not_exist())
                for step in late:
                    transaction.save(step)  # keyed by flag instant, dossier and step: a replay writes the same
                for kept_item, kept_condition in kept:  # last: their place in the reasons is known
                    transaction.save(kept_item, condition=kept_condition)
        except TransactWriteError as exc:
            reasons = [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]
            file_at = len(reasons) - len(kept)
            if kept and len(reasons) > file_at and reasons[file_at] == "ConditionalCheckFailed":
                raise FileConflict(f"file {file.record['id'] if file else ''} is no longer pending") from exc
            at = 1 + (history is not None)  # the claim's place in the transaction
            seen_at = at + (claim is not None)  # the inbound message's place
            if recorded is not None and len(reasons) > seen_at and reasons[seen_at] == "ConditionalCheckFailed":
                raise MessageSeen(message.key if message else "") from exc  # another delivery was first
            if claim is not None and len(reasons) > at and reasons[at] == "ConditionalCheckFailed":
                # Another attempt with the same key won the race; its answer is the dossier it wrote.
                raise IdempotencyConflict("a request with this Idempotency-Key is still being processed",
                                          [FieldProblem("Idempotency-Key", "in progress; retry shortly")],
                                          "in_progress") from exc
            if set(reasons) & _CONFLICTS:
                current = self.get(dossier.code, consistent=True)
                raise StaleVersion(
                    f"dossier {dossier.code} was changed by someone else; reload it and retry",
                    current.version if current else None,
                ) from exc
            raise

    # --- bulk import (services/importer.py) -----------------------------------------------------
    def existing(self, codes: list[str]) -> dict[str, str | None]:
        """Which of `codes` are stored, each with its import fingerprint (None: not imported): BatchGetItem of two
        small attributes (0.5 RCU each), so a file imported again skips its rows without a failed transaction."""
        found: dict[str, str | None] = {}
        for start in range(0, len(codes), 100):
            found.update((item.code, item.imported_key) for item in DossierModel.batch_get(
                codes[start:start + 100], attributes_to_get=["code", "imported_key"]))
        return found

    def claim_imported(self, dossier: Dossier) -> bool:
        """Store an imported dossier's item only if no dossier has its code (a conditional PutItem): the claim. Only
        the winner writes anything else of it (services/importer.py), so a dossier received here or a racing
        import is never overwritten. Answers whether it was written. Its events are not written anywhere: the
        importer does their work itself, in bulk (docs/import.md)."""
        dossier.take_events()
        item = _to_model(dossier)
        _check_size([item], INTAKE_ITEM_BYTES)
        try:
            item.save(condition=DossierModel.code.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def add_history_lines(self, lines: list[tuple[str, HistoryEntry]]) -> None:
        """Control-sheet lines of claimed imported dossiers, BatchWriteItem (25 a call; what DynamoDB leaves
        unprocessed is sent again): keyed by code and seq, so a re-run writes the same items again."""
        with HistoryModel.batch_write() as batch:
            for code, entry in lines:
                batch.save(HistoryModel(code, entry.seq, entry=entry.as_dict()))

    def raise_sequence(self, name: str, at_least: int) -> None:
        """Make the daily counter `name` at least `at_least`, so the live intake never draws a number an imported
        code already holds (a conditional update: a counter already higher is left alone). Never past the code
        format's last number: the importer rejects such codes (domain/importing.py `code_problems`)."""
        if at_least > MAX_SEQUENCE:
            raise ValueError(f"{name}: {at_least} is past the code format's last number")
        try:
            CounterModel(name).update(actions=[CounterModel.value.set(at_least)],
                                      condition=CounterModel.value.does_not_exist() | (CounterModel.value < at_least))
        except UpdateError as exc:
            if not condition_failed(exc):
                raise

    def _conn(self) -> Connection:
        if self._connection is None:
            self._connection = DossierModel._get_connection().connection
        return self._connection


def item_size(model: Model) -> int:
    """DynamoDB's measure of an item: attribute names plus values (UTF-8 bytes of strings, ~1 byte per two
    digits of numbers, rounded up generously)."""
    size = 0
    for name, value in model.serialize().items():
        size += len(name.encode("utf-8"))
        for kind, raw in value.items():
            if kind == "S":
                size += len(raw.encode("utf-8"))
            elif kind == "N":
                size += len(raw) // 2 + 2
            else:
                size += len(json.dumps(raw))
    return size


def _check_size(items: list[Model], limit: int) -> None:
    size = max(item_size(item) for item in items)
    if size > limit:
        raise ItemTooLarge(size, limit)


def summary(dossier: Dossier) -> dict[str, Any]:
    """The fields a list page shows, projected into every index so a page is one Query."""
    step = dossier.steps[dossier.current_step] if dossier.steps else None
    return {
        "code": dossier.code,
        "version": dossier.version,
        "procedure_code": dossier.procedure_code,
        "procedure_name": dossier.procedure_name,
        "status": dossier.status.value,
        "channel": dossier.channel,
        "receiving_unit": dossier.receiving_unit,
        "handling_unit": dossier.handling_unit,
        "current_step": step.name if step else None,
        "submitted_at": iso(dossier.submitted_at),
        "received_at": iso(dossier.received_at),
        "appointment_at": iso(dossier.appointment_at),
        "due_at": iso(dossier.due_at),
        "clock_state": dossier.clock.state.value if dossier.clock else None,
    }


def stored(item: DossierModel) -> dict[str, Any]:
    """The dossier an item holds: packed, or plain JSON on an item written before packing."""
    body = item.packed if item.packed is not None else item.body
    if not isinstance(body, dict):
        raise ValueError(f"dossier item {item.code} holds no dossier")
    return body


def _to_model(dossier: Dossier) -> DossierModel:
    filed_at = dossier.received_at or dossier.submitted_at
    running = dossier.clock_running and dossier.due_at is not None
    wake = dossier.next_wake
    return DossierModel(
        dossier.code,
        version=dossier.version,
        status=dossier.status.value,
        procedure_code=dossier.procedure_code,
        handling_unit=dossier.handling_unit,
        receiving_unit=dossier.receiving_unit,
        unit_status=f"{dossier.handling_unit}#{dossier.status.value}",
        unit_procedure=f"{dossier.handling_unit}#{dossier.procedure_code}",
        filed_sk=f"{iso(filed_at)}#{dossier.code}",
        open_unit=dossier.handling_unit if running else None,
        due_sk=f"{iso(dossier.due_at)}#{dossier.code}" if running else None,
        # Sparse: only while something is watched and not yet flagged, so the sweep never sees the rest.
        wake_shard=shard_of(dossier.code, WAKE_SHARDS) if wake is not None else None,
        wake_sk=f"{iso(wake)}#{dossier.code}" if wake is not None else None,
        summary=summary(dossier),
        packed=dossier.as_dict(),
        imported_key=(dossier.imported or {}).get("fingerprint"),
        **_low_rating(dossier),
    )


def _low_rating(dossier: Dossier) -> dict[str, Any]:
    """The sparse low-ratings index's keys, on a dossier rated low only."""
    rating = dossier.rating or {}
    if not rating.get("low"):
        return {}
    return {"low_rating_unit": dossier.competent_unit, "rated_sk": f"{rating.get('at')}#{dossier.code}"}


_LATE_KEY = ("unit", "sk")


def _late_step(event: DomainEvent, summary_: dict[str, Any]) -> LateStepModel:
    step = event.data.get("step") or {}
    index = int(step.get("index", 0))
    unit = str(event.data.get("unit") or step.get("unit"))
    officer = event.data.get("officer")
    flagged_at = iso(event.at) or ""
    return LateStepModel(unit, f"{flagged_at}#{event.code}#{index:03d}", code=event.code, index=index,
                         name=str(step.get("name") or ""), officer=officer,
                         officer_key=f"{unit}#{officer}" if officer else None, due_at=step.get("due_at"),
                         flagged_at=flagged_at, summary=summary_)


def _filed_range(query: DossierQuery) -> tuple[str, str] | None:
    if query.filed_from is None and query.filed_to is None:
        return None
    # Open ends: "0" sorts before and "~" after every ISO instant, so BETWEEN is never inverted.
    low = iso(query.filed_from) if query.filed_from else None
    high = iso(query.filed_to) if query.filed_to else None
    return low or "0", high or "~"


# A cursor is DynamoDB's LastEvaluatedKey, signed together with the filters of the listing that produced it
# (cursors.py): it cannot be forged, edited, or replayed on another unit's list or with other filters.
_KEY_ATTRIBUTES = {"code", "filed_sk", "handling_unit", "receiving_unit", "unit_status", "unit_procedure",
                   "open_unit", "due_sk"}


def _fingerprint(query: DossierQuery) -> bytes:
    # The same bytes as before cursors.py existed: cursors already handed out stay valid.
    filters = [query.unit, query.view, query.status.value if query.status else None, query.procedure,
               iso(query.filed_from), iso(query.filed_to), query.overdue]
    return json.dumps(filters, separators=(",", ":")).encode()


def _mac(query: DossierQuery, payload: bytes) -> bytes:
    return cursors.mac(_fingerprint(query), payload)


def _encode_cursor(key: dict[str, Any] | None, query: DossierQuery) -> str | None:
    return cursors.encode(key, _fingerprint(query))


def _decode_cursor(query: DossierQuery) -> dict[str, Any] | None:
    return cursors.decode(query.cursor, _fingerprint(query), _KEY_ATTRIBUTES, "code")
