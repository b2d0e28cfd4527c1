"""The law's rules in the dossier lifecycle (issue 5): step roles, outcomes of their own, appointments that
follow the due time, the one lawful supplement, step deadlines inside the dossier's, desk refusals and
guidance slips, the control-sheet lines. Pure domain, explicit instants (Asia/Ho_Chi_Minh)."""

import ast
import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.domain.calendar import CalendarSettings, WorkingCalendar
from chalicelib.domain.catalogue import Procedure
from chalicelib.domain.clock import ClockState
from chalicelib.domain.dossier import HANDLERS, Actor, Dossier
from chalicelib.domain.errors import ActionNotAllowed, Forbidden, InvalidInput
from chalicelib.domain.lifecycle import TRANSITIONS, Action
from chalicelib.domain.status import Status
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE, DONG_SON, FINANCE, JUSTICE, LAND

ID_CARD = "Bản chụp căn cước công dân"  # in the criminal-record procedure's document list

ROOT = Path(__file__).resolve().parents[2]
DESK = Actor("desk.lan", CENTRE, frozenset({"desk"}), name="Trần Thị Lan")
COMMUNE_DESK = Actor("desk.hoa", DONG_SON, frozenset({"desk"}))
COMMUNE = Actor("cv.minh", DONG_SON, frozenset({"processor"}))
LAND_OFFICER = Actor("cv.nam", LAND, frozenset({"processor"}))
LAND_LEADER = Actor("ld.nam", LAND, frozenset({"leader"}))
FINANCE_OFFICER = Actor("cv.thu", FINANCE, frozenset({"processor"}))
PROCESSOR = Actor("cv.binh", JUSTICE, frozenset({"processor"}))
LEADER = Actor("ld.cuong", JUSTICE, frozenset({"leader"}))


def receive(code="2.001417", channel="direct", at=None, actor=DESK, competent=JUSTICE, calendar=CALENDAR,
            decision=None, proc=None):
    return Dossier.receive(
        code=f"{actor.unit}-260316-0007", procedure=proc or procedure(code), receiving_unit=actor.unit,
        competent_unit=competent, channel=channel, applicant={"name": "Nguyễn Văn An", "phone": "0912345678"},
        form={}, documents=[], actor=actor, at=at or vn(2026, 3, 16, 9), calendar=calendar, decision=decision,
    )


def act(dossier, action, actor, at, calendars=CALENDAR, **payload):
    return dossier.act(Action(action), actor, at, calendars, payload)


# --- 1. a step's role is enforced for complete_step and resolve --------------------------------------
def test_a_processor_cannot_resolve_the_step_a_leader_signs():
    dossier, _ = receive()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "complete_step", PROCESSOR, vn(2026, 3, 17, 10))
    assert dossier.steps[1].name == "Lãnh đạo Sở ký Phiếu" and dossier.steps[1].role == "leader"
    with pytest.raises(Forbidden) as error:
        act(dossier, "resolve", PROCESSOR, vn(2026, 3, 18, 10), result={"summary": "Phiếu số 1"})
    assert "Lãnh đạo Sở ký Phiếu" in error.value.message and "'leader'" in error.value.message
    assert dossier.status is Status.IN_PROGRESS and dossier.version == 3  # nothing changed
    act(dossier, "resolve", LEADER, vn(2026, 3, 18, 10), result={"summary": "Phiếu số 1"})
    assert dossier.status is Status.RESOLVED


