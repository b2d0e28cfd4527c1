"""Units abolished by the 2025 reform, through the API: no intake by or for them, their successor takes
over their dossiers, `GET /v1/units` shows the validity."""

from datetime import date

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.calendar_data import national_settings
from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
from chalicelib.domain.catalogue import COMPETENT_UNIT, Procedure, Step, Unit
from chalicelib.services.catalogue import Catalogue
from tests.api.helpers import CRIMINAL_RECORD, get, post
from tests.unit.calendars import vn
from tests.unit.demo import procedure

PROVINCE, DISTRICT, WARD, OTHER_WARD = "000.00.00.T97", "000.10.30.T97", "000.11.30.T97", "000.12.30.T97"
CODE = "1.999701"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    repo = CatalogueRepository()
    for unit in (
        Unit(PROVINCE, "Tỉnh thử nghiệm", "province"),
        Unit(DISTRICT, "Huyện thử nghiệm (chấm dứt hoạt động từ 01/7/2025)", "district", PROVINCE,
             successor=WARD, valid_to=date(2025, 6, 30)),
        Unit(WARD, "Phường thử nghiệm", "commune", PROVINCE, valid_from=date(2025, 7, 1)),
        Unit(OTHER_WARD, "Xã thử nghiệm", "commune", PROVINCE, valid_from=date(2025, 7, 1)),
    ):
        repo.put_unit(unit)
    base = procedure("2.001417")
    steps = tuple(Step(s.name, COMPETENT_UNIT, s.role, s.budget) for s in base.steps)
    repo.publish(Procedure.from_dict({**base.as_dict(), "code": CODE, "competent_units": [DISTRICT, WARD],
                                      "steps": [s.as_dict() for s in steps]}))
    return Catalogue(repo, national_settings)


@pytest.fixture
def at(catalogue):
    def set_now(instant) -> None:
        bootstrap.override(catalogue=catalogue, now=lambda: instant)

    yield set_now
    bootstrap.override()


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def intake(client, auth, unit, **changes):
    return post(client, "/v1/dossiers", auth(unit, "desk"), {**CRIMINAL_RECORD, "procedure_code": CODE, **changes})


def test_units_route_shows_the_validity(client, at):
    at(vn(2026, 3, 16, 10))
    status, data = get(client, "/v1/units")
    units = {u["id"]: u for u in data["items"]}
    assert status == 200
    assert units[DISTRICT]["valid_to"] == "2025-06-30" and units[DISTRICT]["successor"] == WARD
    assert units[WARD]["valid_from"] == "2025-07-01" and units[WARD]["valid_to"] is None
    assert units["000.20.30.H56"]["valid_to"] == "2025-06-30"  # the demo district


def test_an_abolished_unit_receives_nothing(client, auth, at):
    at(vn(2026, 3, 16, 10))
    # Its desk's tokens are refused (its officers act through the successor), naming the successor.
    status, data = intake(client, auth, DISTRICT, competent_unit=DISTRICT)
    assert status == 403 and WARD in data["error"]["message"]
    status, data = intake(client, auth, WARD, competent_unit=DISTRICT)
    assert status == 400 and data["error"]["details"][0]["field"] == "competent_unit"
    # The demo's district, abolished on 1 Jul 2025, by its real identifier.
    status, data = post(client, "/v1/dossiers", auth("000.20.30.H56", "desk"), CRIMINAL_RECORD)
    assert status == 403 and "000.21.30.H56" in data["error"]["message"]


def test_a_unit_not_yet_in_operation_receives_nothing(client, auth, at):
    at(vn(2025, 6, 20, 10))
    status, data = intake(client, auth, WARD, competent_unit=WARD)
    assert status == 400 and "2025-07-01" in data["error"]["details"][0]["reason"]


def test_the_successor_takes_over_what_the_abolished_unit_left_open(client, auth, at):
    at(vn(2025, 6, 20, 10))  # before the reform: the district receives a dossier it will not finish
    status, dossier = intake(client, auth, DISTRICT, competent_unit=DISTRICT)
    assert status == 201, dossier
    code = dossier["code"]

    at(vn(2025, 7, 2, 9))
    status, _ = get(client, f"/v1/dossiers/{code}", auth(WARD, "processor"))
    assert status == 200
    status, listed = get(client, f"/v1/dossiers?unit={DISTRICT}", auth(WARD, "processor"))
    assert status == 200 and code in [d["code"] for d in listed["items"]]
    status, acted = post(client, f"/v1/dossiers/{code}/actions", auth(WARD, "processor", sub="cv.moi"),
                         {"action": "assign", "version": dossier["version"]})
    assert status == 200, acted

    assert get(client, f"/v1/dossiers/{code}", auth(OTHER_WARD, "processor"))[0] == 403
    assert get(client, f"/v1/dossiers?unit={DISTRICT}", auth(OTHER_WARD, "processor"))[0] == 403


def test_an_abolished_units_officers_lose_access_after_its_last_day_its_successors_keep_it(client, auth, at):
    at(vn(2025, 6, 30, 16))  # its last day: its officers still work
    status, dossier = intake(client, auth, DISTRICT, competent_unit=DISTRICT)
    assert status == 201, dossier
    code = dossier["code"]
    for who in (auth(DISTRICT, "processor"), auth(DISTRICT, "leader")):
        assert get(client, f"/v1/dossiers/{code}", who)[0] == 200
    at(vn(2025, 7, 1, 8))  # the next local day: refused, whatever the role, on every route
    for who in (auth(DISTRICT, "processor"), auth(DISTRICT, "leader"), auth(DISTRICT, "admin")):
        for path in (f"/v1/dossiers/{code}", f"/v1/dossiers?unit={DISTRICT}", f"/v1/dossiers/{code}/history"):
            status, data = get(client, path, who)
            assert status == 403 and "ceased operating after 2025-06-30" in data["error"]["message"], path
    assert get(client, f"/v1/dossiers/{code}", auth(WARD, "processor"))[0] == 200
    assert get(client, f"/v1/dossiers/{code}/history", auth(WARD, "desk"))[0] == 200
