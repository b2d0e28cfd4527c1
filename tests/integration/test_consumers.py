"""The consumer registry and dispatch, with the processed-events and notifications tables on DynamoDB Local."""

import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.adapters.dynamodb.notifications import NotificationRepository
from chalicelib.adapters.dynamodb.processed import LEASE_SECONDS, ProcessedRepository
from chalicelib.bootstrap import deps
from chalicelib.domain.events import EVENT_TYPES, DomainEvent
from chalicelib.services import consumers
from chalicelib.services.consumers import Consumer, dispatch
from chalicelib.services.ports import ClaimBusy
from tests.unit.calendars import vn

ROOT = Path(__file__).resolve().parents[2]


def event(kind: str = "dossier.overdue", seq: int = 1) -> DomainEvent:
    return DomainEvent(kind, f"TEST.CONS-{uuid.uuid4().hex[:10]}", seq, 2, vn(2026, 3, 16, 9), {"dossier": {}})


def test_the_registry_names_this_issues_consumers_and_loads_none_of_them_until_used():
    names = {c.name: c.types for c in consumers.registry()}
    assert set(names) >= {"deadline_timers", "notifications"}
    assert all(types and types <= set(EVENT_TYPES) for types in names.values())
    assert "dossier.overdue" in names["notifications"] and "dossier.received" in names["deadline_timers"]
    # Cold start: asking for the registry imports no consumer module.
    code = ("import sys; from chalicelib.services.consumers import registry; registry(); "
            "print(sorted(m for m in sys.modules if m in ('chalicelib.services.timers', "
            "'chalicelib.services.notifications')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.seen: list[str] = []
        self.fail_times = fail_times

    def __call__(self, _deps, e: DomainEvent) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("consumer down")
        self.seen.append(e.id)


@pytest.fixture
def two(monkeypatch):
    first, second = Recorder(), Recorder(fail_times=1)
    registry = (Consumer("first", frozenset({"dossier.overdue", "dossier.due_soon"}), first),
                Consumer("second", frozenset({"dossier.overdue"}), second))
    monkeypatch.setattr(consumers, "registry", lambda: registry)
    return first, second


def test_dispatch_runs_each_matching_consumer_once_per_event_id(two):
    first, second = two
    e = event()
    with pytest.raises(RuntimeError):
        dispatch(deps(), e)  # second fails: its claim is given back, first's stays done
    assert dispatch(deps(), e) == ["second"]  # the retry runs only what did not succeed
    assert dispatch(deps(), e) == []  # a redelivery runs nothing
    assert dispatch(deps(), DomainEvent.from_dict(e.as_dict())) == []  # same id, however it arrives
    assert first.seen == [e.id] and second.seen == [e.id]


def test_dispatch_only_one_consumer_and_types_filter(two):
    first, second = two
    due_soon = event("dossier.due_soon")
    assert dispatch(deps(), due_soon, only="second") == []  # not a type it consumes
    assert dispatch(deps(), due_soon, only="first") == ["first"]
    assert dispatch(deps(), event("dossier.received")) == []
    with pytest.raises(ValueError, match="no consumer named 'nobody'"):
        dispatch(deps(), due_soon, only="nobody")


def test_a_claim_is_a_lease_done_is_final():
    now = [time.time()]
    store = ProcessedRepository(clock=lambda: now[0])
    key = f"test#{uuid.uuid4().hex}"
    assert store.claim(key) is True
    with pytest.raises(ClaimBusy):
        store.claim(key)  # another worker is on it
    now[0] += LEASE_SECONDS + 1
    assert store.claim(key) is True  # that worker died: the lease lapsed
    store.complete(key)
    now[0] += 10 * LEASE_SECONDS
    assert store.claim(key) is False  # applied: never again
    store.release(key)  # a late release does not undo a completed event
    assert store.claim(key) is False
    other = f"test#{uuid.uuid4().hex}"
    assert store.claim(other) is True
    store.release(other)
    assert store.claim(other) is True


def test_a_consumer_busy_elsewhere_is_not_skipped(two, monkeypatch):
    e = event("dossier.due_soon")
    deps().processed.claim(f"first#{e.id}")  # a worker holds it
    with pytest.raises(ClaimBusy):
        dispatch(deps(), e)
    later = ProcessedRepository(clock=lambda: time.time() + LEASE_SECONDS + 1)
    assert dispatch(replace(deps(), processed=later), e) == ["first"]


def test_notifications_listed_by_dossier_and_unit_one_record_per_id():
    store = NotificationRepository()
    code, unit = f"TEST.NOTI-{uuid.uuid4().hex[:8]}", f"TEST.NU.{uuid.uuid4().hex[:8]}"
    notes = [{"id": f"{code}/{i}#leader", "at": f"2026-03-1{i}T02:00:00Z", "code": code, "unit": unit,
              "template": "overdue", "subject": "Hồ sơ quá hạn", "body": f"lần {i}"} for i in range(1, 4)]
    for n in (notes[1], notes[0], notes[2]):
        store.add(n)
    notes[0] = {**notes[0], "status": "sent"}
    store.add(notes[0])  # the same notification again (a retried send): one record, the latest
    digest = {"id": f"digest#{unit}#2026-03-14", "at": "2026-03-14T00:00:00Z", "unit": unit, "template": "digest"}
    store.add(digest)
    assert store.for_dossier(code) == notes
    assert store.for_unit(unit, 10) == [digest, notes[2], notes[1], notes[0]]
    assert store.for_unit(unit, 2) == [digest, notes[2]]
    for bad in ({"at": "2026-03-14T00:00:00Z"}, {"id": "x"}, {"id": "", "at": "2026-03-14T00:00:00Z"}):
        with pytest.raises(ValueError, match="needs a non-empty string"):
            store.add(bad)
