"""Report 06's counters on the stats table: one event's increments, their monthly roll-ups and its guard in one
transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.counting import overdue_closing, rollup_key, rollups
from ...domain.events import DomainEvent
from .models import StatsModel

if TYPE_CHECKING:
    from ...domain.counting import Booking, Key

LIFE = "life"
FACTS = ("flagged", "ended", "months")  # the life and months items' attributes, not counters


class StatsRepository:
    """Implements services.ports.StatsStore."""

    def apply(self, event: DomainEvent, booking: Booking) -> bool:
        """Write the booking once: the guard `event#<id>` is put with attribute_not_exists in the same
        TransactWriteItems as the increments, so a redelivered event changes nothing (answers False).

        The overdue interval's end (services/statistics.py): the dossier's `life` item is read first, and the
        fact this event adds is written conditioned on what was read, so two events of one dossier applied at
        once cannot both miss the -1: the loser's transaction is cancelled, raises, and its delivery is retried."""
        increments: dict[Key, dict[str, int]] = {k: dict(v) for k, v in booking.increments.items()}
        life = self._life(event.code) if booking.flags_overdue or booking.ends is not None else None
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
                transaction.save(StatsModel(f"event#{event.id}", "guard"), condition=StatsModel.pk.does_not_exist())
                for (pk, sk), row in increments.items():
                    actions = [getattr(StatsModel, column).add(n) for column, n in sorted(row.items()) if n]
                    if actions:
                        transaction.update(StatsModel(pk, sk), actions=actions)
                for (pk, sk), row in sorted(rollups(increments).items()):
                    actions = [getattr(StatsModel, column).add(n) for column, n in sorted(row.items()) if n]
                    if actions:
                        transaction.update(StatsModel(pk, sk), actions=actions)
                for unit, months in sorted(booking.months().items()):
                    transaction.update(StatsModel(f"unit#{unit}", "months"), actions=[StatsModel.months.add(months)])
                if life_update is not None:
                    transaction.update(StatsModel(f"dossier#{event.code}", LIFE), actions=life_update[0],
                                       condition=life_update[1])
        except TransactWriteError as exc:
            reasons = [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

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

    def rollups(self, unit: str, last_month: str) -> list[dict[str, Any]]:
        """The unit's monthly roll-ups up to `last_month` (YYYY-MM, inclusive), one Query of its roll-up partition:
        each with its `month` and `group` and its non-zero columns."""
        out = []
        for item in StatsModel.query(rollup_key(unit), StatsModel.sk <= f"{last_month}#~"):
            month, _, group = item.sk.partition("#")
            out.append({"month": month, "group": group, **_columns(item)})
        return out


def _columns(item: StatsModel) -> dict[str, int]:
    return {k: int(v) for k, v in item.attribute_values.items() if k not in ("pk", "sk", *FACTS) and v}


def _add(increments: dict[Key, dict[str, int]], keys: list[Any], column: str, n: int) -> None:
    for key in keys:
        row = increments.setdefault((str(key[0]), str(key[1])), {})
        row[column] = row.get(column, 0) + n
