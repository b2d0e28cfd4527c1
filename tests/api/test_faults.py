"""Faults at the edge: every answer in the envelope with a request id; 503 with Retry-After when the database
does not answer; items too large for DynamoDB refused before a number is drawn; one dossier per
Idempotency-Key whatever fails in between; log lines printed once."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from tests.api.helpers import CRIMINAL_RECORD, get, post
from tests.units import CENTRE, JUSTICE

ROOT = Path(__file__).resolve().parents[2]
EMOJI_DOCUMENTS = [{"name": "😀" * 500, "copies": 1} for _ in range(100)]


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c
    bootstrap.override()


def _counters():
    from chalicelib.adapters.dynamodb.models import CounterModel

    return {c.name: c.value for c in CounterModel.scan()}


def test_every_answer_carries_a_request_id_in_its_header_and_errors_in_their_body(client, auth):
    ok = client.http.get("/v1/health")
    assert ok.status_code == 200 and len(ok.headers["X-Request-Id"]) >= 16
    bad = client.http.get("/v1/public/dossiers/not-a-code")
    body = json.loads(bad.body)
    assert bad.status_code == 400 and body["error"]["request_id"] == bad.headers["X-Request-Id"]
    assert bad.headers["X-Request-Id"] != ok.headers["X-Request-Id"]
    exposed = client.http.get("/v1/health", headers={"Origin": "http://localhost:3000"})
    assert "X-Request-Id" in exposed.headers["Access-Control-Expose-Headers"]


class _Unreachable:
    """A store whose database does not answer: PynamoDB wraps botocore's timeout, as in production."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            from botocore.exceptions import ReadTimeoutError
            from pynamodb.exceptions import GetError

            cause = ReadTimeoutError(endpoint_url="http://127.0.0.1:1")
            raise GetError("Failed to get item", cause) from cause

        return fail


def test_an_unreachable_database_is_a_503_with_retry_after_in_the_envelope(client, auth):
    bootstrap.override(dossiers=_Unreachable())
    for response in (client.http.get(f"/v1/public/dossiers/{CENTRE}-260316-0001"),
                     client.http.post("/v1/dossiers", headers=auth(CENTRE, "desk"),
                                      body=json.dumps(CRIMINAL_RECORD))):
        body = json.loads(response.body)
        assert response.status_code == 503, body
        assert body["error"]["code"] == "unavailable" and body["error"]["request_id"]
        assert int(response.headers["Retry-After"]) >= 1


def test_a_throttled_database_is_a_503_too(client):
    from botocore.exceptions import ClientError

    class Throttled:
        def get(self, *args, **kwargs):
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetItem")

    bootstrap.override(dossiers=Throttled())
    assert client.http.get(f"/v1/public/dossiers/{CENTRE}-260316-0001").status_code == 503


def test_a_bug_is_a_500_in_the_envelope_not_a_503(client):
    class Broken:
        def get(self, *args, **kwargs):
            raise KeyError("oops")

    bootstrap.override(dossiers=Broken())
    response = client.http.get(f"/v1/public/dossiers/{CENTRE}-260316-0001")
    assert response.status_code == 500 and json.loads(response.body)["error"]["code"] == "internal"


def test_text_is_stored_as_utf8_so_100_emoji_documents_fit(client, auth):
    body = {**CRIMINAL_RECORD, "documents": EMOJI_DOCUMENTS}
    raw = json.dumps(body, ensure_ascii=False)
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), raw)
    assert status == 201, data
    from chalicelib.adapters.dynamodb.dossiers import item_size
    from chalicelib.adapters.dynamodb.models import DossierModel

    item = DossierModel.get(data["code"])
    assert item_size(item) < 250_000  # escaped, the same text took over 600 KB
    status, read = get(client, f"/v1/dossiers/{data['code']}", auth(CENTRE, "desk"))
    assert status == 200


