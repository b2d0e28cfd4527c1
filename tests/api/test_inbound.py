"""Signed inbound messages (POST /v1/inbound/{source}) through chalice.test.Client, against DynamoDB Local.

Messages are signed with the standardwebhooks package, as a sender would; one is signed by hand with hmac to pin
the scheme itself. The sources come from a real sources file, read the way the deployed service reads it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE, LAND, PROVINCE


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


NATIONAL, PORTAL_OLD, PORTAL_NEW, GATEWAY = new_secret(), new_secret(), new_secret(), new_secret()
SOURCES = {"sources": [
    {"id": "dvcqg", "kind": "national_portal", "name": "Cổng Dịch vụ công quốc gia", "secrets": [NATIONAL],
     "units": [PROVINCE]},
    {"id": "cong-tinh", "kind": "provincial_portal", "name": "Cổng DVC tỉnh", "secrets": [PORTAL_OLD, PORTAL_NEW],
     "units": [CENTRE], "procedures": ["2.001417"]},
    {"id": "vnpay", "kind": "payment_gateway", "secrets": [GATEWAY], "units": [PROVINCE]},
]}


@pytest.fixture(autouse=True)
def sources(tmp_path, monkeypatch):
    """MOTCUA_INBOUND_SOURCES naming a file, as the local stack and a file-configured stage have it."""
    from chalicelib.adapters import inbound_sources
    from chalicelib.config import settings

    path = tmp_path / "sources.json"
    path.write_text(json.dumps(SOURCES))
    configured = replace(settings(), inbound_sources=str(path))
    monkeypatch.setattr(inbound_sources, "settings", lambda: configured)
    inbound_sources.forget()
    yield path
    inbound_sources.forget()


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def submission(**changes: Any) -> dict[str, Any]:
    data = {"reference": f"DVC-{uuid.uuid4().hex[:10]}", "procedure_code": "2.001417", "receiving_unit": CENTRE,
            "competent_unit": JUSTICE, "applicant": CRIMINAL_RECORD["applicant"], "form": CRIMINAL_RECORD["form"],
            "documents": CRIMINAL_RECORD["documents"]}
    return {"type": "dossier.submitted", "timestamp": "2026-03-16T03:00:00Z", "data": {**data, **changes}}


def signed(secret: str, body: bytes, message_id: str | None = None, at: datetime | None = None) -> dict[str, str]:
    from standardwebhooks import Webhook

    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body.decode()),
            "Content-Type": "application/json"}


def send(client: Client, source: str, secret: str, message: Any, message_id: str | None = None,
         at: datetime | None = None, raw: bytes | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = raw if raw is not None else json.dumps(message, ensure_ascii=False).encode()
    headers = signed(secret, body, message_id, at)
    response = client.http.post(f"/v1/inbound/{source}", headers=headers, body=body)
    return response.status_code, json.loads(response.body), headers


def rejected(client: Client, auth, source: str) -> list[dict[str, Any]]:
    status, page = get(client, f"/v1/inbound/rejected?source={source}&limit=100", auth(PROVINCE, "admin"))
    assert status == 200, page
    return page["items"]


# --- online submissions -------------------------------------------------------------------------------------
def test_a_submission_creates_a_dossier_at_status_1_in_the_units_queue(client, auth, frozen_now):
    frozen_now(vn(2026, 3, 16, 10))
    message = submission()
    status, answer, headers = send(client, "dvcqg", NATIONAL, message)
    assert status == 200, answer
    code = answer["dossier_code"]
    assert code.startswith(f"{CENTRE}-260316-")
    assert answer == {"source": "dvcqg", "message_id": headers["webhook-id"], "type": "dossier.submitted",
                      "reference": message["data"]["reference"], "dossier_code": code, "status": "submitted",
                      "national_status": 1, "due_at": None}
    desk = auth(CENTRE, "desk")
    status, page = get(client, f"/v1/dossiers?unit={CENTRE}&status=submitted&received_from=2026-03-16"
                               f"&received_to=2026-03-16&limit=100", desk)
    assert code in [item["code"] for item in page["items"]]
    status, dossier = get(client, f"/v1/dossiers/{code}", desk)
    assert dossier["channel"] == "online" and dossier["national_code"] == 1 and dossier["clock"] is None
    assert dossier["watch"] == {"intake_overdue": "2026-03-17T10:00:00+07:00"}  # the desk has a working day
    status, sheet = get(client, f"/v1/dossiers/{code}/history", desk)
    first = sheet["entries"][0]
    assert first["officer"] == "inbound:dvcqg" and message["data"]["reference"] in first["note"]
    # The desk accepts it as any online dossier: the clock starts then.
    status, accepted = post(client, f"/v1/dossiers/{code}/actions", desk, {"action": "accept", "version": 1})
    assert status == 200 and accepted["national_code"] == 2 and accepted["due_at"]


def test_the_same_message_again_gets_the_first_answer_and_creates_nothing(client, auth, frozen_now, calls):
    frozen_now(vn(2026, 3, 17, 10))
    message = submission()
    body = json.dumps(message).encode()
    status, first, headers = send(client, "dvcqg", NATIONAL, None, raw=body)
    assert status == 200
    # A sender's retry: re-signed later with the same webhook-id and body.
    later = datetime.now(UTC) + timedelta(seconds=30)
    calls.clear()
    status, again, _ = send(client, "dvcqg", NATIONAL, None, headers["webhook-id"], later, raw=body)
    assert (status, again) == (200, first)
    assert calls["TransactWriteItems"] == 0 and calls["UpdateItem"] == 0  # no code drawn, no dossier written
    status, page = get(client, f"/v1/dossiers?unit={CENTRE}&status=submitted&received_from=2026-03-17"
                               f"&received_to=2026-03-17&limit=100", auth(CENTRE, "desk"))
    assert [i["code"] for i in page["items"]].count(first["dossier_code"]) == 1
    assert len([i for i in page["items"] if i["code"] == first["dossier_code"]]) == 1


def test_the_same_message_id_with_another_body_is_refused_and_kept(client, auth):
    status, first, headers = send(client, "dvcqg", NATIONAL, submission())
    assert status == 200
    status, error, _ = send(client, "dvcqg", NATIONAL, submission(), headers["webhook-id"])
    assert status == 422 and error["error"]["code"] == "idempotency_key_reused"
    assert error["error"]["details"][0]["field"] == "webhook-id"
    kept = [r for r in rejected(client, auth, "dvcqg") if r["message_id"] == headers["webhook-id"]]
    assert [r["error"]["code"] for r in kept] == ["idempotency_key_reused"]


def test_a_message_id_with_a_trailing_line_break_is_refused(client):
    status, error, _ = send(client, "dvcqg", NATIONAL, submission(), message_id="msg_1\n")
    assert status in (400, 401) and "webhook-id" in json.dumps(error)


def test_concurrent_deliveries_of_one_message_create_one_dossier(client, auth, frozen_now):
    frozen_now(vn(2026, 3, 18, 10))
    body = json.dumps(submission()).encode()
    headers = signed(NATIONAL, body)
    answers: list[tuple[int, dict[str, Any]]] = []

    def deliver() -> None:
        with Client(app, stage_name="local") as own:
            response = own.http.post("/v1/inbound/dvcqg", headers=headers, body=body)
            answers.append((response.status_code, json.loads(response.body)))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 4
    created = {a["dossier_code"] for s, a in answers if s == 200}
    assert len(created) == 1, answers
    assert all(s in (200, 409) for s, a in answers), answers  # 409: a transaction conflict, to retry
    status, page = get(client, f"/v1/dossiers?unit={CENTRE}&status=submitted&received_from=2026-03-18"
                               f"&received_to=2026-03-18&limit=100", auth(CENTRE, "desk"))
    assert len([i for i in page["items"] if i["code"] in created]) == 1
    assert len(page["items"]) == 1  # no second dossier under another code


def test_submissions_outside_the_sources_scope_are_refused_and_kept(client, auth):
    status, error, _ = send(client, "cong-tinh", PORTAL_NEW, submission(receiving_unit=LAND))
    assert status == 403 and LAND in error["error"]["message"]
    status, error, _ = send(client, "cong-tinh", PORTAL_NEW, submission(procedure_code="1.001612"))
    assert status == 403 and "1.001612" in error["error"]["message"]
    reasons = [r["error"]["message"] for r in rejected(client, auth, "cong-tinh")]
    assert any(LAND in r for r in reasons) and any("1.001612" in r for r in reasons)


def test_a_rotating_source_signs_with_either_secret(client):
    for secret in (PORTAL_OLD, PORTAL_NEW):
        status, answer, _ = send(client, "cong-tinh", secret, submission())
        assert status == 200, answer


def test_a_schema_error_names_the_field_and_is_kept(client, auth):
    message = submission()
    del message["data"]["applicant"]
    message["data"]["procedure_code"] = "abc"
    status, error, headers = send(client, "dvcqg", NATIONAL, message)
    assert status == 400
    fields = {d["field"] for d in error["error"]["details"]}
    assert {"data.applicant", "data.procedure_code"} <= fields
    kept = next(r for r in rejected(client, auth, "dvcqg") if r["message_id"] == headers["webhook-id"])
    assert kept["signed"] is True and kept["type"] == "dossier.submitted" and kept["error"]["code"] == "invalid_input"
    # A refusal is recorded too: the same message again gets the same 400, and is not kept twice.
    status, again, _ = send(client, "dvcqg", NATIONAL, message, headers["webhook-id"])
    assert (status, again["error"]["details"]) == (400, error["error"]["details"])
    assert [r["message_id"] for r in rejected(client, auth, "dvcqg")].count(headers["webhook-id"]) == 1


def test_a_form_that_breaks_the_procedures_schema_is_refused(client):
    status, error, _ = send(client, "dvcqg", NATIONAL, submission(form={"full_name": "Nguyễn Văn An"}))
    assert status == 400 and any(d["field"].startswith("form") for d in error["error"]["details"])


# --- signatures ------------------------------------------------------------------------------------------------
def test_a_wrong_signature_is_401_with_the_reason_and_kept_without_the_signature(client, auth):
    body = json.dumps(submission()).encode()
    headers = signed(new_secret(), body)
    response = client.http.post("/v1/inbound/dvcqg", headers=headers, body=body)
    error = json.loads(response.body)["error"]
    assert response.status_code == 401 and error["details"] == [
        {"field": "webhook-signature", "reason": "no signature matches a secret of this source"}]
    kept = next(r for r in rejected(client, auth, "dvcqg") if r["message_id"] == headers["webhook-id"])
    assert kept["signed"] is False and kept["body"] == body.decode() and kept["body_truncated"] is False
    assert headers["webhook-signature"] not in json.dumps(kept) and NATIONAL not in json.dumps(kept)


def test_a_body_changed_after_signing_is_refused(client):
    body = json.dumps(submission()).encode()
    headers = signed(NATIONAL, body)
    response = client.http.post("/v1/inbound/dvcqg", headers=headers, body=body.replace(b"DVC-", b"DVX-"))
    assert response.status_code == 401


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_401_naming_it(client, missing):
    body = json.dumps(submission()).encode()
    headers = {k: v for k, v in signed(NATIONAL, body).items() if k != missing}
    response = client.http.post("/v1/inbound/dvcqg", headers=headers, body=body)
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["details"] == [{"field": missing, "reason": "missing header"}]


@pytest.mark.parametrize(("shift", "reason"), [(timedelta(minutes=-6), "in the past"),
                                               (timedelta(minutes=6), "in the future")])
def test_a_timestamp_beyond_5_minutes_either_way_is_refused(client, shift, reason):
    status, error, _ = send(client, "dvcqg", NATIONAL, submission(), at=datetime.now(UTC) + shift)
    assert status == 401 and error["error"]["details"][0]["field"] == "webhook-timestamp"
    assert reason in error["error"]["details"][0]["reason"]


def test_a_timestamp_within_5_minutes_is_accepted(client):
    status, answer, _ = send(client, "dvcqg", NATIONAL, submission(), at=datetime.now(UTC) - timedelta(minutes=4))
    assert status == 200, answer


@pytest.mark.parametrize("signature", ["v1", "v1,not base64!", "garbage", "v2,abc="])
def test_malformed_signatures_are_401_not_500(client, signature):
    body = json.dumps(submission()).encode()
    headers = {**signed(NATIONAL, body), "webhook-signature": signature}
    response = client.http.post("/v1/inbound/dvcqg", headers=headers, body=body)
    assert response.status_code == 401, response.body


def test_a_replayed_signature_cannot_reuse_another_message_id(client):
    """The id is signed: a captured message replayed under a fresh id (to dodge the idempotency record) fails."""
    body = json.dumps(submission()).encode()
    headers = {**signed(NATIONAL, body), "webhook-id": "msg_forged"}
    assert client.http.post("/v1/inbound/dvcqg", headers=headers, body=body).status_code == 401


def test_a_message_signed_by_hand_with_hmac_is_accepted(client):
    """The scheme itself: v1, base64 of HMAC-SHA256 over `id.timestamp.body` with the secret's base64 bytes."""
    body = json.dumps(submission()).encode()
    message_id, timestamp = "msg_by_hand_" + uuid.uuid4().hex, str(int(datetime.now(UTC).timestamp()))
    key = base64.b64decode(NATIONAL.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    headers = {"webhook-id": message_id, "webhook-timestamp": timestamp, "content-type": "application/json",
               "webhook-signature": f"v1,{base64.b64encode(b'x' * 32).decode()} v1,{base64.b64encode(mac).decode()}"}
    response = client.http.post("/v1/inbound/dvcqg", headers=headers, body=body)
    assert response.status_code == 200, response.body


def test_an_unknown_source_is_404_and_nothing_is_kept(client, auth):
    status, error, _ = send(client, "nobody", NATIONAL, submission())
    assert status == 404 and error["error"]["code"] == "not_found"
    status, error = get(client, "/v1/inbound/rejected?source=nobody", auth(PROVINCE, "admin"))
    assert status == 404


def test_no_sources_configured_means_every_source_is_unknown(client, monkeypatch):
    from chalicelib.adapters import inbound_sources
    from chalicelib.config import settings

    monkeypatch.setattr(inbound_sources, "settings", lambda: replace(settings(), inbound_sources=""))
    status, _, _ = send(client, "dvcqg", NATIONAL, submission())
    assert status == 404


# --- message types and bounds ---------------------------------------------------------------------------------
def test_a_source_sends_only_the_types_its_kind_allows(client, auth):
    status, error, headers = send(client, "vnpay", GATEWAY, submission())
    assert status == 422 and error["error"]["details"] == [{"field": "type", "reason": "not allowed for a "
                                                                                       "payment_gateway"}]
    kept = next(r for r in rejected(client, auth, "vnpay") if r["message_id"] == headers["webhook-id"])
    assert kept["type"] == "dossier.submitted"
    status, error, _ = send(client, "cong-tinh", PORTAL_NEW, payment("000.00.24.H56-260316-0001", 1))
    assert status == 422 and error["error"]["details"][0]["field"] == "type"


def test_an_oversized_body_is_413_and_kept_truncated(client, auth):
    from chalicelib.config import settings

    big = submission(note="x" * 100)
    big["data"]["form"] = {"padding": "y" * (settings().max_body_bytes + 10)}
    status, error, headers = send(client, "dvcqg", NATIONAL, big)
    assert status == 413
    kept = next(r for r in rejected(client, auth, "dvcqg") if r["message_id"] == headers["webhook-id"])
    assert kept["body_truncated"] is True and len(kept["body"].encode()) <= 4096
    assert kept["body_bytes"] > settings().max_body_bytes


def test_deep_json_is_400_not_a_crash(client):
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    status, error, _ = send(client, "dvcqg", NATIONAL, {"type": "dossier.submitted", "data": {"form": deep}})
    assert status == 400 and "deeper" in json.dumps(error)
    very_deep = ("[" * 100_000 + "]" * 100_000).encode()
    status, error, _ = send(client, "dvcqg", NATIONAL, None, raw=very_deep)
    assert status == 400


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"type": "dossier.cancelled", "data": {}}',
                                 b'{"type": "dossier.submitted"}', "\ud800".encode("utf-8", "surrogatepass")])
