"""POST /v1/imports (admins, small batches): imported dossiers are listed, looked up publicly and counted in report 06
once the relay has published their events; the same batch again adds nothing; bad rows are named."""

import copy
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.services.relay import relay
from scripts import local_keys
from tests.api.helpers import get, post
from tests.api.test_report06 import diff
from tests.integration.relay_worker import local_deps
from tests.integration.test_relay_pipeline import relay_until_published
from tests.units import CENTRE, DONG_SON, PROVINCE

RUN = random.randrange(1000, 9999)  # the database lives for the whole test session: codes of this run only
PERIOD = "from=2023-05-15&to=2023-05-19"


def code(n: int) -> str:
    return f"{DONG_SON}-230516-{RUN}{n:02d}"


def dossier(n: int, finished: str | None, last: str, due: str = "2023-05-19 09:00") -> dict[str, Any]:
    history = [{"status": "received", "at": "2023-05-16 09:00"}, {"status": "in_progress", "at": "2023-05-16 10:00"}]
    if last in ("resolved", "withdrawn"):
        history.append({"status": last, "at": finished})
    if last == "resolved":
        history.append({"status": "returned", "at": "2023-05-26 15:00"})
    return {"code": code(n), "procedure_code": "1.004873", "unit_code": DONG_SON, "channel": "direct",
            "applicant": {"name": "Phạm Văn Nam", "phone": "0912000002"}, "received_at": "2023-05-16 09:00",
            "due_at": due, "finished_at": finished, "history": history}


ROWS = [dossier(1, "2023-05-17 10:00", "resolved"), dossier(2, "2023-05-24 10:00", "resolved"),
        dossier(3, "2023-05-18 10:00", "withdrawn"),
        {**dossier(4, "2023-05-17 10:00", "resolved"), "procedure_code": "9.999999"}]


def report(client: Client, auth) -> dict[str, Any]:
    status, body = get(client, f"/v1/stats/report06?unit={PROVINCE}&{PERIOD}", auth(PROVINCE, "leader"))
    assert status == 200, body
    return body


def drain() -> None:
    """Publish the backlog other tests left, so the report's difference is this test's alone."""
    for _ in range(200):
        if relay(local_deps(), limit=500, older_than_seconds=0)["found"] == 0:
            return


@pytest.fixture(scope="module")
def imported(auth_module):
    with Client(app, stage_name="local") as client:
        drain()
        before = report(client, auth_module)
        first = post(client, "/v1/imports", auth_module(PROVINCE, "admin"), {"source": "MotCua-2019", "rows": ROWS})
        outbox = {c: len(list(OutboxModel.query(c, consistent_read=True))) for c in map(code, (1, 2, 3))}
        again = post(client, "/v1/imports", auth_module(PROVINCE, "admin"), {"source": "MotCua-2019", "rows": ROWS})
        for c in map(code, (1, 2, 3)):
            relay_until_published(local_deps(), c)
        after = report(client, auth_module)
        yield {"first": first, "again": again, "outbox": outbox, "counted": diff(after, before), "client": client}


@pytest.fixture(scope="module")
def auth_module():
    key_dir = Path(os.environ["MOTCUA_LOCAL_JWKS"]).parent  # the suite's signing key (tests/conftest.py)

    def headers(unit: str, *roles: str) -> dict[str, str]:
        token = local_keys.make_token(unit, list(roles or ("desk",)), None, key_dir=key_dir)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    return headers


def test_a_batch_answers_each_rows_outcome_and_balances(imported):
    status, body = imported["first"]
    assert status == 200, body
    assert {k: body[k] for k in ("read", "imported", "duplicates", "rejected", "balanced")} == {
        "read": 4, "imported": 3, "duplicates": 0, "rejected": 1, "balanced": True}
    assert [r["outcome"] for r in body["rows"]] == ["imported", "imported", "imported", "rejected"]
    assert body["rows"][3]["problems"] == [{"field": "rows[3].procedure_code",
                                            "reason": "no procedure 9.999999 in the catalogue"}]


def test_the_same_batch_again_adds_nothing(imported):
    status, body = imported["again"]
    assert status == 200 and (body["imported"], body["duplicates"], body["rejected"]) == (0, 3, 1), body
    for c, n in imported["outbox"].items():
        assert len(list(OutboxModel.query(c, consistent_read=True))) == n


def test_imported_dossiers_count_in_report_06_where_live_ones_would(imported):
    got = imported["counted"]
    assert got[(DONG_SON, "received.total")] == 3 and got[(DONG_SON, "received.direct_or_postal")] == 3
    assert got[(DONG_SON, "resolved.early")] == 1 and got[(DONG_SON, "withdrawn")] == 1
    assert got[("total", "received.total")] == 3
    # The late one was resolved after the period: at its end it is in progress and overdue.
    assert got[(DONG_SON, "in_progress.total")] == 1 and got[(DONG_SON, "in_progress.overdue")] == 1


def test_the_reconciliation_recounts_what_the_counters_hold(imported):
    """make reconcile's audit path, from the imported dossiers and their control sheets, agrees with the counters
    the events made (the period is this test's alone)."""
    from datetime import date

    from chalicelib.bootstrap import deps
    from chalicelib.services.reconcile import reconcile

    report = reconcile(deps(), [code(1), code(2), code(3)], date(2023, 5, 15), date(2023, 5, 31))
    assert report["differences"] == []


