"""The deadline watch: due-soon and overdue fire once, at the right instant, across pauses, restarts,
holidays and steps; a wake-up for a dossier that moved on does nothing. Time is passed in, never slept on."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import events as ev
from chalicelib.domain.deadlines import WatchSettings, working_before
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import ActionNotAllowed
from chalicelib.domain.lifecycle import Action
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.unit.dossiers import COMMUNE, COMMUNE_DESK, DESK, LAND_OFFICER, PROCESSOR, SECOND
from tests.unit.dossiers import received as receive
from tests.units import CENTRE, DONG_SON, FINANCE, JUSTICE, LAND


def act(dossier, action, actor, at, **payload):
    entry = dossier.act(Action(action), actor, at, CALENDAR, payload)
    dossier.take_events()
    return entry


def fired(dossier, now, only=None):
    """Wake at `now` and answer the types of the events it produced (of the types in `only`, if given)."""
    dossier.wake(now)
    return [e.type for e in dossier.take_events() if only is None or e.type in only]


DOSSIER_LEVEL = (ev.DUE_SOON, ev.OVERDUE)


def test_due_soon_and_overdue_fire_once_each_at_their_instant():
    dossier = receive()  # Mon 16 Mar 09:00, 10 working days: due Mon 30 Mar 09:00
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "complete_step", PROCESSOR, vn(2026, 3, 20, 10))  # step 0 on time: its watch goes
    assert dossier.due_at == vn(2026, 3, 30, 9)
    assert fired(dossier, vn(2026, 3, 26, 8, 59, 59), DOSSIER_LEVEL) == []
    assert fired(dossier, vn(2026, 3, 26, 9)) == [ev.DUE_SOON]  # two working days before (the default)
    assert fired(dossier, vn(2026, 3, 26, 9)) == [] and fired(dossier, vn(2026, 3, 28, 9)) == []
    assert fired(dossier, vn(2026, 3, 30, 9)) == []  # at the due time it is still on time
    assert fired(dossier, vn(2026, 3, 30, 9) + SECOND) == [ev.OVERDUE]
    assert fired(dossier, vn(2026, 4, 30, 9)) == []
    assert dossier.flags == {"step_overdue:1": "2026-03-26T01:59:59Z", "due_soon": "2026-03-26T02:00:00Z",
                             "overdue": "2026-03-30T02:00:01Z"}
    assert dossier.status.value == "in_progress"  # the flag is stored, the status stays


def test_due_soon_counts_back_across_a_holiday_on_working_time():
    # 1.004873, 3 working days, received Fri 28 Aug 2026 10:00: the National Day break (Sat 29 Aug - Wed 2 Sep)
    # does not count, due Mon 7 Sep 10:00; 20 working hours before it is Fri 28 Aug 16:00.
    dossier = receive("1.004873", at=vn(2026, 8, 28, 10), actor=COMMUNE_DESK, competent=DONG_SON,
                      watch=WatchSettings(due_soon_working_hours=20))
    assert dossier.due_at == vn(2026, 9, 7, 10)
    assert dossier.watch["due_soon"] == "2026-08-28T09:00:00Z"  # 16:00 in Hanoi
    assert fired(dossier, vn(2026, 8, 28, 15, 59)) == [] and fired(dossier, vn(2026, 8, 28, 16)) == [ev.DUE_SOON]


def test_working_before_mirrors_add_working():
    rng = random.Random(7)
    for _ in range(300):
        end = CALENDAR.next_working_instant(vn(2026, 1, 5, 7) + timedelta(minutes=rng.randint(0, 360 * 24 * 60)))
        duration = timedelta(minutes=rng.randint(1, 40 * 60))
        start = working_before(CALENDAR, end, duration)
        assert start < end and CALENDAR.working_between(start, end) == duration, (end, duration)
    # Across lunch: 14:00 less one hour is 11:00 (13:30-14:00 and 11:00-11:30).
    assert working_before(CALENDAR, vn(2026, 3, 16, 14), timedelta(hours=1)) == vn(2026, 3, 16, 11)


def test_a_payment_pause_moves_the_watch_and_watches_nothing_while_paused():
    dossier = receive()
    act(dossier, "request_payment", PROCESSOR, vn(2026, 3, 17, 9))
    generation = dossier.watch_generation
    assert dossier.watch == {} and dossier.next_wake is None and generation == 2
    assert fired(dossier, vn(2026, 3, 30, 10)) == []  # the old due time passes while paused: nothing
    act(dossier, "confirm_payment", DESK, vn(2026, 3, 31, 9))  # 10 working days paused
    assert dossier.due_at == vn(2026, 4, 13, 9) and dossier.watch_generation == generation + 1
    assert dossier.steps[0].due_at == vn(2026, 4, 9, 9)  # the step's clock moved with the dossier's
    assert fired(dossier, vn(2026, 4, 9, 8, 59)) == []
    assert fired(dossier, vn(2026, 4, 9, 9)) == [ev.DUE_SOON]
    assert fired(dossier, vn(2026, 4, 9, 9) + SECOND) == [ev.STEP_OVERDUE]
    assert fired(dossier, vn(2026, 4, 10, 9)) == []
    assert fired(dossier, vn(2026, 4, 13, 9) + SECOND) == [ev.OVERDUE]


def test_a_supplement_restart_moves_the_watch_and_the_supplement_period_is_watched():
    dossier = receive()  # 2.001417: supplement period 15 working days in the demo catalogue
    act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 17, 9), missing_items=["Bản chụp căn cước công dân"])
    assert dossier.watch == {"supplement_overdue": "2026-04-07T02:00:00Z"}  # 15 working days later
    act(dossier, "receive_supplement", DESK, vn(2026, 3, 23, 10))
    assert dossier.due_at == vn(2026, 4, 6, 10)  # the limit restarted from zero
    assert dossier.watch == {"due_soon": "2026-04-02T03:00:00Z", "overdue": "2026-04-06T03:00:01Z",
                             "step_overdue:0": "2026-04-02T03:00:01Z"}
    assert fired(dossier, vn(2026, 3, 30, 9, 0, 1)) == []  # the old due time means nothing now
    assert fired(dossier, vn(2026, 4, 6, 10) + SECOND) == [ev.DUE_SOON, ev.STEP_OVERDUE, ev.OVERDUE]


def test_a_supplement_not_brought_in_time_is_flagged_once_for_the_desk():
    dossier = receive()
    act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 17, 9), missing_items=["Bản chụp căn cước công dân"])
    assert fired(dossier, vn(2026, 4, 7, 8, 59)) == []
    dossier.wake(vn(2026, 4, 7, 9))
    [late] = dossier.take_events()
    assert late.type == ev.SUPPLEMENT_OVERDUE and late.data["requested_at"] == "2026-03-17T02:00:00Z"
    assert late.data["supplement_period"]["amount"] == 15 and dossier.next_wake is None
    assert fired(dossier, vn(2026, 5, 1, 9)) == []
    act(dossier, "stop", DESK, vn(2026, 4, 8, 9), reason="Quá hạn bổ sung")
    assert dossier.watch == {} and "supplement_overdue" in dossier.flags


def test_step_lateness_names_the_step_its_unit_and_its_officer():
    # 1.004227 (liên thông): commune 5 days, land office 6, finance 3, land office leader 1.
    dossier = receive("1.004227", actor=COMMUNE_DESK, competent=DONG_SON)
    act(dossier, "assign", COMMUNE, vn(2026, 3, 16, 10))
    act(dossier, "complete_step", COMMUNE, vn(2026, 3, 20, 10))  # on time: never flagged
    act(dossier, "assign", LAND_OFFICER, vn(2026, 3, 20, 11))
    step = dossier.steps[1]
    assert step.due_at == vn(2026, 3, 30, 10) and dossier.watch["step_overdue:1"] == "2026-03-30T03:00:01Z"
    assert "step_overdue:0" not in dossier.watch
    dossier.wake(vn(2026, 3, 30, 10, 0, 1))
    [late] = dossier.take_events()
    assert late.type == ev.STEP_OVERDUE and late.data["flag"] == "step_overdue:1"
    assert late.data["step"]["index"] == 1 and late.data["step"]["name"] == step.name
    assert late.data["unit"] == LAND and late.data["officer"] == "cv.nam"
    act(dossier, "complete_step", LAND_OFFICER, vn(2026, 3, 31, 10))  # late; the finance step is watched next
    assert "step_overdue:2" in dossier.watch and set(dossier.flags) == {"step_overdue:1"}
    dossier.wake(datetime.fromisoformat(dossier.watch["step_overdue:2"]))
    [finance] = [e for e in dossier.take_events() if e.type == ev.STEP_OVERDUE]
    assert finance.data["unit"] == FINANCE and finance.data["officer"] is None  # nobody assigned: the unit answers


def test_a_wake_up_for_a_dossier_that_moved_on_does_nothing():
    dossier = receive()
    generation, old_wake = dossier.watch_generation, dossier.next_wake
    act(dossier, "request_payment", PROCESSOR, vn(2026, 3, 17, 9))
    act(dossier, "confirm_payment", DESK, vn(2026, 3, 18, 9))  # one working day later: everything moves a day
    assert dossier.watch_generation == generation + 2 and dossier.next_wake == old_wake + timedelta(days=1)
    version = dossier.version
    assert dossier.wake(old_wake) is False and dossier.version == version  # the timer set before the pause
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 18, 10))
    act(dossier, "complete_step", PROCESSOR, vn(2026, 3, 18, 11))
    act(dossier, "resolve", Actor("ld.cuong", JUSTICE, frozenset({"leader"})), vn(2026, 3, 18, 10),
        result={"summary": "Phiếu LLTP số 1"})
    assert dossier.watch == {} and dossier.next_wake is None
    assert dossier.wake(vn(2026, 3, 30, 9) + SECOND) is False and dossier.flags == {}


def test_an_online_submission_left_at_the_desk_is_flagged():
    dossier, _ = Dossier.receive(
        code=f"{CENTRE}-260316-0002", procedure=procedure("2.001417"), receiving_unit=CENTRE, competent_unit=JUSTICE,
        channel="online", applicant={"name": "An"}, form={}, documents=[], actor=DESK, at=vn(2026, 3, 13, 20),
        calendar=CALENDAR)
    dossier.take_events()
    assert dossier.watch == {"intake_overdue": "2026-03-16T10:00:00Z"}  # Fri night: all of Monday
    assert fired(dossier, vn(2026, 3, 16, 16, 59)) == [] and fired(dossier, vn(2026, 3, 16, 17)) == [ev.INTAKE_OVERDUE]
    act(dossier, "accept", DESK, vn(2026, 3, 17, 8))
    assert "intake_overdue" not in dossier.watch and dossier.flags["intake_overdue"] == "2026-03-16T10:00:00Z"


def test_flag_instants_are_utc_and_next_wake_is_the_earliest_unflagged():
    dossier = receive()
    assert dossier.next_wake == datetime(2026, 3, 26, 2, 0, tzinfo=UTC)  # the warning first, then step 0
    dossier.wake(datetime(2026, 3, 26, 2, 0, tzinfo=UTC))
    assert dossier.next_wake == datetime(2026, 3, 26, 2, 0, 1, tzinfo=UTC)
    dossier.wake(datetime(2026, 3, 26, 2, 0, 1, tzinfo=UTC))
    assert dossier.next_wake == datetime(2026, 3, 30, 2, 0, 1, tzinfo=UTC)


def test_a_limit_shorter_than_the_warning_warns_when_its_clock_starts():
    # 2.000635, 4 working hours, received Fri 13 Mar 18:00: the clock starts Mon 16 Mar 07:00, due 11:00.
    dossier = receive("2.000635", at=vn(2026, 3, 13, 18), actor=COMMUNE_DESK, competent=DONG_SON)
    assert dossier.due_at == vn(2026, 3, 16, 11)
    assert dossier.watch["due_soon"] == "2026-03-16T00:00:00Z"  # Monday 07:00, not Friday afternoon
    assert fired(dossier, vn(2026, 3, 15, 12)) == [] and fired(dossier, vn(2026, 3, 16, 7)) == [ev.DUE_SOON]


def test_an_action_after_a_deadline_no_timer_recorded_records_it_first():
    dossier = receive()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    version = dossier.version
    # The step was due Thu 26 Mar 09:00; its timer has not run when the officer completes it at 10:00.
    dossier.act(Action.COMPLETE_STEP, PROCESSOR, vn(2026, 3, 26, 10), CALENDAR, {})
    events = dossier.take_events()
    assert [e.type for e in events] == [ev.DUE_SOON, ev.STEP_OVERDUE, ev.STEP_COMPLETED, ev.STEP_STARTED]
    assert events[1].data["officer"] == "cv.binh" and events[1].version == version + 1 == dossier.version
    assert dossier.flags == {"due_soon": "2026-03-26T03:00:00Z", "step_overdue:0": "2026-03-26T03:00:00Z"}
    assert dossier.wake(vn(2026, 3, 26, 11)) is False  # the timer arriving late finds it recorded


def test_a_refused_action_records_no_deadline():
    dossier = receive()
    with pytest.raises(ActionNotAllowed):
        act(dossier, "resolve", PROCESSOR, vn(2026, 4, 1, 9), result={"summary": "x"})  # not the last step
    assert dossier.flags == {} and dossier.pending_events == [] and dossier.version == 1
