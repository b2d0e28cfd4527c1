"""How long a procedure or a step may take, in the units the law publishes."""

from __future__ import annotations

import calendar as _months
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
    # Civil Code 2015 Arts 147-148: a period in months runs from the day after receipt to the end of the
    # corresponding day of its last month (the month's last day when it has none), moved past a day off.
    MONTHS = "months"
    # "Trong 24 giờ": clock hours from the instant of receipt (Civil Code 2015 Art 147(1)), not working hours.
    CLOCK_HOURS = "clock_hours"


class Counting(StrEnum):
    """Whether elapsed time is counted on the working calendar or on the wall clock."""

    WORKING = "working"
    CALENDAR = "calendar"  # calendar days or months: due at the close of the last day (Civil Code Art 148)
    ELAPSED = "elapsed"  # clock hours: due at the very instant the hours run out


_LABELS = {
    LimitUnit.WORKING_DAYS: "ngày làm việc",
    LimitUnit.WORKING_HOURS: "giờ làm việc",
    LimitUnit.CALENDAR_DAYS: "ngày",
    LimitUnit.MONTHS: "tháng",
    LimitUnit.CLOCK_HOURS: "giờ",
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
        if unit is LimitUnit.MONTHS and not amount.is_integer():
            raise ValueError("a limit in months is a whole number of months")
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
        if self.unit in (LimitUnit.CALENDAR_DAYS, LimitUnit.MONTHS):
            return Counting.CALENDAR
        return Counting.ELAPSED if self.unit is LimitUnit.CLOCK_HOURS else Counting.WORKING

    def nominal(self, hours_per_day: float) -> timedelta:
        """The budget independent of the start instant (a same-day limit counts as one day)."""
        if self.unit is LimitUnit.WORKING_DAYS:
            return timedelta(hours=self.amount * hours_per_day)
        if self.unit is LimitUnit.WORKING_HOURS:
            return timedelta(hours=self.amount)
        if self.unit is LimitUnit.CALENDAR_DAYS:
            return timedelta(days=self.amount)
        if self.unit is LimitUnit.MONTHS:
            return timedelta(days=31 * self.amount)  # the longest the months can be: a bound for checks
        if self.unit is LimitUnit.CLOCK_HOURS:
            return timedelta(hours=self.amount)
        return timedelta(hours=hours_per_day)

    def start_of_count(self, calendar: WorkingCalendar, received_at: datetime, channel: str,
                       online_cutoff: bool | None = None) -> datetime:
        """When the limit starts counting for a dossier received at `received_at`.

        Working time: the calendar's clock start (opening hours; the 15:00 hand-over of paper dossiers).
        Calendar days and months: the first instant of the day after the day of receipt (Civil Code 2015
        Art 147(2)); the 15:00 rule governs handing dossiers to the agency, not the citizen's period.
        Clock hours: the instant of receipt (Art 147(1)).
        """
        if self.counting is Counting.CALENDAR:
            day = calendar.local(received_at).date() + timedelta(days=1)
            return datetime.combine(day, time(0), calendar.zone).astimezone(UTC)
        if self.counting is Counting.ELAPSED:
            return received_at.astimezone(UTC)
        return calendar.clock_start(received_at, channel, online_cutoff=online_cutoff)

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
        if self.unit is LimitUnit.MONTHS:
            # From the first day counted to the end of the corresponding day of the last month.
            first = calendar.local(start).date()
            last = add_months(first - timedelta(days=1), int(self.amount))
            end = datetime.combine(last + timedelta(days=1), time(0), calendar.zone)
            return _whole_seconds(end - calendar.local(start))
        return _whole_seconds(self.nominal(calendar.settings.hours_per_day))


def _whole_seconds(delta: timedelta) -> timedelta:
    return timedelta(seconds=round(delta.total_seconds()))


def add_months(day: date, months: int) -> date:
    """The corresponding day `months` later, or that month's last day when it has none (Civil Code Art 148(2))."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _months.monthrange(year, month)[1]))
