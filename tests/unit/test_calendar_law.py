"""Issue 5's calendar rules, on explicit dates: same-day limits after the cutoff, day length against the
working periods, unconfirmed years, make-up days read per year, versions that follow the holiday data,
dates outside the covered years."""

import dataclasses
import json
import shutil
from datetime import date, timedelta

import pytest

from chalicelib.adapters.calendar_data import DATA_DIR, load_settings, national_settings
from chalicelib.domain.calendar import (
    CalendarError,
    CalendarSettings,
    OutsideCalendar,
    WorkingCalendar,
    library_make_up_days,
)
from chalicelib.domain.catalogue import Procedure
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.time_limit import LimitUnit, TimeLimit
from tests.unit.calendars import CALENDAR, VN, vn
from tests.unit.demo import procedure

SAME_DAY = TimeLimit(0, LimitUnit.SAME_DAY)


def same_day_due(received, channel, calendar=CALENDAR, online_cutoff=None):
    start = calendar.clock_start(received, channel, online_cutoff=online_cutoff)
    due = calendar.add_working(start, SAME_DAY.budget_from(calendar, start, received))
    return start.astimezone(VN), due.astimezone(VN)


# --- 1. same-day limits --------------------------------------------------------------------------

@pytest.mark.parametrize("channel", ["direct", "postal", "online"])
def test_same_day_after_the_cutoff_is_due_at_the_close_of_the_next_working_day(channel):
    # Mon 16 Mar 2026, 16:59: one minute before closing.
    _, due = same_day_due(vn(2026, 3, 16, 16, 59), channel)
    assert due == vn(2026, 3, 17, 17)


def test_same_day_after_the_cutoff_on_friday_skips_the_weekend():
    start, due = same_day_due(vn(2026, 3, 20, 16, 30), "online")
    assert start == vn(2026, 3, 20, 16, 30)  # online: the clock starts at receipt (province default)
    assert due == vn(2026, 3, 23, 17)


def test_same_day_after_the_cutoff_before_a_holiday_skips_it():
    # Wed 29 Apr 2026 15:30; 30 Apr and 1 May are holidays, then the weekend.
    _, due = same_day_due(vn(2026, 4, 29, 15, 30), "online")
    assert due == vn(2026, 5, 4, 17)


def test_same_day_before_the_cutoff_is_due_the_same_day():
    assert same_day_due(vn(2026, 3, 16, 14, 59), "online")[1] == vn(2026, 3, 16, 17)
    assert same_day_due(vn(2026, 3, 16, 15, 0), "direct")[1] == vn(2026, 3, 16, 17)


def test_same_day_after_closing_or_on_a_day_off_is_due_the_next_working_day():
    assert same_day_due(vn(2026, 3, 16, 18), "online")[1] == vn(2026, 3, 17, 17)
    assert same_day_due(vn(2026, 3, 21, 10), "online")[1] == vn(2026, 3, 23, 17)  # a Saturday


def test_without_received_at_the_same_day_budget_is_unchanged():
    start = vn(2026, 3, 16, 16, 59)
    assert SAME_DAY.budget_from(CALENDAR, start) == timedelta(minutes=1)


def test_online_cutoff_forced_by_the_caller_or_left_to_the_province():
    received = vn(2026, 3, 16, 15, 30)
    assert CALENDAR.clock_start(received, "online") == received
    assert CALENDAR.clock_start(received, "online", online_cutoff=True) == vn(2026, 3, 17, 7)
    assert CALENDAR.clock_start(received, "online", online_cutoff=False) == received
    # Paper channels follow the province whatever the procedure says about online submissions.
    assert CALENDAR.clock_start(received, "direct", online_cutoff=False) == vn(2026, 3, 17, 7)
    province = WorkingCalendar(CalendarSettings.from_dict({"cutoff_channels": ["direct", "postal", "online"]},
                                                          CALENDAR.settings))
    assert province.clock_start(received, "online") == vn(2026, 3, 17, 7)
    assert province.clock_start(received, "online", online_cutoff=False) == received
    no_cutoff = WorkingCalendar(CalendarSettings.from_dict({"intake_cutoff": None}, CALENDAR.settings))
    assert no_cutoff.clock_start(received, "direct", online_cutoff=True) == received


def test_online_cutoff_with_the_cutoff_applied_same_day_counts_the_next_day():
    start, due = same_day_due(vn(2026, 3, 16, 15, 30), "online", online_cutoff=True)
    assert (start, due) == (vn(2026, 3, 17, 7), vn(2026, 3, 17, 17))