def test_complete_step_checks_the_step_role_and_a_leader_may_do_a_processor_step():
    raw = json.loads((ROOT / "demo" / "catalogue.json").read_text(encoding="utf-8"))
    data = dict(next(p for p in raw["procedures"] if p["code"] == "2.001417"))
    data.pop("form_schema_file")
    data["steps"] = [
        {"name": "Thẩm định", "unit": JUSTICE, "role": "processor", "budget": {"amount": 4, "unit": "working_days"}},
        {"name": "Lãnh đạo duyệt", "unit": JUSTICE, "role": "leader", "budget": {"amount": 2, "unit": "working_days"}},
        {"name": "Vào sổ, đóng dấu", "unit": JUSTICE, "role": "processor",
         "budget": {"amount": 2, "unit": "working_days"}},
    ]
    dossier, _ = receive(proc=Procedure.from_dict({**data, "form_schema": {"type": "object"}}))
    act(dossier, "assign", LEADER, vn(2026, 3, 16, 10))
    act(dossier, "complete_step", LEADER, vn(2026, 3, 16, 11))  # a leader may do a processor's step
    with pytest.raises(Forbidden) as error:
        act(dossier, "complete_step", PROCESSOR, vn(2026, 3, 17, 10))
    assert "Lãnh đạo duyệt" in error.value.message
    act(dossier, "complete_step", LEADER, vn(2026, 3, 17, 10))
    act(dossier, "resolve", PROCESSOR, vn(2026, 3, 18, 10), result={"summary": "x"})
    assert dossier.status is Status.RESOLVED


def test_assign_rules_are_unchanged():
    dossier, _ = receive()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))  # a processor assigns themselves
    with pytest.raises(Forbidden):
        act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10), officer="cv.khac")
    act(dossier, "assign", LEADER, vn(2026, 3, 16, 11), officer="cv.khac")
    assert dossier.steps[0].assignee == "cv.khac"


# --- 2. withdrawn, stopped, refused and not-accepted dossiers have outcomes of their own ---------------
def test_withdrawn_early_is_withdrawn_not_early():
    dossier, _ = receive()
    entry = act(dossier, "withdraw", DESK, vn(2026, 3, 17, 10), reason="Công dân đề nghị rút")
    assert dossier.outcome(CALENDAR) == "withdrawn" and entry.details["outcome"] == "withdrawn"


def test_paused_for_a_supplement_then_withdrawn_long_after_the_due_time_is_withdrawn_not_late():
    dossier, _ = receive()
    act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 17, 10), missing_items=[ID_CARD])
    act(dossier, "withdraw", DESK, vn(2026, 5, 20, 10), reason="Không bổ sung được")
    assert dossier.outcome(CALENDAR) == "withdrawn"
    again = Dossier.from_dict(dossier.as_dict())
    assert again.outcome(CALENDAR) == "withdrawn"


def test_stopped_refused_and_not_accepted_each_have_their_own_outcome():
    stopped, _ = receive()
    act(stopped, "stop", LEADER, vn(2026, 4, 30, 10), reason="Theo đề nghị của công dân")
    assert stopped.outcome(CALENDAR) == "stopped"

    refused, _ = receive()
    act(refused, "refuse", PROCESSOR, vn(2026, 3, 17, 10), reasons=["Không đủ điều kiện"])
    assert refused.outcome(CALENDAR) == "refused"
    act(refused, "return_result", DESK, vn(2026, 3, 18, 10))
    assert refused.status is Status.RETURNED and refused.outcome(CALENDAR) == "refused"

    online, _ = receive(channel="online")
    act(online, "refuse_intake", DESK, vn(2026, 3, 16, 10), reasons=["Sai thủ tục"])
    assert online.outcome(CALENDAR) == "not_accepted" and online.intake["by"] == "desk.lan"


def test_outcomes_of_dossiers_stored_before_the_rule_are_derived_from_their_status():
    dossier, _ = receive()
    act(dossier, "withdraw", DESK, vn(2026, 3, 17, 10), reason="Rút")
    stored = dossier.as_dict()
    del stored["final_outcome"]
    assert Dossier.from_dict(stored).outcome(CALENDAR) == "withdrawn"


def test_a_resolved_dossier_still_gets_early_on_time_or_late():
    dossier, _ = receive()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "complete_step", PROCESSOR, vn(2026, 3, 17, 10))
    act(dossier, "resolve", LEADER, vn(2026, 3, 18, 10), result={"summary": "x"})
    assert dossier.outcome(CALENDAR) == "early"


