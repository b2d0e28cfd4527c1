"""How long a procedure or a step may take, in the units the law publishes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .calendar import WorkingCalendar


class LimitUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"
    # "Trong ngày": due at the close of the day the clock starts; after the 15:00 cutoff the
    # clock starts next working day, so this is "same day, or next day if received late".
    SAME_DAY = "same_day"


class Counting(StrEnum):
    """Whether elapsed time is counted on the working calendar or on the wall clock."""

    WORKING = "working"
    CALENDAR = "calendar"


_LABELS = {
    LimitUnit.WORKING_DAYS: "ngày làm việc",
    LimitUnit.WORKING_HOURS: "giờ làm việc",
    LimitUnit.CALENDAR_DAYS: "ngày",
}


@dataclass(frozen=True)
class TimeLimit:
    amount: float
    unit: LimitUnit

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimeLimit:
        unit = LimitUnit(data["unit"])
        amount = float(data.get("amount", 0 if unit is LimitUnit.SAME_DAY else -1))
        if not math.isfinite(amount) or (unit is not LimitUnit.SAME_DAY and amount <= 0):
            raise ValueError("amount must be a number greater than zero")
        limit = cls(amount, unit)
        try:
            limit.nominal(24)
        except OverflowError as exc:
            raise ValueError("amount is too large to count") from exc
        return limit

    def as_dict(self) -> dict[str, Any]:
        amount: float | int = int(self.amount) if float(self.amount).is_integer() else self.amount
        return {"amount": amount, "unit": self.unit.value, "label": self.label}

    @property
    def label(self) -> str:
        if self.unit is LimitUnit.SAME_DAY:
            return "Trong ngày"
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} {_LABELS[self.unit]}"

    @property
    def counting(self) -> Counting:
        return Counting.CALENDAR if self.unit is LimitUnit.CALENDAR_DAYS else Counting.WORKING

    def nominal(self, hours_per_day: float) -> timedelta:
        """The budget independent of the start instant (a same-day limit counts as one day)."""
        if self.unit is LimitUnit.WORKING_DAYS:
            return timedelta(hours=self.amount * hours_per_day)
        if self.unit is LimitUnit.WORKING_HOURS:
            return timedelta(hours=self.amount)
        if self.unit is LimitUnit.CALENDAR_DAYS:
            return timedelta(days=self.amount)
        return timedelta(hours=hours_per_day)

    def budget_from(self, calendar: WorkingCalendar, start: datetime, received_at: datetime | None = None) -> timedelta:
        """The budget of a clock starting at `start` (a working instant).

        A same-day limit ("trong ngày") runs to the close of the day the clock starts; a dossier
        received after the intake cutoff (given `received_at`, by any channel, online included)
        whose clock still starts that day gets until the close of the next working day, never the
        few minutes left before closing: the after-15:00 rule of Decree 61/2018 hands such dossiers
        on to the next working day.
        """
        if self.unit is LimitUnit.SAME_DAY:
            day = calendar.local(start).date()
            if (received_at is not None and calendar.received_after_cutoff(received_at)
                    and calendar.local(received_at).date() == day):
                close = calendar.close_of_working_day(day + timedelta(days=1))
            else:
                close = calendar.close_of_working_day(day)
            return calendar.working_between(start, close)
        return _whole_seconds(self.nominal(calendar.settings.hours_per_day))


def _whole_seconds(delta: timedelta) -> timedelta:
    return timedelta(seconds=round(delta.total_seconds()))