def test_procedure_publishes_its_online_cutoff_setting():
    base = procedure("2.000815").as_dict()
    assert base["intake_cutoff_online"] is True
    assert Procedure.from_dict({**base, "intake_cutoff_online": None}).intake_cutoff_online is None
    assert Procedure.from_dict({**base, "intake_cutoff_online": False}).as_dict()["intake_cutoff_online"] is False
    with pytest.raises(InvalidInput) as caught:
        Procedure.from_dict({**base, "intake_cutoff_online": "yes"})
    assert caught.value.details[0].field == "intake_cutoff_online"


# --- 2. working periods against hours per day ----------------------------------------------------

def test_periods_that_do_not_add_up_to_the_day_are_refused_naming_the_field():
    with pytest.raises(CalendarError) as caught:
        CalendarSettings.from_dict({"working_hours": [["07:30", "11:30"], ["13:30", "17:00"]]}, CALENDAR.settings)
    assert caught.value.field == "hours_per_day"
    assert "7.5 h" in caught.value.reason and "8 h" in caught.value.reason
    with pytest.raises(CalendarError):
        CalendarSettings.from_dict({"hours_per_day": 7}, CALENDAR.settings)


def test_a_half_hour_day_length_is_accepted_when_both_are_set():
    settings = CalendarSettings.from_dict(
        {"working_hours": [["07:30", "11:30"], ["13:30", "17:00"]], "hours_per_day": 7.5}, CALENDAR.settings)
    calendar = WorkingCalendar(settings)
    one_day = TimeLimit(1, LimitUnit.WORKING_DAYS)
    start = calendar.clock_start(vn(2026, 3, 16, 10), "direct")
    assert calendar.add_working(start, one_day.budget_from(calendar, start)).astimezone(VN) == vn(2026, 3, 17, 10)
    assert settings.version != CALENDAR.settings.version


def test_shipped_national_calendar_is_consistent():
    settings = national_settings()
    assert settings.hours_per_day == 8 and len(settings.periods) == 2


# --- 3. confirmed years ---------------------------------------------------------------------------

def test_years_with_a_shipped_decision_are_confirmed_others_are_not():
    assert CALENDAR.confirmed(2025) and CALENDAR.confirmed(2026)
    assert not CALENDAR.confirmed(2027) and not CALENDAR.confirmed(2024)
    assert CALENDAR.confirmed_between(vn(2025, 12, 30, 10), vn(2026, 1, 5, 10))
    assert not CALENDAR.confirmed_between(vn(2026, 12, 30, 10), vn(2027, 1, 5, 10))
    # A local instant on 1 Jan 2027 is 31 Dec 2026 in UTC: the local year is what counts.
    assert not CALENDAR.confirmed_between(vn(2026, 12, 31, 10), vn(2027, 1, 1, 6))


def test_each_year_file_records_the_year_it_confirms():
    for path in sorted(DATA_DIR.glob("VN-*.json")):
        assert json.loads(path.read_text(encoding="utf-8"))["year"] == int(path.stem.split("-")[1])


def test_an_unconfirmed_year_is_counted_on_public_holidays_alone():
    # Tết 2027 (Đinh Mùi) from the package: 6 Feb 2027 is the first day; no decision adds bridge days.
    reasons = {d["date"] for d in CALENDAR.non_working_days(2027)}
    assert {"2027-01-01", "2027-02-06", "2027-04-30", "2027-05-01", "2027-09-02"} <= reasons


# --- 4. make-up days per year -------------------------------------------------------------------

def test_make_up_saturday_known_only_to_the_package_is_a_working_day():
    # Sat 4 May 2024 was worked in exchange for Mon 29 Apr 2024 (Official Dispatch 2450/VPCP-KGVX);
    # no year file is shipped for 2024, so only the package knows.
    assert date(2024, 5, 4) in library_make_up_days(2024)
    assert CALENDAR.is_working_day(date(2024, 5, 4))
    assert not CALENDAR.is_working_day(date(2024, 4, 29))
    assert CALENDAR.make_up_working_days(2024) == ["2024-05-04"]
    # Fri 3 May 2024, 10:00 plus one working day: the make-up Saturday counts.
    start = CALENDAR.clock_start(vn(2024, 5, 3, 10), "direct")
    assert CALENDAR.add_working(start, timedelta(hours=8)).astimezone(VN) == vn(2024, 5, 4, 10)