# --- 3. after confirm_payment the appointment follows the due time ------------------------------------
def test_confirm_payment_gives_a_new_appointment_and_keeps_the_old_one():
    dossier, _ = receive()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "request_payment", PROCESSOR, vn(2026, 3, 17, 9), amount=200000)
    entry = act(dossier, "confirm_payment", DESK, vn(2026, 3, 19, 9), receipt_number="BL-1")
    assert dossier.due_at == dossier.appointment_at == vn(2026, 4, 1, 9)
    assert entry.details["previous_appointment_at"] == "2026-03-30T02:00:00Z"
    assert entry.details["appointment_at"] == "2026-04-01T02:00:00Z" and entry.details["appointment_changed"]
    assert [a["appointment_at"] for a in dossier.appointments] == ["2026-03-30T02:00:00Z", "2026-04-01T02:00:00Z"]


def test_resolved_after_the_appointment_the_applicant_holds_is_never_early():
    dossier, _ = receive()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "request_payment", PROCESSOR, vn(2026, 3, 17, 9))
    act(dossier, "confirm_payment", DESK, vn(2026, 3, 19, 9))
    act(dossier, "complete_step", PROCESSOR, vn(2026, 3, 30, 10))
    act(dossier, "resolve", LEADER, vn(2026, 4, 1, 8), result={"summary": "x"})  # the new appointment's day
    assert dossier.outcome(CALENDAR) == "on_time"

    # A dossier stored before the fix, whose printed appointment never moved: measured against what the
    # applicant holds, a resolution after it is late, whatever the moved due time says.
    old, _ = receive()
    act(old, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(old, "request_payment", PROCESSOR, vn(2026, 3, 17, 9))
    act(old, "confirm_payment", DESK, vn(2026, 3, 19, 9))
    old.appointment_at = vn(2026, 3, 30, 9)
    act(old, "complete_step", PROCESSOR, vn(2026, 3, 30, 10))
    act(old, "resolve", LEADER, vn(2026, 3, 31, 10), result={"summary": "x"})
    assert old.outcome(CALENDAR) == "early"  # judged by law: the lawful payment pause moved the due time


# --- 4. supplements: one lawful request restarts; any other only pauses, needs a leader and a reason ----
def test_second_supplement_request_pauses_only_needs_a_leader_and_a_reason_and_is_a_violation():
    dossier, _ = receive()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 17, 10), missing_items=[ID_CARD])
    act(dossier, "receive_supplement", DESK, vn(2026, 3, 18, 9))
    assert dossier.appointment_at == vn(2026, 4, 1, 9) and dossier.clock.consumed == timedelta(0)
    with pytest.raises(Forbidden) as error:
        act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 19, 9), missing_items=[ID_CARD])
    assert "leader" in error.value.message
    with pytest.raises(InvalidInput) as bad:
        act(dossier, "request_supplement", LEADER, vn(2026, 3, 19, 9), missing_items=[ID_CARD])
    assert bad.value.details[0].field == "reason"
    assert dossier.status is Status.IN_PROGRESS and dossier.supplement_requests == 1

    entry = act(dossier, "request_supplement", LEADER, vn(2026, 3, 19, 9), missing_items=[ID_CARD],
                reason="Thiếu sót khi thẩm định lần đầu")
    assert entry.details["violation"] is True and entry.details["restarts_limit"] is False
    assert entry.details["violation_kind"] == "second_request"
    assert entry.details["reason"] == "Thiếu sót khi thẩm định lần đầu"
    # The agency's fault: the clock runs on, the applicant's time is only recorded.
    assert dossier.supplement_violations == 1 and dossier.clock.state is ClockState.RUNNING
    assert dossier.status is Status.SUPPLEMENT_REQUESTED and dossier.clock.waiting_since == vn(2026, 3, 19, 9)

    entry = act(dossier, "receive_supplement", DESK, vn(2026, 3, 23, 9))  # two working days with the applicant
    assert entry.details["restarted"] is False and "appointment_changed" not in entry.details
    assert [e.event for e in dossier.clock.entries] == ["start", "pause", "restart", "wait", "wait_end"]
    assert dossier.due_at == dossier.appointment_at == vn(2026, 4, 1, 9)  # neither moves
    # Decision 766's agency time leaves the applicant's two working days out.
    assert dossier.clock.working_time(CALENDAR, vn(2026, 3, 24, 9)) == timedelta(hours=9 + 8 + 8)


