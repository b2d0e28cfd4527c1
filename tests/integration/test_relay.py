"""The relay on DynamoDB Local: in order per dossier, at least once, and consumers apply each event once, even
when the relay or a consumer dies half-way (an exception, or SIGKILL of the process)."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.adapters.dynamodb.dossiers import DossierRepository
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.adapters.dynamodb.processed import LEASE_SECONDS, ProcessedRepository
from chalicelib.adapters.local_bus import LocalPublisher
from chalicelib.domain.codes import dossier_code
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.events import DomainEvent
from chalicelib.domain.lifecycle import Action
from chalicelib.services import consumers
from chalicelib.services.ports import PublishError
from chalicelib.services.relay import relay
from tests.integration import relay_worker
from tests.integration.relay_worker import PREFIX, count, local_deps
from tests.unit.calendars import CALENDAR, vn

REPO = DossierRepository()
ROOT = Path(__file__).resolve().parents[2]
PROCESSOR = Actor("cv.relay", "000.00.11.H56", frozenset({"processor"}))


@pytest.fixture(autouse=True)
def test_consumer(monkeypatch):
    monkeypatch.setattr(consumers, "registry", lambda: (relay_worker.CONSUMER,))


def dossiers(tag: str, n: int = 4) -> list[str]:
    """Dossiers with several events each (intake, assignment), dated before the other tests' so the relay
    reaches them first."""
    from tests.unit.demo import procedure

    unit = f"{PREFIX}{tag}"
    actor = Actor("desk.relay", unit, frozenset({"desk"}))
    codes = []
    for i in range(1, n + 1):
        at = vn(2025, 3, 17, 9, i)
        dossier, entry = Dossier.receive(
            code=dossier_code(unit, at.date(), i), procedure=procedure("2.001417"), receiving_unit=unit,
            competent_unit="000.00.11.H56", channel="direct", applicant={"name": "Phạm Thị Dung"}, form={},
            documents=[], actor=actor, at=at, calendar=CALENDAR)
        REPO.add(dossier, entry)
        entry = dossier.act(Action.ASSIGN, PROCESSOR, vn(2025, 3, 17, 10, i), CALENDAR, {})
        REPO.save(dossier, entry, expected_version=1)
        codes.append(dossier.code)
    return codes


def outbox(code: str) -> list[OutboxModel]:
    return list(OutboxModel.query(code, consistent_read=True))


def drain(deps, codes: Sequence[str]) -> None:
    for _ in range(50):
        if not any(item.pending for code in codes for item in outbox(code)):
            return
        relay(deps, limit=200, older_than_seconds=0)
    raise AssertionError("the relay did not publish every event")


def assert_applied_once_in_order(codes: Sequence[str]) -> None:
    for code in codes:
        items = outbox(code)
        assert len(items) >= 4 and [int(i.seq) for i in items] == list(range(1, len(items) + 1))
        assert [count(f"applied#{code}/{int(i.seq)}") for i in items] == [1] * len(items), code
        assert count(f"out_of_order#{code}") == 0, code
        assert not any(i.pending for i in items)


class FailingFor(LocalPublisher):
    """The local bus, except that these event ids always fail (one event per dossier per call, as a bus that
    does not keep the order of a call's entries is given them)."""

    keeps_order = False

    def __init__(self, inner: LocalPublisher, bad: set[str]) -> None:
        self.inner, self.bad = inner, bad

    def publish(self, events: Sequence[DomainEvent]) -> None:
        good = [e for e in events if e.id not in self.bad]
        failed = {e.id for e in events if e.id in self.bad}
        try:
            self.inner.publish(good)
        except PublishError as exc:
            failed |= exc.failed
        if failed:
            raise PublishError("refused", failed)


class RaisesAfter(LocalPublisher):
    """Applies `n` events of the test dossiers, then raises: the relay cannot know which went out."""

    keeps_order = False

    def __init__(self, inner: LocalPublisher, n: int) -> None:
        self.inner, self.left = inner, n

    def publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if event.code.startswith(PREFIX):
                if self.left == 0:
                    raise ConnectionError("the bus went away")
                self.left -= 1
            self.inner.publish([event])


def test_relay_publishes_every_event_once_in_order_per_dossier():
    codes = dossiers("A")
    deps = local_deps()
    drain(deps, codes)
    assert_applied_once_in_order(codes)
    again = relay(deps, limit=200, older_than_seconds=0)  # nothing left of ours: a further run applies nothing twice
    assert again["failed"] == 0
    assert_applied_once_in_order(codes)


def test_a_failed_event_holds_its_dossier_at_that_event_and_not_the_others():
    codes = dossiers("B")
    held = codes[0]
    deps = local_deps()
    bad = {f"{held}/2"}
    failing = replace(deps, publisher=FailingFor(deps.publisher, bad))  # type: ignore[arg-type]
    for _ in range(20):
        counts = relay(failing, limit=200, older_than_seconds=0)
        if not any(item.pending for code in codes[1:] for item in outbox(code)):
            break
    assert counts["held"] >= 1
    assert_applied_once_in_order(codes[1:])
    items = outbox(held)
    assert [bool(i.pending) for i in items] == [False] + [True] * (len(items) - 1)  # stopped at seq 2
    assert [count(f"applied#{held}/{int(i.seq)}") for i in items] == [1] + [0] * (len(items) - 1)
    drain(deps, codes)  # the bus is back
    assert_applied_once_in_order(codes)


def test_relay_interrupted_by_an_exception_mid_call_loses_nothing_and_applies_nothing_twice():
    codes = dossiers("C")
    deps = local_deps()
    broken = replace(deps, publisher=RaisesAfter(deps.publisher, 5))  # type: ignore[arg-type]
    counts = relay(broken, limit=200, older_than_seconds=0)
    assert counts["failed"] > 0
    applied = sum(count(f"applied#{code}/{int(i.seq)}") for code in codes for i in outbox(code))
    assert applied == 5
    # Some events were applied though the relay could not tell: they are still pending...
    assert any(i.pending and count(f"applied#{code}/{int(i.seq)}") for code in codes for i in outbox(code))
    drain(deps, codes)  # ... so they are published again, and the consumer skips them.
    assert_applied_once_in_order(codes)


def run_worker(mode: str, n: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.integration.relay_worker", mode, str(n)], cwd=ROOT,
                          env=os.environ.copy(), capture_output=True, text=True, timeout=120)


def test_relay_process_killed_after_publishing_before_marking():
    codes = dossiers("D")
    done = run_worker("after_publish", 6)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    applied = [(code, int(i.seq)) for code in codes for i in outbox(code) if count(f"applied#{code}/{int(i.seq)}")]
    assert len(applied) == 6
    # The last events applied were never marked: the killed relay would lose them if it trusted its memory.
    assert any(i.pending for code in codes for i in outbox(code) if (code, int(i.seq)) in applied)
    drain(local_deps(), codes)
    assert_applied_once_in_order(codes)


def test_consumer_killed_mid_event_is_run_again_once_its_claim_lapses():
    codes = dossiers("E")
    done = run_worker("in_consumer", 3)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    applied = sum(count(f"applied#{code}/{int(i.seq)}") for code in codes for i in outbox(code))
    # The third was claimed, then the process died before applying it; other dossiers' events, applied at the
    # same time in the consumer's lane, may have been claimed and not applied either.
    assert applied <= 2

    # While the dead worker's claim is live, the event is not applied and not marked: it waits.
    relay(local_deps(), limit=200, older_than_seconds=0)
    assert sum(count(f"applied#{code}/{int(i.seq)}") for code in codes for i in outbox(code)) < sum(
        len(outbox(code)) for code in codes)
    # Once the lease has lapsed, the next delivery applies it (once) and the dossier moves on.
    later = ProcessedRepository(clock=lambda: time.time() + LEASE_SECONDS + 1)
    drain(local_deps(processed=later), codes)
    assert_applied_once_in_order(codes)
