"""The national portal sync: every status change of every dossier reaches the portal, in order, acknowledged.

Two halves (docs/portal-sync.md):
- the consumer `on_event` (services/consumers.py, every event type) records each event of a dossier as item
  `seq` of that dossier: its change for the portal (domain/portal.py `change_of`) or a skip, so that a dossier's
  items are exactly 1, 2, 3 ... and a missing one can be told from one that never concerned the portal. The item
  and the dossier's state are written in one transaction, conditioned on the item being new: an event delivered
  twice is recorded once.
- the worker `push` (a schedule: api/jobs.py; `make run` runs it) takes the dossiers whose next try has come and
  pushes each one's items strictly in seq order, one in flight per dossier (a lease on its state), many dossiers
  at once (a bounded pool). An item is acknowledged before the next is sent; a failure stops the dossier there
  and it is retried with capped exponential backoff, never given up; after `failing_after` tries it shows as
  failing. A missing seq holds the later ones: the worker waits `gap_seconds` for its queue to deliver it, then
  reads the event from the outbox and records it itself; if the outbox no longer has it the dossier is failing,
  logged as an error, and checked again at every backoff cap.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..domain import events as ev
from ..domain import portal
from ..domain.clock import iso, parse_iso
from ..domain.errors import Forbidden, NotFound
from ..domain.events import DomainEvent
from ..domain.portal import SYNCED, SyncState
from ..observability import logger
from . import metrics, statistics
from .ports import PortalError, SyncConflict

if TYPE_CHECKING:
    from ..config import PortalSettings
    from ..domain.dossier import Actor
    from .deps import Deps

TYPES = frozenset(ev.EVENT_TYPES)  # every event is an item (a skip at least): seqs stay contiguous
LEASE_SECONDS = 60.0  # renewed with every acknowledgement; longer than any one request's bounded wait
ITEMS_PER_READ = 25
RUN_SECONDS = 40.0  # a run takes no new change after this (its schedule comes again within a minute)
CONFLICT_RETRIES = 8
RECENT_ITEMS = 20  # what a dossier's sync view lists


def on_event(deps: Deps, event: DomainEvent) -> None:
    record(deps, event)


def record(deps: Deps, event: DomainEvent) -> bool:
    """Record `event` as its dossier's item `event.seq`; False if it was recorded before."""
    change = portal.change_of(event)
    for _ in range(CONFLICT_RETRIES):
        before = deps.sync.state(event.code)
        base = before or _first_state(event)
        now = deps.now()
        try:
            return deps.sync.record(event.seq, change, before, base.recorded_one(now), now,
                                    count_known=before is not None or base.next_seq == 1)
        except SyncConflict:
            continue  # the worker or another consumer wrote the state meanwhile: read it again
    raise SyncConflict(f"{event.id}: the sync state kept changing")


def _first_state(event: DomainEvent) -> SyncState:
    """The state of a dossier the sync has not heard of: from its first event; or, for an imported dossier whose
    history lane was not written yet (a live change within moments of its import), from this event, which the
    portal then hears as the dossier's sync with its state now (the import counts it in its unit)."""
    snapshot = event.data.get("dossier") or {}
    imported = isinstance(snapshot, dict) and bool(snapshot.get("imported")) and event.seq > 1
    start = event.seq if imported else 1
    return SyncState(event.code, portal.unit_of(event), next_seq=start, recorded=start - 1)


def push(deps: Deps, settings: PortalSettings | None = None, limit: int = 200, run_seconds: float = RUN_SECONDS,
         codes: Sequence[str] | None = None) -> dict[str, int]:
    """Push the due dossiers (at most `limit`; or only `codes`, an operator's push of named dossiers, which still
    waits for their next try), `settings.concurrency` at a time; answer counts: due, pushed, skipped (items that
    were nothing to the portal), synced (dossiers now fully acknowledged), failed (tries that failed), held
    (dossiers waiting for a missing seq), busy (pushed by another worker), history (of the due, those taken
    from the history lane after the live ones)."""
    from ..config import settings as app_settings

    s = settings or app_settings().portal
    deadline = time.monotonic() + run_seconds
    counts: Counter[str] = Counter()
    named = codes is not None
    live = list(codes) if codes is not None else deps.sync.due(deps.now(), limit)
    _push_all(deps, live, s, deadline, counts)
    # The history lane (imported dossiers, docs/import.md): only what the live dossiers left of this run's room
    # and time, and at most `history_per_run`, so an import never delays a live dossier's sync.
    room = min(limit - len(live), s.history_per_run)
    if not named and room > 0 and time.monotonic() < deadline:
        history = deps.sync.due_history(deps.now(), room)
        counts["history"] += len(history)
        _push_all(deps, history, s, deadline, counts)
    return {k: counts[k] for k in ("due", "pushed", "skipped", "synced", "failed", "held", "busy", "history")}


