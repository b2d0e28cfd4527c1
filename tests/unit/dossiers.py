"""Officers and a received dossier for domain tests that read what the deadlines emit (no database)."""

from datetime import timedelta

from chalicelib.domain.deadlines import WatchSettings
from chalicelib.domain.dossier import Actor, Dossier
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE, DONG_SON, FINANCE, JUSTICE, LAND

DESK = Actor("desk.lan", CENTRE, frozenset({"desk"}))
COMMUNE_DESK = Actor("desk.hoa", DONG_SON, frozenset({"desk"}))
COMMUNE = Actor("cv.minh", DONG_SON, frozenset({"processor"}))
LAND_OFFICER = Actor("cv.nam", LAND, frozenset({"processor"}))
FINANCE_OFFICER = Actor("cv.thu", FINANCE, frozenset({"processor"}))
PROCESSOR = Actor("cv.binh", JUSTICE, frozenset({"processor"}))
LEADER = Actor("ld.cuong", JUSTICE, frozenset({"leader"}), name="Lê Văn Cường")
SECOND = timedelta(seconds=1)


def received(code="2.001417", at=None, actor=DESK, competent=JUSTICE, watch=WatchSettings()):
    """A dossier received at the desk (default: Mon 16 Mar 2026 09:00, criminal record, 10 working days: due
    Mon 30 Mar 09:00), with the intake's own events already taken."""
    dossier, _ = Dossier.receive(
        code=f"{actor.unit}-260316-0001", procedure=procedure(code), receiving_unit=actor.unit,
        competent_unit=competent, channel="direct", applicant={"name": "Nguyễn Văn An"}, form={}, documents=[],
        actor=actor, at=at or vn(2026, 3, 16, 9), calendar=CALENDAR, watch=watch,
    )
    dossier.take_events()
    return dossier