def test_first_request_after_the_window_is_a_violation_and_does_not_restart():
    dossier, _ = receive()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    with pytest.raises(Forbidden):
        act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 20, 10), missing_items=[ID_CARD])
    entry = act(dossier, "request_supplement", LEADER, vn(2026, 3, 20, 10), missing_items=[ID_CARD], reason="Muộn")
    assert entry.details["within_legal_window"] is False and entry.details["violation"] is True
    assert entry.details["violation_kind"] == "outside_window"
    act(dossier, "receive_supplement", DESK, vn(2026, 3, 23, 10))
    assert dossier.due_at == dossier.appointment_at == vn(2026, 3, 30, 9)  # neither the due time nor the appointment
    assert dossier.clock.working_time(CALENDAR, vn(2026, 3, 23, 10)) == timedelta(hours=4 * 8 + 1)  # to 20 Mar 10:00
    assert "restart" not in [e.event for e in dossier.clock.entries]
    stored = Dossier.from_dict(dossier.as_dict())
    assert stored.supplement_violations == 1 and stored.supplement_restarts is False


def test_a_lawful_request_on_the_third_working_day_restarts_with_a_new_appointment():
    dossier, _ = receive()
    act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 19, 9), missing_items=[ID_CARD])
    entry = act(dossier, "receive_supplement", DESK, vn(2026, 3, 24, 9))
    assert entry.details["restarted"] is True and dossier.supplement_violations == 0
    assert dossier.appointment_at == vn(2026, 4, 7, 9) and entry.details["appointment_changed"] is True


def test_the_window_ends_at_the_close_of_the_third_working_day_after_receipt():
    # Received Mon 16/03 09:00: the window runs to the close of Thu 19/03, not 24 working hours (Thu 09:00).
    dossier, _ = receive()
    entry = act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 19, 16, 30),
                missing_items=[ID_CARD], reason="Ảnh mờ")
    assert entry.details["within_legal_window"] is True and entry.details["restarts_limit"] is True
    assert entry.details["window_ends_at"] == "2026-03-19T10:00:00Z" and entry.details["reason"] == "Ảnh mờ"
    assert dossier.supplement_violations == 0


def test_the_desk_alone_cannot_issue_the_restarting_supplement_request():
    dossier, _ = receive()
    with pytest.raises(Forbidden) as refused:
        act(dossier, "request_supplement", DESK, vn(2026, 3, 17, 9), missing_items=[ID_CARD])
    assert "competent unit" in refused.value.message and dossier.supplement_requests == 0


def test_missing_items_are_picked_from_the_procedures_document_list():
    dossier, _ = receive()
    with pytest.raises(InvalidInput) as bad:
        act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 17, 9), missing_items=["Giấy khai sinh"])
    assert bad.value.details[0].field == "missing_items" and "Bản chụp căn cước công dân" in bad.value.details[0].reason
    assert dossier.document_list == ["Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "Bản chụp căn cước công dân"]


def test_a_procedure_may_allow_a_second_notice_and_a_longer_window():
    building = dataclasses.replace(procedure("2.001417"), supplement_window_working_days=5,
                                   supplement_notices_allowed=2)
    dossier, _ = Dossier.receive(
        code=f"{DESK.unit}-260316-0009", procedure=building, receiving_unit=DESK.unit, competent_unit=JUSTICE,
        channel="direct", applicant={"name": "An"}, form={}, documents=[], actor=DESK, at=vn(2026, 3, 16, 9),
        calendar=CALENDAR)
    first = act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 23, 9), missing_items=[ID_CARD])
    assert first.details["restarts_limit"] is True  # day 5 after receipt: within the procedure's window
    act(dossier, "receive_supplement", DESK, vn(2026, 3, 24, 9))
    second = act(dossier, "request_supplement", PROCESSOR, vn(2026, 3, 25, 9),
                 missing_items=["Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp"])
    assert second.details["restarts_limit"] is True and dossier.supplement_violations == 0
    assert Dossier.from_dict(dossier.as_dict()).supplement_notices_allowed == 2


