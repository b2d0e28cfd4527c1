"""An online submission of a procedure the catalogue does not offer online is refused at intake: at the API with a
400 naming the channel, from the portal with the same answer, kept with the source's rejected messages."""

from __future__ import annotations

from chalice.test import Client

from app import app
from tests.api.helpers import post
from tests.api.test_inbound import NATIONAL, rejected, send, sources, submission  # noqa: F401 (fixture)
from tests.unit.calendars import vn
from tests.units import CENTRE, DONG_SON

LAND_FORM = {"parcel": {"map_sheet": 12, "parcel_number": 345}, "area_m2": 120.5, "land_use": "ONT"}
LAND = {"procedure_code": "1.004227", "competent_unit": DONG_SON, "form": LAND_FORM,
        "applicant": {"name": "Lê Thị Hoa", "id_number": "038090005678"}, "documents": []}


def test_the_desk_api_refuses_an_online_submission_of_a_procedure_not_offered_online(auth, frozen_now):
    frozen_now(vn(2026, 3, 16, 10))
    with Client(app, stage_name="local") as client:
        status, body = post(client, "/v1/dossiers", auth(CENTRE, "desk"), {**LAND, "channel": "online"})
        assert status == 400, body
        assert body["error"]["details"][0]["field"] == "channel"
        assert "not offered" in body["error"]["details"][0]["reason"]
        status, body = post(client, "/v1/dossiers", auth(CENTRE, "desk"), {**LAND, "channel": "direct"})
        assert status == 201, body


def test_the_portal_gets_the_same_refusal_and_the_admin_sees_it(auth, frozen_now):
    frozen_now(vn(2026, 3, 16, 10))
    with Client(app, stage_name="local") as client:
        status, answer, headers = send(client, "dvcqg", NATIONAL, submission(
            procedure_code="1.004227", competent_unit=DONG_SON, form=LAND_FORM))
        assert status == 400, answer
        assert answer["error"]["details"][0]["field"] == "channel"
        kept = [r for r in rejected(client, auth, "dvcqg") if r["message_id"] == headers["webhook-id"]]
        assert kept and kept[0]["error"]["code"] == "invalid_input"
