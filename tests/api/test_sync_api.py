"""The national portal sync through the API: a dossier's life goes through the relay and the consumer, the worker
pushes it to a fake portal on loopback, and `GET /v1/dossiers/{code}/sync` and `GET /v1/sync/status` show it
synced, pending or failing. Unit figures are compared as differences: other tests' dossiers share the units."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.adapters.portal_client import HttpPortalClient
from chalicelib.bootstrap import deps, override
from chalicelib.config import PortalSettings
from chalicelib.services import portal_sync
from chalicelib.services.relay import relay
from scripts.fake_portal import FakePortal
from tests.api.helpers import get, post, receive
from tests.units import CENTRE, JUSTICE, LAND, PROVINCE


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app, stage_name="local") as c:
        yield c


@pytest.fixture
def fake() -> Iterator[tuple[FakePortal, PortalSettings]]:
    with FakePortal() as portal:
        s = PortalSettings(base_url=portal.url, connect_timeout=0.5, read_timeout=1.0, failing_after=1,
                           backoff_base=0.0, backoff_cap=0.0)
        override(portal=HttpPortalClient(s))
        try:
            yield portal, s
        finally:
            override()


def relay_all() -> None:
    for _ in range(20):
        if relay(deps(), limit=500, older_than_seconds=0)["found"] == 0:
            return


def status(client: Client, auth, unit: str = PROVINCE, caller: tuple[str, str] = (PROVINCE, "leader")
           ) -> dict[str, Any]:
    code, body = get(client, f"/v1/sync/status?unit={unit}", auth(*caller))
    assert code == 200, body
    return body


def row(body: dict[str, Any], unit: str) -> dict[str, Any]:
    return next((r for r in body["units"] if r["unit"] == unit), {"synced": 0, "pending": 0, "failing": 0})


def test_a_dossier_life_reaches_the_portal_and_shows_synced(client, auth, fake):
    portal, s = fake
    relay_all()
    before = row(status(client, auth), CENTRE)
    code = receive(client, auth)["code"]
    for action, unit, role in (("assign", JUSTICE, "processor"), ("withdraw", CENTRE, "desk")):
        _, dossier = get(client, f"/v1/dossiers/{code}", auth(CENTRE, "desk"))
        answer, body = post(client, f"/v1/dossiers/{code}/actions", auth(unit, role),
                            {"action": action, "version": dossier["version"], "reason": "Công dân rút"}
                            if action == "withdraw" else {"action": action, "version": dossier["version"]})
        assert answer == 200, body
    relay_all()
    answer, view = get(client, f"/v1/dossiers/{code}/sync", auth(CENTRE, "desk"))
    assert answer == 200 and view["status"] == "pending" and view["pushed"] == 0 and view["items"]
    assert row(status(client, auth), CENTRE)["pending"] == before["pending"] + 1

    portal_sync.push(deps(), s, codes=[code])
    got = portal.by_dossier()[code]
    assert [(e["service"], e["body"]["TrangThaiHoSo"]) for e in got] == [
        ("DongBoHoSoMC", 2), ("CapNhatTienDoHoSoMC", 4), ("CapNhatTienDoHoSoMC", 7)]
    assert got[0]["body"]["ChuHoSo"] == "Nguyễn Văn An" and "SoDienThoai" not in got[0]["body"]
    answer, view = get(client, f"/v1/dossiers/{code}/sync", auth(CENTRE, "desk"))
    assert answer == 200 and view["status"] == "synced" and view["announced"] and view["pushed"] == 3
    assert [i["national_code"] for i in view["items"] if i["pushed"]] == [7, 4, 2]  # newest first
    assert all(i["acked_at"] for i in view["items"] if i["pushed"])
    assert all(i["acked_at"] is None and i["service"] is None for i in view["items"] if not i["pushed"])
    after = row(status(client, auth), CENTRE)
    assert after["synced"] == before["synced"] + 1 and after["pending"] == before["pending"]


def test_a_failing_dossier_is_visible_to_its_unit_and_to_the_leaders_above(client, auth, fake):
    portal, s = fake
    relay_all()
    before = status(client, auth)
    code = receive(client, auth)["code"]
    relay_all()
    portal.fail(1000)
    portal_sync.push(deps(), s, codes=[code])
    _, view = get(client, f"/v1/dossiers/{code}/sync", auth(JUSTICE, "processor"))
    assert view["status"] == "failing" and view["attempts"] == 1 and "HTTP 503" in view["last_error"]
    assert view["next_attempt_at"].endswith("+07:00")
    now = status(client, auth)
    assert now["failing"] == before["failing"] + 1 and row(now, CENTRE)["failing"] == row(before, CENTRE)["failing"] + 1
    assert now["oldest_pending"] is not None
    own = status(client, auth, CENTRE, (CENTRE, "desk"))
    assert own["unit"] == CENTRE and [r["unit"] for r in own["units"]] == [CENTRE]
    portal.fail(0)
    portal_sync.push(deps(), s, codes=[code])
    assert status(client, auth)["failing"] == before["failing"]


def test_who_may_ask_and_bad_input(client, auth):
    answer, body = get(client, f"/v1/sync/status?unit={PROVINCE}", auth(LAND, "desk"))
    assert answer == 403
    answer, body = get(client, "/v1/sync/status?unit=not a unit", auth(PROVINCE, "leader"))
    assert answer == 400 and body["error"]["details"][0]["field"] == "unit"
    answer, body = get(client, "/v1/sync/status?unit=999.99.99.H99", auth(PROVINCE, "admin"))
    assert answer in (400, 404), body
    answer, body = get(client, "/v1/sync/status?units=x", auth(PROVINCE, "leader"))
    assert answer == 400
    answer, _ = get(client, "/v1/sync/status")
    assert answer == 401
    code = receive(client, auth)["code"]
    assert get(client, f"/v1/dossiers/{code}/sync", auth(LAND, "desk"))[0] == 403
    assert get(client, f"/v1/dossiers/{CENTRE}-260101-9999/sync", auth(CENTRE, "desk"))[0] == 404


def test_the_queue_function_records_and_the_schedule_pushes_only_when_a_portal_is_configured(client, auth):
    from tests.api.test_event_handlers import envelope

    code = receive(client, auth)["code"]
    events = [e for e in deps().outbox.pending(1000) if e.code == code]
    sqs = client.events.generate_sqs_event(queue_name="portal-sync",
                                           message_bodies=[envelope(e) for e in reversed(events)])
    report = client.lambda_.invoke("portal_sync_consumer", sqs).payload
    assert report == {"batchItemFailures": []}  # every record applied
    state = deps().sync.state(code)
    assert state is not None and state.recorded == len(events) and state.status == "pending"
    again = client.lambda_.invoke("portal_sync_consumer", sqs).payload  # redelivered: nothing recorded twice
    assert again == {"batchItemFailures": []} and deps().sync.state(code).recorded == len(events)  # type: ignore[union-attr]
    tick = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                           resources=[])
    assert client.lambda_.invoke("portal_sync_push", tick).payload == {"due": 0, "configured": 0}
