"""Outbound webhooks end to end on DynamoDB Local, with a real HTTP receiver on loopback: subscriptions and their
checks, retries with backoff on a moved clock, 410, giving up after 3 days, redelivery, rotation, and a slow
receiver that never slows intake."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from chalice.test import Client
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.models import WebhookModel
from chalicelib.adapters.http_sender import HttpSender
from chalicelib.bootstrap import deps
from chalicelib.domain.clock import parse_iso
from chalicelib.services import webhook_delivery
from chalicelib.services.relay import relay
from tests.api.helpers import CRIMINAL_RECORD, get, post
from tests.units import CENTRE, JUSTICE, LAND


class Receiver:
    """A real HTTP server on loopback: answers the statuses queued (then `default`), after `delay` seconds, and
    keeps every request (headers, body)."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.default = 200
        self.delay = 0.0
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                time.sleep(receiver.delay)
                status = receiver.answers.pop(0) if receiver.answers else receiver.default
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/motcua"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


class Clock:
    def __init__(self) -> None:
        # Real time (signatures are checked with a 5-minute tolerance), moved by hand from there.
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def drain_outbox() -> None:
    """Publish what earlier tests left in the outbox (the contract tour writes events it never relays) before this
    test subscribes: else this test's relay would record deliveries of those events to its receiver too, and they
    would take the answers the test queued for its own delivery."""
    for _ in range(50):
        if relay(deps(), older_than_seconds=0)["found"] == 0:
            return
    raise AssertionError("the outbox does not drain")


@pytest.fixture
def clock() -> Iterator[Clock]:
    drain_outbox()
    c = Clock()
    bootstrap.override(now=c, webhooks=replace(deps().webhooks, draw=lambda: 0.5))
    yield c
    bootstrap.override()
    for item in WebhookModel.query("webhook"):  # no subscription outlives its test (other tests relay events)
        item.delete()


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app, stage_name="local") as c:
        yield c