def test_bodies_that_are_not_a_message_are_4xx(client, raw):
    body = raw
    from standardwebhooks import Webhook

    message_id, at = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    try:
        signature = Webhook(NATIONAL).sign(message_id, at, body.decode())
    except UnicodeDecodeError:
        signature = "v1,AAAA"
    headers = {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
               "webhook-signature": signature, "content-type": "application/json"}
    response = client.http.post("/v1/inbound/dvcqg", headers=headers, body=body)
    assert 400 <= response.status_code < 500, response.body


def test_a_bad_message_id_is_refused(client):
    status, error, _ = send(client, "dvcqg", NATIONAL, submission(), message_id="id with spaces")
    assert status == 400 and error["error"]["details"][0]["field"] == "webhook-id"


# --- payment notices -------------------------------------------------------------------------------------------
def payment(code: str, amount: int, reference: str | None = None) -> dict[str, Any]:
    return {"type": "payment.confirmed", "data": {
        "dossier_code": code, "amount": amount, "currency": "VND",
        "transaction_reference": reference or f"VNP{uuid.uuid4().hex[:12]}", "paid_at": "2026-07-16T08:55:00+07:00"}}


def waiting_for_payment(client, auth, frozen_now) -> dict[str, Any]:
    frozen_now(vn(2026, 7, 13, 9))
    first = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})
    processor = auth(JUSTICE, "processor", sub="cv.binh")
    for version, body in ((1, {"action": "assign"}), (2, {"action": "request_payment", "amount": 200000})):
        frozen_now(vn(2026, 7, 13 + version, 9))
        status, data = post(client, f"/v1/dossiers/{first['code']}/actions", processor, {**body, "version": version})
        assert status == 200, data
    assert data["status"] == "payment_requested" and data["clock"]["state"] == "paused"
    return first


