"""The webhook delivery queue on SQS (moto) with deliveries on DynamoDB Local and a real receiver on loopback:
the consumer and redeliveries put messages; the `webhook_delivery` function attempts through the same `attempt`
as the sweep; a retry sends the next message with its wait capped at 900 s; an early message waits again; a stale
one is dropped; 410 disables; a message that keeps failing ends in the dead-letter queue, as infra/events.yaml
defines it; the sweep then takes only deliveries whose message was lost."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.models import OutboxModel, WebhookModel
from chalicelib.adapters.sqs_queue import SqsDeliveryQueue
from chalicelib.bootstrap import deps
from chalicelib.domain.clock import parse_iso
from chalicelib.domain.dossier import Actor
from chalicelib.domain.events import DomainEvent
from chalicelib.services import webhook_delivery, webhooks
from chalicelib.services.intake import receive_dossier
from chalicelib.services.relay import relay
from tests.api.helpers import CRIMINAL_RECORD
from tests.api.test_webhooks import Receiver
from tests.units import CENTRE

REGION = "ap-southeast-1"
ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor("admin.queue", CENTRE, frozenset({"admin"}))
DESK = Actor("desk.queue", CENTRE, frozenset({"desk"}))


class Recording:
    """The moto SQS client, keeping every entry sent (moto hides a delayed message until its delay passes in
    real time: the delays asked for are read here)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sent: list[dict[str, Any]] = []

    def send_message_batch(self, **kwargs: Any) -> Any:
        self.sent.extend(kwargs["Entries"])
        return self.client.send_message_batch(**kwargs)


@dataclass
class Stack:
    sqs: Any
    url: str
    dlq_url: str
    recording: Recording
    receiver: Receiver
    chalice: Client
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def sent(self) -> list[tuple[str, int, int]]:
        """(delivery, attempt, delay) of each message sent so far, then forgotten."""
        out = [(json.loads(e["MessageBody"])["delivery"], json.loads(e["MessageBody"])["attempt"], e["DelaySeconds"])
               for e in self.recording.sent]
        self.recording.sent.clear()
        return out

    def handle(self, delivery_id: str, attempt: int) -> dict[str, int]:
        """The message, as SQS hands it to the webhook_delivery function."""
        body = json.dumps({"delivery": delivery_id, "attempt": attempt})
        event = self.chalice.events.generate_sqs_event(message_bodies=[body], queue_name="webhook-deliveries")
        answer: dict[str, int] = self.chalice.lambda_.invoke("webhook_delivery", event).payload
        return answer


def queue_properties(logical: str) -> dict[str, Any]:
    events = yaml.safe_load((ROOT / "infra" / "events.yaml").read_text(encoding="utf-8"))
    properties: dict[str, Any] = events["Resources"][logical]["Properties"]
    return properties


@pytest.fixture
def stack(monkeypatch) -> Iterator[Stack]:
    import boto3
    from moto import mock_aws

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL") and n != "AWS_ENDPOINT_URL_DYNAMODB"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    ddb = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
    for _ in range(50):  # what other tests left in the outbox: this test's deliveries are its own
        if relay(deps(), older_than_seconds=0)["found"] == 0:
            break
    receiver = Receiver()
    with mock_aws(config={"core": {"passthrough": {"urls": [ddb.rstrip("/") + ".*"]}}}), \
            Client(app, stage_name="local") as chalice:
        sqs = boto3.client("sqs", region_name=REGION)
        # The queue and its dead-letter queue as infra/events.yaml defines them.
        dlq = queue_properties("WebhookDeliveriesDeadLetterQueue")
        dlq_url = sqs.create_queue(QueueName="motcua-test-webhook-deliveries-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={
            "MessageRetentionPeriod": str(dlq["MessageRetentionPeriod"])})
        main = queue_properties("WebhookDeliveriesQueue")
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": main["RedrivePolicy"]["maxReceiveCount"]}
        url = sqs.create_queue(QueueName="motcua-test-webhook-deliveries", Attributes={
            "VisibilityTimeout": str(main["VisibilityTimeout"]), "RedrivePolicy": json.dumps(redrive)})["QueueUrl"]
        recording = Recording(sqs)
        s = Stack(sqs, url, dlq_url, recording, receiver, chalice)
        bootstrap.override(now=lambda: s.now, webhooks=replace(
            deps().webhooks, draw=lambda: 0.5, queue=SqsDeliveryQueue(url, client=recording)))
        try:
            yield s
        finally:
            bootstrap.override()
            receiver.stop()
            for item in WebhookModel.query("webhook"):  # no subscription outlives its test
                item.delete()


