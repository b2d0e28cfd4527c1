"""services/period_sums.py on DynamoDB Local: a unit's counters for any period, read from its yearly roll-ups, the
monthly ones of the years the period covers in part and the daily items of the months it covers in part, equal
the sums of its daily items; and what is read stays one Query of yearly roll-ups, at most two of months and two
of days, whatever the unit's history and the period's length."""

import functools
import random
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.dynamodb.models import StatsModel
from chalicelib.domain import counting
from chalicelib.services.period_sums import Sums, unit_sums
from tests.integration.relay_worker import local_deps

FIRST, LAST = date(2023, 6, 1), date(2026, 3, 31)
GROUPS = ("all", "field#F1", "procedure#P1", "procedure#P2")


@functools.cache
def _history() -> tuple[str, dict[tuple[str, str], dict[str, int]]]:
    """A unit's daily items over nearly three years, with the roll-ups the statistics consumer would have added to:
    flows, and deltas that go up and down (some days none: a day without events has no item)."""
    unit, rng = f"TEST.SUMS-{uuid.uuid4().hex[:8]}", random.Random(7)
    daily: dict[tuple[str, str], dict[str, int]] = {}
    day = FIRST
    while day <= LAST:
        if rng.random() < 0.7:
            for group in rng.sample(GROUPS, rng.randint(1, len(GROUPS))):
                row = {"received": rng.randint(0, 3), "resolved": rng.randint(0, 2), "open": rng.randint(-2, 3),
                       "overdue": rng.randint(-1, 1)}
                daily[(counting.month_key(unit, day.isoformat()[:7]), f"{day.isoformat()}#{group}")] = row
        day += timedelta(days=1)
    with StatsModel.batch_write() as batch:
        for (pk, sk), row in {**daily, **counting.all_rollups(daily)}.items():
            batch.save(StatsModel(pk, sk, **{k: v for k, v in row.items() if v}))
    return unit, daily


def _expected(from_day: date, to_day: date) -> dict[str, Sums]:
    out: dict[str, Sums] = {}
    for (_, sk), row in sorted(_history()[1].items()):
        day, _, group = sk.partition("#")
        if day <= to_day.isoformat():
            out.setdefault(group, Sums()).add(row, day >= from_day.isoformat())
    return out


DAYS = st.dates(FIRST - timedelta(days=40), LAST + timedelta(days=40))
# Half the bounds on a month's edge: whole months are read from the roll-ups, the others from the days.
FROM = st.one_of(DAYS, DAYS.map(lambda d: d.replace(day=1)))
TO = st.one_of(DAYS, DAYS.map(lambda d: (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(FROM, TO)
def test_the_sums_of_any_period_equal_those_of_the_daily_items(from_day: date, to_day: date) -> None:
    if to_day < from_day:
        from_day, to_day = to_day, from_day
    got, expected = unit_sums(local_deps(), _history()[0], from_day, to_day), _expected(from_day, to_day)
    assert set(got) == set(expected)
    for group, sums in expected.items():
        zero = {k: v for k, v in got[group].before.items() if v}, {k: v for k, v in got[group].during.items() if v}
        assert zero == ({k: v for k, v in sums.before.items() if v}, {k: v for k, v in sums.during.items() if v})
        assert got[group].counted == sums.counted, (group, from_day, to_day)


def test_a_period_of_whole_months_reads_one_query_of_roll_ups_and_a_part_month_adds_one_per_partial_month(calls):
    unit = _history()[0]
    calls.clear()
    unit_sums(local_deps(), unit, date(2026, 1, 1), date(2026, 2, 28))
    assert calls == {"Query": 2}  # the years, 2026's months
    calls.clear()
    unit_sums(local_deps(), unit, date(2025, 12, 10), date(2026, 3, 5))
    assert calls == {"Query": 5}  # the years, 2025's and 2026's months, December's and March's days
    calls.clear()
    unit_sums(local_deps(), unit, date(2026, 2, 3), date(2026, 2, 20))
    assert calls == {"Query": 3}
    calls.clear()
    unit_sums(local_deps(), unit, date(2024, 1, 1), date(2025, 12, 31))  # whole years: the yearly roll-ups only
    assert calls == {"Query": 1}


def test_a_three_year_period_reads_about_as_many_items_as_a_one_year_one():
    """Decree 09/2019's yearly period (15 Dec - 14 Dec) over one year and over three: the whole years between are
    one item per group, so the longer one reads no more than a few items more."""
    unit = _history()[0]
    deps = local_deps()
    read: list[int] = []

    def counted(real: Callable[..., list[dict]]) -> Callable[..., list[dict]]:
        def wrapper(*args: object) -> list[dict]:
            rows = real(*args)
            read.append(len(rows))  # the items the real store read and answered
            return rows
        return wrapper

    store = SimpleNamespace(yearly=counted(deps.stats.yearly), rollups=counted(deps.stats.rollups),
                            read=counted(deps.stats.read))
    spy = replace(deps, stats=store)
    unit_sums(spy, unit, date(2025, 1, 15), date(2026, 1, 14))
    one_year, read[:] = sum(read), []
    unit_sums(spy, unit, date(2023, 1, 15), date(2026, 1, 14))
    three_years = sum(read)
    assert three_years <= one_year + 2 * len(GROUPS), (one_year, three_years)
