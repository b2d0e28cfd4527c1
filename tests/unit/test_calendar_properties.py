"""Properties of working-time arithmetic, over random instants and durations (2025–2026)."""

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

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