def test_make_up_days_are_read_for_the_year_asked():
    assert library_make_up_days(2014) == {date(2014, 4, 26), date(2014, 9, 6), date(2014, 12, 27)}
    assert date(2014, 12, 27) not in library_make_up_days(2015)  # listed under 2015 by the package
    assert library_make_up_days(2027) == frozenset()
    assert CALENDAR.make_up_working_days(2026) == ["2026-08-22"]


# --- 5. the version identifies the holiday data -------------------------------------------------

def test_version_changes_with_the_holidays_package(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path / "calendars")
    one = load_settings(tmp_path / "calendars", "0.109")
    assert load_settings(tmp_path / "calendars", "0.109").version == one.version
    assert load_settings(tmp_path / "calendars", "0.110").version != one.version


def test_version_changes_with_the_year_files(tmp_path):
    data = tmp_path / "calendars"
    shutil.copytree(DATA_DIR, data)
    before = load_settings(data, "0.109").version
    year_file = data / "VN-2026.json"
    content = json.loads(year_file.read_text(encoding="utf-8"))
    content["days_off"][-1]["reason"] = "Ngày Văn hóa Việt Nam (sửa)"  # same dates, other data
    year_file.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    assert load_settings(data, "0.109").version != before


def test_national_version_carries_the_installed_package():
    settings = national_settings()
    assert settings.holiday_data and settings.confirmed_years == {2025, 2026}
    assert dataclasses.replace(settings, holiday_data="other").version != settings.version


# --- 6. outside the covered years ---------------------------------------------------------------

@pytest.mark.parametrize("received", [vn(9999, 12, 31, 10), vn(2100, 12, 31, 16, 50), vn(1, 1, 1, 10)])
def test_dates_outside_the_covered_years_are_refused_not_overflowing(received):
    with pytest.raises(OutsideCalendar):
        start = CALENDAR.clock_start(received, "direct")
        CALENDAR.add_working(start, timedelta(hours=80))
    with pytest.raises(OutsideCalendar):
        CALENDAR.add_calendar(received, timedelta(days=3650))


@pytest.mark.parametrize("amount", ["nan", "inf", 1e12, -1])
def test_limits_that_cannot_be_counted_are_refused_when_published(amount):
    data = procedure("2.001417").as_dict()
    data["limit"] = {"amount": amount, "unit": "working_days"}
    with pytest.raises(InvalidInput):
        Procedure.from_dict(data)


# --- 7. the legal source of 24 Nov 2026 ---------------------------------------------------------

def test_culture_day_2026_is_shipped_with_its_legal_source():
    content = json.loads((DATA_DIR / "VN-2026.json").read_text(encoding="utf-8"))
    entry = next(d for d in content["days_off"] if d["date"] == "2026-11-24")
    assert "80-NQ/TW" in entry["source"] and "07/01/2026" in entry["source"]
    assert CALENDAR.day_off_reason(date(2026, 11, 24)) == "Ngày Văn hóa Việt Nam"


def test_seasonal_working_hours_are_calendar_settings():
    from datetime import time as clock_time

    import pytest as _pytest

    from chalicelib.domain.calendar import CalendarError, CalendarSettings, WorkingCalendar
    from tests.unit.calendars import vn as local

    base = CalendarSettings()
    winter = {"seasons": [{"from": "10-15", "to": "04-14",
                           "working_hours": [["07:30", "11:30"], ["13:00", "17:00"]]}]}
    settings = CalendarSettings.from_dict(winter, base)
    calendar = WorkingCalendar(settings)
    assert settings.periods_for(local(2026, 1, 5).date())[0][0] == clock_time(7, 30)  # winter wraps the year
    assert settings.periods_for(local(2026, 6, 1).date()) == base.periods  # summer: the default hours
    # A dossier received before the winter opening counts from 07:30; one in summer from 07:00.
    assert calendar.next_working_instant(local(2026, 1, 5, 7)) == local(2026, 1, 5, 7, 30)
    assert calendar.next_working_instant(local(2026, 6, 1, 7)) == local(2026, 6, 1, 7)
    assert calendar.add_working(local(2026, 1, 5, 11), timedelta(hours=1)) == local(2026, 1, 5, 13, 30)
    assert settings.version != base.version
    with _pytest.raises(CalendarError) as bad:
        CalendarSettings.from_dict({"seasons": [{"from": "10-15", "to": "04-14",
                                                 "working_hours": [["07:30", "11:30"]]}]}, base)
    assert bad.value.field == "hours_per_day"
