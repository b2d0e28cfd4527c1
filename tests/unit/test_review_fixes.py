"""The review's four defects, each pinned on explicit instants: a receiving centre acting on another agency's
step, a late apology laundering lateness, a warning too late to apologise in time, warnings that never re-arm."""

import json
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from chalicelib.domain import events as ev
from chalicelib.domain.access import STEP_ACTIONS, check_may_act
from chalicelib.domain.catalogue import Unit, UnitTree
from chalicelib.domain.clock import iso
from chalicelib.domain.deadlines import WatchSettings
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.lifecycle import Action
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import ROOT
from tests.unit.dossiers import DESK, LEADER, PROCESSOR, SECOND, received
from tests.unit.test_units_reform import DISTRICT, OTHER_WARD, WARD
from tests.unit.test_units_reform import TREE as REFORM_TREE
from tests.units import CENTRE, JUSTICE, PROVINCE

ID_CARD = "Bản chụp căn cước công dân"  # in the criminal-record procedure's document list

CENTRE_LEADER = Actor("gd.trung", CENTRE, frozenset({"leader", "processor"}))
PROVINCE_LEADER = Actor("ct.tinh", PROVINCE, frozenset({"leader"}))


def demo_tree() -> UnitTree:
    data = json.loads((ROOT / "demo" / "catalogue.json").read_text(encoding="utf-8"))
    return UnitTree([Unit.from_dict(u) for u in data["units"]])


def act(dossier, action, actor, at, **payload):
    """Act, and drop the change's own events: the tests below read what the deadlines emit."""
    entry = dossier.act(Action(action), actor, at, CALENDAR, payload)
    dossier.take_events()
    return entry


def fired(dossier, now):
    dossier.wake(now)
    return [e.type for e in dossier.take_events()]


# --- 1. the step's unit acts on its step ---------------------------------------------------------------

def test_the_receiving_centre_may_not_act_on_the_agencys_step():
    tree, dossier = demo_tree(), received()
    assert dossier.steps[0].unit == dossier.steps[1].unit == JUSTICE
    for action in STEP_ACTIONS:
        with pytest.raises(Forbidden) as refused:
            check_may_act(CENTRE_LEADER, dossier, tree, action)
        assert JUSTICE in refused.value.message and "current step" in refused.value.message
    # The desk's own acts stay the receiving unit's.
    for action in (Action.REQUEST_SUPPLEMENT, Action.WITHDRAW, Action.STOP):
        check_may_act(CENTRE_LEADER, dossier, tree, action)
        check_may_act(DESK, dossier, tree, action)


def test_the_steps_unit_and_a_leader_above_it_act_on_it():
    tree, dossier = demo_tree(), received()
    for action in STEP_ACTIONS:
        check_may_act(PROCESSOR, dossier, tree, action)
        check_may_act(LEADER, dossier, tree, action)
        check_may_act(PROVINCE_LEADER, dossier, tree, action)  # a leader of an ancestor unit


def test_the_successor_of_an_abolished_step_unit_acts_on_its_step():
    step = SimpleNamespace(name="Thẩm định", unit=DISTRICT)
    dossier = SimpleNamespace(code="000.10.30.T98-250620-0001", receiving_unit=OTHER_WARD, handling_unit=DISTRICT,
                              units_involved={OTHER_WARD, DISTRICT}, steps=[step], current_step=0)
    check_may_act(Actor("cv.phuong", WARD, frozenset({"processor"})), dossier, REFORM_TREE, Action.COMPLETE_STEP)
    with pytest.raises(Forbidden):  # the receiving ward's own officer: only the desk's acts
        check_may_act(Actor("cv.xa", OTHER_WARD, frozenset({"processor"})), dossier, REFORM_TREE, Action.RESOLVE)
    check_may_act(Actor("cv.xa", OTHER_WARD, frozenset({"desk"})), dossier, REFORM_TREE, Action.WITHDRAW)


def test_the_leaders_signing_step_is_refused_by_a_processor_as_for_resolve():
    dossier = received()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "complete_step", PROCESSOR, vn(2026, 3, 16, 11))
    assert dossier.steps[dossier.current_step].role == "leader"
    with pytest.raises(Forbidden) as refused:
        act(dossier, "refuse", PROCESSOR, vn(2026, 3, 16, 14), reasons=["Không đủ điều kiện"])
    assert "'leader'" in refused.value.message and dossier.status.value == "in_progress"
    act(dossier, "refuse", LEADER, vn(2026, 3, 16, 14), reasons=["Không đủ điều kiện"])
    assert dossier.status.value == "refused"


# --- 2. an apology after the old due time does not cancel the lateness ---------------------------------

def finish(dossier, at):
    act(dossier, "assign", PROCESSOR, at)
    act(dossier, "complete_step", PROCESSOR, at)
    act(dossier, "resolve", LEADER, at + timedelta(hours=1), result={"summary": "Phiếu LLTP số 9"})


def test_an_apology_after_the_due_time_keeps_the_dossier_late():
    dossier = received()
    dossier.wake(vn(2026, 3, 31, 9))  # a day past the due time: overdue
    act(dossier, "apologize", LEADER, vn(2026, 3, 31, 10), reason="Chậm xác minh",
        new_appointment_at=iso(vn(2026, 4, 10, 9)))
    assert dossier.apology["timely"] is False and dossier.appointment_at == vn(2026, 4, 10, 9)  # still recorded
    assert "overdue" in dossier.flags
    finish(dossier, vn(2026, 4, 1, 9))  # well before the new appointment
    assert dossier.final_outcome == "late"


