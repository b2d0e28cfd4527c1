"""Who is told: lateness is the competent unit's, whoever recorded it first (Decree 61/2018 Art 19)."""

from chalicelib.domain import events as ev
from chalicelib.domain.dossier import Actor
from chalicelib.domain.lifecycle import Action
from chalicelib.services.notifications import _recipients
from tests.unit.calendars import CALENDAR, vn
from tests.unit.dossiers import LEADER, PROCESSOR, received
from tests.units import CENTRE, JUSTICE


def test_a_late_resolve_tells_the_competent_units_leader_not_the_receiving_centres():
    dossier = received()  # received at the centre, competent: justice; due Mon 30/03 09:00
    dossier.act(Action.ASSIGN, PROCESSOR, vn(2026, 3, 16, 10), CALENDAR, {})
    dossier.act(Action.COMPLETE_STEP, PROCESSOR, vn(2026, 3, 20, 10), CALENDAR, {})
    dossier.take_events()
    dossier.act(Action.RESOLVE, LEADER, vn(2026, 3, 31, 10), CALENDAR, {"result": {"summary": "Phiếu LLTP"}})
    overdue = next(e for e in dossier.take_events() if e.type == ev.OVERDUE)
    assert overdue.data["dossier"]["handling_unit"] == CENTRE  # the resolve recorded it, back at the desk
    assert _recipients(overdue, dossier) == [("leader", f"leader@{JUSTICE}", JUSTICE, "internal")]


def test_the_apology_goes_to_the_receiving_desk_too():
    dossier = received()
    dossier.applicant["email"] = "an@example.vn"
    dossier.act(Action.APOLOGIZE, Actor("ld.cuong", JUSTICE, frozenset({"leader"})), vn(2026, 3, 26, 9), CALENDAR,
                {"reason": "Chờ xác minh", "new_appointment_at": "2026-04-03T09:00:00+07:00"})
    apology = next(e for e in dossier.take_events() if e.type == ev.APOLOGY_ISSUED)
    assert ("desk", f"desk@{CENTRE}", CENTRE, "internal") in _recipients(apology, dossier)


def test_the_stop_label_says_who_stopped_and_form_05_names_giver_and_receiver():
    from tests.unit.dossiers import DESK

    dossier = received()
    assigned = dossier.act(Action.ASSIGN, LEADER, vn(2026, 3, 16, 10), CALENDAR, {"officer": "cv.binh"})
    assert assigned.officer_name == "Lê Văn Cường" and assigned.to_officer == "cv.binh"
    assert assigned.as_dict()["to_officer"] == "cv.binh"
    stop = dossier.act(Action.STOP, DESK, vn(2026, 3, 17, 10), CALENDAR, {"reason": "Công dân đề nghị"})
    assert stop.label.startswith("Dừng giải quyết theo yêu cầu của công dân, do Bộ phận Một cửa thực hiện")
    assert "desk.lan" in stop.label and stop.details["stopped_by"] == "desk.lan"
