"""The dossier aggregate: transitions, clocks, steps and the control-sheet lines it produces."""

from datetime import timedelta

import pytest

from chalicelib.domain.clock import ClockState
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import ActionNotAllowed, Forbidden, InvalidInput
from chalicelib.domain.lifecycle import TRANSITIONS, Action, allowed_actions
from chalicelib.domain.status import Status
from tests.unit.calendars import CALENDAR, VN, vn
from tests.unit.demo import procedure
from tests.units import CENTRE, DONG_SON, FINANCE, JUSTICE, LAND

ID_CARD = "Bản chụp căn cước công dân"  # in the criminal-record procedure's document list

DESK = Actor("desk.lan", CENTRE, frozenset({"desk"}))
COMMUNE_DESK = Actor("desk.hoa", DONG_SON, frozenset({"desk"}))
COMMUNE = Actor("cv.minh", DONG_SON, frozenset({"processor"}))
LAND_OFFICER = Actor("cv.nam", LAND, frozenset({"processor", "leader"}))
FINANCE_OFFICER = Actor("cv.thu", FINANCE, frozenset({"processor"}))
JUSTICE_PROCESSOR = Actor("cv.binh", JUSTICE, frozenset({"processor"}))
JUSTICE_LEADER = Actor("ld.cuong", JUSTICE, frozenset({"leader"}))


def receive(code="2.001417", channel="direct", at=None, actor=DESK, competent=JUSTICE):
    return Dossier.receive(
        code=f"{actor.unit}-260316-0001", procedure=procedure(code), receiving_unit=actor.unit,
        competent_unit=competent, channel=channel, applicant={"name": "Nguyễn Văn An"}, form={}, documents=[],
        actor=actor, at=at or vn(2026, 3, 16, 9), calendar=CALENDAR,
    )


def act(dossier, action, actor, at, **payload):
    return dossier.act(Action(action), actor, at, CALENDAR, payload)


def test_desk_intake_starts_the_clock_and_gives_an_appointment():
    dossier, entry = receive()
    assert dossier.status is Status.RECEIVED and dossier.status.national_code == 2
    assert dossier.appointment_at == vn(2026, 3, 30, 9)  # 10 working days
    assert dossier.steps[0].due_at == vn(2026, 3, 26, 9)  # step budget 8 days
    assert entry.seq == 1 and entry.to_status is Status.RECEIVED and entry.step_due_at == dossier.steps[0].due_at


def test_online_submission_waits_unclocked_until_accepted():
    dossier, _ = receive(channel="online")
    assert dossier.status is Status.SUBMITTED and dossier.clock is None
    act(dossier, "accept", DESK, vn(2026, 3, 17, 16))  # online: no 15:00 rule
    assert dossier.clock.started_at == vn(2026, 3, 17, 16)
    assert dossier.status.national_code == 2


def test_every_action_outside_its_statuses_is_refused_with_the_allowed_ones():
    for status in Status:
        for action, transition in TRANSITIONS.items():
            if status in transition.sources:
                continue
            dossier, _ = receive()
            dossier.status = status
            actor = Actor("x", CENTRE, frozenset({"desk", "processor", "leader"}))
            with pytest.raises(ActionNotAllowed) as error:
                act(dossier, action.value, actor, vn(2026, 3, 16, 10))
            assert error.value.allowed == allowed_actions(status)


def test_roles_are_checked_per_action():
    dossier, _ = receive()
    with pytest.raises(Forbidden):
        act(dossier, "resolve", DESK, vn(2026, 3, 16, 10), result={"summary": "x"})
    with pytest.raises(Forbidden):
        act(dossier, "assign", JUSTICE_PROCESSOR, vn(2026, 3, 16, 10), officer="someone.else")


def test_inter_agency_dossier_moves_through_three_agencies_with_step_deadlines():
    dossier, _ = receive("1.004227", actor=COMMUNE_DESK, competent=DONG_SON)
    assert dossier.handling_unit == DONG_SON
    act(dossier, "assign", COMMUNE, vn(2026, 3, 16, 10))
    entry = act(dossier, "complete_step", COMMUNE, vn(2026, 3, 20, 10))
    assert entry.step_met is True and entry.step_unit == DONG_SON
    assert dossier.handling_unit == LAND and dossier.steps[1].due_at == vn(2026, 3, 30, 10)  # 6 days
    act(dossier, "assign", LAND_OFFICER, vn(2026, 3, 23, 8))
    entry = act(dossier, "complete_step", LAND_OFFICER, vn(2026, 4, 1, 10))  # one day late
    assert entry.step_met is False and dossier.steps[1].outcome.value == "late"
    assert dossier.handling_unit == FINANCE
    act(dossier, "assign", FINANCE_OFFICER, vn(2026, 4, 1, 11))
    act(dossier, "complete_step", FINANCE_OFFICER, vn(2026, 4, 2, 10))
    with pytest.raises(ActionNotAllowed):
        act(dossier, "complete_step", LAND_OFFICER, vn(2026, 4, 2, 11))
    entry = act(dossier, "resolve", LAND_OFFICER, vn(2026, 4, 3, 10), result={"summary": "GCN số CS 01234"})
    assert dossier.status is Status.RESOLVED and dossier.status.national_code == 9
    assert dossier.outcome(CALENDAR) == "early"  # due 6 Apr (15 days from 16 Mar, 30 Apr/1 May not in range)
    assert dossier.handling_unit == DONG_SON  # the desk that received it returns the result


def test_resolve_before_the_last_step_is_refused():
    dossier, _ = receive()
    act(dossier, "assign", JUSTICE_PROCESSOR, vn(2026, 3, 16, 10))
    with pytest.raises(ActionNotAllowed) as error:
        act(dossier, "resolve", JUSTICE_LEADER, vn(2026, 3, 16, 11), result={"summary": "x"})
    assert "complete_step" in error.value.allowed