def call(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    response = client.http.request(method, path, headers=headers, body=json.dumps(body) if body is not None else b"")
    return response.status_code, json.loads(response.body) if response.body else None


def subscribe(client: Client, auth: Callable[..., dict[str, str]], url: str, **extra: Any) -> dict[str, Any]:
    status, data = post(client, "/v1/webhooks", auth(CENTRE, "admin"), {"url": url, **extra})
    assert status == 201, data
    return data


def deliveries(client: Client, auth: Callable[..., dict[str, str]], webhook_id: str,
               code: str | None = None) -> list[dict[str, Any]]:
    """The subscription's deliveries (of one dossier, when `code` is given)."""
    status, data = get(client, f"/v1/webhooks/{webhook_id}/deliveries", auth(CENTRE, "admin"))
    assert status == 200, data
    return [d for d in data["items"] if code is None or d["code"] == code]


def receive_and_relay(client: Client, auth: Callable[..., dict[str, str]]) -> str:
    status, dossier = post(client, "/v1/dossiers", auth(CENTRE, "desk"), CRIMINAL_RECORD)
    assert status == 201, dossier
    relay(deps(), older_than_seconds=0)
    return str(dossier["code"])


def run_until_settled(clock: Clock, delivery_id: str, limit: int = 100) -> dict[str, Any]:
    """Sweep, then move the clock to the next attempt, until the delivery is no longer pending."""
    for _ in range(limit):
        webhook_delivery.sweep(deps())
        current = deps().webhooks.store.delivery(delivery_id)
        assert current is not None
        if current["status"] != "pending":
            return current
        clock.now = parse_iso(current["next_at"])
    raise AssertionError("still pending")


def test_fails_three_times_then_delivered_with_the_backoff_schedule_and_a_signature_that_verifies(
        client, auth, clock, receiver):
    hook = subscribe(client, auth, receiver.url, event_types=["dossier.received"], description="Cổng tỉnh")
    assert hook["secret"].startswith("whsec_") and hook["event_types"] == ["dossier.received"]
    _, shown = get(client, f"/v1/webhooks/{hook['id']}", auth(CENTRE, "admin"))
    assert "secret" not in shown and "whsec_" not in json.dumps(shown)
    code = receive_and_relay(client, auth)
    [delivery] = deliveries(client, auth, hook["id"], code)
    assert delivery["status"] == "pending" and delivery["event_type"] == "dossier.received"
    assert receiver.requests == []  # recorded by the consumer, not sent: nothing waited on the receiver

    receiver.answers = [500, 503, 429]
    start = clock.now
    done = run_until_settled(clock, delivery["id"])
    assert done["status"] == "delivered"
    [shown] = deliveries(client, auth, hook["id"], code)
    assert [a["http_status"] for a in shown["attempts"]] == [500, 503, 429, 200]
    # Full jitter drew 0.5: waits of half the cap, 30 s, 60 s, 120 s, floored at 5 s.
    times = [parse_iso(a["at"]) for a in shown["attempts"]]
    assert [int((b - a).total_seconds()) for a, b in zip([start, *times], times, strict=False)][1:] == [15, 30, 60]
    assert shown["next_attempt_at"] is None and shown["attempt_count"] == 4

    # Every attempt carries the same webhook-id, its own timestamp, and verifies with the secret.
    assert len(receiver.requests) == 4 and {h["webhook-id"] for h, _ in receiver.requests} == {delivery["id"]}
    headers, body = receiver.requests[-1]
    payload = Webhook(hook["secret"]).verify(body, headers)
    assert payload["code"] == code and payload["type"] == "dossier.received"
    assert {"id", "seq", "version", "occurred_at", "timestamp", "data"} <= set(payload)
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(body.replace(b"received", b"resolved"), headers)


def test_consuming_an_event_twice_records_one_delivery(client, auth, clock, receiver):
    from chalicelib.adapters.dynamodb.models import OutboxModel
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import webhooks

    hook = subscribe(client, auth, receiver.url)
    code = receive_and_relay(client, auth)
    events = [DomainEvent.from_dict(i.event) for i in OutboxModel.query(code, consistent_read=True)]
    before = deliveries(client, auth, hook["id"], code)
    for event in events:
        webhooks.on_event(deps(), event)
    assert len(deliveries(client, auth, hook["id"], code)) == len(before) == len(events)


def test_a_410_disables_the_subscription_and_says_why_until_an_admin_reenables_it(client, auth, clock, receiver):
    hook = subscribe(client, auth, receiver.url, event_types=["dossier.received"])
    code = receive_and_relay(client, auth)
    receiver.default = 410
    [delivery] = deliveries(client, auth, hook["id"], code)
    assert run_until_settled(clock, delivery["id"])["status"] == "failed"
    _, shown = get(client, f"/v1/webhooks/{hook['id']}", auth(CENTRE, "admin"))
    assert shown["active"] is False and "410" in shown["disabled_reason"] and shown["disabled_at"]
    later = receive_and_relay(client, auth)
    assert deliveries(client, auth, hook["id"], later) == []  # nothing recorded while disabled
    status, again = call(client, "PATCH", f"/v1/webhooks/{hook['id']}", auth(CENTRE, "admin"),
                         {"active": True, "version": shown["version"]})
    assert status == 200 and again["active"] and again["disabled_reason"] is None


def test_a_receiver_failing_for_3_days_is_given_up_then_redelivered_by_an_admin(client, auth, clock, receiver):
    hook = subscribe(client, auth, receiver.url, event_types=["dossier.received"])
    code = receive_and_relay(client, auth)
    receiver.default = 503
    [delivery] = deliveries(client, auth, hook["id"], code)
    created = parse_iso(delivery["created_at"])
    dead = run_until_settled(clock, delivery["id"])
    assert dead["status"] == "failed" and "gave up after 3 days" in dead["last_error"]
    assert parse_iso(dead["attempts"][-1]["at"]) == created + timedelta(days=3)  # the last try: the window's end
    sent = [h for h, _ in receiver.requests if h["webhook-id"] == delivery["id"]]
    assert 20 < dead["attempt_count"] == len(sent) < 40
    [listed] = deliveries(client, auth, hook["id"], code)
    assert listed["status"] == "failed" and listed["attempts"][0]["http_status"] == 503

    status, failed_only = get(client, f"/v1/webhooks/{hook['id']}/deliveries?status=failed", auth(CENTRE, "admin"))
    assert status == 200 and delivery["id"] in [d["id"] for d in failed_only["items"]]
    assert all(d["status"] == "failed" for d in failed_only["items"])
    receiver.default = 200
    status, redone = post(client, f"/v1/webhooks/{hook['id']}/redeliver-failed", auth(CENTRE, "admin"), {})
    assert status == 202 and redone == {"webhook_id": hook["id"], "redelivered": len(failed_only["items"])}
    assert run_until_settled(clock, delivery["id"])["status"] == "delivered"

    # One delivery again, on demand, with a new window; its earlier attempts stay listed.
    status, one = post(client, f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver",
                       auth(CENTRE, "admin"), {})
    assert status == 202 and one["status"] == "pending"
    status, busy = post(client, f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver",
                        auth(CENTRE, "admin"), {})
    assert status == 400 and busy["error"]["details"][0]["field"] == "delivery_id"
    final = run_until_settled(clock, delivery["id"])
    assert final["status"] == "delivered" and final["attempt_count"] == dead["attempt_count"] + 2


def test_rotation_signs_with_both_secrets_during_the_grace_period(client, auth, clock, receiver):
    hook = subscribe(client, auth, receiver.url)
    status, rotated = post(client, f"/v1/webhooks/{hook['id']}/rotate-secret", auth(CENTRE, "admin"),
                           {"version": hook["version"], "grace_hours": 24})
    assert status == 200 and rotated["secret"] != hook["secret"] and len(rotated["secrets"]) == 2
    status, ping = post(client, f"/v1/webhooks/{hook['id']}/ping", auth(CENTRE, "admin"), {})
    assert status == 202 and ping["event_type"] == "webhook.ping"
    assert run_until_settled(clock, ping["id"])["status"] == "delivered"
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (hook["secret"], rotated["secret"]):
        assert Webhook(secret).verify(body, headers)["type"] == "webhook.ping"

    status, cut = post(client, f"/v1/webhooks/{hook['id']}/rotate-secret", auth(CENTRE, "admin"),
                       {"version": rotated["version"], "grace_hours": 0})
    assert status == 200 and len(cut["secrets"]) == 1
    _, ping = post(client, f"/v1/webhooks/{hook['id']}/ping", auth(CENTRE, "admin"), {})
    run_until_settled(clock, ping["id"])
    headers, body = receiver.requests[-1]
    assert Webhook(cut["secret"]).verify(body, headers)
    for old in (hook["secret"], rotated["secret"]):
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(body, headers)
    status, stale = post(client, f"/v1/webhooks/{hook['id']}/rotate-secret", auth(CENTRE, "admin"),
                         {"version": rotated["version"]})
    assert status == 409


def test_a_slow_receiver_never_slows_intake_transitions_or_the_relay(client, auth, clock, receiver):
    receiver.delay = 3.0
    bootstrap.override(now=clock, webhooks=replace(deps().webhooks, draw=lambda: 0.5,
                                                   sender=HttpSender(public_only=False, read_timeout=0.5)))
    hook = subscribe(client, auth, receiver.url)
    started = time.monotonic()
    status, dossier = post(client, "/v1/dossiers", auth(CENTRE, "desk"), CRIMINAL_RECORD)
    intake = time.monotonic() - started
    assert status == 201
    relay(deps(), older_than_seconds=0)  # the consumer records the deliveries: it sends nothing
    started = time.monotonic()
    status, _ = post(client, f"/v1/dossiers/{dossier['code']}/actions", auth(CENTRE, "desk"),
                     {"action": "withdraw", "reason": "Công dân rút hồ sơ", "version": dossier["version"]})
    action = time.monotonic() - started
    assert status == 200
    relay(deps(), older_than_seconds=0)
    assert receiver.requests == []  # nothing reached the receiver before the sweep: nobody waited on it
    assert intake < 3.0 and action < 3.0  # either would have taken the receiver's 3 s had it waited
    pending = deliveries(client, auth, hook["id"], dossier["code"])
    assert len(pending) >= 4 and all(d["status"] == "pending" for d in pending)
    started = time.monotonic()
    webhook_delivery.sweep(deps())  # attempts side by side, each cut at the read timeout
    assert time.monotonic() - started < 3.0
    tried = deliveries(client, auth, hook["id"], dossier["code"])
    assert all(d["status"] == "pending" and d["attempt_count"] == 1 for d in tried)
    assert all("timeout" in (d["last_error"] or "") for d in tried)


def test_admins_only_and_every_bad_input_named(client, auth, clock, receiver):
    admin = auth(CENTRE, "admin")
    status, denied = post(client, "/v1/webhooks", auth(CENTRE, "leader"), {"url": receiver.url})
    assert status == 403
    status, _ = get(client, "/v1/webhooks", auth(JUSTICE, "desk"))
    assert status == 403
    status, _ = get(client, "/v1/webhooks")
    assert status == 401
    for body, field in (({"url": "http://hooks.example.vn/x"}, "url"),
                        ({"url": "https://169.254.169.254/latest"}, "url"),
                        ({"url": receiver.url, "event_types": ["dossier.exploded"]}, "event_types"),
                        ({"url": receiver.url, "unit": "000.00.99.H99"}, "unit"),
                        ({"url": receiver.url, "secret": "whsec_mine"}, "secret"),
                        ({"url": 7}, "url")):
        status, error = post(client, "/v1/webhooks", admin, body)
        assert status == 400, body
        assert field in json.dumps(error["error"]["details"]), (body, error)
    status, _ = get(client, "/v1/webhooks/wh_nothex", admin)
    assert status == 400
    status, _ = get(client, f"/v1/webhooks/wh_{'0' * 32}", admin)
    assert status == 404
    status, _ = get(client, f"/v1/webhooks/wh_{'0' * 32}/deliveries", admin)
    assert status == 404
    status, _ = post(client, f"/v1/webhooks/wh_{'0' * 32}/deliveries/msg_{'0' * 32}/redeliver", admin, {})
    assert status == 404

    first = subscribe(client, auth, receiver.url, unit=JUSTICE)
    second = subscribe(client, auth, receiver.url, active=False)
    status, page = get(client, "/v1/webhooks?limit=1", admin)
    assert status == 200 and len(page["items"]) == 1 and page["next_cursor"]
    status, rest = get(client, f"/v1/webhooks?limit=1&cursor={page['next_cursor']}", admin)
    assert status == 200 and {page["items"][0]["id"], rest["items"][0]["id"]} <= {first["id"], second["id"]}
    status, _ = get(client, f"/v1/webhooks?cursor={page['next_cursor']}x", admin)
    assert status == 400
    status, changed = call(client, "PATCH", f"/v1/webhooks/{first['id']}", admin,
                           {"version": first["version"], "unit": None, "description": "Sở Tư pháp"})
    assert status == 200 and changed["unit"] is None and changed["url"] == receiver.url
    status, _ = call(client, "PATCH", f"/v1/webhooks/{first['id']}", admin, {"version": first["version"]})
    assert status == 409
    status, gone = call(client, "DELETE", f"/v1/webhooks/{first['id']}", admin)
    assert status == 200 and gone == {"id": first["id"], "deleted": True}
    status, _ = call(client, "DELETE", f"/v1/webhooks/{first['id']}", admin)
    assert status == 404


def test_the_unit_filter_follows_the_subtree(client, auth, clock, receiver):
    mine = subscribe(client, auth, receiver.url, unit=JUSTICE, event_types=["dossier.received"])
    other = subscribe(client, auth, receiver.url, unit=LAND, event_types=["dossier.received"])
    code = receive_and_relay(client, auth)  # the criminal record: competent unit JUSTICE
    assert len(deliveries(client, auth, mine["id"], code)) == 1
    assert deliveries(client, auth, other["id"], code) == []


def test_the_scheduled_sweep_sends_through_the_lambda_handler(client, auth, clock, receiver):
    hook = subscribe(client, auth, receiver.url, event_types=["dossier.received"])
    code = receive_and_relay(client, auth)
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[])
    report = client.lambda_.invoke("webhook_sweep", event).payload
    assert report["due"] >= 1 and report.get("delivered", 0) >= 1
    [delivery] = deliveries(client, auth, hook["id"], code)
    assert delivery["status"] == "delivered" and delivery["attempts"][0]["duration_ms"] >= 0


