"""A database timeout during a conditional write is a timeout: it propagates as the botocore timeout PynamoDB
wrapped (retried by the caller, 503 at the API), never as the AttributeError PynamoDB's `cause_response_code`
raises when the cause has no response (adapters/dynamodb/errors.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from pynamodb.connection.base import Connection
from pynamodb.exceptions import PutError, PynamoDBException

from chalicelib.adapters.dynamodb.dossiers import DossierRepository
from chalicelib.adapters.dynamodb.errors import condition_failed, response_code
from chalicelib.adapters.dynamodb.processed import ProcessedRepository
from chalicelib.adapters.dynamodb.webhooks import WebhookRepository
from chalicelib.api.routing import _unavailable

TIMEOUTS = [ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), ConnectTimeoutError(endpoint_url="http://127.0.0.1:1")]


@contextmanager
def timing_out(operation: str, error: Exception) -> Iterator[None]:
    """Every `operation` call answers with `error`, as botocore raises it when DynamoDB does not answer in time."""
    original = Connection._make_api_call

    def call(self: Connection, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        if name == operation:
            raise error
        return original(self, name, kwargs)

    Connection._make_api_call = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        Connection._make_api_call = original  # type: ignore[method-assign]


def _delivery() -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # A webhook id no other test names (one expects wh_000... to have none), already delivered: no sweep takes it.
    return {"id": f"msg_timeout{datetime.now(UTC).timestamp()}", "webhook_id": "wh_" + "7" * 32, "event_id": "x/1",
            "event_type": "dossier.received", "code": "x", "status": "delivered", "attempt_count": 1, "attempts": [],
            "created_at": now, "updated_at": now, "window_start": now, "next_at": None, "last_error": None,
            "payload": {"id": "x/1"}}


SITES: list[tuple[str, str, Callable[[], Any]]] = [
    ("webhook delivery recorded", "PutItem", lambda: WebhookRepository().add_delivery(_delivery())),
    ("consumer claim", "PutItem", lambda: ProcessedRepository().claim("stats#timeout/1")),
    ("daily counter raised", "UpdateItem",
     lambda: DossierRepository().raise_sequence("dossier#000.22.30.H56#991231", 5)),
]


def test_the_helper_reads_a_timeout_as_no_condition():
    for error in TIMEOUTS:
        wrapped = PutError("Failed to put item", error)
        if isinstance(error, ReadTimeoutError):  # its `response` is None: what the sites used to call crashes
            with pytest.raises(AttributeError):
                _ = wrapped.cause_response_code
        assert response_code(wrapped) is None and not condition_failed(wrapped)


@pytest.mark.parametrize("error", TIMEOUTS, ids=["read", "connect"])
@pytest.mark.parametrize(("name", "operation", "write"), SITES, ids=[s[0] for s in SITES])
def test_a_timeout_at_a_conditional_write_propagates_as_a_timeout(name, operation, write, error):
    with timing_out(operation, error), pytest.raises(PynamoDBException) as raised:
        write()
    assert raised.value.cause is error
    assert _unavailable(raised.value)  # the API answers 503: retry later


def test_a_failed_condition_is_still_told_apart():
    repository = WebhookRepository()
    delivery = _delivery()
    assert repository.add_delivery(delivery) is True
    assert repository.add_delivery(delivery) is False  # ConditionalCheckFailed, read through the helper


def test_the_api_answers_a_timeout_at_a_conditional_write_with_503():
    import json
    import os
    from pathlib import Path

    from chalice.test import Client

    from app import app
    from scripts import local_keys
    from tests.units import CENTRE

    token = local_keys.make_token(CENTRE, ["admin"], None, key_dir=Path(os.environ["MOTCUA_LOCAL_JWKS"]).parent)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with Client(app, stage_name="local") as client, timing_out("PutItem", TIMEOUTS[0]):
        response = client.http.post("/v1/webhooks", headers=headers,
                                    body=json.dumps({"url": "http://127.0.0.1:9/hook"}))
    assert response.status_code == 503, response.body
