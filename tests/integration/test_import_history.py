"""History has its own lane (docs/import.md): an import writes no outbox item; it writes its dossiers' counters
itself, summed per key, exactly once per dossier whatever crashes or re-runs happen (report 06 reconciles with
the dossiers); a live dossier under the same code is never overwritten; only subscriptions that ask for history
get its webhooks; the portal hears of imported dossiers on their own lane, after the live ones."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from chalicelib.adapters.dynamodb.models import HistoryModel, OutboxModel, WebhookDeliveryModel
from chalicelib.bootstrap import deps
from chalicelib.domain.dossier import Actor
from chalicelib.domain.portal import PENDING, SYNCED
from chalicelib.services import portal_sync
from chalicelib.services.importer import DUPLICATE, IMPORTED, REJECTED, Importer, RowResult
from chalicelib.services.intake import receive_dossier
from chalicelib.services.reconcile import reconcile
from tests.api.helpers import CRIMINAL_RECORD
from tests.integration.test_portal_sync import deps_for, fake, settings_for  # noqa: F401  (the fake portal)
from tests.units import CENTRE, DONG_SON

RUN = random.randrange(1000, 9999)
FROM, TO = date(2021, 3, 1), date(2021, 3, 31)  # this module's own days: nothing else is counted on them


def code(n: int) -> str:
    return f"{DONG_SON}-2103{n % 28 + 1:02d}-{RUN}{n:02d}"


def row(n: int, last: str = "returned") -> dict[str, Any]:
    """A dossier received on a day of March 2021 (3 working days), ending as `last`."""
    day = f"2021-03-{n % 20 + 1:02d}"
    received = f"{day} 09:00"
    history = [{"status": "received", "at": received}, {"status": "in_progress", "at": f"{day} 10:00"}]
    due, finished = "2021-03-26 09:00", None
    if last in ("returned", "late"):
        finished = "2021-03-24 10:00" if last == "returned" else "2021-03-29 10:00"
        history += [{"status": "resolved", "at": finished}, {"status": "returned", "at": "2021-03-30 08:00"}]
    elif last == "withdrawn":
        finished = "2021-03-25 10:00"
        history.append({"status": "withdrawn", "at": finished})
    return {"code": code(n), "procedure_code": "1.004873", "unit_code": DONG_SON, "channel": "direct",
            "applicant": {"name": "Phạm Văn Nam", "phone": "0912000002"}, "received_at": received,
            "due_at": due, "finished_at": finished, "history": history}


WRITTEN: set[str] = set()  # every code of March 2021 this module imported: the period's whole population


def run(rows: list[dict[str, Any]], base: Any = None) -> list[RowResult]:
    WRITTEN.update(r["code"] for r in rows if r["code"].startswith(DONG_SON))
    results: list[RowResult] = []
    Importer(base or deps(), "MotCua-2019", workers=2, chunk=7).run(
        ((i, r, r, []) for i, r in enumerate(rows)), results.append)
    return sorted(results, key=lambda r: r.line)


ROWS = [row(n, ("returned", "late", "withdrawn", "open")[n % 4]) for n in range(24)]


@pytest.fixture(scope="module")
def imported() -> list[RowResult]:
    return run(ROWS)


def test_an_import_writes_no_outbox_item_and_its_counters_reconcile(imported):
    assert [r.outcome for r in imported] == [IMPORTED] * len(ROWS), [r.problems for r in imported]
    for r in ROWS:
        assert not list(OutboxModel.query(r["code"], consistent_read=True))
        assert len(list(HistoryModel.query(r["code"], consistent_read=True))) == len(r["history"])
    report = reconcile(deps(), sorted(WRITTEN), FROM, TO)
    assert report["differences"] == [] and report["items"] > 0


def test_the_same_rows_again_are_duplicates_and_count_nothing_twice(imported):
    again = run(ROWS)
    assert [r.outcome for r in again] == [DUPLICATE] * len(ROWS) and not any(r.completed for r in again)
    assert reconcile(deps(), sorted(WRITTEN), FROM, TO)["differences"] == []


def test_a_run_stopped_between_its_steps_is_finished_by_the_next_one_counting_once():
    """The dossiers are claimed and their control sheets written, then the process dies before the counters:
    the next run finds them stored with the same fingerprint and no guard, and finishes them, once."""
    rows = [row(n, "late") for n in range(40, 46)]

    class Crash(Exception):
        pass

    class Crashing:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def apply_imported(self, counts: Any, workers: int = 1) -> set[str]:
            raise Crash

    with pytest.raises(Crash):
        run(rows, replace(deps(), stats=Crashing(deps().stats)))
    codes = [r["code"] for r in rows]
    assert all(deps().dossiers.get(c, consistent=True) is not None for c in codes)
    assert deps().stats.imported_counted(codes) == set()
    finished = run(rows)
    assert [r.outcome for r in finished] == [DUPLICATE] * len(rows) and all(r.completed for r in finished)
    again = run(rows)
    assert not any(r.completed for r in again)
    assert reconcile(deps(), sorted(WRITTEN), FROM, TO)["differences"] == []


def test_a_live_dossier_under_the_code_is_never_overwritten_even_when_the_import_raced_it():
    desk = Actor("desk.hist", CENTRE, frozenset({"desk"}))
    live_code = receive_dossier(deps(), desk, CRIMINAL_RECORD)["code"]
    before = deps().dossiers.get(live_code, consistent=True)
    lines = len(list(HistoryModel.query(live_code, consistent_read=True)))
    clash = {**row(60), "code": live_code}
    blind = replace(deps(), dossiers=_Blind(deps().dossiers))  # its batch read came before the live write
    for base in (deps(), blind):
        [result] = run([clash], base)
        assert result.outcome == REJECTED and "already used by another dossier" in result.problems[0].reason
    after = deps().dossiers.get(live_code, consistent=True)
    assert after is not None and before is not None
    assert (after.version, after.procedure_code, after.imported) == (before.version, before.procedure_code, None)
    assert len(list(HistoryModel.query(live_code, consistent_read=True))) == lines
    assert deps().stats.imported_counted([live_code]) == set()


class _Blind:
    """A dossier store whose batch read of existing codes sees none (it ran before another writer's write)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.first = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def existing(self, codes: list[str]) -> dict[str, str | None]:
        if self.first:
            self.first = False
            return {}
        return self.inner.existing(codes)


def test_history_webhooks_go_only_to_subscriptions_that_ask_for_them():
    store = deps().webhooks.store
    now = "2026-12-07T00:00:00Z"
    ids = {flag: f"wh_{RUN:04d}{int(flag)}{'0' * 27}" for flag in (False, True)}
    for flag, ident in ids.items():
        store.create({"id": ident, "url": "http://127.0.0.1:9/hook", "event_types": ["dossier.resolved"],
                      "unit": DONG_SON, "active": True, "include_history": flag, "description": "",
                      "created_at": now, "created_by": "admin", "updated_at": now, "disabled_reason": None,
                      "disabled_at": None}, [{"secret": "whsec_x", "created_at": now, "expires_at": None}])
    try:
        rows = [row(n, "returned") for n in range(70, 73)]
        assert [r.outcome for r in run(rows)] == [IMPORTED] * 3
    finally:
        for ident in ids.values():
            store.delete(ident)
    wanted = {d.data["code"] for d in WebhookDeliveryModel.by_webhook.query(ids[True])}
    assert wanted == {r["code"] for r in rows}  # one dossier.resolved each
    assert not list(WebhookDeliveryModel.by_webhook.query(ids[False]))


def test_the_portal_hears_imported_dossiers_on_their_own_lane_after_the_live_ones(fake):  # noqa: F811
    s = replace(settings_for(fake), history_per_run=2)
    base = deps_for(s)
    rows = [row(n, ("returned", "open", "withdrawn")[n % 3]) for n in range(80, 83)]
    assert [r.outcome for r in run(rows)] == [IMPORTED] * 3
    codes = [r["code"] for r in rows]
    for c in codes:
        state = base.sync.state(c)
        assert state is not None and state.status == PENDING and state.lane == "history"
    live = _Lane(base.sync, codes)
    lane = replace(base, sync=live)
    live.live = ["L1", "L2"]  # the live dossiers due fill the run: no history at all
    assert portal_sync.push(lane, s, limit=2)["history"] == 0
    live.live = []
    first = portal_sync.push(lane, s, limit=10)
    assert (first["history"], first["synced"]) == (2, 2)  # at most history_per_run
    second = portal_sync.push(lane, s, limit=10)
    assert (second["history"], second["synced"]) == (1, 1)
    got = fake.by_dossier()
    for r in rows:
        [entry] = got[r["code"]]  # its final state, once, as the dossier's sync
        assert entry["service"] == "DongBoHoSoMC"
        assert base.sync.state(r["code"]).status == SYNCED


class _Lane:
    """The sync store with its live lane replaced by `live` and its history lane limited to this test's codes
    (the session's database holds other tests' dossiers)."""

    def __init__(self, inner: Any, codes: list[str]) -> None:
        self.inner, self.codes, self.live = inner, codes, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def due(self, now: Any, limit: int) -> list[str]:
        return self.live[:limit]

    def due_history(self, now: Any, limit: int) -> list[str]:
        return [c for c in self.inner.due_history(now, 100000) if c in self.codes][:limit]


def test_a_row_repeated_later_in_the_file_is_a_duplicate_not_an_unfinished_import():
    rows = [row(n, "returned") for n in range(90, 96)]
    results = run(rows + rows)  # chunks of 7: the repeats come in later chunks, while the counters still wait
    imported = sorted(r.code for r in results if r.outcome == IMPORTED)  # whichever chunk claimed it first
    assert imported == sorted(r["code"] for r in rows) and sum(r.outcome == DUPLICATE for r in results) == 6
    assert not any(r.completed for r in results)
    assert reconcile(deps(), sorted(WRITTEN), FROM, TO)["differences"] == []