def test_supplement_pauses_then_restarts_the_full_limit_from_zero():
    dossier, _ = receive()
    act(dossier, "assign", JUSTICE_PROCESSOR, vn(2026, 3, 16, 10))
    entry = act(dossier, "request_supplement", JUSTICE_PROCESSOR, vn(2026, 3, 18, 10), missing_items=[ID_CARD])
    assert dossier.status.national_code == 5 and dossier.clock.state is ClockState.PAUSED
    assert dossier.due_at is None and entry.details["within_legal_window"] is True
    first_appointment = dossier.appointment_at
    entry = act(dossier, "receive_supplement", DESK, vn(2026, 3, 25, 9))
    assert dossier.status is Status.IN_PROGRESS
    assert dossier.clock.started_at == vn(2026, 3, 25, 9) and dossier.clock.consumed == timedelta(0)
    assert dossier.appointment_at == vn(2026, 4, 8, 9)  # 10 working days from the complete dossier
    assert entry.details["previous_appointment_at"] != entry.details["appointment_at"]
    assert first_appointment == vn(2026, 3, 30, 9)
    assert [e.event for e in dossier.clock.entries] == ["start", "pause", "restart"]
    assert dossier.supplement_requests == 1


def test_late_supplement_request_is_recorded_as_outside_the_legal_window():
    # Since the Art 19(4) fix a late request needs a leader and a reason, and is a violation.
    dossier, _ = receive()
    act(dossier, "assign", JUSTICE_PROCESSOR, vn(2026, 3, 16, 10))
    with pytest.raises(Forbidden):
        act(dossier, "request_supplement", JUSTICE_PROCESSOR, vn(2026, 3, 23, 10), missing_items=[ID_CARD])
    entry = act(dossier, "request_supplement", JUSTICE_LEADER, vn(2026, 3, 23, 10), missing_items=[ID_CARD],
                reason="Phát hiện thiếu khi thẩm định")
    assert entry.details["within_legal_window"] is False and entry.details["violation"] is True


def test_payment_pauses_and_resumes_with_the_paused_time_added():
    dossier, _ = receive()
    act(dossier, "assign", JUSTICE_PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "request_payment", JUSTICE_PROCESSOR, vn(2026, 3, 17, 9), amount=200000)
    assert dossier.status.national_code == 6
    act(dossier, "confirm_payment", DESK, vn(2026, 3, 19, 9), receipt_number="BL-0001")
    # Paused two working days: the appointment moves by two working days, the ledger keeps both.
    assert dossier.due_at == vn(2026, 4, 1, 9)
    assert dossier.steps[0].due_at == vn(2026, 3, 30, 9)
    assert dossier.status is Status.IN_PROGRESS


def test_refusal_after_appraisal_then_return():
    dossier, _ = receive()
    act(dossier, "assign", JUSTICE_PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "refuse", JUSTICE_PROCESSOR, vn(2026, 3, 17, 10), reasons=["Không đủ điều kiện"])
    assert dossier.status is Status.REFUSED and dossier.status.national_code == 9
    act(dossier, "return_result", DESK, vn(2026, 3, 17, 14))
    assert dossier.status.national_code == 10 and dossier.status.is_closed


def test_withdraw_and_stop_stop_the_clock():
    for action, code in (("withdraw", 7), ("stop", 8)):
        dossier, _ = receive()
        act(dossier, action, DESK, vn(2026, 3, 17, 10), reason="Công dân đề nghị")
        assert dossier.status.national_code == code
        assert dossier.clock.state is ClockState.STOPPED and not dossier.clock_running


def test_required_payload_is_named():
    dossier, _ = receive(channel="online")
    with pytest.raises(InvalidInput) as error:
        act(dossier, "refuse_intake", DESK, vn(2026, 3, 16, 10))
    assert error.value.details[0].field == "reasons"


def test_late_resolution_is_late():
    dossier, _ = receive("1.004873", actor=COMMUNE_DESK, competent=DONG_SON)
    act(dossier, "assign", COMMUNE, vn(2026, 3, 16, 10))
    act(dossier, "complete_step", COMMUNE, vn(2026, 3, 17, 10))
    leader = Actor("ld.son", DONG_SON, frozenset({"leader"}))
    act(dossier, "resolve", leader, vn(2026, 3, 20, 10), result={"summary": "Giấy xác nhận"})
    assert dossier.outcome(CALENDAR) == "late"


def test_round_trip_through_storage_shape():
    dossier, _ = receive()
    act(dossier, "assign", JUSTICE_PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "request_payment", JUSTICE_PROCESSOR, vn(2026, 3, 17, 9))
    again = Dossier.from_dict(dossier.as_dict())
    assert again.as_dict() == dossier.as_dict()
    assert again.submitted_at.tzinfo is not None and again.submitted_at.astimezone(VN) == vn(2026, 3, 16, 9)


def test_due_times_stay_fixed_when_the_calendar_is_edited_later():
    from chalicelib.domain.calendar import CalendarSettings, WorkingCalendar

    dossier, _ = receive()
    due, step_due = dossier.due_at, dossier.steps[0].due_at
    edited = WorkingCalendar(CalendarSettings.from_dict(
        {"days_off": [{"date": "2026-03-18", "reason": "Nghỉ đột xuất"}]}, CALENDAR.settings))
    stored = Dossier.from_dict(dossier.as_dict())
    stored.act(Action.ASSIGN, JUSTICE_PROCESSOR, vn(2026, 3, 17, 9), edited, {})
    assert stored.due_at == due and stored.steps[0].due_at == step_due
    assert stored.clock.calendar_version == CALENDAR.settings.version != edited.settings.version