def test_a_payment_notice_confirms_the_payment_and_the_clock_resumes(client, auth, frozen_now):
    first = waiting_for_payment(client, auth, frozen_now)
    code = first["code"]
    frozen_now(vn(2026, 7, 16, 9))
    message = payment(code, 200000, "VNP-7")
    status, answer, headers = send(client, "vnpay", GATEWAY, message)
    assert status == 200, answer
    assert answer == {"source": "vnpay", "message_id": headers["webhook-id"], "type": "payment.confirmed",
                      "reference": "VNP-7", "dossier_code": code, "status": "in_progress", "national_status": 4,
                      "due_at": "2026-07-28T09:00:00+07:00"}
    desk = auth(CENTRE, "desk")
    status, dossier = get(client, f"/v1/dossiers/{code}", desk)
    # Paused from 15 Jul 09:00 to 16 Jul 09:00: the due time moves one working day, from 27 to 28 Jul.
    assert first["due_at"] == "2026-07-27T09:00:00+07:00"
    assert dossier["clock"]["state"] == "running" and dossier["due_at"] == "2026-07-28T09:00:00+07:00"
    assert dossier["version"] == 4
    status, sheet = get(client, f"/v1/dossiers/{code}/history", desk)
    last = sheet["entries"][-1]
    assert (last["action"], last["officer"]) == ("confirm_payment", "inbound:vnpay")
    assert last["details"]["receipt_number"] == "VNP-7"
    # The gateway resends it: the same answer, and the dossier is not touched again.
    status, again, _ = send(client, "vnpay", GATEWAY, message, headers["webhook-id"])
    assert (status, again) == (200, answer)
    assert get(client, f"/v1/dossiers/{code}", desk)[1]["version"] == 4
    # A second notice (another id) for the same dossier: it no longer waits for a payment.
    status, error, _ = send(client, "vnpay", GATEWAY, payment(code, 200000))
    assert status == 422 and "not waiting for a payment" in error["error"]["message"]