def test_imported_dossiers_are_listed_and_looked_up_publicly(imported, auth_module):
    client = imported["client"]
    status, page = get(client, f"/v1/dossiers?unit={DONG_SON}&view=received&received_from=2023-05-16"
                               "&received_to=2023-05-16", auth_module(DONG_SON, "desk"))
    assert status == 200, page
    assert {code(1), code(2), code(3)} <= {item["code"] for item in page["items"]}
    status, public = get(client, f"/v1/public/dossiers/{code(1)}")
    assert status == 200 and public["status"] == "returned", public
    status, dossier = get(client, f"/v1/dossiers/{code(2)}", auth_module(DONG_SON, "desk"))
    assert status == 200 and dossier["imported"]["source"] == "MotCua-2019", dossier
    assert dossier["outcome"] == "late" and dossier["due_at"] == "2023-05-19T09:00:00+07:00"
    status, history = get(client, f"/v1/dossiers/{code(2)}/history", auth_module(DONG_SON, "desk"))
    assert status == 200 and [h["action"] for h in history["entries"]][-2:] == ["resolve", "return_result"], history


def test_only_admins_import(auth_module):
    with Client(app, stage_name="local") as client:
        status, body = post(client, "/v1/imports", auth_module(CENTRE, "desk", "leader"),
                            {"source": "x", "rows": [dossier(9, None, "in_progress")]})
    assert status == 403, body


@pytest.mark.parametrize("change, field", [
    (lambda rows: rows[1].update(channel="fax"), "rows[1].channel"),
    (lambda rows: rows[0]["history"][1].update(status="archived"), "rows[0].history[1].status"),
    (lambda rows: rows[1].pop("code"), "rows[1].code"),
    (lambda rows: rows[0].update(code="HS/2023/1"), "rows[0].code"),
])
def test_a_malformed_batch_is_a_400_naming_the_row_and_field(auth_module, change, field):
    rows = copy.deepcopy(ROWS[:2])
    change(rows)
    with Client(app, stage_name="local") as client:
        status, body = post(client, "/v1/imports", auth_module(PROVINCE, "admin"), {"source": "x", "rows": rows})
    assert status == 400, body
    assert field in {d["field"] for d in body["error"]["details"]}, body


def test_a_batch_is_bounded(auth_module):
    with Client(app, stage_name="local") as client:
        status, body = post(client, "/v1/imports", auth_module(PROVINCE, "admin"),
                            {"source": "x", "rows": [ROWS[0]] * 501})
    assert status in (400, 413), body
    assert json.dumps(body).count("rows") >= 1


def test_an_open_imported_dossier_goes_on_in_motcua(auth_module):
    """Imported in progress, its deadlines watched; officers carry it on to its result like any other."""
    from datetime import timedelta

    from chalicelib.bootstrap import deps

    now = deps().now()
    received = (now - timedelta(hours=2)).isoformat(timespec="seconds")
    row = {"code": f"{DONG_SON}-240101-{RUN}77", "procedure_code": "1.004873", "unit_code": DONG_SON,
           "channel": "direct", "applicant": {"name": "Bùi Thị Mai"}, "received_at": received,
           "due_at": (now + timedelta(days=4)).isoformat(timespec="seconds"),
           "history": [{"status": "received", "at": received}, {"status": "in_progress", "at": received}]}
    with Client(app, stage_name="local") as client:
        status, body = post(client, "/v1/imports", auth_module(PROVINCE, "admin"), {"source": "x", "rows": [row]})
        assert status == 200 and body["imported"] == 1, body
        code_ = row["code"]
        status, dossier = get(client, f"/v1/dossiers/{code_}", auth_module(DONG_SON, "processor"))
        assert status == 200 and dossier["status"] == "in_progress", dossier
        for unit_role, action, extra in (("processor", "assign", {}), ("processor", "complete_step", {}),
                                          ("leader", "resolve", {"result": {"summary": "Giấy khai sinh"}})):
            status, dossier = get(client, f"/v1/dossiers/{code_}", auth_module(DONG_SON, unit_role))
            status, dossier = post(client, f"/v1/dossiers/{code_}/actions", auth_module(DONG_SON, unit_role),
                                   {"action": action, "version": dossier["version"], **extra})
            assert status == 200, (action, dossier)
        assert dossier["status"] == "resolved" and dossier["outcome"] in ("early", "on_time")


def test_codes_that_would_break_the_intake_are_rejected_with_their_reason(auth_module):
    """The code the issue saw accepted (today's last 9-digit number: the unit's next intake got a tenth digit),
    and a code naming a day after today."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    rows = [{**dossier(n, "2023-05-17 10:00", "resolved"), "code": c} for n, c in (
        (20, f"{DONG_SON}-{today:%y%m%d}-999999999"), (21, f"{DONG_SON}-{today + timedelta(days=1):%y%m%d}-0001"))]
    with Client(app, stage_name="local") as client:
        status, body = post(client, "/v1/imports", auth_module(PROVINCE, "admin"), {"source": "MotCua-2019",
                                                                                   "rows": rows})
    assert status == 200 and body["rejected"] == 2, body
    reasons = [r["problems"][0] for r in body["rows"]]
    assert [p["field"] for p in reasons] == ["rows[0].code", "rows[1].code"]
    assert "the last the code format holds" in reasons[0]["reason"] and "a day after today" in reasons[1]["reason"]


@pytest.mark.parametrize("body", [b"not json", b'{"source": "x"}',
                                  b'{"source": "x", "rows": "' + b"x" * 300_000 + b'"}'])
def test_the_role_is_checked_before_the_body(auth_module, body):
    with Client(app, stage_name="local") as client:
        response = client.http.post("/v1/imports", headers=auth_module(CENTRE, "processor"), body=body)
    assert response.status_code == 403, response.body
