"""A verified token's claims checked against the catalogue: a unit the catalogue does not know is refused whatever
the roles (admin included), and a token without a role of this API (desk, processor, leader, admin; exact names)
reads nothing behind a token."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from scripts import local_keys
from tests.api.helpers import get
from tests.conftest import _state

PROVINCE, JUSTICE = "000.00.00.H56", "000.00.11.H56"
UNKNOWN = "000.99.99.H56"  # well formed, in no catalogue
WEEK = "from=2026-03-16&to=2026-03-22"
ROUTES = [f"/v1/stats/report06?unit={{unit}}&{WEEK}", "/v1/dossiers?unit={unit}",
          "/v1/units/{unit}/notifications", "/v1/sync/status?unit={unit}"]


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def bearer(unit: str, roles: list[str]) -> dict[str, str]:
    token = local_keys.make_token(unit, roles, "someone", key_dir=_state["keys"])  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("roles", [["admin"], ["leader"], ["desk", "processor", "leader", "admin"]])
def test_a_unit_not_in_the_catalogue_is_refused_whatever_the_roles(client, roles):
    for path in ROUTES:
        for unit in (UNKNOWN, PROVINCE):  # its own (unknown) unit, or any other
            status, data = get(client, path.format(unit=unit), bearer(UNKNOWN, roles))
            assert status == 403, (path, status, data)
            assert f"unit {UNKNOWN} of the token is not in the catalogue" in data["error"]["message"]


@pytest.mark.parametrize("roles", [[], ["citizen"], ["Admin"], ["LEADER", "Desk"], ["admin "]])
def test_a_token_without_a_recognised_role_reads_nothing(client, roles):
    for path in ROUTES:
        status, data = get(client, path.format(unit=JUSTICE), bearer(JUSTICE, roles))
        assert status == 403, (path, status, data)
        assert "holds no role of this API" in data["error"]["message"]


def test_an_unrecognised_role_beside_a_recognised_one_is_ignored(client):
    # ["leader", "Admin"]: a leader of Justice, not an admin: the province's figures stay out of reach.
    assert get(client, f"/v1/stats/report06?unit={JUSTICE}&{WEEK}", bearer(JUSTICE, ["leader", "Admin"]))[0] == 200
    assert get(client, f"/v1/stats/report06?unit={PROVINCE}&{WEEK}", bearer(JUSTICE, ["leader", "Admin"]))[0] == 403
    assert get(client, f"/v1/stats/report06?unit={PROVINCE}&{WEEK}", bearer(JUSTICE, ["admin"]))[0] == 200


def test_the_control_sheet_shows_the_officers_display_name(client):
    from tests.api.helpers import CRIMINAL_RECORD, post

    desk = {**bearer("000.00.24.H56", ["desk"]), "Content-Type": "application/json"}
    named = local_keys.make_token(JUSTICE, ["processor"], "cv.binh", key_dir=_state["keys"],  # type: ignore[arg-type]
                                  name="Nguyễn Văn Bình")
    status, dossier = post(client, "/v1/dossiers", desk, CRIMINAL_RECORD)
    assert status == 201, dossier
    status, _ = post(client, f"/v1/dossiers/{dossier['code']}/actions",
                     {"Authorization": f"Bearer {named}", "Content-Type": "application/json"},
                     {"action": "assign", "version": dossier["version"]})
    assert status == 200
    status, sheet = get(client, f"/v1/dossiers/{dossier['code']}/history", desk)
    assert status == 200
    first, last = sheet["entries"][0], sheet["entries"][-1]
    assert (last["officer"], last["officer_name"]) == ("cv.binh", "Nguyễn Văn Bình")
    assert first["officer_name"] == first["officer"]  # no name claim: the user name stands in
