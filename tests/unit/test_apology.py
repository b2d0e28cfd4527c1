"""The apology (form 04): once per dossier, a later appointment, timeliness, and lateness judged anew."""


import pytest

from chalicelib.domain import events as ev
from chalicelib.domain.clock import iso
from chalicelib.domain.errors import ActionNotAllowed, Forbidden, InvalidInput
from chalicelib.domain.lifecycle import Action
from tests.unit.calendars import CALENDAR, vn
from tests.unit.dossiers import DESK, LEADER, PROCESSOR, SECOND, received


def act(dossier, action, actor, at, **payload):
    return dossier.act(Action(action), actor, at, CALENDAR, payload)


def apologize(dossier, at, new, reason="Cần xác minh thêm tại cơ quan công an"):
    return act(dossier, "apologize", LEADER, at, reason=reason, new_appointment_at=iso(new))


def test_a_timely_apology_moves_the_appointment_never_the_legal_due_time():
    dossier = received()
    entry = apologize(dossier, vn(2026, 3, 26, 9), vn(2026, 4, 3, 9))  # two working days before the due time
    assert dossier.status.value == "received" and entry.action == "apologize" and entry.to_status.value == "received"
    assert dossier.appointment_at == vn(2026, 4, 3, 9) and dossier.rescheduled
    assert dossier.due_at == vn(2026, 3, 30, 9) == dossier.legal_due_at  # the law's due time stays
    assert entry.details["legal_due_at"] == "2026-03-30T02:00:00Z"
    assert dossier.apology["timely"] is True and dossier.apology["previous_appointment_at"] == "2026-03-30T02:00:00Z"
    assert dossier.apology["issued_by"] == "ld.cuong" and dossier.apology["reason"].startswith("Cần xác minh")
    assert [a["reason"] for a in dossier.appointments] == ["received", "apology"]  # the old one is kept
    assert all(e.event != "reschedule" for e in dossier.clock.entries)
    events = dossier.take_events()  # the warning (two working days ahead) is recorded first, then the apology
    assert [e.type for e in events] == [ev.DUE_SOON, ev.APOLOGY_ISSUED, ev.APPOINTMENT_CHANGED]
    assert events[1].data["timely"] is True and events[2].data["reason"] == "apology"
    assert events[2].data["dossier"]["rescheduled"] is True
    assert dossier.watch["overdue"] == "2026-03-30T02:00:01Z"  # lateness by law is still watched
    dossier.wake(vn(2026, 3, 30, 9) + SECOND)
    assert "overdue" in dossier.flags


def test_an_apology_is_given_once():
    dossier = received()
    apologize(dossier, vn(2026, 3, 26, 9), vn(2026, 4, 3, 9))
    with pytest.raises(ActionNotAllowed) as refused:
        apologize(dossier, vn(2026, 4, 1, 9), vn(2026, 4, 10, 9))
    assert refused.value.details[0].field == "action" and "only once" in refused.value.message
    assert "apologize" not in refused.value.allowed
    assert dossier.appointment_at == vn(2026, 4, 3, 9)


def test_a_late_apology_is_recorded_but_the_lateness_stands():
    dossier = received()
    dossier.wake(vn(2026, 3, 30, 9) + SECOND)  # due soon, overdue (and the step) are flagged
    assert {"due_soon", "overdue"} <= set(dossier.flags)
    dossier.take_events()
    apologize(dossier, vn(2026, 3, 30, 14), vn(2026, 4, 6, 14))
    assert dossier.apology["timely"] is False
    assert set(dossier.apology["flags_before"]) == {"due_soon", "overdue"}
    assert {"overdue", "step_overdue:0"} <= set(dossier.flags)
    assert dossier.appointment_at == vn(2026, 4, 6, 14) and dossier.due_at == vn(2026, 3, 30, 9)


def test_an_apology_never_makes_a_late_dossier_on_time():
    # The issue's example: due Mon 30/03 09:00, an untimely apology at 08:00 that day, the result Thu 02/04.
    dossier = received()
    apologize(dossier, vn(2026, 3, 30, 8), vn(2026, 4, 3, 9))
    assert dossier.apology["timely"] is False  # the due date itself: not 1 day before it
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 30, 8, 30))
    act(dossier, "complete_step", PROCESSOR, vn(2026, 4, 1, 10))
    entry = act(dossier, "resolve", LEADER, vn(2026, 4, 2, 9), result={"summary": "Phiếu LLTP số 7"})
    assert dossier.final_outcome == "late" and entry.details["outcome"] == "late"
    assert entry.details["appointment_met"] is True and dossier.appointment_met is True


