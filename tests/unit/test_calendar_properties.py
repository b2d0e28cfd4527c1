"""Properties of working-time arithmetic, over random instants and durations (2025–2026)."""

from datetime import datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.time_limit import LimitUnit, TimeLimit
from tests.unit.calendars import CALENDAR, VN

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=VN))
durations = st.integers(min_value=1, max_value=60 * 8 * 60).map(lambda m: timedelta(minutes=m))  # up to 60 days


def is_working_time(instant: datetime) -> bool:
    """On a working day, inside a working period with both ends included."""
    return any(start <= instant <= end for start, end in CALENDAR.periods_on(instant.astimezone(VN).date()))


@settings(max_examples=300, deadline=None)
@given(instants, durations)
def test_due_time_never_falls_in_non_working_time(start, duration):
    assert is_working_time(CALENDAR.add_working(start, duration))


@settings(max_examples=300, deadline=None)
@given(instants, durations, durations)
def test_longer_limits_never_give_earlier_due_times(start, a, b):
    shorter, longer = sorted((a, b))
    assert CALENDAR.add_working(start, shorter) <= CALENDAR.add_working(start, longer)


@settings(max_examples=300, deadline=None)
@given(instants, durations, durations)
def test_adding_a_then_b_equals_adding_a_plus_b(start, a, b):
    assert CALENDAR.add_working(CALENDAR.add_working(start, a), b) == CALENDAR.add_working(start, a + b)


@settings(max_examples=200, deadline=None)
@given(instants, durations)
def test_working_time_between_start_and_due_is_the_budget(start, duration):
    begin = CALENDAR.next_working_instant(start)
    assert CALENDAR.working_between(begin, CALENDAR.add_working(begin, duration)) == duration


@settings(max_examples=200, deadline=None)
@given(instants, st.sampled_from(["direct", "postal", "online"]))
def test_clock_start_is_working_time_and_not_before_receipt(received, channel):
    start = CALENDAR.clock_start(received, channel)
    assert start >= received
    assert is_working_time(start)


@settings(max_examples=300, deadline=None)
@given(instants, st.sampled_from(["direct", "postal", "online"]), st.sampled_from([None, True, False]))
def test_same_day_limits_end_at_a_close_and_never_leave_less_than_the_cutoff_margin(received, channel, online):
    """Whatever the channel and the online-cutoff setting, a same-day dossier is due at a day's close
    (17:00) and has at least the working time from the cutoff to the close (15:00-17:00) to be done."""
    limit = TimeLimit(0, LimitUnit.SAME_DAY)
    start = CALENDAR.clock_start(received, channel, online_cutoff=online)
    due = CALENDAR.add_working(start, limit.budget_from(CALENDAR, start, received))
    assert due.astimezone(VN).time() == time(17)
    assert CALENDAR.working_between(start, due) >= timedelta(hours=2)
    assert due.astimezone(VN).date() <= CALENDAR.close_of_working_day(
        received.astimezone(VN).date() + timedelta(days=1)).astimezone(VN).date()


@settings(max_examples=200, deadline=None)
@given(instants)
def test_online_with_the_cutoff_forced_starts_like_paper(received):
    assert CALENDAR.clock_start(received, "online", online_cutoff=True) == CALENDAR.clock_start(received, "direct")
