"""The functions AWS runs for domain events (chalicelib/api/event_handlers.py), invoked through chalice.test.Client
as Lambda would: SQS batches of EventBridge envelopes to one consumer, the relay schedule, the timer's task."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.api.event_handlers import QUEUES, queue_name
from chalicelib.domain.events import DomainEvent
from chalicelib.services.consumers import registry
from tests.api.helpers import receive


class RecordingTimers:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def start(self, code: str, generation: int, wake_at: datetime) -> None:
        self.calls.append(("start", code, generation, wake_at))

    def stop(self, code: str, generation: int) -> None:
        self.calls.append(("stop", code, generation))


def envelope(event: DomainEvent) -> str:
    return json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": event.type, "source": "motcua",
                       "account": "123456789012", "time": event.as_dict()["at"], "region": "ap-southeast-1",
                       "resources": [], "detail": event.as_dict()})


@pytest.fixture
def timers() -> Any:
    recorder = RecordingTimers()
    bootstrap.override(timers=recorder, now=lambda: datetime(2026, 3, 16, 2, tzinfo=UTC))
    yield recorder
    bootstrap.override()


def received_events(client: Client, auth: Any) -> tuple[str, list[DomainEvent]]:
    code = receive(client, auth)["code"]
    return code, [e for e in bootstrap.deps().outbox.pending(1000) if e.code == code]


def test_every_consumer_has_a_queue_named_with_the_stage_prefix():
    assert set(QUEUES) == {c.name for c in registry()}
    assert queue_name("deadline_timers") == "motcua-test-deadline-timers"


def test_a_queue_batch_goes_to_its_consumer_only_and_once(timers, auth):
    with Client(app, stage_name="local") as client:
        code, events = received_events(client, auth)
        assert [e.type for e in events][:2] == ["dossier.status_changed", "dossier.received"]
        sqs = client.events.generate_sqs_event(message_bodies=[envelope(e) for e in events])
        # The notifications queue would never be sent these types: its consumer ignores them.
        assert client.lambda_.invoke("notifications_consumer", sqs).payload == {"batchItemFailures": []}
        assert timers.calls == []
        answer = client.lambda_.invoke("deadline_timers_consumer", sqs).payload
        assert answer == {"batchItemFailures": []}
        dossier = bootstrap.deps().dossiers.get(code, consistent=True)
        assert dossier is not None and dossier.next_wake is not None
        start = ("start", code, dossier.watch_generation, dossier.next_wake)
        assert start in timers.calls and timers.calls.count(start) == len(events)
        # The same batch delivered again (SQS is at least once): the consumer, unclaimed, asks for the very same
        # timer again, under the same name (dossier and watch generation), which Step Functions starts once.
        timers.calls.clear()
        assert client.lambda_.invoke("deadline_timers_consumer", sqs).payload == {"batchItemFailures": []}
        assert set(timers.calls) == {start}


def test_a_bad_record_fails_alone_and_the_batch_is_not_sent_back(timers, auth):
    with Client(app, stage_name="local") as client:
        code, events = received_events(client, auth)
        bodies = ["{not json", envelope(events[0]), json.dumps({"detail": {"type": "dossier.nothing"}})]
        sqs = client.events.generate_sqs_event(message_bodies=bodies)
        ids = [record["messageId"] for record in sqs["Records"]]
        answer = client.lambda_.invoke("deadline_timers_consumer", sqs).payload
        # Only the two bad records come back (then, after maxReceiveCount, go to the DLQ); the good one is done.
        assert answer == {"batchItemFailures": [{"itemIdentifier": ids[0]}, {"itemIdentifier": ids[2]}]}
        assert [c[0] for c in timers.calls] == ["start"]
        # Redelivered: the bad ones fail again; the good one asks for the same timer again (started once).
        first = list(timers.calls)
        timers.calls.clear()
        again = client.lambda_.invoke("deadline_timers_consumer", sqs).payload
        assert again == answer and timers.calls == first


def test_a_batch_of_nothing_but_bad_records_comes_back_whole(timers):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with Client(app, stage_name="local") as client:
        sqs = client.events.generate_sqs_event(message_bodies=["{not json", "[]"])
        with pytest.raises(BatchProcessingError):
            client.lambda_.invoke("deadline_timers_consumer", sqs)


def test_the_timer_task_answers_the_next_wake_and_refuses_a_malformed_input(timers, auth):
    with Client(app, stage_name="local") as client:
        code = receive(client, auth)["code"]
        dossier = bootstrap.deps().dossiers.get(code, consistent=True)
        assert dossier is not None and dossier.next_wake is not None
        payload = {"code": code, "generation": dossier.watch_generation, "wake_at": "2026-03-26T02:00:01Z"}
        answer = client.lambda_.invoke("deadline_timer", payload).payload
        # Nothing reached yet (the clock is at the receipt): the same next wake, not done, no stop.
        assert answer == {**payload, "wake_at": dossier.next_wake.strftime("%Y-%m-%dT%H:%M:%SZ"), "done": False}
        assert timers.calls == []
        # A timer of another generation records nothing and stops itself.
        stale = {**payload, "generation": dossier.watch_generation + 5}
        assert client.lambda_.invoke("deadline_timer", stale).payload["done"] is True
        assert timers.calls == [("stop", code, dossier.watch_generation + 5)]
        for bad in ({"generation": 1}, {"code": code, "generation": "1"}, {"code": code, "generation": 0}):
            with pytest.raises(ValueError, match="timer input"):
                client.lambda_.invoke("deadline_timer", bad)


class ListOutbox:
    def __init__(self, events: list[DomainEvent]) -> None:
        self.events, self.marked = events, []  # type: ignore[var-annotated]

    def pending(self, limit: int, written_before: datetime | None = None, skip: object = ()) -> list[DomainEvent]:
        return [e for e in self.events if e not in self.marked][:limit]

    def mark_published(self, event: DomainEvent) -> None:
        self.marked.append(event)


class ListPublisher:
    keeps_order = True

    def __init__(self) -> None:
        self.published: list[DomainEvent] = []

    def publish(self, events: Sequence[DomainEvent]) -> None:
        self.published.extend(events)


def test_the_relay_schedule_publishes_the_outbox():
    at = datetime(2026, 3, 16, 2, tzinfo=UTC)
    events = [DomainEvent("dossier.received", "000.00.24.H56-260316-9001", seq, seq, at) for seq in (1, 2)]
    outbox, publisher = ListOutbox(events), ListPublisher()
    bootstrap.override(outbox=outbox, publisher=publisher)
    try:
        with Client(app, stage_name="local") as client:
            report = client.lambda_.invoke("event_relay", client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])).payload
    finally:
        bootstrap.override()
    assert report["published"] == 2 and publisher.published == events and outbox.marked == events


def claim_check_envelope(event: DomainEvent) -> str:
    from chalicelib.adapters.eventbridge import claim_check

    body = json.loads(envelope(event))
    body["detail"] = claim_check(event)
    return json.dumps(body)


def test_a_claim_check_is_applied_with_the_event_the_outbox_holds(timers, auth):
    """An event too large for the bus travels without its data; the consumer reads it whole from the outbox. One
    the outbox does not hold (a forged or expired reference) fails alone, never applied without its data."""
    with Client(app, stage_name="local") as client:
        code, events = received_events(client, auth)
        forged = DomainEvent(events[0].type, code, 999, events[0].version, events[0].at, {})
        sqs = client.events.generate_sqs_event(message_bodies=[claim_check_envelope(events[0]),
                                                               claim_check_envelope(forged)])
        ids = [record["messageId"] for record in sqs["Records"]]
        answer = client.lambda_.invoke("deadline_timers_consumer", sqs).payload
        assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
        dossier = bootstrap.deps().dossiers.get(code, consistent=True)
        assert dossier is not None
        assert timers.calls == [("start", code, dossier.watch_generation, dossier.next_wake)]
