"""Real dates: Tết, the National Day bridge, the 15:00 rule, lunch, limits of every unit."""

from datetime import date, timedelta

import pytest

from chalicelib.domain.calendar import CalendarSettings, WorkingCalendar
from chalicelib.domain.time_limit import LimitUnit, TimeLimit
from tests.unit.calendars import CALENDAR, VN, vn

DAY = timedelta(hours=8)


def due(received, days=None, hours=None, channel="direct", calendar=CALENDAR):
    start = calendar.clock_start(received, channel)
    unit = LimitUnit.WORKING_DAYS if days is not None else LimitUnit.WORKING_HOURS
    limit = TimeLimit(days if days is not None else hours, unit)
    return start.astimezone(VN), calendar.add_working(start, limit.budget_from(calendar, start)).astimezone(VN)


@pytest.mark.parametrize(
    ("received", "days", "expected_due"),
    [
        # Tết 2025: off Sat 25 Jan – Sun 2 Feb.
        (vn(2025, 1, 24, 10), 1, vn(2025, 2, 3, 10)),
        (vn(2025, 1, 23, 10), 2, vn(2025, 2, 3, 10)),
        # Tết 2026: off Sat 14 Feb – Sun 22 Feb.
        (vn(2026, 2, 13, 10), 1, vn(2026, 2, 23, 10)),
        (vn(2026, 2, 12, 9), 3, vn(2026, 2, 24, 9)),
        # National Day 2026: Sat 22 Aug worked in exchange for Mon 31 Aug; off Sat 29 Aug – Wed 2 Sep.
        (vn(2026, 8, 21, 10), 1, vn(2026, 8, 22, 10)),
        (vn(2026, 8, 28, 10), 1, vn(2026, 9, 3, 10)),
        (vn(2026, 8, 20, 10), 3, vn(2026, 8, 24, 10)),
        # Hùng Kings 2026 falls on Sunday 26 Apr: compensated Monday 27 Apr; 30 Apr and 1 May off.
        (vn(2026, 4, 24, 10), 1, vn(2026, 4, 28, 10)),
        (vn(2026, 4, 29, 10), 1, vn(2026, 5, 4, 10)),
        # Ordinary week: three working days later at the same time.
        (vn(2026, 3, 16, 10), 3, vn(2026, 3, 19, 10)),
        (vn(2026, 3, 20, 10), 1, vn(2026, 3, 23, 10)),
    ],
)
def test_due_dates_on_real_calendars(received, days, expected_due):
    assert due(received, days)[1] == expected_due


def test_paper_dossier_after_15_00_counts_from_next_working_day():
    start, end = due(vn(2026, 3, 16, 15, 30), 3)
    assert start == vn(2026, 3, 17, 7)
    assert end == vn(2026, 3, 19, 17)


def test_online_dossier_after_15_00_counts_from_receipt():
    start, end = due(vn(2026, 3, 16, 15, 30), 3, channel="online")
    assert start == vn(2026, 3, 16, 15, 30)
    assert end == vn(2026, 3, 19, 15, 30)


def test_friday_after_15_00_moves_to_monday():
    assert due(vn(2026, 3, 20, 16), 1)[0] == vn(2026, 3, 23, 7)


def test_received_during_lunch_counts_from_13_30():
    start, end = due(vn(2026, 3, 16, 12, 0), 3)
    assert start == vn(2026, 3, 16, 13, 30)
    assert end == vn(2026, 3, 19, 13, 30)


def test_received_before_opening_counts_from_opening():
    assert due(vn(2026, 3, 16, 6, 15), 1) == (vn(2026, 3, 16, 7), vn(2026, 3, 16, 17))


def test_received_on_a_holiday_counts_from_next_working_day():
    assert due(vn(2026, 9, 2, 9), 1)[0] == vn(2026, 9, 3, 7)


def test_working_hours_cross_lunch_and_night():
    assert due(vn(2026, 3, 16, 10), hours=4)[1] == vn(2026, 3, 16, 16)
    assert due(vn(2026, 3, 16, 10), hours=1.5)[1] == vn(2026, 3, 16, 13, 30)  # not 11:30
    assert due(vn(2026, 3, 16, 16), hours=2, channel="online")[1] == vn(2026, 3, 17, 8)
    assert due(vn(2026, 3, 16, 16), hours=2)[1] == vn(2026, 3, 17, 9)  # paper after 15:00


def test_same_day_limit_before_and_after_cutoff():
    limit = TimeLimit(0, LimitUnit.SAME_DAY)
    cases = [(vn(2026, 3, 16, 14), vn(2026, 3, 16, 17)), (vn(2026, 3, 16, 15, 30), vn(2026, 3, 17, 17))]
    for received, expected in cases:
        start = CALENDAR.clock_start(received, "direct")
        assert CALENDAR.add_working(start, limit.budget_from(CALENDAR, start)) == expected


def test_calendar_days_end_at_close_of_the_next_working_day_when_the_last_day_is_off():
    assert CALENDAR.add_calendar(vn(2026, 3, 16, 10), timedelta(days=15)) == vn(2026, 3, 31, 17)
    # 16 Mar + 12 days = Sat 28 Mar: moves to Mon 30 Mar.
    assert CALENDAR.add_calendar(vn(2026, 3, 16, 10), timedelta(days=12)) == vn(2026, 3, 30, 17)


def test_year_lists_days_off_and_make_up_days():
    off = {d["date"] for d in CALENDAR.non_working_days(2026)}
    assert {"2026-02-16", "2026-02-20", "2026-04-27", "2026-08-31", "2026-09-01", "2026-09-02"} <= off
    assert "2026-11-24" in off  # Vietnam Cultural Day, new from 2026
    assert "2026-08-22" in CALENDAR.make_up_working_days(2026)
    assert "2025-04-26" in CALENDAR.make_up_working_days(2025)


def test_province_override_changes_hours_and_adds_a_day_off():
    settings = CalendarSettings.from_dict(
        {"calendar_id": "H56", "working_hours": [["07:30", "11:30"], ["13:00", "17:00"]],
         "days_off": [{"date": "2026-03-17", "reason": "Nghỉ bù của tỉnh"}]},
        CALENDAR.settings,
    )
    province = WorkingCalendar(settings)
    assert not province.is_working_day(date(2026, 3, 17))
    assert province.clock_start(vn(2026, 3, 16, 7, 10), "direct") == vn(2026, 3, 16, 7, 30)
    assert settings.version != CALENDAR.settings.version


def test_naive_instants_are_refused():
    from datetime import datetime

    with pytest.raises(ValueError):
        CALENDAR.add_working(datetime(2026, 3, 16, 10), DAY)
