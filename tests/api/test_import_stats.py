"""Imported dossiers of a unit abolished by the 2025 reform count, for the days it was in operation, at that unit:
report 06 of a past period shows what the district did, and /v1/stats/inactive does not call it idle. Their
events after the abolition count at the successor the import gave them (services/statistics.py CountingUnits)."""

import random
from datetime import date
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.bootstrap import deps
from chalicelib.services.reconcile import reconcile
from tests.api.helpers import get, post
from tests.api.test_import_api import auth_module, drain  # noqa: F401  (the module-scoped token fixture)
from tests.api.test_report06 import diff
from tests.integration.relay_worker import local_deps
from tests.integration.test_relay_pipeline import relay_until_published
from tests.units import HAC_THANH, PROVINCE

DISTRICT = "000.20.30.H56"  # demo catalogue: in operation until 30 Jun 2025, succeeded by HAC_THANH
RUN = random.randrange(1000, 9999)
PERIOD = "from=2022-11-07&to=2022-11-11"  # this module's own days


def code(n: int) -> str:
    return f"{DISTRICT}-221108-{RUN}{n:02d}"


ROWS: list[dict[str, Any]] = [
    {"code": code(1), "procedure_code": "1.004873", "unit_code": DISTRICT, "competent_unit_code": DISTRICT,
     "channel": "direct", "applicant": {"name": "Lê Thị Hoa", "phone": "0912000003"},
     "received_at": "2022-11-08 09:00", "due_at": "2022-11-11 09:00", "finished_at": "2022-11-10 10:00",
     "history": [{"status": "received", "at": "2022-11-08 09:00"}, {"status": "in_progress", "at": "2022-11-08 10:00"},
                 {"status": "resolved", "at": "2022-11-10 10:00"}]},
    # Received while the district worked, still open when imported: received there, in progress there until
    # it ends (its interval stays at the unit where the clock started).
    {"code": code(2), "procedure_code": "1.004873", "unit_code": DISTRICT, "competent_unit_code": DISTRICT,
     "channel": "online", "applicant": {"name": "Lê Văn Minh", "phone": "0912000004"},
     "received_at": "2022-11-09 09:00", "due_at": "2022-11-14 09:00", "finished_at": None,
     "history": [{"status": "received", "at": "2022-11-09 09:00"},
                 {"status": "in_progress", "at": "2022-11-09 10:00"}]},
]


def report(client: Client, auth) -> dict[str, Any]:
    status, body = get(client, f"/v1/stats/report06?unit={PROVINCE}&{PERIOD}", auth(PROVINCE, "leader"))
    assert status == 200, body
    return body


@pytest.fixture(scope="module")
def imported(auth_module):  # noqa: F811
    with Client(app, stage_name="local") as client:
        drain()
        before = report(client, auth_module)
        status, body = post(client, "/v1/imports", auth_module(PROVINCE, "admin"),
                            {"source": "MotCua-2019", "rows": ROWS})
        assert status == 200 and body["imported"] == 2, body
        for c in map(code, (1, 2)):
            relay_until_published(local_deps(), c)
        yield {"counted": diff(report(client, auth_module), before), "client": client}


def test_owned_by_the_successor_but_counted_at_the_district_for_its_days(imported):
    dossier = deps().dossiers.get(code(1), consistent=True)
    assert dossier.competent_unit == HAC_THANH and dossier.imported["original_competent_unit"] == DISTRICT
    got = imported["counted"]
    assert got[(DISTRICT, "received.total")] == 2 and got[(DISTRICT, "received.online")] == 1
    assert got[(DISTRICT, "received.for_resolution")] == 2
    assert got[(DISTRICT, "resolved.early")] == 1 and got[(DISTRICT, "in_progress.total")] == 1
    assert not any(unit == HAC_THANH for unit, _ in got), got  # nothing of those days at the successor
    assert got[("total", "received.total")] == 2


def test_the_district_was_not_inactive_in_that_period(imported, auth_module):  # noqa: F811
    status, body = get(imported["client"], f"/v1/stats/inactive?unit={PROVINCE}&{PERIOD}",
                       auth_module(PROVINCE, "leader"))
    assert status == 200, body
    assert DISTRICT not in [u["unit"] for u in body["items"]]


def test_the_reconciliation_applies_the_same_rule(imported):
    report = reconcile(deps(), [code(1), code(2)], date(2022, 11, 7), date(2022, 11, 30))
    assert report["differences"] == []
