"""Events are written with their dossier, in its own transaction; the sparse indexes hold only what is pending
or due. On DynamoDB Local."""

from collections import Counter
from datetime import timedelta

import pytest
from botocore.client import BaseClient

from chalicelib.adapters.dynamodb.dossiers import DossierRepository
from chalicelib.adapters.dynamodb.models import DossierModel, OutboxModel
from chalicelib.adapters.dynamodb.outbox import OutboxRepository, outbox_item
from chalicelib.domain.codes import dossier_code
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import StaleVersion
from chalicelib.domain.events import DomainEvent
from chalicelib.domain.lifecycle import Action
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure

REPO = DossierRepository()
OUTBOX = OutboxRepository()
PROCESSOR = Actor("cv.outbox", "000.00.11.H56", frozenset({"processor"}))


def received(unit: str, at, seq: int) -> Dossier:
    actor = Actor("desk.outbox", unit, frozenset({"desk"}))
    dossier, entry = Dossier.receive(
        code=dossier_code(unit, at.date(), seq), procedure=procedure("2.001417"), receiving_unit=unit,
        competent_unit="000.00.11.H56", channel="direct", applicant={"name": "Lê Văn Cường"}, form={},
        documents=[], actor=actor, at=at, calendar=CALENDAR)
    REPO.add(dossier, entry)
    return dossier


def stored_events(code: str) -> list[dict]:
    return [dict(item.event_data) for item in OutboxModel.query(code, consistent_read=True)]


def pending_flags(code: str) -> list[bool]:
    return [item.pending is not None for item in OutboxModel.query(code, consistent_read=True)]


def test_intake_writes_its_events_with_the_dossier_pending_in_seq_order():
    dossier = received("TEST.OBX1", vn(2026, 3, 16, 9), 1)
    events = stored_events(dossier.code)
    assert [e["seq"] for e in events] == list(range(1, dossier.event_count + 1))
    assert {e["type"] for e in events} >= {"dossier.received", "dossier.step_started"}
    assert all(e["version"] == 1 and e["code"] == dossier.code for e in events)
    for e in events:  # exactly what the domain produced, and readable back as events
        assert DomainEvent.from_dict(e).id == e["id"] == f"{dossier.code}/{e['seq']}"
    assert pending_flags(dossier.code) == [True] * len(events)
    assert dossier.pending_events == []  # taken by the repository


def test_a_stale_transaction_writes_no_event():
    dossier = received("TEST.OBX2", vn(2026, 3, 16, 9), 1)
    stale = REPO.get(dossier.code, consistent=True)
    first = len(stored_events(dossier.code))
    entry = dossier.act(Action.ASSIGN, PROCESSOR, vn(2026, 3, 16, 10), CALENDAR, {})
    REPO.save(dossier, entry, expected_version=1)
    after_save = stored_events(dossier.code)
    assert len(after_save) > first

    late = vn(2026, 3, 16, 11)
    entry2 = stale.act(Action.ASSIGN, PROCESSOR, late, CALENDAR, {})
    assert stale.pending_events  # the stale change had events of its own...
    with pytest.raises(StaleVersion):
        REPO.save(stale, entry2, expected_version=1)
    # ... and none of them was written: the outbox is exactly what the successful saves left.
    assert stored_events(dossier.code) == after_save
    assert not [e for e in stored_events(dossier.code) if e["at"] == late.isoformat().replace("+00:00", "Z")]


def test_an_event_seq_already_stored_cancels_the_whole_change():
    """The outbox item's own condition: a reused seq (a bug upstream) writes neither dossier nor history."""
    dossier = received("TEST.OBX3", vn(2026, 3, 16, 9), 1)
    entry = dossier.act(Action.ASSIGN, PROCESSOR, vn(2026, 3, 16, 10), CALENDAR, {})
    reused = DomainEvent("dossier.status_changed", dossier.code, 1, dossier.version, vn(2026, 3, 16, 10),
                         {"dossier": {}})
    dossier.pending_events = [reused]
    with pytest.raises(StaleVersion):
        REPO.save(dossier, entry, expected_version=1)
    assert REPO.get(dossier.code, consistent=True).version == 1
    assert [h.action for h in REPO.history(dossier.code)] == ["receive"]