def test_a_wrong_amount_is_422_with_the_reason_and_kept(client, auth, frozen_now):
    code = waiting_for_payment(client, auth, frozen_now)["code"]
    status, error, headers = send(client, "vnpay", GATEWAY, payment(code, 150000))
    assert status == 422 and error["error"]["details"] == [
        {"field": "data.amount", "reason": "150000 VND paid, 200000 VND requested"}]
    assert get(client, f"/v1/dossiers/{code}", auth(CENTRE, "desk"))[1]["status"] == "payment_requested"
    kept = next(r for r in rejected(client, auth, "vnpay") if r["message_id"] == headers["webhook-id"])
    assert kept["error"]["code"] == "action_not_allowed" and kept["type"] == "payment.confirmed"


def test_a_payment_for_an_unknown_dossier_or_one_not_waiting_is_refused(client, auth, frozen_now):
    status, error, _ = send(client, "vnpay", GATEWAY, payment("000.00.24.H56-200101-9999", 1))
    assert status == 404 and error["error"]["details"][0]["field"] == "data.dossier_code"
    frozen_now(vn(2026, 7, 20, 9))
    code = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
    status, error, _ = send(client, "dvcqg", NATIONAL, payment(code, 1))
    assert status == 422 and "status received" in error["error"]["message"]