def _push_all(deps: Deps, codes: list[str], s: PortalSettings, deadline: float, counts: Counter[str]) -> None:
    counts["due"] += len(codes)
    if not codes:
        return
    with ThreadPoolExecutor(max_workers=min(s.concurrency, len(codes)), thread_name_prefix="portal") as pool:
        for outcome in pool.map(lambda code: _push_one(deps, code, s, deadline), codes):
            counts.update(outcome)


class _LeaseLost(Exception):
    """Another worker holds the dossier now (this one stalled past its lease): it stops without writing."""


def _push_one(deps: Deps, code: str, s: PortalSettings, deadline: float) -> Counter[str]:
    out: Counter[str] = Counter()
    pusher = _Pusher(deps, code, s, deadline, out)
    try:
        pusher.run()
    except _LeaseLost:
        logger().warning("portal sync: lease lost to another worker", extra={"code": code})
        out["busy"] += 1
    except Exception as exc:  # one dossier's trouble must not stop the others, nor leave it pending unseen
        logger().exception("portal sync: dossier not pushed", extra={"code": code})
        out["failed"] += 1
        pusher.fault(exc)
    return out


class _Pusher:
    """One dossier's run: claim the lease, push items in seq order until done, a failure, a gap or time."""

    def __init__(self, deps: Deps, code: str, s: PortalSettings, deadline: float, out: Counter[str]):
        self.deps, self.code, self.s, self.deadline, self.out = deps, code, s, deadline, out
        self.applicant: dict[str, Any] | None = None
        self.owner = uuid.uuid4().hex

    def run(self) -> None:
        if time.monotonic() >= self.deadline:
            return  # the run is out of time before this dossier's turn: it stays due for the next run
        now = self.deps.now()
        state = self.deps.sync.state(self.code)
        if state is None or state.status == SYNCED:
            return  # the index lags the table
        if state.leased(now):
            self.out["busy"] += 1
            return
        if state.next_at is not None and parse_iso(state.next_at) > now:
            return  # the index lags the table: not due yet
        try:
            state = self.deps.sync.save(state, state.lease(now, LEASE_SECONDS, self.owner))
        except SyncConflict:
            self.out["busy"] += 1
            return
        while True:
            if time.monotonic() >= self.deadline:  # out of time: give the dossier back, due at once
                self._write(state, lambda st: replace(st.released(), next_at=iso(self.deps.now())))
                return
            items = self.deps.sync.items(self.code, state.next_seq, ITEMS_PER_READ)
            if not items or int(items[0]["seq"]) != state.next_seq:
                state, go_on = self._no_next(state)
                if go_on:
                    continue
                return
            state, rest = self._skip(state, items)
            for item in rest:
                if item.get("change") is None or int(item["seq"]) != state.next_seq:
                    break  # a skip after a change, or a gap: the next read starts there
                if time.monotonic() >= self.deadline:
                    break
                pushed = self._push(state, item)
                if pushed is None:
                    return
                state = pushed

    def _skip(self, state: SyncState, items: list[dict[str, Any]]) -> tuple[SyncState, list[dict[str, Any]]]:
        """Pass over the consecutive skips at the head of `items` (events that are nothing to the portal) with one
        write of the state; answer it and the items after them. Skipped items are not rewritten: `next_seq` says
        they are handled."""
        n = 0
        while n < len(items) and items[n].get("change") is None and int(items[n]["seq"]) == state.next_seq + n:
            n += 1
        if not n:
            return state, items
        last = int(items[n - 1]["seq"])
        self.out["skipped"] += n
        return self._write(state, lambda st: st.acknowledged(last, self.deps.now(), False, LEASE_SECONDS)), items[n:]

    def _push(self, state: SyncState, item: dict[str, Any]) -> SyncState | None:
        """Push one change; the state after it, or None when the portal did not take it."""
        change = item["change"]
        if not state.announced and self.applicant is None:
            dossier = self.deps.dossiers.get(self.code)
            self.applicant = dict(dossier.applicant) if dossier is not None else {}
        try:
            service, body = portal.payload(change, state.announced, self.applicant)
            answer = self.deps.portal.send(service, body, str(change["event_id"]))
        except PortalError as exc:
            self.out["failed"] += 1
            self._failed(state, item, str(exc))
            return None
        except Exception as exc:  # a fault of this code or its environment (a missing module...): failing at once
            logger().exception("portal sync: unexpected error pushing a change", extra={"code": self.code})
            self.out["failed"] += 1
            self._failed(state, item, _describe(exc), unexpected=True)
            return None
        self.out["pushed"] += 1
        return self._acknowledge(state, item, True, {"service": service, **answer})

    def _failed(self, state: SyncState, item: dict[str, Any], error: str, unexpected: bool = False) -> None:
        """Record a failed try; an unexpected error (no retry cures a bug) makes the dossier failing at once."""
        s = self.s
        failing_after = 1 if unexpected else s.failing_after
        after = self._write(state, lambda st: st.failed(self.deps.now(), error, s.backoff_base, s.backoff_cap,
                                                        failing_after))
        if after.failing and not state.failing:  # the dossier turns failing: counted once per spell
            metrics.count(self.deps, metrics.PORTAL_UPDATES_FAILING)
        # The try that makes the dossier failing is an error (an alarm's metric filter); the others warnings.
        log = logger().error if after.attempts == failing_after or unexpected else logger().warning
        log("portal sync: change not acknowledged", extra={
            "code": self.code, "seq": item["seq"], "attempts": after.attempts, "failing": after.failing,
            "next_at": after.next_at, "error": error})

    def fault(self, exc: BaseException) -> None:
        """After an error nothing expected (outside a push): the dossier, if this run holds it, is failing with
        the error and tried again after the backoff, instead of waiting pending for its lease to lapse."""
        try:
            state = self.deps.sync.state(self.code)
            if state is None or state.lease_owner != self.owner:
                return  # not claimed by this run: it stays due as it was, and the error is logged
            s = self.s
            self._write(state, lambda st: st.failed(self.deps.now(), _describe(exc), s.backoff_base,
                                                    s.backoff_cap, 1))
            if not state.failing:
                metrics.count(self.deps, metrics.PORTAL_UPDATES_FAILING)
        except Exception:  # the store itself is failing: the lease lapses and the next run tries again
            logger().exception("portal sync: could not record the error", extra={"code": self.code})

    def _no_next(self, state: SyncState) -> tuple[SyncState, bool]:
        """Item next_seq is not there: the dossier is done, or a seq is missing. Answer the state and whether
        to read the items again."""
        now = self.deps.now()
        if state.all_handled:
            after = self._write(state, lambda st: st.finished(now) if st.all_handled else None)
            if after.status == SYNCED:
                self.out["synced"] += 1
                return after, False
            return after, True  # recorded meanwhile: push it now
        since = parse_iso(state.gap_since) if state.gap_since else now
        if (now - since).total_seconds() < self.s.gap_seconds:
            self.out["held"] += 1
            return self._write(state, lambda st: st.waiting_for_gap(now, self.s.gap_seconds)), False
        event = self.deps.sync.outbox_event(self.code, state.next_seq)
        if event is not None:
            record(self.deps, event)  # as the consumer would: its own delivery later records nothing
            logger().warning("portal sync: a missing event was read from the outbox",
                             extra={"code": self.code, "seq": state.next_seq})
            fresh = self.deps.sync.state(self.code)
            return (fresh or state), fresh is not None
        self.out["held"] += 1
        logger().error("portal sync: an event is missing and not in the outbox; later changes are held",
                       extra={"code": self.code, "seq": state.next_seq})
        after = self._write(state, lambda st: st.gap_unresolved(now, self.s.backoff_cap))
        if after.failing and not state.failing:  # held by a missing event: failing too, counted once per spell
            metrics.count(self.deps, metrics.PORTAL_UPDATES_FAILING)
        return after, False

    def _acknowledge(self, state: SyncState, item: dict[str, Any], pushed: bool,
                     answer: dict[str, Any] | None) -> SyncState:
        seq = int(item["seq"])
        for _ in range(CONFLICT_RETRIES):
            after = state.acknowledged(seq, self.deps.now(), pushed, LEASE_SECONDS)
            try:
                stored = self.deps.sync.acknowledge(item, state, after, self.deps.now(), answer)
            except SyncConflict:
                state = self._reread(state)
                continue
            if after.announced and not state.announced:
                self._count_synced()
            return stored
        raise SyncConflict(f"{self.code}: the sync state kept changing")

    def _count_synced(self) -> None:
        """Decision 766's 1.4: the portal knows the dossier now (services/statistics.py). A failure here never
        holds the sync back: the recount finds the dossier (`make reconcile`, `make backfill-stats`)."""
        try:
            statistics.on_announced(self.deps, self.code)
        except Exception:
            logger().exception("portal sync: the synced count was not written", extra={"code": self.code})

    def _write(self, state: SyncState, change: Callable[[SyncState], SyncState | None]) -> SyncState:
        """Apply `change` to the stored state (read again after a concurrent write); None changes nothing."""
        for _ in range(CONFLICT_RETRIES):
            after = change(state)
            if after is None:
                return state
            try:
                return self.deps.sync.save(state, after)
            except SyncConflict:
                state = self._reread(state)
        raise SyncConflict(f"{self.code}: the sync state kept changing")

    def _reread(self, state: SyncState) -> SyncState:
        """The state after a concurrent write: the consumer's (it keeps the lease), or another worker's that took
        a lapsed lease (then this one must not write what it believed)."""
        fresh = self.deps.sync.state(self.code)
        if fresh is None or fresh.lease_owner != self.owner:
            raise _LeaseLost(self.code)
        return fresh


