"""Working-time arithmetic: the calendar a legal deadline is counted on.

All instants are timezone-aware; results are returned in UTC. Working periods are half-open
[open, close) for deciding where a clock starts. A deadline that uses its budget up exactly at the
close of a day is due at that close (17:00), and one that uses it up at a mid-day close (11:30) is
due when work resumes (13:30): the same working instant, stated as a receipt would state it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCAL_TIMEZONE = "Asia/Ho_Chi_Minh"
MAX_SEARCH_DAYS = 3660  # a calendar with no working day in ten years is misconfigured
# The years the public-holiday data covers (the `holidays` package knows Vietnam's lunar holidays up
# to 2100 and none before 1901): a deadline outside them would silently ignore every holiday.
FIRST_YEAR = 2000
LAST_YEAR = 2100

PublicHolidays = Callable[[int], Mapping[date, str]]


@lru_cache(maxsize=64)
def vietnam_public_holidays(year: int) -> Mapping[date, str]:
    """Public holidays of Vietnam (Labour Code Art 112, lunar dates included) from `holidays`."""
    import holidays  # imported lazily: only deadline maths needs it, not every cold start

    return dict(holidays.country_holidays("VN", years=year, categories=("public",), language="vi"))


@lru_cache(maxsize=64)
def library_make_up_days(year: int) -> frozenset[date]:
    """Saturdays of `year` the `holidays` package knows were declared working days.

    The package lists a make-up day under the year of the holiday it pays for (Sat 27 Dec 2014 is
    in 2015's data), so `year` and the next one are read, and only `year`'s days kept.
    """
    import holidays

    calendar = holidays.country_holidays("VN", years=(year, year + 1))
    return frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)


class OutsideCalendar(ValueError):
    """An instant or a day outside the years the calendar covers (FIRST_YEAR to LAST_YEAR)."""


class CalendarError(ValueError):
    """A calendar setting that cannot be used, with the name of the setting."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class CalendarSettings:
    """What a province may configure. Yearly decisions (days off, make-up days) are data."""

    calendar_id: str = "VN"
    periods: tuple[tuple[time, time], ...] = ((time(7), time(11, 30)), (time(13, 30), time(17)))
    hours_per_day: float = 8
    intake_cutoff: time | None = time(15)
    cutoff_channels: frozenset[str] = frozenset({"direct", "postal"})
    weekend: frozenset[int] = frozenset({5, 6})  # Monday is 0
    days_off: Mapping[date, str] = field(default_factory=dict)
    working_days: frozenset[date] = frozenset()
    timezone: str = LOCAL_TIMEZONE
    # Years whose civil-service decision (extra days off, make-up Saturdays) is shipped as data; any
    # other year is counted on the public holidays alone and its due times are marked unconfirmed.
    confirmed_years: frozenset[int] = frozenset()
    # A fingerprint of the holiday data this calendar is counted on (the `holidays` package version and
    # the shipped year files), part of `version`: an upgrade that changes a holiday changes the version.
    holiday_data: str = ""
    # Seasonal working hours (giờ làm việc mùa hè / mùa đông): ((first MM-DD, last MM-DD, periods), ...). A day
    # within a season (the range may wrap the new year, e.g. 10-15 to 04-14) works that season's periods; other
    # days work `periods`. Each season's periods add up to `hours_per_day` like the default ones.
    seasons: tuple[tuple[str, str, tuple[tuple[time, time], ...]], ...] = ()

    def periods_for(self, day: date) -> tuple[tuple[time, time], ...]:
        """The working periods of `day`: its season's, else the default ones."""
        key = day.strftime("%m-%d")
        for first, last, periods in self.seasons:
            if (first <= key <= last) if first <= last else (key >= first or key <= last):
                return periods
        return self.periods

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: CalendarSettings | None = None) -> CalendarSettings:
        """Build settings from catalogue data; keys absent from `data` keep `base`'s values."""
        base = base or cls()
        periods = base.periods
        if "working_hours" in data:
            periods = tuple(
                (time.fromisoformat(str(p[0])), time.fromisoformat(str(p[1])))
                for p in data["working_hours"]
            )
        cutoff = base.intake_cutoff
        if "intake_cutoff" in data:
            cutoff = time.fromisoformat(str(data["intake_cutoff"])) if data["intake_cutoff"] else None
        days_off = dict(base.days_off)
        for entry in data.get("days_off", []) or []:
            days_off[date.fromisoformat(entry["date"])] = entry.get("reason", "Nghỉ theo quyết định")
        seasons = base.seasons
        if "seasons" in data:
            seasons = tuple(_season(entry) for entry in data["seasons"] or [])
        working = set(base.working_days)
        working.update(date.fromisoformat(e["date"]) for e in data.get("working_days", []) or [])
        settings = cls(
            calendar_id=str(data.get("calendar_id", base.calendar_id)),
            periods=periods,
            hours_per_day=_hours(data["hours_per_day"]) if "hours_per_day" in data else base.hours_per_day,
            intake_cutoff=cutoff,
            cutoff_channels=frozenset(data.get("cutoff_channels", base.cutoff_channels)),
            weekend=frozenset(data.get("weekend", base.weekend)),
            days_off=days_off,
            working_days=frozenset(working),
            timezone=str(data.get("timezone", base.timezone)),
            confirmed_years=base.confirmed_years | ({int(data["year"])} if data.get("year") is not None else set()),
            holiday_data=base.holiday_data,
            seasons=seasons,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot be counted on, naming the setting (`CalendarError`).

        The working periods and `hours_per_day` must agree: `hours_per_day` turns a limit published
        in working days into working time, the periods say when that time runs. A province that
        moves its opening to 07:30 (07:30–11:30 / 13:30–17:00 is 7.5 h) and keeps 8 h per day would
        otherwise be given deadlines half an hour per day later than its own day, silently; the
        operator states both, so a change to every deadline is deliberate and a typo is caught.
        """
        for field_name, periods in (("working_hours", self.periods),
                                    *(("seasons", season[2]) for season in self.seasons)):
            self._check_periods(field_name, periods)
        if self.intake_cutoff is not None and any(
                not periods[0][0] <= self.intake_cutoff <= periods[-1][1] for _, _, periods in self.seasons):
            raise CalendarError("intake_cutoff", "must lie within every season's working day")
        if not 1 <= self.hours_per_day <= 24:
            raise CalendarError("hours_per_day", "must be between 1 and 24")
        if self.intake_cutoff is not None and not self.periods[0][0] <= self.intake_cutoff <= self.periods[-1][1]:
            raise CalendarError("intake_cutoff", "must lie within the working day")
        if not self.weekend <= set(range(7)) or len(self.weekend) == 7:
            raise CalendarError("weekend", "weekdays 0 (Monday) to 6 (Sunday), not all seven")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError("timezone", f"unknown time zone {self.timezone!r}") from exc

    def _check_periods(self, field_name: str, periods: tuple[tuple[time, time], ...]) -> None:
        if not periods:
            raise CalendarError(field_name, "a calendar needs at least one working period")
        previous_end: time | None = None
        for start, end in periods:
            if start >= end or (previous_end is not None and start < previous_end):
                raise CalendarError(field_name, "working periods must be ordered and not overlap")
            previous_end = end
        if not 1 <= self.hours_per_day <= 24:
            raise CalendarError("hours_per_day", "must be between 1 and 24")
        worked = sum(
            (datetime.combine(date.min, end) - datetime.combine(date.min, start) for start, end in periods),
            start=timedelta(0),
        )
        if worked != timedelta(hours=self.hours_per_day):
            raise CalendarError("hours_per_day", (
                f"{_number(self.hours_per_day)} h per working day, but the working periods"
                f"{' of a season' if field_name == 'seasons' else ''} add up to "
                f"{_number(worked / timedelta(hours=1))} h: set both so they agree"))

    @property
    def version(self) -> str:
        """A short fingerprint of these settings, stored on each dossier clock it computed."""
        canonical = {
            "id": self.calendar_id,
            "periods": [[s.isoformat(), e.isoformat()] for s, e in self.periods],
            "hours": _number(self.hours_per_day),
            "cutoff": self.intake_cutoff.isoformat() if self.intake_cutoff else None,
            "cutoff_channels": sorted(self.cutoff_channels),
            "weekend": sorted(self.weekend),
            "off": sorted(d.isoformat() for d in self.days_off),
            "work": sorted(d.isoformat() for d in self.working_days),
            "tz": self.timezone,
            "confirmed": sorted(self.confirmed_years),
            "holiday_data": self.holiday_data,
            # Only when set: calendars without seasons keep the version their dossiers' clocks were stamped with.
            **({"seasons": [[a, b, [[s.isoformat(), e.isoformat()] for s, e in p]] for a, b, p in self.seasons]}
               if self.seasons else {}),
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:12]


class WorkingCalendar:
    """Answers "when is this due" and "how much working time passed" for one calendar."""

    def __init__(self, settings: CalendarSettings, public_holidays: PublicHolidays = vietnam_public_holidays,
                 make_up_days: Callable[[int], frozenset[date]] = library_make_up_days):
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self._public_holidays = public_holidays
        self._make_up_days = make_up_days

    # --- days -------------------------------------------------------------------------------
    def day_off_reason(self, day: date) -> str | None:
        """Why `day` is not a working day, or None when it is one."""
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise OutsideCalendar(f"{day.isoformat()} is outside the years the calendar covers "
                                  f"({FIRST_YEAR}–{LAST_YEAR})")
        if day in self.settings.working_days or day in self._make_up_days(day.year):
            return None
        if day in self.settings.days_off:
            return self.settings.days_off[day]
        holiday = self._public_holidays(day.year).get(day)
        if holiday:
            return holiday
        if day.weekday() in self.settings.weekend:
            return "Nghỉ cuối tuần"
        return None

    def is_working_day(self, day: date) -> bool:
        return self.day_off_reason(day) is None

    def non_working_days(self, year: int) -> list[dict[str, str]]:
        """Days off of `year` other than ordinary weekends, with their reasons."""
        out = []
        day = date(year, 1, 1)
        while day.year == year:
            reason = self.day_off_reason(day)
            if reason and reason != "Nghỉ cuối tuần":
                out.append({"date": day.isoformat(), "reason": reason})
            day += timedelta(days=1)
        return out

    def make_up_working_days(self, year: int) -> list[str]:
        days = self.settings.working_days | self._make_up_days(year)
        return sorted(d.isoformat() for d in days if d.year == year and d.weekday() in self.settings.weekend)

    def confirmed(self, year: int) -> bool:
        """Whether `year`'s civil-service decision is part of this calendar (else: public holidays only)."""
        return year in self.settings.confirmed_years

    def confirmed_between(self, start: datetime, end: datetime) -> bool:
        """Whether every local day from `start` to `end` lies in a confirmed year."""
        first, last = sorted((self.local(start).year, self.local(end).year))
        return all(self.confirmed(year) for year in range(first, last + 1))

    # --- instants ---------------------------------------------------------------------------
    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (
                datetime.combine(day, start, self.zone).astimezone(UTC),
                datetime.combine(day, end, self.zone).astimezone(UTC),
            )
            for start, end in self.settings.periods_for(day)
        ]

    def _periods_ending_after(self, instant: datetime) -> Iterator[tuple[datetime, datetime, bool]]:
        """Working periods that end after `instant`, each with whether it closes its day."""
        day = self.local(instant).date()
        for _ in range(MAX_SEARCH_DAYS):
            periods = self.periods_on(day)
            for index, (start, end) in enumerate(periods):
                if end > instant:
                    yield start, end, index == len(periods) - 1
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.settings.calendar_id} has no working time for ten years")

    def next_working_instant(self, instant: datetime) -> datetime:
        """`instant` itself when it is working time, else the next opening."""
        _require_aware(instant)
        start, _, _ = next(self._periods_ending_after(instant))
        return max(start, instant).astimezone(UTC)

    def first_opening_after_day(self, day: date) -> datetime:
        midnight = datetime.combine(day + timedelta(days=1), time(0), self.zone)
        return self.next_working_instant(midnight)

    def cutoff_applies(self, channel: str, online_cutoff: bool | None = None) -> bool:
        """Whether the intake cutoff hands a dossier received through `channel` on to the next day.

        Paper channels follow the province setting (`cutoff_channels`); for `online`, a procedure may
        force it either way (`online_cutoff`), else the province setting decides.
        """
        if self.settings.intake_cutoff is None:
            return False
        if channel == "online" and online_cutoff is not None:
            return online_cutoff
        return channel in self.settings.cutoff_channels

    def received_after_cutoff(self, received_at: datetime) -> bool:
        """Received on a working day after its intake cutoff (15:00 by default), whatever the channel."""
        _require_aware(received_at)
        cutoff = self.settings.intake_cutoff
        local = self.local(received_at)
        return cutoff is not None and self.is_working_day(local.date()) and local.time() > cutoff

    def clock_start(self, received_at: datetime, channel: str, *, online_cutoff: bool | None = None) -> datetime:
        """When the legal clock of a dossier received at `received_at` through `channel` starts.

        Before opening counts from opening, during lunch from the afternoon opening, after
        closing from the next working day; dossiers of the channels the cutoff applies to
        (paper by default, see `cutoff_applies`) received after the cutoff (15:00 by default)
        are handed on at the start of the next working day.
        """
        _require_aware(received_at)
        if self.cutoff_applies(channel, online_cutoff) and self.received_after_cutoff(received_at):
            return self.first_opening_after_day(self.local(received_at).date())
        return self.next_working_instant(received_at)

    def add_working(self, start: datetime, duration: timedelta) -> datetime:
        """The instant `duration` of working time after `start`."""
        _require_aware(start)
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        if duration == timedelta(0):
            return start.astimezone(UTC)
        remaining = duration
        for period_start, period_end, closes_day in self._periods_ending_after(start):
            begin = max(period_start, start)
            available = period_end - begin
            # A budget used up exactly at a mid-day close (11:30) is due when work resumes (13:30),
            # the same working instant as a receipt would state it; at the day's close it stays 17:00.
            if remaining < available or (remaining == available and (closes_day or remaining == timedelta(0))):
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        raise AssertionError("unreachable: _periods_ending_after raises first")

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end]; zero when end is not after start."""
        _require_aware(start)
        _require_aware(end)
        total = timedelta(0)
        if end <= start:
            return total
        for period_start, period_end, _ in self._periods_ending_after(start):
            if period_start >= end:
                break
            total += min(period_end, end) - max(period_start, start)
        return total

    def close_of_working_day(self, day: date) -> datetime:
        """The close of business of `day`, or of the next working day when `day` is off."""
        for _ in range(MAX_SEARCH_DAYS):
            periods = self.periods_on(day)
            if periods:
                return periods[-1][1]
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.settings.calendar_id} has no working time for ten years")

    def add_calendar(self, start: datetime, duration: timedelta) -> datetime:
        """Calendar-time limits end at the close of their last day, moved to the next working day
        when that day is off (Civil Code 2015, Art 148)."""
        _require_aware(start)
        try:
            end = start + duration
        except OverflowError as exc:
            raise OutsideCalendar("the limit ends outside the years the calendar covers") from exc
        # A count that ends at midnight ends with the day before it (a period counted from the first instant of
        # the day after receipt, N days long, ends with the Nth day).
        return self.close_of_working_day(self.local(end - timedelta(microseconds=1)).date())

    def local(self, instant: datetime) -> datetime:
        try:
            return instant.astimezone(self.zone)
        except OverflowError as exc:
            raise OutsideCalendar("the instant is outside the years the calendar covers") from exc


def _hours(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CalendarError("hours_per_day", "a number of hours")
    try:
        return _number(float(value))
    except ValueError as exc:
        raise CalendarError("hours_per_day", "a number of hours") from exc


def _number(value: float) -> float | int:
    """7.5 stays 7.5, 8.0 is 8: how hours are written, and hashed into the version."""
    return int(value) if float(value).is_integer() else value


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must carry a timezone offset")


def _season(entry: Any) -> tuple[str, str, tuple[tuple[time, time], ...]]:
    """{"from": "04-15", "to": "10-14", "working_hours": [["07:00", "11:30"], ["13:30", "17:00"]]}."""
    try:
        first, last = str(entry["from"]), str(entry["to"])
        for text in (first, last):
            date.fromisoformat(f"2000-{text}")  # a real month and day (29 Feb included)
        periods = tuple((time.fromisoformat(str(p[0])), time.fromisoformat(str(p[1]))) for p in entry["working_hours"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CalendarError("seasons", "each season is {from: MM-DD, to: MM-DD, working_hours: [[HH:MM, HH:MM], "
                                       "...]}") from exc
    return first, last, periods
