"""A unit's own counters over a period, read the one way every report does (report 06 in services/reports.py,
the Decision 766 indicators, ranking and inactive units in services/quality.py).

The counters of services/statistics.py are daily items and their monthly and yearly roll-ups. For the local days
[from, to], a unit's counters are read with:
- one Query of its yearly roll-ups up to the year of `to` (`StatsStore.yearly`): the years before `from`'s year
  sum into `before`, the years wholly inside [from, to] into `during`;
- one Query of monthly roll-ups for each year the period covers only in part (`partial_years`: at most two,
  from January to December or to the month of `to`): the months before `from`'s month into `before`, the months
  wholly inside [from, to] into `during`;
- one Query of daily items for each month the period covers only in part (`partial_months`: at most two,
  `from`'s from its first day and `to`'s), the days before `from` into `before`, the others into `during`.
What is read is about one item per year of the unit's history and group, plus at most 24 months and 62 days: a
3-year report reads about as much as a 1-year one, and neither grows with dossiers. A flow (received,
resolved...) is its `during` sum; a point-in-time figure (in progress, overdue), kept as deltas, is its value at
the end of `to` (`before` + `during`) or at the start of `from` (`before`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .deps import Deps


@dataclass
class Sums:
    """One group's (`all`, `field#<code>`, `procedure#<code>`) counters of one unit, split at `from`."""

    before: dict[str, int] = field(default_factory=dict)  # every column over the days counted before `from`
    during: dict[str, int] = field(default_factory=dict)  # every column over the days of [from, to]
    # An item of the period (a day, or a month wholly inside it) has a non-zero column: a dossier event was counted
    # then. A month's sums cannot cancel out to hide one: flows only go up, and a delta's -1 comes on the day the
    # clock ends, with that day's resolved, refused, withdrawn or stopped.
    counted: bool = False

    def flow(self, column: str) -> int:
        return self.during.get(column, 0)

    def at_start(self, column: str) -> int:
        """A delta column's value at the end of the day before `from`."""
        return self.before.get(column, 0)

    def at_end(self, column: str) -> int:
        """A delta column's value at the end of `to`."""
        return self.before.get(column, 0) + self.during.get(column, 0)

    def add(self, row: dict[str, Any], in_period: bool) -> None:
        into = self.during if in_period else self.before
        for column, n in row.items():
            if column not in ("day", "month", "year", "group") and n:
                into[column] = into.get(column, 0) + int(n)
                self.counted = self.counted or in_period


def unit_sums(deps: Deps, unit: str, from_day: date, to_day: date) -> dict[str, Sums]:
    """group -> the unit's own counters for [from_day, to_day] (module docstring); groups never counted are
    absent."""
    partial = dict(partial_months(from_day, to_day))
    years = partial_years(from_day, to_day)
    first_month, first_day = from_day.isoformat()[:7], from_day.isoformat()
    out: dict[str, Sums] = {}
    for row in deps.stats.yearly(unit, str(to_day.year)):
        year = int(row["year"])
        if year not in years:  # before `from`'s year, or wholly inside the period
            out.setdefault(row["group"], Sums()).add(row, year >= from_day.year)
    for year, last_month in years.items():
        for row in deps.stats.rollups(unit, last_month, f"{year:04d}-01"):
            if row["month"] not in partial:
                out.setdefault(row["group"], Sums()).add(row, row["month"] >= first_month)
    for month, last_day in partial.items():
        for row in deps.stats.read(unit, month, f"{month}-01", last_day):
            out.setdefault(row["group"], Sums()).add(row, row["day"] >= first_day)
    return out


def partial_years(from_day: date, to_day: date) -> dict[int, str]:
    """The years of [from_day, to_day] it does not cover whole, each with the last month to read (YYYY-MM):
    December, or the month of `to` in its year."""
    out: dict[int, str] = {}
    for year in {from_day.year, to_day.year}:
        if not (from_day <= date(year, 1, 1) and date(year, 12, 31) <= to_day):
            out[year] = to_day.isoformat()[:7] if year == to_day.year else f"{year:04d}-12"
    return dict(sorted(out.items()))


def partial_months(from_day: date, to_day: date) -> list[tuple[str, str]]:
    """The months of [from_day, to_day] it does not cover whole, each with the last day to read (ISO): `from`'s
    unless it is a 1st and its month ends by `to`, and `to`'s unless it is its month's last day."""
    out: list[tuple[str, str]] = []
    first, last = from_day.isoformat()[:7], to_day.isoformat()[:7]
    if from_day.day != 1 or (first == last and not _month_end(to_day)):
        out.append((first, to_day.isoformat() if first == last else f"{first}-31"))
    if last != first and not _month_end(to_day):
        out.append((last, to_day.isoformat()))
    return out


def _month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1
