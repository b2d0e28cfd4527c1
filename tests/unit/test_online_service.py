"""The online service level of a procedure (Decree 42/2022/NĐ-CP: một phần / toàn trình, or not offered online)
decides whether an online submission is taken at all."""

import pytest

from chalicelib.domain.catalogue import Procedure
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.status import Status
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE, DONG_SON, JUSTICE

PORTAL = Actor("inbound:dvcqg", CENTRE, frozenset({"desk"}))


def submit(code: str, competent: str, channel: str = "online") -> Dossier:
    dossier, _ = Dossier.receive(
        code=f"{CENTRE}-260316-0001", procedure=procedure(code), receiving_unit=CENTRE, competent_unit=competent,
        channel=channel, applicant={"name": "Nguyễn Văn An"}, form={}, documents=[], actor=PORTAL,
        at=vn(2026, 3, 16, 9), calendar=CALENDAR)
    return dossier


def test_the_demo_catalogue_records_each_level():
    assert procedure("2.001417").online_service == "partial"
    assert procedure("1.004873").online_service == "full"
    assert procedure("1.004227").online_service is None


@pytest.mark.parametrize("code", ["2.001417", "2.000635"])
def test_a_procedure_offered_online_takes_online_submissions(code):
    assert submit(code, JUSTICE).status is Status.SUBMITTED


def test_a_procedure_not_offered_online_refuses_an_online_submission_naming_the_channel():
    with pytest.raises(InvalidInput) as refused:
        submit("1.004227", DONG_SON)
    assert refused.value.details[0].field == "channel"
    assert "1.004227" in refused.value.details[0].reason and "not offered" in refused.value.details[0].reason


def test_the_same_procedure_is_received_at_the_desk():
    assert submit("1.004227", DONG_SON, channel="direct").status is Status.RECEIVED


def test_an_unknown_level_is_refused_when_the_catalogue_is_written():
    raw = procedure("2.001417").as_dict()
    with pytest.raises(InvalidInput) as refused:
        Procedure.from_dict({**raw, "online_service": "level4"})
    assert refused.value.details[0].field == "online_service"