def test_apology_timeliness_is_judged_by_date():
    on_the_eve = received()
    apologize(on_the_eve, vn(2026, 3, 29, 16), vn(2026, 4, 3, 9))  # Sunday 29/03, the day before the due date
    assert on_the_eve.apology["timely"] is True
    evening = received()
    apologize(evening, vn(2026, 3, 27, 16, 59), vn(2026, 4, 3, 9))  # Fri afternoon: less than 8 working hours left
    assert evening.apology["timely"] is True


def test_a_late_result_after_the_new_appointment_misses_it_too():
    late = received()
    apologize(late, vn(2026, 3, 26, 9), vn(2026, 4, 3, 9))
    act(late, "assign", PROCESSOR, vn(2026, 3, 26, 10))
    act(late, "complete_step", PROCESSOR, vn(2026, 4, 1, 10))
    act(late, "resolve", LEADER, vn(2026, 4, 3, 10), result={"summary": "Phiếu LLTP số 8"})
    assert late.final_outcome == "late" and late.appointment_met is False


def test_a_pause_after_the_apology_moves_the_legal_due_time_and_keeps_the_apology_date():
    dossier = received()
    apologize(dossier, vn(2026, 3, 26, 9), vn(2026, 4, 3, 9))
    act(dossier, "request_payment", LEADER, vn(2026, 3, 27, 9))
    act(dossier, "confirm_payment", DESK, vn(2026, 3, 30, 9))  # one working day paused
    assert dossier.due_at == vn(2026, 3, 31, 9) and dossier.appointment_at == vn(2026, 4, 3, 9)


def test_the_apology_is_checked():
    dossier = received()
    with pytest.raises(Forbidden):
        act(dossier, "apologize", PROCESSOR, vn(2026, 3, 26, 9), reason="x", new_appointment_at="2026-04-03T09:00:00Z")
    for payload, field in (({"new_appointment_at": "2026-04-03T09:00:00+07:00"}, "reason"),
                           ({"reason": "x"}, "new_appointment_at"),
                           ({"reason": "x", "new_appointment_at": "2026-04-03"}, "new_appointment_at"),
                           ({"reason": "x", "new_appointment_at": "2026-04-03T09:00:00"}, "new_appointment_at"),
                           ({"reason": "x", "new_appointment_at": "2026-03-30T09:00:00+07:00"}, "new_appointment_at")):
        with pytest.raises(InvalidInput) as bad:
            act(dossier, "apologize", LEADER, vn(2026, 3, 26, 9), **payload)
        assert bad.value.details[0].field == field, payload
    assert dossier.apology is None and dossier.version == 1 and dossier.pending_events == []
    act(dossier, "request_payment", LEADER, vn(2026, 3, 27, 9))
    with pytest.raises(ActionNotAllowed):  # paused: no due time running to reschedule
        apologize(dossier, vn(2026, 3, 27, 10), vn(2026, 4, 10, 9))


def test_the_new_appointment_falls_within_working_hours():
    dossier = received()
    for outside in (vn(2026, 4, 4, 9), vn(2026, 4, 3, 12), vn(2026, 4, 3, 18), vn(2026, 4, 30, 9)):  # Sat, lunch,
        with pytest.raises(InvalidInput) as bad:  # evening, Reunification Day
            apologize(dossier, vn(2026, 3, 26, 9), outside)
        assert bad.value.details[0].field == "new_appointment_at"
    apologize(dossier, vn(2026, 3, 26, 9), vn(2026, 4, 3, 17))  # the close of a working day is an appointment
    assert dossier.appointment_at == vn(2026, 4, 3, 17)


@pytest.mark.parametrize("new", [vn(2027, 3, 31, 9), vn(2037, 3, 2, 8), vn(2101, 1, 3, 8)])
def test_a_new_appointment_more_than_a_year_past_the_due_time_is_refused_naming_it(new):
    dossier = received()  # due Mon 30 Mar 2026 09:00
    with pytest.raises(InvalidInput) as refused:
        apologize(dossier, vn(2026, 3, 26, 9), new)
    assert refused.value.details[0].field == "new_appointment_at" and dossier.apology is None
    apologize(dossier, vn(2026, 3, 26, 9), vn(2027, 3, 30, 9))  # within the year: accepted