def test_the_national_portal_may_confirm_payments_too(client, auth, frozen_now):
    code = waiting_for_payment(client, auth, frozen_now)["code"]
    status, answer, _ = send(client, "dvcqg", NATIONAL, payment(code, 200000))
    assert status == 200 and answer["status"] == "in_progress"


# --- the admin's list ------------------------------------------------------------------------------------------
def test_the_rejected_list_is_for_admins_paged_newest_first(client, auth):
    for _ in range(3):
        send(client, "cong-tinh", PORTAL_NEW, submission(receiving_unit=LAND))
    admin = auth(PROVINCE, "admin")
    status, page = get(client, "/v1/inbound/rejected?source=cong-tinh&limit=2", admin)
    assert status == 200 and len(page["items"]) == 2 and page["next_cursor"]
    assert page["items"][0]["at"] >= page["items"][1]["at"]
    status, rest = get(client, f"/v1/inbound/rejected?source=cong-tinh&limit=2&cursor={page['next_cursor']}", admin)
    assert status == 200 and {i["id"] for i in rest["items"]}.isdisjoint({i["id"] for i in page["items"]})
    status, error = get(client, f"/v1/inbound/rejected?source=vnpay&cursor={page['next_cursor']}", admin)
    assert status == 400 and error["error"]["details"][0]["field"] == "cursor"
    status, error = get(client, "/v1/inbound/rejected?source=cong-tinh", auth(CENTRE, "leader"))
    assert status == 403
    status, error = get(client, "/v1/inbound/rejected", admin)
    assert status == 400 and error["error"]["details"][0]["field"] == "source"
    assert client.http.get("/v1/inbound/rejected?source=cong-tinh").status_code == 401