def test_a_wake_without_history_line_writes_the_flag_and_its_event_together():
    dossier = received("TEST.OBX4", vn(2026, 3, 2, 9), 1)
    before = len(stored_events(dossier.code))
    wake_at = dossier.next_wake
    assert wake_at is not None
    assert dossier.wake(wake_at)
    REPO.save(dossier, None, expected_version=1)
    events = stored_events(dossier.code)
    assert len(events) > before
    assert REPO.get(dossier.code, consistent=True).version == 2
    assert [h.action for h in REPO.history(dossier.code)] == ["receive"]


def test_wake_keys_are_set_only_while_something_is_watched():
    dossier = received("TEST.OBX5", vn(2026, 3, 2, 9), 1)
    item = DossierModel.get(dossier.code, consistent_read=True)
    assert item.wake_sk is not None and item.wake_sk.startswith(dossier.next_wake.isoformat().replace("+00:00", "Z"))
    # Wake far in the future: every watched instant flagged, nothing left to watch, off the index.
    dossier.wake(vn(2030, 1, 1, 9))
    assert dossier.next_wake is None
    REPO.save(dossier, None, expected_version=1)
    item = DossierModel.get(dossier.code, consistent_read=True)
    assert item.wake_shard is None and item.wake_sk is None


@pytest.fixture
def read_units(monkeypatch):
    """Read capacity DynamoDB Local reports for the Queries made while the test runs."""
    units: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(self, operation_name, params):
        answer = original(self, operation_name, params)
        if operation_name == "Query":
            units[params.get("IndexName", params["TableName"])] += answer.get("ConsumedCapacity", {}).get(
                "CapacityUnits", 0)
        return answer

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return units


@pytest.fixture
def forget():
    """Codes whose dossier and events are deleted after the test: hundreds of due dossiers left in the shared
    tables would be found by every later sweep and relay of the run."""
    codes: list[str] = []
    yield codes
    with DossierModel.batch_write() as dossiers, OutboxModel.batch_write() as events:
        for code in codes:
            dossiers.delete(DossierModel(code))
            for item in OutboxModel.query(code):
                events.delete(item)


def test_due_for_wake_reads_what_is_due_not_what_is_open(read_units, forget):
    now = vn(2026, 9, 1, 9)

    def measure() -> tuple[set[str], float]:
        read_units.clear()
        codes = set(REPO.due_for_wake(now, 10_000))
        return codes, read_units["wake-by-time"]

    base_codes, base_units = measure()
    # Open dossiers watching instants after `now`: invisible to the sweep, and free.
    later = [received("TEST.WAKEL", now + timedelta(days=1), i) for i in range(1, 401)]
    forget.extend(d.code for d in later)
    codes, units = measure()
    assert codes == base_codes and not codes & {d.code for d in later}
    assert units == base_units
    # Dossiers with an instant already reached: found, and only they add to the reads.
    due = [received("TEST.WAKED", now - timedelta(days=60), i) for i in range(1, 401)]
    forget.extend(d.code for d in due)
    codes, units = measure()
    assert codes - base_codes == {d.code for d in due}
    assert units > base_units
    # Earliest first, and the limit holds.
    first = REPO.due_for_wake(now, 5)
    assert len(first) == 5
    wakes = {d.code: d.next_wake for d in due}
    known = [wakes[c] for c in first if c in wakes]
    assert known == sorted(known)


