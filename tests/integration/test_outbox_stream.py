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
from chalicelib.domain.events import DomainEvent
from chalicelib.services import consumers
from chalicelib.services.relay import relay
from scripts.local_stream import lambda_handler, outbox_poller
from tests.integration import relay_worker
from tests.integration.relay_worker import count, local_deps
from tests.integration.test_relay import FailingFor, dossiers, outbox

REAL_REGISTRY = consumers.registry


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
        poller = outbox_poller(lambda_handler(app))  # from now on, as `make run` starts it
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
    poller = outbox_poller(lambda_handler(app))  # from now on: the suite's earlier records are not this test's
    codes = dossiers("F")
    held, others = codes[0], codes[1:]
    bad = {f"{held}/2"}
    bootstrap.override(publisher=FailingFor(deps.publisher, bad))
    try:
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


def test_a_dossier_whose_earlier_event_is_still_pending_waits_for_it():
    """A record the stream gave up leaves its event pending: the dossier's later records must not overtake it."""
    from chalicelib.services.relay import publish_written

    deps = local_deps()
    codes = dossiers("W", n=1)
    events = [DomainEvent.from_dict(i.event_data) for i in outbox(codes[0])]
    assert len(events) >= 3
    # The stream hands on only the later events (the first two were given up): nothing goes out.
    assert publish_written(deps, events[2:]) == {e.id for e in events[2:]}
    assert all(count(f"applied#{e.id}") == 0 for e in events)
    # The safety net publishes the first ones; the stream's retry then publishes the rest, in order.
    assert publish_written(deps, events[:2]) == frozenset()
    assert publish_written(deps, events[2:]) == frozenset()
    assert applied_once_in_order(codes)


def test_an_outbox_item_that_is_no_event_is_kept_apart_and_stops_nothing():
    deps = local_deps()
    codes = dossiers("Q", n=2)
    broken = outbox(codes[0])[0]
    broken.update(actions=[OutboxModel.event.set({"not": "an event"})])
    counts = relay(deps, limit=500, older_than_seconds=0)
    assert counts["failed"] == 0
    item = OutboxModel.get(broken.code, broken.seq, consistent_read=True)
    assert item.pending is None and item.failed and "attempts" in item.failed
    assert applied_once_in_order(codes[1:])


def test_events_written_before_packing_are_published_by_the_stream_and_the_safety_net():
    """Items holding the event as plain JSON (`event`, before 2026-12) go out as the packed ones do: the stream
    function reads them from the record's image, the safety net from the pending index."""
    deps = local_deps()
    codes = dossiers("PK", n=2)
    for code in codes:
        for item in outbox(code):
            item.update(actions=[OutboxModel.plain_event.set(item.event), OutboxModel.event.remove()])
    by_stream = outbox(codes[0])
    assert all(i.event is None and i.plain_event for i in by_stream)
    records = [{"eventID": f"{codes[0]}/{item.seq}", "eventName": "INSERT", "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "ap-southeast-1",
                "dynamodb": {"ApproximateCreationDateTime": 1765000000, "Keys": {}, "SizeBytes": 100,
                             "NewImage": OutboxModel.serialize(item), "SequenceNumber": f"{n + 1:021d}",
                             "StreamViewType": "NEW_IMAGE"},
                "eventSourceARN": "arn:aws:dynamodb:ap-southeast-1:123456789012:table/t/stream/x"}
               for n, item in enumerate(by_stream)]
    assert lambda_handler(app)({"Records": records}) == {"batchItemFailures": []}
    assert all(item.pending is None for item in outbox(codes[0]))  # published from the stream's images
    relay(deps, limit=500, older_than_seconds=0)
    assert all(item.pending is None for code in codes for item in outbox(code))
    assert applied_once_in_order(codes)


def test_the_stream_function_answers_a_batch_that_wholly_failed_instead_of_raising():
    deps = local_deps()
    codes = dossiers("Z", n=1)
    records = [{"eventID": f"{codes[0]}/{item.seq}", "eventName": "INSERT", "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "ap-southeast-1",
                "dynamodb": {"ApproximateCreationDateTime": 1765000000, "Keys": {}, "SizeBytes": 100,
                             "NewImage": OutboxModel.serialize(item), "SequenceNumber": f"{n + 1:021d}",
                             "StreamViewType": "NEW_IMAGE"},
                "eventSourceARN": "arn:aws:dynamodb:ap-southeast-1:123456789012:table/t/stream/x"}
               for n, item in enumerate(OutboxModel.query(codes[0], consistent_read=True))]
    bootstrap.override(publisher=FailingFor(deps.publisher, {f"{codes[0]}/1"}))
    try:
        answer = lambda_handler(app)({"Records": records})
    finally:
        bootstrap.override()
    assert answer == {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]}


def test_the_poller_pauses_a_shard_whose_function_crashed_and_tries_the_batch_again():
    seen: list[int] = []

    def crashes_once(event):
        seen.append(len(event["Records"]))
        if len(seen) == 1:
            raise RuntimeError("the function crashed")
        return {"batchItemFailures": []}

    poller = outbox_poller(crashes_once)
    dossiers("P", n=1)
    poll_until(poller, lambda: len(seen) >= 2, seconds=10)
    assert seen[0] == seen[1] >= 4  # the same records, handed on again after the pause


def test_an_import_running_while_live_dossiers_move_never_queues_ahead_of_them(tmp_path, monkeypatch):
    """History has its own lane: while an import writes its dossiers, the stream carries only live events, and
    every live dossier's events reach the real consumers as they are written."""
    import threading

    from chalicelib.domain.dossier import Actor
    from chalicelib.services.intake import receive_dossier
    from scripts.import_dossiers import import_file
    from tests.api.helpers import CRIMINAL_RECORD
    from tests.integration.test_import_file import generated
    from tests.units import CENTRE

    monkeypatch.setattr(consumers, "registry", REAL_REGISTRY)
    rows = generated(tmp_path / "export.csv", 300, 71, 0)
    bootstrap.override(publisher=local_deps().publisher)
    try:
        poller = outbox_poller(lambda_handler(app))
        outcome: dict[str, object] = {}
        worker = threading.Thread(target=lambda: outcome.update(tally=import_file(
            bootstrap.deps(), tmp_path / "export.csv", "test-live", workers=4, chunk=50, progress=False)[0]))
        worker.start()
        desk = Actor("desk.live", CENTRE, frozenset({"desk"}))
        live = []
        while worker.is_alive() or not live:
            if len(live) < 5:
                live.append(receive_dossier(bootstrap.deps(), desk, CRIMINAL_RECORD)["code"])
            poller.poll()
        worker.join()
        poll_until(poller, lambda: not pending(live))
    finally:
        bootstrap.override()
    tally = outcome["tally"]
    assert tally.imported == 300 and tally.rejected == 0, tally  # type: ignore[attr-defined]
    # Not one imported dossier wrote an event to the outbox: nothing of the import is in the live lane ...
    assert not any(list(OutboxModel.query(row["code"], limit=1)) for row in rows)
    # ... and every live dossier's events were published while it ran.
    assert all(outbox(code) for code in live) and not pending(live)