def test_an_apology_before_the_due_time_never_moves_the_judgement():
    timely = received()
    act(timely, "apologize", LEADER, vn(2026, 3, 25, 9), reason="x", new_appointment_at=iso(vn(2026, 4, 10, 9)))
    finish(timely, vn(2026, 4, 1, 9))
    assert timely.apology["timely"] is True and timely.final_outcome == "late" and timely.appointment_met is True
    short = received()  # on the due date itself: not timely, and the law's due time still judges
    act(short, "apologize", LEADER, vn(2026, 3, 30, 8), reason="x", new_appointment_at=iso(vn(2026, 4, 10, 9)))
    assert short.apology["timely"] is False
    finish(short, vn(2026, 3, 27, 9))
    assert short.final_outcome == "early"


# --- 3. the default warning leaves a working day to apologise in time ----------------------------------

def test_a_leader_warned_by_default_can_still_apologise_in_time():
    assert WatchSettings().due_soon_working_hours == 16
    dossier = received()
    assert fired(dossier, vn(2026, 3, 26, 9)) == [ev.DUE_SOON]
    act(dossier, "apologize", LEADER, vn(2026, 3, 26, 15), reason="x", new_appointment_at=iso(vn(2026, 4, 3, 9)))
    assert dossier.apology["timely"] is True  # 1 working day and a half before the due time
    later = received()
    fired(later, vn(2026, 3, 27, 9))
    act(later, "apologize", LEADER, vn(2026, 3, 30, 7, 5), reason="x", new_appointment_at=iso(vn(2026, 4, 3, 9)))
    assert later.apology["timely"] is False  # on the due date: past "1 day before the due date"


# --- 4. a warning whose instant moved fires again, once ------------------------------------------------

def test_a_pause_retires_the_warning_and_the_new_due_time_warns_once():
    dossier = received()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    assert fired(dossier, vn(2026, 3, 26, 9, 30)) == [ev.DUE_SOON, ev.STEP_OVERDUE]
    act(dossier, "request_payment", PROCESSOR, vn(2026, 3, 26, 10))
    assert "due_soon" not in dossier.flags  # not "due soon" while the clock is stopped
    assert "step_overdue:0" in dossier.flags  # a lateness stays
    assert [h["flag"] for h in dossier.flag_history] == ["due_soon"]
    assert dossier.flag_history[0] == {"flag": "due_soon", "watched_at": "2026-03-26T02:00:00Z",
                                       "recorded_at": "2026-03-26T02:30:00Z",
                                       "retired_generation": dossier.watch_generation}
    resumed = vn(2026, 3, 31, 10)
    seq = dossier.event_count
    dossier.act(Action("confirm_payment"), DESK, resumed, CALENDAR, {})  # 3 working days paused: all moves
    assert dossier.due_at == vn(2026, 4, 2, 9)
    # Less than the warning's margin was left at the pause: the new due time is due soon at once, and the
    # resume records it itself (no timer has to change the dossier a moment later).
    new_warning = datetime.fromisoformat(dossier.watch["due_soon"])
    assert new_warning <= resumed and new_warning.isoformat() != dossier.flag_history[0]["watched_at"]
    assert dossier.flags["due_soon"] == "2026-03-31T03:00:00Z" and dossier.next_wake == vn(2026, 4, 2, 9) + SECOND
    warning = dossier.take_events()[-1]
    assert warning.type == ev.DUE_SOON and warning.data["watched_at"] == dossier.watch["due_soon"]
    assert warning.data["due_at"] == "2026-04-02T02:00:00Z"
    assert warning.seq > seq  # a new event, a new seq: the relay publishes it
    assert fired(dossier, resumed + timedelta(hours=1)) == []  # once per instant
    assert fired(dossier, vn(2026, 4, 2, 9) + SECOND) == [ev.OVERDUE]


def test_an_unchanged_instant_keeps_its_flag_and_never_fires_twice():
    dossier = received()
    assert fired(dossier, vn(2026, 3, 26, 9)) == [ev.DUE_SOON]
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 26, 9))  # the watch's due-soon instant did not move
    assert "due_soon" in dossier.flags and dossier.flag_history == []
    assert fired(dossier, vn(2026, 3, 26, 9, 20)) == [ev.STEP_OVERDUE]


def test_a_second_supplement_period_is_watched_anew():
    dossier = received()
    act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 17, 9), missing_items=[ID_CARD])
    first = dossier.watch["supplement_overdue"]
    assert fired(dossier, vn(2026, 4, 7, 9)) == [ev.SUPPLEMENT_OVERDUE]
    act(dossier, "receive_supplement", DESK, vn(2026, 4, 8, 9))
    assert "supplement_overdue" not in dossier.flags  # answered: not "supplement overdue" any more
    act(dossier, "request_supplement", LEADER, vn(2026, 4, 9, 9), missing_items=[ID_CARD], reason="Thiếu")
    second = dossier.watch["supplement_overdue"]
    assert second != first
    dossier.wake(vn(2026, 6, 1, 9))
    late = next(e for e in dossier.take_events() if e.type == ev.SUPPLEMENT_OVERDUE)
    assert late.type == ev.SUPPLEMENT_OVERDUE and late.data["watched_at"] == second
    assert [(h["flag"], h["watched_at"]) for h in dossier.flag_history] == [("supplement_overdue", first)]


def test_the_flag_history_is_stored_and_read_back():
    dossier = received()
    fired(dossier, vn(2026, 3, 26, 9))
    act(dossier, "request_payment", PROCESSOR, vn(2026, 3, 26, 10))
    again = Dossier.from_dict(dossier.as_dict())
    assert again.flag_history == dossier.flag_history != [] and again.flags == dossier.flags
    assert Dossier.from_dict({k: v for k, v in dossier.as_dict().items() if k != "flag_history"}).flag_history == []