def test_pending_gives_each_dossier_its_events_in_seq_order_from_its_first_unpublished_one():
    dossier = received("TEST.OBX6", vn(2026, 3, 16, 9), 1)
    seqs = [e["seq"] for e in stored_events(dossier.code)]
    # Publish the first one only: the next read starts at the second.
    first = DomainEvent.from_dict(stored_events(dossier.code)[0])
    OUTBOX.mark_published(first)
    OUTBOX.mark_published(first)  # a second mark is harmless
    mine = [e.seq for e in OUTBOX.pending(10_000) if e.code == dossier.code]
    assert mine == seqs[1:]
    assert pending_flags(dossier.code) == [False] + [True] * (len(seqs) - 1)


def test_pending_never_skips_an_earlier_event_written_with_a_later_clock(monkeypatch):
    """Two writes of one dossier by machines whose clocks disagree: the index (by the writer's clock) sorts the
    later event first. The outbox still hands out the dossier's events in seq order, from the earliest unpublished
    one."""
    from chalicelib.adapters.dynamodb import outbox as adapter

    code = "TEST.OBX7-010316-0001"
    # Written by clocks of 2001, so these are the oldest pending events of the table and a one-item page starts
    # with them; seq 2's writer is an hour behind seq 1's.
    early, late = vn(2001, 3, 16, 10), vn(2001, 3, 16, 9)
    for seq, at in ((1, early), (2, late), (3, early)):
        monkeypatch.setattr(adapter.time, "time", lambda at=at: at.timestamp())
        outbox_item(DomainEvent("dossier.status_changed", code, seq, seq, at, {"dossier": {}})).save()
    monkeypatch.undo()
    assert [e.seq for e in OUTBOX.pending(1)] == [1, 2]  # the page held seq 2 alone: seq 1 is fetched too
    assert [e.seq for e in OUTBOX.pending(2)] == [1, 2]
    assert [e.seq for e in OUTBOX.pending(3)] == [1, 2, 3]
    OUTBOX.mark_published(DomainEvent("dossier.status_changed", code, 1, 1, early, {"dossier": {}}))
    assert [e.seq for e in OUTBOX.pending(1)] == [2]


def _written_before_packing(code: str, seq: int, at) -> OutboxModel:
    """An outbox item as written before events were stored packed: the event as plain JSON in `event`."""
    item = outbox_item(DomainEvent("dossier.status_changed", code, seq, seq, at, {"dossier": {"status": "x"}}))
    old = OutboxModel(code, seq, plain_event=item.event, pending=item.pending, pending_sk=item.pending_sk)
    old.save()
    return old


def test_events_are_stored_packed_under_a_kb_and_items_written_before_still_read():
    from chalicelib.adapters.dynamodb.dossiers import item_size
    from chalicelib.adapters.dynamodb.outbox import event_of_image
    from chalicelib.adapters.dynamodb.sync import SyncRepository

    dossier = received("TEST.OBX9", vn(2026, 3, 16, 9), 1)
    for item in OutboxModel.query(dossier.code, consistent_read=True):
        raw = OutboxModel.serialize(item)
        assert "packed" in raw and "event" not in raw  # stored deflated, not as plain JSON
        assert item_size(item) < 1024  # every write of it and of its index entry: the minimum units
        assert event_of_image(raw) == DomainEvent.from_dict(item.event)
    code = "TEST.OBX9-010316-0002"
    old = _written_before_packing(code, 1, vn(2001, 3, 16, 9))
    expected = DomainEvent.from_dict(old.plain_event)
    assert "packed" not in OutboxModel.serialize(old)
    assert event_of_image(OutboxModel.serialize(old)) == expected  # the stream
    assert OUTBOX.event(code, 1) == expected  # a claim check's read
    assert SyncRepository.outbox_event(code, 1) == expected  # the portal sync's
    assert expected in OUTBOX.pending(10_000)  # the safety net's
    OUTBOX.mark_published(expected)
    assert OUTBOX.is_published(code, 1) and OUTBOX.event(code, 1) == expected