def _describe(exc: BaseException) -> str:
    return f"unexpected {type(exc).__name__}: {str(exc)[:300]}"


# --- what the routes show ---------------------------------------------------------------------------------------
def unit_status(deps: Deps, unit: str) -> dict[str, Any]:
    """The sync of `unit` and its subtree: per unit (those with any dossier in the sync) and in total, how many
    dossiers are synced, pending and failing, and the oldest not yet acknowledged. Read from each unit's counter
    and the sparse index of unsynced dossiers, never from the dossiers."""
    tree = deps.catalogue.tree()
    rows = []
    for uid in sorted(tree.subtree(unit)):
        f = deps.sync.unit_figures(uid)
        if not (f["known"] or f["pending"] or f["failing"]):
            continue
        oldest = _oldest(f["oldest_pending"], f["oldest_failing"])
        rows.append({"unit": uid, "name": tree.units[uid].name,
                     "synced": max(0, f["known"] - f["pending"] - f["failing"]), "pending": f["pending"],
                     "failing": f["failing"], "oldest_pending": oldest})
    total = {k: sum(r[k] for r in rows) for k in ("synced", "pending", "failing")}
    oldest = _oldest(*(r["oldest_pending"] for r in rows))
    return {"unit": unit, **total, "oldest_pending": oldest, "units": rows}


