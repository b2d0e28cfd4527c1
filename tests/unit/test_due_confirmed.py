"""A due time counted across a year with no shipped civil-service decision says so, and keeps saying so."""

from chalicelib.domain.clock import Clock
from tests.unit.calendars import vn
from tests.unit.test_dossier_lifecycle import JUSTICE_LEADER, JUSTICE_PROCESSOR, act, receive


def test_due_time_inside_a_confirmed_year_is_confirmed():
    dossier, _ = receive(at=vn(2026, 3, 16, 9))
    assert dossier.clock is not None and dossier.clock.confirmed
    assert all(s.clock is None or s.clock.confirmed for s in dossier.steps)


def test_due_time_running_into_an_unconfirmed_year_is_marked_and_survives_storage():
    dossier, _ = receive(at=vn(2026, 12, 24, 9))  # 10 working days run into January 2027
    assert dossier.due_at is not None and dossier.due_at.year == 2027
    assert dossier.clock is not None and not dossier.clock.confirmed
    stored = dossier.clock.as_dict()
    assert stored["confirmed"] is False
    assert Clock.from_dict(stored).confirmed is False


def test_a_resume_recomputes_the_mark_with_the_due_time():
    dossier, _ = receive(at=vn(2026, 3, 16, 9))
    act(dossier, "assign", JUSTICE_PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "request_payment", JUSTICE_LEADER, vn(2026, 3, 17, 9))
    act(dossier, "confirm_payment", JUSTICE_PROCESSOR, vn(2026, 12, 28, 9))  # resumes late in the year
    assert dossier.due_at is not None and dossier.due_at.year == 2027
    assert dossier.clock is not None and not dossier.clock.confirmed
