"""The stream path on DynamoDB Local's own Streams API: every outbox insert reaches `outbox_stream` (the Lambda
function, through Chalice's handler, as the mapping invokes it), is published in order per dossier, and a failing
event holds its dossier alone; what the stream missed, the safety net publishes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.services import consumers
from chalicelib.services.relay import relay
from scripts.local_stream import lambda_handler, outbox_poller
from tests.integration import relay_worker
from tests.integration.relay_worker import count, local_deps
from tests.integration.test_relay import FailingFor, dossiers, outbox


@pytest.fixture(autouse=True)
def test_consumer(monkeypatch):
    monkeypatch.setattr(consumers, "registry", lambda: (relay_worker.CONSUMER,))


def pending(codes: Sequence[str]) -> list[str]:
    return [f"{code}/{int(i.seq)}" for code in codes for i in outbox(code) if i.pending]


def poll_until(poller, done, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        poller.poll()
        if done():
            return
        time.sleep(0.05)
    raise AssertionError("the stream path did not get there in time")


def applied_once_in_order(codes: Sequence[str]) -> bool:
    for code in codes:
        items = outbox(code)
        if any(i.pending for i in items) or [count(f"applied#{code}/{int(i.seq)}") for i in items] != [1] * len(items):
            return False
        assert count(f"out_of_order#{code}") == 0, code
    return True


def test_every_insert_is_published_by_the_stream_in_order_and_once():
    bootstrap.override(publisher=local_deps().publisher)
    try:
        with Client(app, stage_name="local") as client:
            poller = outbox_poller(lambda_handler(client))  # from now on, as `make run` starts it
            codes = dossiers("S")
            poll_until(poller, lambda: applied_once_in_order(codes))
            # Marking an event published is a stream record too (MODIFY): it publishes nothing again.
            for _ in range(5):
                poller.poll()
            assert applied_once_in_order(codes)
            assert all(i.published_at for code in codes for i in outbox(code))
    finally:
        bootstrap.override()


def test_a_failing_event_holds_its_dossier_alone_and_the_stream_retries_it():
    deps = local_deps()
    codes = dossiers("F")
    held, others = codes[0], codes[1:]
    bad = {f"{held}/2"}
    bootstrap.override(publisher=FailingFor(deps.publisher, bad))
    try:
        with Client(app, stage_name="local") as client:
            poller = outbox_poller(lambda_handler(client), start="TRIM_HORIZON")
            poll_until(poller, lambda: applied_once_in_order(others))
            # The other dossiers went on; this one stopped at its failing event, nothing after it went out.
            items = outbox(held)
            assert [bool(i.pending) for i in items] == [False] + [True] * (len(items) - 1)
            assert [count(f"applied#{held}/{int(i.seq)}") for i in items] == [1] + [0] * (len(items) - 1)
            bad.clear()  # the bus is back: the stream delivers the batch again from the failed record
            poll_until(poller, lambda: applied_once_in_order(codes))
    finally:
        bootstrap.override()


def test_the_handler_reports_the_failed_records_and_those_after_them_in_their_dossier():
    deps = local_deps()
    codes = dossiers("R", n=2)
    records = []
    for code in codes:
        for item in OutboxModel.query(code, consistent_read=True):
            image = OutboxModel.serialize(item)
            records.append({"eventID": f"{code}/{item.seq}", "eventName": "INSERT", "eventVersion": "1.1",
                            "eventSource": "aws:dynamodb", "awsRegion": "ap-southeast-1",
                            "dynamodb": {"ApproximateCreationDateTime": 1765000000,
                                         "Keys": {"code": {"S": code}, "seq": {"N": str(item.seq)}},
                                         "NewImage": image, "SequenceNumber": f"{len(records) + 1:021d}",
                                         "SizeBytes": 100, "StreamViewType": "NEW_IMAGE"},
                            "eventSourceARN": "arn:aws:dynamodb:ap-southeast-1:123456789012:table/t/stream/x"})
    bad = {f"{codes[0]}/2"}
    bootstrap.override(publisher=FailingFor(deps.publisher, bad))
    try:
        with Client(app, stage_name="local") as client:
            answer = client.lambda_.invoke("outbox_stream", {"Records": records}).payload
    finally:
        bootstrap.override()
    first = [r["dynamodb"]["SequenceNumber"] for r in records if r["eventID"].startswith(codes[0])]
    assert answer == {"batchItemFailures": [{"itemIdentifier": s} for s in first[1:]]}
    assert applied_once_in_order(codes[1:])


def test_the_safety_net_publishes_only_what_waited_and_says_so(caplog):
    deps = local_deps()
    codes = dossiers("N")  # written while nothing reads the stream
    fresh = relay(deps, limit=500)  # the real clock: nothing of ours is old enough yet
    assert not applied_once_in_order(codes) and fresh["found"] >= 0
    later = time.time() + 600
    counts = relay(deps, limit=500, wall_clock=lambda: later)  # ten minutes on: the stream path missed them
    assert counts["found"] >= sum(len(outbox(code)) for code in codes)
    assert applied_once_in_order(codes)
    assert "safety net published events the stream path had not" in caplog.text


def test_the_safety_net_never_sends_a_dossier_past_its_held_event():
    deps = local_deps()
    codes = dossiers("H")
    held = codes[0]
    failing = replace(deps, publisher=FailingFor(deps.publisher, {f"{held}/2"}))
    counts = relay(failing, limit=3, older_than_seconds=0)  # small pages: the held dossier's later events
    assert counts["held"] >= 1                              # come up in pages of their own
    items = outbox(held)
    assert [count(f"applied#{held}/{int(i.seq)}") for i in items] == [1] + [0] * (len(items) - 1)
    assert applied_once_in_order(codes[1:])