# --- 5. step deadlines: inside the dossier's, on their own unit's calendar -----------------------------
def land_dossier():
    dossier, _ = receive("1.004227", actor=COMMUNE_DESK, competent=DONG_SON)
    act(dossier, "assign", COMMUNE, vn(2026, 3, 16, 10))
    return dossier


def test_a_step_never_falls_due_after_the_dossier():
    dossier = land_dossier()
    assert dossier.due_at == vn(2026, 4, 6, 9)  # 15 working days
    entry = act(dossier, "complete_step", COMMUNE, vn(2026, 3, 31, 9))  # 11 days used: 4 left, step needs 6
    land = dossier.steps[1]
    assert land.due_at == dossier.due_at and land.due_capped is True
    assert entry.details["next_step_due_capped"] is True and entry.details["next_step_due_at"] == "2026-04-06T02:00:00Z"
    assert Dossier.from_dict(dossier.as_dict()).steps[1].due_capped is True
    act(dossier, "assign", LAND_OFFICER, vn(2026, 3, 31, 10))
    late = act(dossier, "complete_step", LAND_OFFICER, vn(2026, 4, 7, 9))
    assert late.step_met is False and late.step_outcome == "late"


def test_an_uncapped_step_says_so():
    dossier = land_dossier()
    act(dossier, "complete_step", COMMUNE, vn(2026, 3, 17, 9))
    assert dossier.steps[1].due_capped is False and dossier.steps[1].due_at == vn(2026, 3, 25, 9)


def test_a_lien_thong_step_counts_on_its_own_units_calendar():
    land_calendar = WorkingCalendar(CalendarSettings.from_dict(
        {"days_off": [{"date": "2026-03-20", "reason": "Nghỉ bù của Sở"}]}, CALENDAR.settings))
    calendars = {LAND: land_calendar}

    def calendar_for(unit: str) -> WorkingCalendar:
        return calendars.get(unit, CALENDAR)

    dossier = land_dossier()
    act(dossier, "complete_step", COMMUNE, vn(2026, 3, 17, 9), calendars=calendar_for)
    assert dossier.steps[1].due_at == vn(2026, 3, 26, 9)  # one day later than on the commune's calendar
    assert dossier.steps[1].clock.calendar_version == land_calendar.settings.version
    assert dossier.clock.calendar_version == CALENDAR.settings.version
    act(dossier, "assign", LAND_OFFICER, vn(2026, 3, 18, 9), calendars=calendar_for)
    entry = act(dossier, "complete_step", LAND_OFFICER, vn(2026, 3, 26, 9), calendars=calendar_for)
    assert entry.step_met is True and entry.step_outcome == "on_time"


# --- 6. paper intake: refusal (form 03) or guidance slip (form 02) -----------------------------------
def test_desk_refuses_a_paper_dossier():
    dossier, entry = receive(decision={"decision": "refuse", "reasons": ["Không thuộc thẩm quyền"]})
    assert dossier.status is Status.NOT_ACCEPTED and dossier.status.national_code == 3
    assert dossier.clock is None and dossier.received_at is None and dossier.outcome(CALENDAR) == "not_accepted"
    assert dossier.intake == {"decision": "refuse", "reasons": ["Không thuộc thẩm quyền"], "by": "desk.lan",
                              "by_name": "Trần Thị Lan", "by_unit": CENTRE, "at": "2026-03-16T02:00:00Z"}
    assert entry.action == "refuse_intake" and entry.details["form"] == "03"
    assert dossier.handling_unit == CENTRE and dossier.status.is_closed


