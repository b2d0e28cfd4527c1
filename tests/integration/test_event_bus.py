"""The bus rules of infra/events.yaml, as written there, on moto: every domain event type put on the stage's bus
reaches exactly the queues of the consumers that want it (services/consumers.py), each message an EventBridge
envelope whose `detail` is the event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from chalicelib.adapters.eventbridge import EventBridgePublisher
from chalicelib.domain.events import EVENT_TYPES, DomainEvent
from chalicelib.services.consumers import registry

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-1"
PREFIX = "motcua-test"


def resolve(value: Any) -> Any:
    """The few intrinsics the rules and queues use, filled in for PREFIX."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"].replace("${Prefix}", PREFIX)
    return value


def deploy(resources: dict[str, Any]) -> dict[str, str]:
    """Create the bus, queues and rules of the template with boto3; answer queue logical id -> URL."""
    import boto3

    events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    bus = resolve(resources["EventBus"]["Properties"]["Name"])
    events.create_event_bus(Name=bus)
    urls = {name: sqs.create_queue(QueueName=resolve(r["Properties"]["QueueName"]))["QueueUrl"]
            for name, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
    for rule in resources.values():
        if rule.get("Type") != "AWS::Events::Rule":
            continue
        props = rule["Properties"]
        assert props["EventBusName"] == {"Ref": "EventBus"}
        events.put_rule(Name=resolve(props["Name"]), EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]),
                        State=props["State"])
        targets = []
        for target in props["Targets"]:
            queue = target["Arn"]["Fn::GetAtt"][0]
            arn = sqs.get_queue_attributes(QueueUrl=urls[queue], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            targets.append({"Id": target["Id"], "Arn": arn})
        events.put_targets(Rule=resolve(props["Name"]), EventBusName=bus, Targets=targets)
    return urls


def drain(url: str) -> list[dict[str, Any]]:
    import boto3

    sqs, out = boto3.client("sqs", region_name=REGION), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return out
        out.extend(json.loads(m["Body"]) for m in messages)


def test_each_event_type_reaches_exactly_the_queues_of_its_consumers(aws):
    import boto3

    template = yaml.safe_load((ROOT / "infra" / "events.yaml").read_text(encoding="utf-8"))
    resources = template["Resources"]
    urls = deploy(resources)
    at = datetime(2026, 3, 16, 2, tzinfo=UTC)
    events = [DomainEvent(kind, f"000.00.24.H56-260316-{i:04d}", 1, 1, at, {"n": i})
              for i, kind in enumerate(EVENT_TYPES)]
    bus = resolve(resources["EventBus"]["Properties"]["Name"])
    EventBridgePublisher(bus, client=boto3.client("events", region_name=REGION)).publish(events)

    for consumer in registry():
        suffix = consumer.name.replace("_", "-")
        queue = next(name for name, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"
                     and resolve(r["Properties"]["QueueName"]) == f"{PREFIX}-{suffix}")
        received = drain(urls[queue])
        assert sorted(m["detail-type"] for m in received) == sorted(consumer.types), consumer.name
        for message in received:
            assert message["source"] == "motcua"
            event = DomainEvent.from_dict(message["detail"])  # what the queue's function hands to dispatch
            assert event.type == message["detail-type"] and event in events
        # Its dead-letter queue receives nothing from the bus: only SQS moves failed messages there.
        dead = resources[queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert drain(urls[dead]) == []
    # The webhooks consumer takes every type (each subscription chooses its own), and so does the portal sync (each
    # is an item of its dossier's sequence); no consumer names an unknown one.
    wanted = set().union(*(c.types for c in registry()))
    assert wanted == set(EVENT_TYPES)