def subscribe(stack: Stack) -> dict[str, Any]:
    return webhooks.create(deps(), ADMIN, {"url": stack.receiver.url, "event_types": ["dossier.received"]})


def received(stack: Stack) -> tuple[str, str]:
    """A dossier received and its event consumed by the webhooks consumer: (code, the one delivery's id)."""
    code = receive_dossier(deps(), DESK, CRIMINAL_RECORD)["code"]
    for item in OutboxModel.query(code, consistent_read=True):
        webhooks.on_event(deps(), DomainEvent.from_dict(item.event_data))
    return code, [m for m in stack.sent() if m[1:] == (0, 0)][-1][0]


def test_the_consumer_queues_the_delivery_and_the_handler_delivers_it(stack):
    hook = subscribe(stack)
    code, delivery_id = received(stack)
    stored = deps().webhooks.store.delivery(delivery_id)
    assert stored is not None and stored["webhook_id"] == hook["id"] and stored["code"] == code
    # The message is really on the queue, naming the delivery and the attempt it is for.
    bodies = [json.loads(m["Body"]) for m in stack.sqs.receive_message(
        QueueUrl=stack.url, MaxNumberOfMessages=10).get("Messages", [])]
    assert {"delivery": delivery_id, "attempt": 0} in bodies
    assert stack.receiver.requests == []  # recording a delivery sends nothing

    assert stack.handle(delivery_id, 0) == {"delivered": 1}
    assert [h["webhook-id"] for h, _ in stack.receiver.requests] == [delivery_id]
    done = deps().webhooks.store.delivery(delivery_id)
    assert done is not None and done["status"] == "delivered" and done["next_at"] is None
    assert stack.sent() == []  # nothing more to do: no next message
    assert stack.handle(delivery_id, 0) == {"dropped": 1}  # SQS delivered it twice: nothing sent again
    assert len(stack.receiver.requests) == 1


def test_a_retry_queues_the_next_attempt_capped_at_900_s_and_an_early_message_waits_again(stack):
    subscribe(stack)
    _, delivery_id = received(stack)
    stack.receiver.default = 503
    waits = []
    for attempt in range(7):
        assert stack.handle(delivery_id, attempt) == {"retry": 1}
        current = deps().webhooks.store.delivery(delivery_id)
        assert current is not None and current["attempt_count"] == attempt + 1
        wait = int((parse_iso(current["next_at"]) - stack.now).total_seconds())
        [(named, for_attempt, delay)] = stack.sent()
        assert (named, for_attempt, delay) == (delivery_id, attempt + 1, min(wait, 900))
        waits.append(wait)
        if attempt < 6:
            stack.now = parse_iso(current["next_at"])
    # Full jitter drew 0.5: half of 30 s x 2^(n-1), floored at 5 s; the 7th wait (960 s) is past SQS's limit.
    assert waits == [15, 30, 60, 120, 240, 480, 960]

    # The capped message arrives 900 s later, 60 s early: it is sent again for the rest, nothing is attempted.
    stack.now += timedelta(seconds=900)
    assert stack.handle(delivery_id, 7) == {"requeued": 1}
    assert stack.sent() == [(delivery_id, 7, 60)]
    assert len(stack.receiver.requests) == 7
    # A message for an attempt already made (a duplicate) is dropped, early or not.
    assert stack.handle(delivery_id, 6) == {"dropped": 1} and stack.sent() == []
    stack.now += timedelta(seconds=60)
    stack.receiver.default = 200
    assert stack.handle(delivery_id, 7) == {"delivered": 1}
    listed = deps().webhooks.store.delivery(delivery_id)
    assert listed is not None and [a["status"] for a in listed["attempts"]] == [503] * 7 + [200]