def test_history_is_a_subscriptions_choice_off_by_default(client, auth, clock, receiver):
    """`include_history` (docs/import.md): imported dossiers' events only to subscriptions that ask for them;
    live events go to every subscription whatever it says."""
    plain = subscribe(client, auth, receiver.url, event_types=["dossier.received"])
    assert plain["include_history"] is False
    status, changed = call(client, "PATCH", f"/v1/webhooks/{plain['id']}", auth(CENTRE, "admin"),
                           {"version": plain["version"], "include_history": True})
    assert status == 200 and changed["include_history"] is True, changed
    status, again = call(client, "PATCH", f"/v1/webhooks/{plain['id']}", auth(CENTRE, "admin"),
                         {"version": changed["version"], "description": "kept"})
    assert status == 200 and again["include_history"] is True  # what is not given stays
    status, error = post(client, "/v1/webhooks", auth(CENTRE, "admin"), {"url": receiver.url,
                                                                        "include_history": "yes"})
    assert status == 400 and "include_history" in json.dumps(error), error
    live = subscribe(client, auth, receiver.url, event_types=["dossier.received"], include_history=False)
    code = receive_and_relay(client, auth)
    assert len(deliveries(client, auth, live["id"], code)) == 1
    assert len(deliveries(client, auth, plain["id"], code)) == 1