def test_round_trips_of_a_submission_a_resend_and_a_payment_notice(client, auth, frozen_now, calls):
    """What one message costs (docs/performance.md): the outcome read, then the intake's own writes in one
    transaction with the outcome; a resend is one read; a payment notice reads the dossier and its history."""
    send(client, "dvcqg", NATIONAL, submission())  # warm the catalogue cache
    calls.clear()
    status, answer, headers = send(client, "dvcqg", NATIONAL, submission())
    assert status == 200
    submitted = dict(calls)
    assert submitted["TransactWriteItems"] == 1 and submitted["put:inbound"] == 1
    assert submitted["GetItem"] == 1 and submitted["UpdateItem"] == 1  # the outcome read; the daily sequence
    calls.clear()
    body_again = send(client, "dvcqg", NATIONAL, None, headers["webhook-id"],
                      raw=json.dumps(answer).encode())  # another body under the same id: refused on one read
    assert body_again[0] == 422 and calls["GetItem"] == 1 and calls["TransactWriteItems"] == 0
    code = waiting_for_payment(client, auth, frozen_now)["code"]
    calls.clear()
    assert send(client, "vnpay", GATEWAY, payment(code, 200000))[0] == 200
    assert calls["TransactWriteItems"] == 1 and calls["put:inbound"] == 1 and calls["Query"] == 1
    assert calls["GetItem"] == 3  # the outcome, the dossier, the dossier again as the action use case reads it


