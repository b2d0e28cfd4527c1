"""An incomplete online submission gets the one-time guidance on the same dossier and code, and is completed there."""

import pytest

from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import ActionNotAllowed, InvalidInput
from chalicelib.domain.lifecycle import Action
from chalicelib.domain.status import Status
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE, JUSTICE

DESK = Actor("desk.lan", CENTRE, frozenset({"desk"}))
PORTAL = Actor("portal", CENTRE, frozenset({"citizen"}))


def submitted():
    dossier, _ = Dossier.receive(
        code=f"{CENTRE}-260316-0003", procedure=procedure("2.001417"), receiving_unit=CENTRE, competent_unit=JUSTICE,
        channel="online", applicant={"name": "Nguyễn Văn An"}, form={}, documents=[], actor=PORTAL,
        at=vn(2026, 3, 16, 9), calendar=CALENDAR)
    return dossier


def act(dossier, action, at, **payload):
    return dossier.act(Action(action), DESK, at, CALENDAR, payload)


def test_the_desk_guides_once_and_the_applicant_completes_the_same_dossier():
    dossier = submitted()
    entry = act(dossier, "guide_submission", vn(2026, 3, 16, 10), missing_items=["Bản chụp căn cước công dân"],
                reason="Ảnh chụp không đọc được số định danh")
    assert dossier.status is Status.SUBMITTED and dossier.status.national_code == 1 and dossier.clock is None
    assert entry.details["form"] == "02" and dossier.guidance["reason"].startswith("Ảnh chụp")
    assert "intake_overdue" not in dossier.watch  # waiting for the applicant, not the desk
    with pytest.raises(ActionNotAllowed) as again:
        act(dossier, "guide_submission", vn(2026, 3, 16, 11), missing_items=["Bản chụp căn cước công dân"],
            reason="x")
    assert "once" in again.value.message
    act(dossier, "complete_submission", vn(2026, 3, 18, 9), documents=[{"name": "Bản chụp căn cước công dân"}])
    assert dossier.guidance["completed_at"] == "2026-03-18T02:00:00Z" and "intake_overdue" in dossier.watch
    act(dossier, "accept", vn(2026, 3, 18, 10))
    assert dossier.code.endswith("-260316-0003") and dossier.status is Status.RECEIVED  # same code
    assert CALENDAR.local(dossier.clock.first_started_at) == vn(2026, 3, 18, 10)  # counted from the complete one
    assert Dossier.from_dict(dossier.as_dict()).guidance == dossier.guidance


def test_the_guidance_names_documents_of_the_procedure_and_a_reason():
    dossier = submitted()
    with pytest.raises(InvalidInput) as bad:
        act(dossier, "guide_submission", vn(2026, 3, 16, 10), missing_items=["Sổ hộ khẩu"], reason="x")
    assert bad.value.details[0].field == "missing_items"
    with pytest.raises(InvalidInput) as bad:
        act(dossier, "guide_submission", vn(2026, 3, 16, 10), missing_items=["Bản chụp căn cước công dân"])
    assert bad.value.details[0].field == "reason"
    with pytest.raises(ActionNotAllowed):
        act(dossier, "complete_submission", vn(2026, 3, 16, 10), documents=[{"name": "x"}])
