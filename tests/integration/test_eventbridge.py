"""The EventBridge publisher: with moto, events put on a bus reach an SQS queue through a rule, each one valid
against its JSON Schema; with a stub client, rejected entries hold their dossier and the call is chunked."""

import json
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from chalicelib.adapters.eventbridge import EventBridgePublisher
from chalicelib.domain.clock import iso
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.events import DomainEvent
from chalicelib.domain.lifecycle import Action
from chalicelib.services.ports import PublishError
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE

SCHEMAS = Path(__file__).resolve().parents[2] / "chalicelib" / "schemas" / "events"
EVERYONE = Actor("cv.eb", CENTRE, frozenset({"desk", "processor", "leader"}), name="Cán bộ")
REGION = "ap-southeast-1"


@cache
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8")))


def a_life() -> list[DomainEvent]:
    """The events of one dossier: received, assigned, due soon and overdue (with its step), an apology and a
    new appointment, then withdrawn."""
    dossier, _ = Dossier.receive(
        code=f"{CENTRE}-260302-0042", procedure=procedure("2.001417"), receiving_unit=CENTRE,
        competent_unit="000.00.11.H56", channel="direct", applicant={"name": "Võ Thị Em"}, form={}, documents=[],
        actor=EVERYONE, at=vn(2026, 3, 2, 9), calendar=CALENDAR)
    dossier.act(Action.ASSIGN, EVERYONE, vn(2026, 3, 2, 10), CALENDAR, {})
    due = dossier.due_at
    assert due is not None
    dossier.wake(due - timedelta(hours=2))
    dossier.act(Action("apologize"), EVERYONE, due - timedelta(hours=1), CALENDAR, {
        "reason": "Cần xác minh thêm tại cơ quan khác", "new_appointment_at": iso(due + timedelta(days=7))})
    dossier.wake(due + timedelta(days=30))
    dossier.act(Action.WITHDRAW, EVERYONE, due + timedelta(days=31), CALENDAR, {"reason": "Công dân rút"})
    return dossier.take_events()


def test_events_put_on_the_bus_reach_a_queue_through_a_rule_and_match_their_schemas(aws):
    import boto3

    events_client, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    events_client.create_event_bus(Name="motcua-test")
    queue = sqs.create_queue(QueueName="motcua-test-consumer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events_client.put_rule(Name="all-dossier-events", EventBusName="motcua-test",
                           EventPattern=json.dumps({"source": ["motcua"], "detail-type": [{"prefix": "dossier."}]}))
    events_client.put_targets(Rule="all-dossier-events", EventBusName="motcua-test",
                              Targets=[{"Id": "consumer", "Arn": arn}])

    life = a_life()
    assert len(life) > 10  # more than one PutEvents call
    assert {"dossier.received", "dossier.overdue", "dossier.apology_issued", "dossier.closed"} <= {
        e.type for e in life}
    EventBridgePublisher("motcua-test", client=events_client).publish(life)

    received: dict[str, dict] = {}
    for _ in range(10):
        batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        for message in batch:
            envelope = json.loads(message["Body"])
            assert envelope["source"] == "motcua"
            detail = envelope["detail"]
            assert envelope["detail-type"] == detail["type"]
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(detail["type"]).iter_errors(detail)]
            assert not errors, (detail["type"], errors)
            received[detail["id"]] = detail
    assert set(received) == {e.id for e in life}
    assert [DomainEvent.from_dict(received[e.id]) for e in life] == life


class StubClient:
    """PutEvents that rejects the entries of some event ids, recording each call."""

    def __init__(self, reject: set[str]) -> None:
        self.reject, self.calls = reject, []

    def put_events(self, Entries):  # noqa: N803 (boto3's parameter name)
        self.calls.append(Entries)
        results = [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
                   if json.loads(e["Detail"])["id"] in self.reject else {"EventId": "x"} for e in Entries]
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def events_of(code: str, n: int) -> list[DomainEvent]:
    return [DomainEvent("dossier.status_changed", code, seq, seq, vn(2026, 3, 16, 9), {"dossier": {"code": code}})
            for seq in range(1, n + 1)]


def test_a_rejected_entry_is_reported_and_its_dossiers_later_events_are_not_sent():
    a, b = events_of("A-1", 8), events_of("B-1", 7)
    stub = StubClient(reject={"A-1/2"})
    with pytest.raises(PublishError) as caught:
        EventBridgePublisher("bus", client=stub).publish(a[:6] + b[:4] + a[6:] + b[4:])
    sent = [[json.loads(e["Detail"])["id"] for e in call] for call in stub.calls]
    # At most ten entries per call. PutEvents answers per entry, so A-1/3..6 went out in the call where A-1/2
    # failed (the relay never puts two events of one dossier in one call); A-1/7 and 8 were held back.
    assert sent == [[e.id for e in a[:6] + b[:4]], [e.id for e in b[4:]]]
    assert caught.value.failed == {"A-1/2", "A-1/7", "A-1/8"}
    entry = stub.calls[0][0]
    assert entry["Source"] == "motcua" and entry["DetailType"] == "dossier.status_changed"
    assert entry["EventBusName"] == "bus" and json.loads(entry["Detail"]) == a[0].as_dict()
    assert entry["Time"] == a[0].at


def test_a_call_that_fails_as_a_whole_fails_every_event_of_it():
    from botocore.exceptions import EndpointConnectionError

    class Down:
        def put_events(self, Entries):  # noqa: N803
            raise EndpointConnectionError(endpoint_url="https://events.example")

    events = events_of("C-1", 3)
    with pytest.raises(PublishError) as caught:
        EventBridgePublisher("bus", client=Down()).publish(events)
    assert caught.value.failed == {e.id for e in events}


def test_an_event_too_large_for_the_bus_goes_as_a_claim_check_and_holds_nothing():
    """EventBridge refuses an entry over 256 KB on every attempt: such an event would hold its dossier for ever.
    It goes without its data (the consumer reads it from the outbox); the small ones go whole."""
    from chalicelib.adapters.eventbridge import INLINE_DETAIL_BYTES

    big = DomainEvent("dossier.status_changed", "D-1", 1, 1, vn(2026, 3, 16, 9),
                      {"dossier": {"code": "D-1", "note": "Ghi chú dài " * 30_000}})
    small = events_of("D-1", 2)[1]
    stub = StubClient(reject=set())
    EventBridgePublisher("bus", client=stub).publish([big, small])
    details = [json.loads(e["Detail"]) for call in stub.calls for e in call]
    assert len(json.dumps(big.as_dict()).encode()) > 256 * 1024
    assert details[0] == {**{k: v for k, v in big.as_dict().items() if k != "data"}, "data_in_outbox": True}
    assert details[1] == small.as_dict()
    assert all(len(e["Detail"].encode()) <= INLINE_DETAIL_BYTES for call in stub.calls for e in call)
