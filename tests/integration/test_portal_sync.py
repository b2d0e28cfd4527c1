"""The national portal sync on DynamoDB Local against a fake portal that is a real HTTP server on loopback: every
change reaches it in seq order per dossier under failures, slowness and out-of-order acknowledgements, with many
dossiers at once; retries until acknowledged; failing visible; a redelivery pushes once; a missing seq holds."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.dynamodb.outbox import outbox_item
from chalicelib.adapters.portal_client import HttpPortalClient
from chalicelib.bootstrap import Deps
from chalicelib.config import PortalSettings
from chalicelib.domain import events as ev
from chalicelib.domain.events import DomainEvent
from chalicelib.domain.portal import FAILING, PENDING, SYNCED
from chalicelib.services import consumers, portal_sync
from scripts.fake_portal import FakePortal
from tests.integration.relay_worker import local_deps

AT = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
# One dossier's life as events: seq -> (type, status after it); the portal hears seqs 1, 4, 5, 6 and 8.
LIFE = [
    (ev.STATUS_CHANGED, "received"), (ev.RECEIVED, "received"), (ev.STEP_STARTED, "received"),
    (ev.STATUS_CHANGED, "in_progress"), (ev.APPOINTMENT_CHANGED, "in_progress"), (ev.STATUS_CHANGED, "resolved"),
    (ev.RESOLVED, "resolved"), (ev.STATUS_CHANGED, "returned"), (ev.RETURNED, "returned"), (ev.CLOSED, "returned"),
]
PUSHED_SEQS = [1, 4, 5, 6, 8]
NATIONAL = {"received": 2, "in_progress": 4, "resolved": 9, "returned": 10}


def life(code: str, unit: str) -> list[DomainEvent]:
    out = []
    previous = None
    for seq, (kind, status) in enumerate(LIFE, start=1):
        snapshot = {"code": code, "procedure_code": "2.001417", "field_code": "G09-TP01", "channel": "direct",
                    "status": status, "receiving_unit": unit, "competent_unit": unit, "handling_unit": unit,
                    "submitted_at": "2026-03-16T02:00:00Z", "received_at": "2026-03-16T02:00:00Z",
                    "appointment_at": "2026-03-30T02:00:00Z", "due_at": "2026-03-30T02:00:00Z",
                    "resolved_at": None}
        data: dict[str, object] = {"officer": "cv.binh", "officer_unit": unit, "dossier": snapshot}
        if kind == ev.STATUS_CHANGED:
            data.update(action="x", from_status=previous, to_status=status, national_code=NATIONAL[status])
            previous = status
        if kind == ev.APPOINTMENT_CHANGED:
            data.update(reason="apology", previous_appointment_at="2026-03-30T02:00:00Z",
                        appointment_at="2026-04-03T02:00:00Z")
        out.append(DomainEvent(kind, code, seq, seq, AT + timedelta(minutes=seq), data))
    return out


@pytest.fixture
def fake() -> Iterator[FakePortal]:
    with FakePortal(token="portal-test-token") as portal:
        yield portal


def settings_for(fake: FakePortal, **changes: object) -> PortalSettings:
    base = {"base_url": fake.url, "token": "portal-test-token", "connect_timeout": 0.5, "read_timeout": 0.5,
            "concurrency": 8, "failing_after": 3, "backoff_base": 0.0, "backoff_cap": 0.0, "gap_seconds": 60.0}
    return PortalSettings(**{**base, **changes})  # type: ignore[arg-type]


def deps_for(s: PortalSettings, **changes: object) -> Deps:
    return local_deps(portal=HttpPortalClient(s), **changes)


def unit() -> str:
    return f"TEST.SYNC-{uuid.uuid4().hex[:8]}"


def push_until_synced(deps: Deps, s: PortalSettings, codes: list[str], seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        portal_sync.push(deps, s, codes=codes)
        if all((st := deps.sync.state(c)) is not None and st.status == SYNCED for c in codes):
            return
        time.sleep(0.05)
    states = {c: deps.sync.state(c) for c in codes}
    raise AssertionError(f"not synced: {[(c, s.status, s.last_error) for c, s in states.items() if s]}")


def assert_in_order(fake: FakePortal, codes: list[str]) -> None:
    """Each dossier's acknowledged payloads in seq order. A payload the portal took but whose answer the worker
    did not get in time is sent again (the same MaSuKien and Idempotency-Key): it may repeat, never come after a
    later one."""
    got = fake.by_dossier()
    for code in codes:
        seqs = [int(entry["body"]["MaSuKien"].rpartition("/")[2]) for entry in got[code]]
        assert seqs == sorted(seqs) and sorted(set(seqs)) == PUSHED_SEQS, (code, seqs)
        first = {}
        for entry in got[code]:
            first.setdefault(entry["key"], entry)
        assert list(first) == [f"{code}/{n}" for n in PUSHED_SEQS]
        assert [e["service"] for e in first.values()] == ["DongBoHoSoMC"] + ["CapNhatTienDoHoSoMC"] * 4
        assert [e["body"]["TrangThaiHoSo"] for e in first.values()] == [2, 4, 4, 9, 10]


def test_every_change_reaches_the_portal_in_seq_order_under_failures_slowness_and_reordering(fake):
    s = settings_for(fake, backoff_base=0.3, backoff_cap=1.0)
    deps = deps_for(s)
    u = unit()
    codes = [f"{u}-{n:03d}" for n in range(12)]
    events = [e for code in codes for e in life(code, u)]
    random.Random(8).shuffle(events)  # the queues record them in any order
    first, rest = events[: len(events) // 2], events[len(events) // 2:]
    fake.fail(5)
    fake.slow(2, 1.0)  # past the 0.5 s read timeout
    fake.reorder(4)  # four requests in flight are answered latest first
    for event in first:
        portal_sync.record(deps, event)
    # Two workers at once, while the rest of the events are being recorded: one in flight per dossier all the same.
    workers = [threading.Thread(target=portal_sync.push, args=(deps, s), kwargs={"codes": codes}) for _ in range(2)]
    for worker in workers:
        worker.start()
    for event in rest:
        portal_sync.record(deps, event)
    for worker in workers:
        worker.join()
    push_until_synced(deps, s, codes)
    assert_in_order(fake, codes)
    assert len(fake.attempts) > len(fake.acknowledged)  # some were refused or timed out, and were retried
    assert fake.reordered > 0  # and acknowledgements did come back out of order
    figures = deps.sync.unit_figures(u)
    assert (figures["known"], figures["pending"], figures["failing"]) == (12, 0, 0)


def recorded_dossier(fake: FakePortal) -> tuple[PortalSettings, Deps, str, str]:
    """The settings, deps, unit and code of a new dossier whose first four changes are recorded, none pushed."""
    s = settings_for(fake)
    deps = deps_for(s)
    u = unit()
    code = f"{u}-001"
    for event in life(code, u)[:4]:
        portal_sync.record(deps, event)
    return s, deps, u, code


def test_a_dossier_is_retried_until_acknowledged_and_shows_as_failing_meanwhile(fake):
    s, deps, u, code = recorded_dossier(fake)
    assert deps.sync.state(code).status == PENDING  # type: ignore[union-attr]
    assert deps.sync.unit_figures(u)["oldest_pending"]["code"] == code
    fake.fail(10_000)
    for _ in range(3):
        assert portal_sync.push(deps, s, codes=[code])["failed"] == 1
    state = deps.sync.state(code)
    assert state is not None and state.status == FAILING and state.attempts == 3 and "HTTP 503" in state.last_error
    figures = deps.sync.unit_figures(u)
    assert (figures["pending"], figures["failing"]) == (0, 1) and figures["oldest_failing"]["code"] == code
    for _ in range(4):  # never given up
        portal_sync.push(deps, s, codes=[code])
    assert deps.sync.state(code).attempts == 7  # type: ignore[union-attr]
    fake.fail(0)
    push_until_synced(deps, s, [code])
    assert [e["body"]["MaSuKien"] for e in fake.acknowledged] == [f"{code}/1", f"{code}/4"]
    figures = deps.sync.unit_figures(u)
    assert (figures["known"], figures["pending"], figures["failing"]) == (1, 0, 0)


def test_the_backoff_waits_before_the_next_try(fake):
    s = settings_for(fake, backoff_base=30.0, backoff_cap=60.0)
    deps = deps_for(s)
    u = unit()
    code = f"{u}-001"
    portal_sync.record(deps, life(code, u)[0])
    fake.fail(1)
    assert portal_sync.push(deps, s, codes=[code])["failed"] == 1
    assert portal_sync.push(deps, s, codes=[code])["pushed"] == 0  # not before its next try
    state = deps.sync.state(code)
    assert state is not None and state.next_at is not None and code not in deps.sync.due(deps.now(), 10_000)
    assert state.next_at > deps.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_event_delivered_twice_is_recorded_and_pushed_once(fake):
    s = settings_for(fake)
    deps = deps_for(s)
    u = unit()
    code = f"{u}-001"
    event = life(code, u)[0]
    assert portal_sync.record(deps, event) is True
    assert portal_sync.record(deps, event) is False  # past dispatch's claim, as a worker that died would
    assert consumers.dispatch(deps, event, only="portal_sync") == ["portal_sync"]  # its claim is new: still once
    assert code in deps.sync.due(deps.now(), 10_000)  # found by the worker's own index
    push_until_synced(deps, s, [code])
    assert [e["body"]["MaSuKien"] for e in fake.acknowledged] == [f"{code}/1"]
    assert deps.sync.state(code).recorded == 1  # type: ignore[union-attr]


def test_a_missing_seq_holds_the_later_changes_then_is_read_from_the_outbox(fake):
    s = settings_for(fake)
    clock = {"now": datetime.now(UTC).replace(microsecond=0)}
    deps = deps_for(s, now=lambda: clock["now"])
    u = unit()
    code = f"{u}-001"
    events = life(code, u)
    outbox_item(events[0]).save()  # the change itself exists: its queue is late
    for event in events[1:6]:
        portal_sync.record(deps, event)
    counts = portal_sync.push(deps, s, codes=[code])
    assert counts["held"] == 1 and fake.acknowledged == []
    state = deps.sync.state(code)
    assert state is not None and state.gap_since is not None and state.status == PENDING
    clock["now"] += timedelta(seconds=30)
    assert portal_sync.push(deps, s, codes=[code])["pushed"] == 0  # still within the wait
    # Past the wait, the worker reads seq 1 from the outbox and pushes everything in order.
    clock["now"] += timedelta(seconds=31)
    push_until_synced(deps, s, [code])
    assert [e["body"]["MaSuKien"] for e in fake.acknowledged] == [f"{code}/{n}" for n in (1, 4, 5, 6)]


def test_a_missing_seq_that_no_outbox_holds_makes_the_dossier_failing_until_it_comes(fake):
    from chalicelib.adapters.metrics import RecordedMetrics

    s = settings_for(fake, gap_seconds=0.0)
    measured = RecordedMetrics()
    deps = deps_for(s, metrics=measured)
    u = unit()
    code = f"{u}-001"
    events = life(code, u)
    for event in events[1:4]:
        portal_sync.record(deps, event)
    assert portal_sync.push(deps, s, codes=[code])["held"] == 1
    assert measured.counts == {"PortalUpdatesFailing": 1}
    state = deps.sync.state(code)
    assert state is not None and state.status == FAILING and f"{code}/1 is missing" in (state.last_error or "")
    assert deps.sync.unit_figures(u)["failing"] == 1 and fake.acknowledged == []
    portal_sync.record(deps, events[0])  # delivered at last (a redriven dead letter)
    push_until_synced(deps, s, [code])
    assert [e["body"]["MaSuKien"] for e in fake.acknowledged] == [f"{code}/1", f"{code}/4"]


def test_an_unreachable_or_refusing_portal_is_not_an_acknowledgement(fake):
    closed = PortalSettings(base_url="http://127.0.0.1:9", connect_timeout=0.5, read_timeout=0.5, backoff_base=0.0)
    deps = deps_for(closed)
    u = unit()
    code = f"{u}-001"
    portal_sync.record(deps, life(code, u)[0])
    started = time.monotonic()
    assert portal_sync.push(deps, closed, codes=[code])["failed"] == 1
    assert time.monotonic() - started < 5
    assert "ConnectionRefusedError" in (deps.sync.state(code).last_error or "")  # type: ignore[union-attr]
    wrong_token = settings_for(fake, token="not-the-token")
    portal_sync.push(deps_for(wrong_token), wrong_token, codes=[code])
    assert "HTTP 401" in (deps.sync.state(code).last_error or "")  # type: ignore[union-attr]


def test_a_lapsed_lease_is_taken_over_and_a_worker_that_lost_its_lease_writes_nothing(fake):
    s, deps, u, code = recorded_dossier(fake)
    state = deps.sync.state(code)
    assert state is not None
    # A worker that died holding the dossier: its lease lapsed a second ago.
    deps.sync.save(state, state.lease(deps.now() - timedelta(seconds=61), 60, "dead-worker"))
    assert portal_sync.push(deps, s, codes=[code])["synced"] == 1

    code = f"{u}-002"
    for event in life(code, u)[:4]:
        portal_sync.record(deps, event)

    class Stalling(HttpPortalClient):
        """Sends, then stalls past its lease: another worker takes the dossier over before it writes."""

        def send(self, service, body, key):
            answer = super().send(service, body, key)
            current = deps.sync.state(code)
            assert current is not None
            deps.sync.save(current, current.lease(deps.now(), 60, "other-worker"))
            return answer

    stalled = local_deps(portal=Stalling(s))
    assert portal_sync.push(stalled, s, codes=[code])["busy"] == 1
    state = deps.sync.state(code)
    assert state is not None and state.next_seq == 1 and state.lease_owner == "other-worker"  # nothing written


def test_a_run_out_of_time_leaves_its_dossiers_due_and_unleased(fake):
    s = settings_for(fake)
    deps = deps_for(s)
    u = unit()
    code = f"{u}-001"
    portal_sync.record(deps, life(code, u)[0])
    before = deps.sync.state(code)
    assert portal_sync.push(deps, s, codes=[code], run_seconds=0)["pushed"] == 0
    assert deps.sync.state(code) == before and fake.attempts == []
    push_until_synced(deps, s, [code])


class _BrokenPortal:
    """A portal client whose environment lacks something (what a missing module does in Lambda)."""

    def send(self, service: str, body: dict[str, object], key: str) -> dict[str, object]:
        raise ModuleNotFoundError("No module named 'requests'")


class _BrokenDossiers:
    def __init__(self, inner: object):
        self._inner = inner

    def get(self, code: str) -> None:
        raise RuntimeError("the dossier store answered nonsense")

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_an_unexpected_error_makes_the_dossier_failing_at_once_with_the_error(fake):
    from chalicelib.adapters.metrics import RecordedMetrics

    s, deps, u, code = recorded_dossier(fake)
    measured = RecordedMetrics()
    broken = local_deps(portal=_BrokenPortal(), metrics=measured)
    assert portal_sync.push(broken, s, codes=[code])["failed"] == 1
    assert portal_sync.push(broken, s, codes=[code])["failed"] == 1  # still failing: counted once
    assert measured.counts == {"PortalUpdatesFailing": 1}
    state = deps.sync.state(code)
    assert state is not None and state.status == FAILING and state.attempts == 2
    assert "ModuleNotFoundError" in (state.last_error or "") and state.lease_owner is None
    assert deps.sync.unit_figures(u)["failing"] == 1
    push_until_synced(deps, s, [code])  # once the fault is gone, it is pushed as any other


def test_an_unexpected_error_outside_the_push_still_leaves_the_dossier_failing_not_leased(fake):
    s, deps, u, code = recorded_dossier(fake)
    broken = local_deps(portal=HttpPortalClient(s), dossiers=_BrokenDossiers(deps.dossiers))
    assert portal_sync.push(broken, s, codes=[code])["failed"] == 1
    state = deps.sync.state(code)
    assert state is not None and state.status == FAILING and state.lease_owner is None
    assert "RuntimeError" in (state.last_error or "") and fake.attempts == []


def test_the_portals_acknowledgement_of_a_received_dossier_counts_it_synced_on_its_day_of_receipt(fake):
    """Decision 766's 1.4: the statistics consumer saw the receipt before the portal knew the dossier; the sync's
    acknowledgement of its dossier sync then counts it, once, at the receiving desk on the day of receipt."""
    from chalicelib.adapters.dynamodb.models import OutboxModel
    from chalicelib.domain.dossier import Actor
    from chalicelib.services.intake import receive_dossier
    from tests.api.helpers import CRIMINAL_RECORD
    from tests.unit.calendars import vn
    from tests.units import CENTRE

    s = settings_for(fake)
    deps = deps_for(s, now=lambda: vn(2025, 6, 17, 9))

    def synced() -> int:
        rows = deps.stats.read(CENTRE, "2025-06", "2025-06-17", "2025-06-17")
        return sum(int(r.get("synced", 0)) for r in rows if r["group"] == "all")

    before = synced()
    code = receive_dossier(deps, Actor("desk.sync", CENTRE, frozenset({"desk"})), CRIMINAL_RECORD)["code"]
    events = [DomainEvent.from_dict(item.event_data) for item in OutboxModel.query(code, consistent_read=True)]
    for event in events:
        consumers.dispatch(deps, event, only="statistics")
        consumers.dispatch(deps, event, only="portal_sync")
    assert synced() == before  # received, but the portal does not know it yet
    push_until_synced(deps, s, [code])
    assert synced() == before + 1
    received = next(e for e in events if e.type == ev.RECEIVED)
    from chalicelib.services import statistics

    statistics.on_event(deps, received)  # delivered again after the acknowledgement: still once
    assert synced() == before + 1
