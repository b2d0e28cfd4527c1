"""scripts/redrive.py on moto's SQS (no local engine for SQS): the stage's dead-letter queues are listed, their
messages go back to the queue they came from with their attributes, nothing is lost, the webhook deliveries' DLQ is
left unless named, another stage's queues are never touched."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from scripts import redrive


@pytest.fixture
def sqs(monkeypatch) -> Iterator[Any]:
    from moto import mock_aws

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
    with mock_aws():
        import boto3

        yield boto3.client("sqs", region_name="ap-southeast-1")


def pair(sqs: Any, name: str) -> tuple[str, str]:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": arn, "maxReceiveCount": "5"})})["QueueUrl"]
    return source, dlq


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []):
        out += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(batch)])
    return out


def test_list_then_move_back_every_message_with_its_attributes(sqs, capsys):
    source, dlq = pair(sqs, "motcua-prod-notifications")
    other_source, other_dlq = pair(sqs, "motcua-dev-notifications")
    hooks_source, hooks_dlq = pair(sqs, "motcua-prod-webhook-deliveries")
    for n in range(23):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"id": n}), MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "event"}})
    sqs.send_message(QueueUrl=other_dlq, MessageBody="dev")
    sqs.send_message(QueueUrl=hooks_dlq, MessageBody="stale")

    assert redrive.main(["--prefix", "motcua-prod"], sqs) == 0
    listed = capsys.readouterr().out
    assert "motcua-prod-notifications-dlq: 23 message(s)" in listed and "motcua-dev" not in listed
    assert redrive.depth(sqs, dlq) == 23

    assert redrive.main(["--prefix", "motcua-prod", "--move"], sqs) == 0
    assert "23 of 23 message(s) moved back" in capsys.readouterr().out
    back = drain(sqs, source)
    assert sorted(json.loads(m["Body"])["id"] for m in back) == list(range(23))
    assert all(m["MessageAttributes"]["kind"]["StringValue"] == "event" for m in back)
    assert drain(sqs, dlq) == []
    assert [m["Body"] for m in drain(sqs, other_dlq)] == ["dev"]  # another stage: untouched
    assert redrive.depth(sqs, hooks_dlq) == 1 and drain(sqs, hooks_source) == []  # left unless named

    assert redrive.main(["--prefix", "motcua-prod", "--move", "--queue", "motcua-prod-webhook-deliveries-dlq"],
                        sqs) == 0
    assert [m["Body"] for m in drain(sqs, hooks_source)] == ["stale"]


def test_at_most_max_messages_move_and_a_wrong_queue_name_is_refused(sqs):
    source, dlq = pair(sqs, "motcua-prod-statistics")
    for n in range(15):
        sqs.send_message(QueueUrl=dlq, MessageBody=str(n))
    assert redrive.main(["--prefix", "motcua-prod", "--move", "--max", "12"], sqs) == 0
    assert len(drain(sqs, source)) == 12 and redrive.depth(sqs, dlq) == 3
    with pytest.raises(SystemExit, match="no dead-letter queue motcua-prod-nope-dlq"):
        redrive.main(["--prefix", "motcua-prod", "--queue", "motcua-prod-nope-dlq"], sqs)