def test_a_410_through_the_queue_disables_the_subscription(stack):
    hook = subscribe(stack)
    _, delivery_id = received(stack)
    stack.receiver.default = 410
    assert stack.handle(delivery_id, 0) == {"gone": 1}
    data, _, _ = deps().webhooks.store.get(hook["id"]) or ({}, [], 0)
    assert data["active"] is False and "410" in data["disabled_reason"]
    assert stack.sent() == []  # no next attempt
    # Nothing is recorded, nor queued, while it is disabled.
    code = receive_dossier(deps(), DESK, CRIMINAL_RECORD)["code"]
    for item in OutboxModel.query(code, consistent_read=True):
        webhooks.on_event(deps(), DomainEvent.from_dict(item.event_data))
    assert stack.sent() == []


def test_a_deleted_subscriptions_delivery_fails_without_a_request(stack):
    hook = subscribe(stack)
    _, delivery_id = received(stack)
    webhooks.delete(deps(), ADMIN, hook["id"])
    assert stack.handle(delivery_id, 0) == {"failed": 1}
    gone = deps().webhooks.store.delivery(delivery_id)
    assert gone is not None and gone["status"] == "failed" and "deleted" in gone["last_error"]
    assert stack.receiver.requests == [] and stack.sent() == []


def test_redeliveries_and_pings_are_queued(stack):
    hook = subscribe(stack)
    _, delivery_id = received(stack)
    assert stack.handle(delivery_id, 0) == {"delivered": 1}
    again = webhook_delivery.redeliver(deps(), ADMIN, hook["id"], delivery_id)
    assert again["status"] == "pending" and stack.sent() == [(delivery_id, 1, 0)]
    assert stack.handle(delivery_id, 1) == {"delivered": 1}
    ping = webhooks.ping(deps(), ADMIN, hook["id"])
    assert stack.sent() == [(ping["id"], 0, 0)]


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue_and_the_sweep_sends_its_delivery(stack):
    hook = subscribe(stack)
    _, delivery_id = received(stack)
    body = json.dumps({"delivery": delivery_id, "attempt": 0})
    # The function crashes on each receipt (the database unreachable, say): SQS makes the message visible
    # again, and after maxReceiveCount receipts moves it to the dead-letter queue.
    stack.sqs.purge_queue(QueueUrl=stack.url)
    stack.sqs.send_message(QueueUrl=stack.url, MessageBody=body)
    receipts = 0
    for _ in range(20):
        messages = stack.sqs.receive_message(QueueUrl=stack.url, VisibilityTimeout=0).get("Messages", [])
        if not messages:
            break
        receipts += 1  # and not deleted: the handler raised
    assert receipts == queue_properties("WebhookDeliveriesQueue")["RedrivePolicy"]["maxReceiveCount"]
    [dead] = stack.sqs.receive_message(QueueUrl=stack.dlq_url)["Messages"]
    assert dead["Body"] == body

    # The sweep leaves a delivery to its message for the grace period, then takes it as lost.
    stack.receiver.default = 500
    stack.now += timedelta(seconds=webhook_delivery.SWEEP_GRACE_SECONDS - 1)
    webhook_delivery.sweep(deps())
    assert stack.receiver.requests == []
    stack.now += timedelta(seconds=1)
    report = webhook_delivery.sweep(deps())
    assert report.get("retry", 0) >= 1 and [h["webhook-id"] for h, _ in stack.receiver.requests] == [delivery_id]
    # Its next attempt goes back to the queue.
    assert (delivery_id, 1, 15) in stack.sent()
    assert deps().webhooks.store.delivery(delivery_id)["webhook_id"] == hook["id"]


def test_malformed_messages_raise_so_that_sqs_retries_them():
    for body in ("", "[]", "{}", '{"delivery": 7, "attempt": 0}', '{"delivery": "msg_x", "attempt": true}',
                 '{"delivery": "msg_x"}', "x" * 10_000):
        with pytest.raises(ValueError, match="not a webhook delivery message"):
            webhook_delivery.handle_message(deps(), body)