def test_desk_guides_an_incomplete_paper_dossier_without_receiving_it():
    dossier, entry = receive(decision={"decision": "guide", "missing_items": ["Bản chụp căn cước công dân"]})
    assert dossier.status is Status.GUIDED and dossier.status.national_code == 3
    assert dossier.clock is None and dossier.appointment_at is None and dossier.outcome(CALENDAR) == "guided"
    assert dossier.intake["missing_items"] == ["Bản chụp căn cước công dân"] and entry.details["form"] == "02"
    assert TRANSITIONS and all(Status.GUIDED not in t.sources for t in TRANSITIONS.values())


def test_intake_decisions_are_checked():
    with pytest.raises(InvalidInput) as error:
        receive(decision={"decision": "refuse"})
    assert error.value.details[0].field == "intake.reasons"
    with pytest.raises(InvalidInput) as error:
        receive(decision={"decision": "guide", "missing_items": []})
    assert error.value.details[0].field == "intake.missing_items"
    with pytest.raises(InvalidInput) as error:
        receive(channel="online", decision={"decision": "refuse", "reasons": ["x"]})
    assert error.value.details[0].field == "intake.decision"
    received, _ = receive(decision={"decision": "receive"})
    assert received.status is Status.RECEIVED and received.intake["decision"] == "receive"


# --- 7. the control sheet's lines: handing-over and receiving units, the step's result -----------------
def test_control_sheet_lines_name_both_units_and_the_steps_result():
    dossier, first = receive("1.004227", actor=COMMUNE_DESK, competent=DONG_SON)
    assert (first.from_unit, first.to_unit) == (DONG_SON, DONG_SON)
    act(dossier, "assign", COMMUNE, vn(2026, 3, 16, 10))
    entry = act(dossier, "complete_step", COMMUNE, vn(2026, 3, 18, 10))
    assert (entry.from_unit, entry.to_unit, entry.step_outcome) == (DONG_SON, LAND, "early")
    assert entry.as_dict()["step_outcome"] == "early"
    centre, line = receive()
    assert (line.from_unit, line.to_unit) == (CENTRE, JUSTICE)
    assert centre.tracking_number == 7 and centre.coordinating_units == []
    assert dossier.coordinating_units == [LAND, FINANCE]


# --- 8. labels ------------------------------------------------------------------------------------------
def test_status_5_has_the_national_label():
    assert Status.SUPPLEMENT_REQUESTED.national_code == 5
    assert Status.SUPPLEMENT_REQUESTED.label == "Yêu cầu bổ sung giấy tờ"


# --- 9. explicit dispatch, domain errors instead of assert ----------------------------------------------
def test_the_handler_table_covers_every_action_of_the_api_schema():
    schema = json.loads((ROOT / "chalicelib" / "schemas" / "api" / "dossier-action.json").read_text())
    documented = set(schema["properties"]["action"]["enum"])
    assert documented == {a.value for a in HANDLERS} == {a.value for a in TRANSITIONS} == {a.value for a in Action}


def test_dossier_module_has_no_assert():
    tree = ast.parse((ROOT / "chalicelib" / "domain" / "dossier.py").read_text(encoding="utf-8"))
    assert not [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]


def test_an_action_needing_the_clock_on_a_dossier_never_received_is_named():
    dossier, _ = receive(channel="online")
    dossier.status = Status.RECEIVED  # inconsistent on purpose: no clock ever started
    with pytest.raises(ActionNotAllowed) as error:
        act(dossier, "request_payment", PROCESSOR, vn(2026, 3, 16, 10))
    assert "never received" in error.value.message
