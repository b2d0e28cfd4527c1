"""The delivery queue's setting, and what its adapter does when SQS refuses: bounded delays, batches of ten, and
nothing raised (the deliveries keep their next attempt: the sweep sends those whose message was not queued)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib.adapters.sqs_queue import SqsDeliveryQueue
from chalicelib.config import SettingsError, load

URL = "https://sqs.ap-southeast-1.amazonaws.com/123456789012/motcua-prod-webhook-deliveries"


def test_the_queue_url_is_optional_and_checked_naming_the_variable():
    assert load({}).webhook_queue_url == ""
    assert load({"MOTCUA_WEBHOOK_QUEUE_URL": URL}).webhook_queue_url == URL
    for bad in ("motcua-prod-webhook-deliveries", "http://sqs.ap-southeast-1.amazonaws.com/123456789012/q",
                "https://evil.example/123456789012/q", f"{URL}/../x", f"{URL}?Action=PurgeQueue",
                "https://sqs.ap-southeast-1.amazonaws.com.evil.example/123456789012/q"):
        with pytest.raises(SettingsError, match="^MOTCUA_WEBHOOK_QUEUE_URL"):
            load({"MOTCUA_WEBHOOK_QUEUE_URL": bad})


class Client:
    """Answers SendMessageBatch as told: fail the entries whose index is in `refuse`, or raise on call `down`."""

    def __init__(self, refuse: set[int] | None = None, down: int | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.refuse, self.down = refuse or set(), down

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        assert QueueUrl == URL
        self.calls.append(Entries)
        if self.down == len(self.calls):
            raise EndpointConnectionError(endpoint_url=URL)
        failed = [{"Id": e["Id"], "Code": "InternalError", "SenderFault": False} for e in Entries
                  if int(e["Id"]) in self.refuse and len(self.calls) == 1]
        return {"Successful": [e for e in Entries if e not in failed], "Failed": failed}


def test_messages_go_in_batches_of_ten_with_delays_within_sqs_limits():
    client = Client()
    messages = [(f"msg_{n}", n, delay) for n, delay in enumerate([0, 5, 899, 900, 901, 86_400, -3] * 3)]
    assert SqsDeliveryQueue(URL, client).send(messages) == 21
    assert [len(c) for c in client.calls] == [10, 10, 1]
    entries = [e for c in client.calls for e in c]
    assert [e["DelaySeconds"] for e in entries][:7] == [0, 5, 899, 900, 900, 900, 0]
    assert [json.loads(e["MessageBody"]) for e in entries][4] == {"delivery": "msg_4", "attempt": 4}


def test_a_refused_entry_or_an_unreachable_queue_stops_the_sending_and_is_counted():
    messages = [(f"msg_{n}", 0, 0) for n in range(25)]
    client = Client(refuse={3})
    assert SqsDeliveryQueue(URL, client).send(messages) == 9 and len(client.calls) == 1
    client = Client(down=2)
    assert SqsDeliveryQueue(URL, client).send(messages) == 10 and len(client.calls) == 2
