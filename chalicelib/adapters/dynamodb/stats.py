"""Report 06's counters on the stats table: one event's increments, their monthly roll-ups and its guard in one
transaction; an import's counters summed per key across many dossiers, with one guard per dossier, in as few
transactions as DynamoDB allows."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.counting import all_rollups, overdue_closing, rollup_key, yearly_key
from ...domain.events import DomainEvent
from ...domain.import_counts import DossierCounts, Packed, packed
from .errors import cancellation_codes
from .models import StatsModel, SyncModel

if TYPE_CHECKING:
    from ...domain.counting import Booking, Key

LIFE = "life"
GUARD = "guard"
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems
# Imports running in parallel ADD to the same roll-ups at once: a conflicting transaction is tried again, with a
# growing, jittered pause, this many times before the error is raised (the importer's batch retries then apply).
CONFLICT_ATTEMPTS = 12


def imported_guard(code: str) -> str:
    """The key of the item that says an imported dossier's counters were applied (once, whatever re-runs)."""
    return f"imported#{code}"
FACTS = ("flagged", "ended", "months")  # the life and months items' attributes, not counters


class StatsRepository:
    """Implements services.ports.StatsStore."""

    def apply(self, event: DomainEvent, booking: Booking) -> bool:
        """Write the booking once: the guard `event#<id>` is put with attribute_not_exists in the same
        TransactWriteItems as the increments, so a redelivered event changes nothing (answers False).

        The overdue interval's end (services/statistics.py): the dossier's `life` item is read first, and the
        fact this event adds is written conditioned on what was read, so two events of one dossier applied at
        once cannot both miss the -1: the loser's transaction is cancelled and tried again, reading anew.

        Events of many dossiers are counted at once (a consumer's copies, the local bus's lanes), and their
        transactions ADD to the same unit, day and month items: DynamoDB cancels one of two that meet
        (TransactionConflict). That one is tried again, with a growing, jittered pause, up to CONFLICT_ATTEMPTS
        times before the error goes to the delivery's own retries."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                return self._apply_once(event, booking)
            except TransactWriteError as exc:
                if "TransactionConflict" not in cancellation_codes(exc) or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.02 * 2 ** min(attempt, 6)))
        raise AssertionError("unreachable")  # the loop returns or raises

    def apply_once(self, guard: str, booking: Booking) -> bool:
        """A booking with its own guard (services/statistics.py: a dossier's `synced` count): as `apply`."""
        if booking.flags_overdue or booking.ends is not None:
            raise ValueError("an overdue interval is an event's: apply it with the event")
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                return self._write(guard, "", booking)
            except TransactWriteError as exc:
                if "TransactionConflict" not in cancellation_codes(exc) or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.02 * 2 ** min(attempt, 6)))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _apply_once(self, event: DomainEvent, booking: Booking) -> bool:
        return self._write(f"event#{event.id}", event.code, booking)

    def _write(self, guard: str, code: str, booking: Booking) -> bool:
        increments: dict[Key, dict[str, int]] = {k: dict(v) for k, v in booking.increments.items()}
        life = self._life(code) if booking.flags_overdue or booking.ends is not None else None
        life_update: tuple[list[Any], Any] | None = None
        ended, flagged = (life or {}).get("ended"), bool((life or {}).get("flagged"))
        _add(increments, overdue_closing(booking, flagged, ended), "overdue", -1)
        if booking.flags_overdue:  # delivered after the end: the interval closed at once (above)
            life_update = ([StatsModel.flagged.set(1)],
                           StatsModel.ended.exists() if ended is not None else StatsModel.ended.does_not_exist())
        elif booking.ends is not None:
            life_update = ([StatsModel.ended.set([list(k) for k in booking.ends])],
                           StatsModel.flagged.exists() if flagged else StatsModel.flagged.does_not_exist())
        try:
            with TransactWrite(connection=StatsModel._get_connection().connection) as transaction:
                transaction.save(StatsModel(guard, "guard"), condition=StatsModel.pk.does_not_exist())
                for (pk, sk), row in increments.items():
                    actions = [getattr(StatsModel, column).add(n) for column, n in sorted(row.items()) if n]
                    if actions:
                        transaction.update(StatsModel(pk, sk), actions=actions)
                for (pk, sk), row in sorted(all_rollups(increments).items()):
                    actions = [getattr(StatsModel, column).add(n) for column, n in sorted(row.items()) if n]
                    if actions:
                        transaction.update(StatsModel(pk, sk), actions=actions)
                for unit, months in sorted(booking.months().items()):
                    transaction.update(StatsModel(f"unit#{unit}", "months"), actions=[StatsModel.months.add(months)])
                if life_update is not None:
                    transaction.update(StatsModel(f"dossier#{code}", LIFE), actions=life_update[0],
                                       condition=life_update[1])
        except TransactWriteError as exc:
            reasons = cancellation_codes(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    # --- an import's counters (services/importer.py) ---------------------------------------------------------
    def imported_counted(self, codes: list[str]) -> set[str]:
        """Which of `codes` (imported dossiers found stored) had their counters applied: a BatchGetItem of their
        guards only (0.5 RCU each), asked only for codes a re-run finds."""
        found: set[str] = set()
        for start in range(0, len(codes), 100):
            keys = [(imported_guard(code), GUARD) for code in codes[start:start + 100]]
            found.update(item.pk.removeprefix("imported#")
                         for item in StatsModel.batch_get(keys, attributes_to_get=["pk"]))
        return found

    def apply_imported(self, counts: list[DossierCounts], workers: int = 1) -> set[str]:
        """`_apply_imported` on `workers` slices at once (the dossiers sorted by key first, so that each slice
        keeps the keys its dossiers share)."""
        if workers <= 1 or len(counts) < 200:
            return self._apply_imported(counts)
        from concurrent.futures import ThreadPoolExecutor

        ordered = sorted(counts, key=lambda c: min(c.increments, default=("", "")))
        size = -(-len(ordered) // workers)
        slices = [ordered[i:i + size] for i in range(0, len(ordered), size)]
        with ThreadPoolExecutor(max_workers=len(slices), thread_name_prefix="counters") as pool:
            return set().union(*pool.map(self._apply_imported, slices))

    def _apply_imported(self, counts: list[DossierCounts]) -> set[str]:
        """Apply the counters of imported dossiers exactly once each: packed into transactions of at most 100
        items, each counter key written once per transaction with the sum of its dossiers, together with one
        guard per dossier (`imported#<code>`, put only if absent). A transaction cancelled because some guards
        exist (those dossiers were counted by an earlier run) is tried again without them. Answers the codes
        counted by this call."""
        by_code = {c.code: c for c in counts}
        queue = packed(counts, MAX_TRANSACTION_ITEMS)
        counted: set[str] = set()
        while queue:
            group = queue.pop(0)
            if group.items > MAX_TRANSACTION_ITEMS:
                raise ValueError(f"{group.codes[0]}: {group.items} counter items, more than one transaction holds")
            existing = self._write_imported(group)
            if not existing:
                counted.update(group.codes)
                continue
            rest = [by_code[code] for code in group.codes if code not in existing]
            queue[0:0] = packed(rest, MAX_TRANSACTION_ITEMS) if rest else []
        return counted

    def _write_imported(self, group: Packed) -> set[str]:
        """One transaction: the group's guards, then its summed counters. Answers the codes whose guard exists
        (then nothing was written), or an empty set when everything was."""
        from botocore.exceptions import ClientError

        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._transact_imported(group)
                return set()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                existing = {code for code, reason in zip(group.codes, reasons, strict=False)
                            if reason == "ConditionalCheckFailed"}
                if existing:
                    return existing
                if "TransactionConflict" not in reasons or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.02, 0.05) * (attempt + 1))
        return set()

    @staticmethod
    def _transact_imported(group: Packed) -> None:
        """The transaction in DynamoDB's own terms: built here rather than through PynamoDB's expression objects,
        which cost more CPU than the call itself for a hundred small updates."""
        stats, sync = StatsModel.Meta.table_name, SyncModel.Meta.table_name
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": stats, "Item": {"pk": {"S": imported_guard(code)}, "sk": {"S": GUARD}},
                     "ConditionExpression": "attribute_not_exists(pk)"}} for code in group.codes]
        for (pk, sk), row in [*sorted(group.daily.items()), *sorted(group.rollup.items())]:
            columns = [(c, n) for c, n in sorted(row.items()) if n]
            if columns:
                items.append(_add_item(stats, pk, sk, columns))
        for unit, months in sorted(group.months.items()):
            items.append({"Update": {"TableName": stats, "Key": {"pk": {"S": f"unit#{unit}"}, "sk": {"S": "months"}},
                                     "UpdateExpression": "ADD #m :m", "ExpressionAttributeNames": {"#m": "months"},
                                     "ExpressionAttributeValues": {":m": {"SS": sorted(months)}}}})
        for code in group.life:  # open and overdue: its live end writes the -1 (apply, above)
            items.append({"Update": {"TableName": stats, "Key": {"pk": {"S": f"dossier#{code}"}, "sk": {"S": LIFE}},
                                     "UpdateExpression": "SET #f = :f", "ExpressionAttributeNames": {"#f": "flagged"},
                                     "ExpressionAttributeValues": {":f": {"N": "1"}}}})
        for unit, n in sorted(group.known.items()):  # the portal sync's count of the unit's dossiers
            items.append(_add_item(sync, f"unit#{unit}", "known", [("known", n)]))
        StatsModel._get_connection().connection.client.transact_write_items(TransactItems=items)

    def _life(self, code: str) -> dict[str, Any] | None:
        try:
            return StatsModel.get(f"dossier#{code}", LIFE, consistent_read=True).attribute_values
        except StatsModel.DoesNotExist:
            return None

    def months(self, unit: str) -> set[str]:
        try:
            return set(StatsModel.get(f"unit#{unit}", "months").months or ())
        except StatsModel.DoesNotExist:
            return set()

    def read(self, unit: str, month: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """The counter items of a unit's month from `first_day` to `last_day` (ISO dates, inclusive): each with
        its `day` and `group` (`all`, `field#<code>`, `procedure#<code>`) and its non-zero columns."""
        out = []
        for item in StatsModel.query(f"{unit}#{month}", StatsModel.sk.between(f"{first_day}#", f"{last_day}#~")):
            day, _, group = item.sk.partition("#")
            out.append({"day": day, "group": group, **_columns(item)})
        return out

    def rollups(self, unit: str, last_month: str, first_month: str | None = None) -> list[dict[str, Any]]:
        """The unit's monthly roll-ups up to `last_month` (YYYY-MM, inclusive; from `first_month` if given), one
        Query of its roll-up partition: each with its `month` and `group` and its non-zero columns."""
        condition = (StatsModel.sk.between(f"{first_month}#", f"{last_month}#~") if first_month
                     else StatsModel.sk <= f"{last_month}#~")
        out = []
        for item in StatsModel.query(rollup_key(unit), condition):
            month, _, group = item.sk.partition("#")
            out.append({"month": month, "group": group, **_columns(item)})
        return out

    def yearly(self, unit: str, last_year: str) -> list[dict[str, Any]]:
        """The unit's yearly roll-ups up to `last_year` (YYYY, inclusive), one Query: each with its `year` and
        `group` and its non-zero columns."""
        out = []
        for item in StatsModel.query(yearly_key(unit), StatsModel.sk <= f"{last_year}#~"):
            year, _, group = item.sk.partition("#")
            out.append({"year": year, "group": group, **_columns(item)})
        return out

    def adjust(self, increments: dict[Key, dict[str, int]]) -> int:
        """ADD these amounts to these counter items as they are (no roll-ups added, no guard): the repair of
        counters found wrong by the recount (services/reconcile.py `repair`). Answers the items written."""
        written = 0
        for (pk, sk), row in sorted(increments.items()):
            actions = [getattr(StatsModel, column).add(n) for column, n in sorted(row.items()) if n]
            if actions:
                StatsModel(pk, sk).update(actions=actions)
                written += 1
        months: dict[str, set[str]] = {}
        for pk, _ in increments:
            unit, _, month = pk.rpartition("#")
            if not pk.startswith(("rollup#", "yearly#")) and len(month) == 7:
                months.setdefault(unit, set()).add(month)
        for unit, ms in sorted(months.items()):
            StatsModel(f"unit#{unit}", "months").update(actions=[StatsModel.months.add(ms)])
        return written


def _add_item(table: str, pk: str, sk: str, columns: list[tuple[str, int]]) -> dict[str, Any]:
    names = {f"#c{i}": column for i, (column, _) in enumerate(columns)}
    values = {f":v{i}": {"N": str(n)} for i, (_, n) in enumerate(columns)}
    return {"Update": {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                       "UpdateExpression": "ADD " + ", ".join(f"#c{i} :v{i}" for i in range(len(columns))),
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def _columns(item: StatsModel) -> dict[str, int]:
    return {k: int(v) for k, v in item.attribute_values.items() if k not in ("pk", "sk", *FACTS) and v}


def _add(increments: dict[Key, dict[str, int]], keys: list[Any], column: str, n: int) -> None:
    for key in keys:
        row = increments.setdefault((str(key[0]), str(key[1])), {})
        row[column] = row.get(column, 0) + n