def test_an_item_too_large_to_store_is_a_413_before_a_number_is_drawn(client, auth, monkeypatch):
    from chalicelib.adapters.dynamodb import dossiers

    monkeypatch.setattr(dossiers, "INTAKE_ITEM_BYTES", 10_000)
    before = _counters()
    # Text that does not deflate (the dossier is stored packed): 50 KB of random hex, well over 10 KB packed.
    documents = [{"name": secrets.token_hex(250), "copies": 1} for _ in range(100)]
    body = json.dumps({**CRIMINAL_RECORD, "documents": documents}, ensure_ascii=False)
    for headers in (auth(CENTRE, "desk"), {**auth(CENTRE, "desk"), "Idempotency-Key": "too-large-1"}):
        status, data = post(client, "/v1/dossiers", headers, body)
        assert status == 413, data
        assert data["error"]["code"] == "payload_too_large"
    assert _counters() == before
    monkeypatch.setattr(dossiers, "INTAKE_ITEM_BYTES", dossiers.MAX_ITEM_BYTES)  # the same key may now succeed
    status, data = post(client, "/v1/dossiers", {**auth(CENTRE, "desk"), "Idempotency-Key": "too-large-1"}, body)
    assert status == 201


def _idempotency_items():
    from chalicelib.adapters.dynamodb.models import IdempotencyModel

    return list(IdempotencyModel.scan())


def _forget_powertools_records():
    """What an expired or lost Powertools record looks like: gone, while the dossier stays."""
    for item in _idempotency_items():
        if not item.id.startswith("intake#"):
            item.delete()


def test_one_key_one_dossier_with_a_small_record_whatever_happens_to_the_record(client, auth):
    headers = {**auth(JUSTICE, "desk"), "Idempotency-Key": "emoji-intake-1"}
    body = json.dumps({**CRIMINAL_RECORD, "documents": EMOJI_DOCUMENTS}, ensure_ascii=False)
    status, first = post(client, "/v1/dossiers", headers, body)
    assert status == 201, first
    records = [i for i in _idempotency_items() if not i.id.startswith("intake#")]
    assert records and all(len(json.dumps(i.attribute_values, default=str)) < 1000 for i in records)

    status, again = post(client, "/v1/dossiers", headers, body)
    assert status == 201 and again["code"] == first["code"] and again.get("receipt")
    _forget_powertools_records()
    status, after_expiry = post(client, "/v1/dossiers", headers, body)
    assert status == 201 and after_expiry["code"] == first["code"]
    _forget_powertools_records()
    status, changed = post(client, "/v1/dossiers", headers, json.dumps({**CRIMINAL_RECORD, "note": "khác"}))
    assert status == 422 and changed["error"]["code"] == "idempotency_key_reused"


def test_a_record_that_cannot_be_completed_still_answers_with_the_dossier_and_never_makes_a_second(
        client, auth, monkeypatch):
    from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import DynamoDBPersistenceLayer
    from botocore.exceptions import EndpointConnectionError

    def fail(self, *args, **kwargs):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    headers = {**auth(JUSTICE, "desk"), "Idempotency-Key": "lost-success-1"}
    before = _counters()
    monkeypatch.setattr(DynamoDBPersistenceLayer, "_update_record", fail)
    status, first = post(client, "/v1/dossiers", headers, CRIMINAL_RECORD)
    assert status == 201, first
    monkeypatch.undo()
    _forget_powertools_records()  # the in-progress record expires
    status, retried = post(client, "/v1/dossiers", headers, CRIMINAL_RECORD)
    assert status == 201 and retried["code"] == first["code"]
    drawn = {k: v - before.get(k, 0) for k, v in _counters().items() if v != before.get(k, 0)}
    assert list(drawn.values()) == [1]


def test_log_lines_are_printed_once_with_the_request_id_and_lambda_context():
    probe = """
import app
from types import SimpleNamespace
from chalicelib.observability import bind_request, logger
context = SimpleNamespace(function_name="motcua-dev", memory_limit_in_mb=512, aws_request_id="req-123",
                          invoked_function_arn="arn:aws:lambda:ap-southeast-1:1:function:motcua-dev")
bind_request(None, context)
logger().info("probe-info")
logger().error("probe-error")
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=os.environ.copy(), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    for message in ("probe-info", "probe-error"):
        found = [json.loads(line) for line in lines if message in line]
        assert len(found) == 1, lines
        assert found[0]["request_id"] == "req-123" and found[0]["function_name"] == "motcua-dev"
        assert found[0]["function_request_id"] == "req-123"