def test_unsigned_rejections_are_kept_up_to_a_number_per_hour(client, auth, monkeypatch):
    """Anyone may send a badly signed request: only the first UNSIGNED_KEPT_PER_HOUR of an hour are kept, so a flood
    cannot bury what an admin must see; signed rejections are always kept."""
    from chalicelib.adapters.dynamodb import inbound as store

    monkeypatch.setattr(store, "UNSIGNED_KEPT_PER_HOUR", 2)
    source = f"probe{uuid.uuid4().hex[:6]}"
    monkeypatch.setattr(store, "_unsigned_slot", lambda _s, hour, real=store._unsigned_slot: real(source, hour))
    def every_rejection() -> list[dict[str, Any]]:
        items, cursor = [], ""
        for _ in range(100):
            status, page = get(client, f"/v1/inbound/rejected?source=dvcqg&limit=100{cursor}", auth(PROVINCE, "admin"))
            assert status == 200, page
            items += page["items"]
            if not page["next_cursor"]:
                return items
            cursor = f"&cursor={page['next_cursor']}"
        raise AssertionError("too many pages")

    before = {r["id"] for r in every_rejection()}
    for _ in range(4):
        assert send(client, "dvcqg", GATEWAY, submission())[0] == 401  # another source's secret
    assert send(client, "dvcqg", NATIONAL, {"type": "dossier.submitted", "data": {}})[0] == 400  # signed
    kept = [r for r in every_rejection() if r["id"] not in before]
    assert sorted(r["signed"] for r in kept) == [False, False, True]


def hmac_signed(secret: str, body: bytes, message_id: str) -> dict[str, str]:
    """Standard Webhooks' signature computed by hand over the body's bytes, whatever they are."""
    import base64
    import hashlib
    import hmac

    at = str(int(datetime.now(UTC).timestamp()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{at}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": message_id, "webhook-timestamp": at, "content-type": "application/json",
            "webhook-signature": f"v1,{base64.b64encode(mac).decode()}"}


@pytest.mark.parametrize("body", [b'{"type": "dossier.submitted", "data": {"x": "\xff"}}', "Hóa".encode("cp1258"),
                                  "\ud800".encode("utf-8", "surrogatepass")])
def test_a_signed_body_that_is_not_utf8_is_400_naming_the_body_and_a_wrong_signature_still_401(client, body):
    message_id = f"msg_{uuid.uuid4().hex}"
    response = client.http.post("/v1/inbound/dvcqg", headers=hmac_signed(NATIONAL, body, message_id), body=body)
    error = json.loads(response.body)["error"]
    assert response.status_code == 400 and error["details"][0]["field"] == "body", error
    assert "UTF-8" in error["message"]
    headers = hmac_signed(NATIONAL, body + b" ", f"msg_{uuid.uuid4().hex}")  # signed over other bytes
    response = client.http.post("/v1/inbound/dvcqg", headers=headers, body=body)
    assert response.status_code == 401, response.body
