"""Same-day procedures (trong ngày) through intake: after the 15:00 cutoff, by any channel, the dossier is
due at the close of the next working day, never in the minutes left before closing."""

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import get, post
from tests.unit.calendars import vn
from tests.units import HAC_THANH

CERTIFY = {
    "procedure_code": "2.000815", "competent_unit": HAC_THANH,
    "applicant": {"name": "Lê Thị Hoa", "id_number": "038190004321", "phone": "0987654321"},
    "form": {"document_name": "Bằng tốt nghiệp đại học", "pages": 2, "copies": 3},
    "documents": [{"name": "Bản chính giấy tờ làm cơ sở chứng thực", "copies": 1}],
}


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


@pytest.mark.parametrize(("received", "due"), [
    (vn(2026, 3, 16, 14, 0), "2026-03-16T17:00:00+07:00"),
    (vn(2026, 3, 16, 16, 59), "2026-03-17T17:00:00+07:00"),
    (vn(2026, 3, 20, 16, 30), "2026-03-23T17:00:00+07:00"),  # Friday: next working day is Monday
])
def test_direct_same_day_intake(client, auth, frozen_now, received, due):
    frozen_now(received)
    status, data = post(client, "/v1/dossiers", auth(HAC_THANH, "desk"), {**CERTIFY, "channel": "direct"})
    assert status == 201, data
    assert data["due_at"] == due


def test_online_same_day_accepted_after_the_cutoff_is_due_the_next_working_day(client, auth, frozen_now):
    frozen_now(vn(2026, 3, 16, 16, 50))
    status, data = post(client, "/v1/dossiers", auth(HAC_THANH, "desk"), {**CERTIFY, "channel": "online"})
    assert status == 201 and data["national_code"] == 1, data
    frozen_now(vn(2026, 3, 16, 16, 59))  # the desk accepts one minute before closing
    status, data = post(client, f"/v1/dossiers/{data['code']}/actions", auth(HAC_THANH, "desk"),
                        {"action": "accept", "version": data["version"]})
    assert status == 200, data
    # The procedure publishes intake_cutoff_online: true, so the clock starts the next morning.
    assert data["due_at"] == "2026-03-17T17:00:00+07:00"


def test_online_same_day_left_to_the_province_still_gets_the_next_working_day(client, auth):
    """Without the procedure setting, the province's calendar does not cut online submissions off: the
    clock starts at 16:59, and the dossier is still due at the close of the next working day."""
    from chalicelib import bootstrap
    from chalicelib.adapters.calendar_data import national_settings
    from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
    from chalicelib.domain.catalogue import Procedure
    from chalicelib.services.catalogue import Catalogue
    from tests.unit.demo import procedure

    repo = CatalogueRepository()
    repo.publish(Procedure.from_dict({**procedure("2.000815").as_dict(), "code": "2.999815",
                                      "intake_cutoff_online": None}))
    catalogue = Catalogue(repo, national_settings)
    try:
        bootstrap.override(catalogue=catalogue, now=lambda: vn(2026, 3, 16, 16, 50))
        status, data = post(client, "/v1/dossiers", auth(HAC_THANH, "desk"),
                            {**CERTIFY, "procedure_code": "2.999815", "channel": "online"})
        assert status == 201, data
        bootstrap.override(catalogue=catalogue, now=lambda: vn(2026, 3, 16, 16, 59))
        status, data = post(client, f"/v1/dossiers/{data['code']}/actions", auth(HAC_THANH, "desk"),
                            {"action": "accept", "version": data["version"]})
        assert status == 200, data
        assert data["due_at"] == "2026-03-17T17:00:00+07:00"
    finally:
        bootstrap.override()


@pytest.mark.parametrize(("query", "clock_start", "due"), [
    ("procedure=2.000815&channel=online", "2026-03-17T07:00:00+07:00", "2026-03-17T17:00:00+07:00"),
    ("procedure=2.000815&channel=direct", "2026-03-17T07:00:00+07:00", "2026-03-17T17:00:00+07:00"),
    ("procedure=2.001417&channel=online", "2026-03-16T16:59:00+07:00", "2026-03-30T16:59:00+07:00"),
    # 15 calendar days run from the day after receipt (Civil Code Art 147): 17/03 to the close of 31/03.
    ("procedure=1.009994", "2026-03-17T00:00:00+07:00", "2026-03-31T17:00:00+07:00"),
])
def test_due_preview_for_a_procedure(client, query, clock_start, due):
    status, data = get(client, f"/v1/calendar/due?start=2026-03-16T16:59:00%2B07:00&{query}")
    assert status == 200, data
    assert (data["clock_start"], data["due_at"]) == (clock_start, due)


def test_due_preview_names_an_unknown_procedure_or_a_second_limit(client):
    status, data = get(client, "/v1/calendar/due?start=2026-03-16T10:00:00%2B07:00&procedure=9.999999")
    assert status == 400 and data["error"]["details"][0]["field"] == "procedure"
    status, _ = get(client, "/v1/calendar/due?start=2026-03-16T10:00:00%2B07:00&procedure=2.000815&days=1")
    assert status == 400