def _oldest(*candidates: dict[str, str] | None) -> dict[str, Any] | None:
    from .views import local

    present = [c for c in candidates if c is not None]
    if not present:
        return None
    first = min(present, key=lambda c: c["since"])
    return {"code": first["code"], "since": local(first["since"])}


def dossier_status(deps: Deps, actor: Actor, code: str) -> dict[str, Any]:
    """One dossier's sync: its state and its latest items (what was sent, and when the portal took it); for
    whoever may read the dossier."""
    from ..domain.access import may_read
    from .views import local

    dossier = deps.dossiers.get(code)
    if dossier is None:
        raise NotFound(f"no dossier {code}")
    if not may_read(actor, dossier, deps.catalogue.tree()):
        raise Forbidden(f"dossier {code} belongs to another unit")
    state = deps.sync.state(code)
    items = deps.sync.recent(code, RECENT_ITEMS) if state is not None else []
    return {
        "code": code, "status": state.status if state is not None else "unknown",
        "announced": bool(state and state.announced), "pushed": state.pushed if state else 0,
        "recorded": state.recorded if state else 0, "next_seq": state.next_seq if state else 1,
        "attempts": state.attempts if state else 0, "last_error": state.last_error if state else None,
        "pending_since": local(state.pending_since) if state else None,
        "next_attempt_at": local(state.next_at) if state and state.status != SYNCED else None,
        "synced_at": local(state.synced_at) if state else None,
        "items": [_item_view(item) for item in items],
    }


def _item_view(item: dict[str, Any]) -> dict[str, Any]:
    from .views import local

    change = item.get("change")
    answer = item.get("answer") or {}
    return {"seq": int(item["seq"]), "pushed": change is not None,
            "service": answer.get("service") if change is not None else None,
            "national_code": change["national_code"] if change else None,
            "note": change.get("note") if change else None,
            "recorded_at": local(item.get("recorded_at")), "acked_at": local(item.get("acked_at"))}
