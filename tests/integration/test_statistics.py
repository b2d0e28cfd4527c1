"""Report 06's counters on DynamoDB Local: each event's booking applied once (guard in the same transaction),
the overdue interval closed by the event that ends the dossier, and a real lifecycle through the use cases and
the relay counted where it belongs."""

import uuid
from datetime import UTC, datetime

from chalicelib.adapters.dynamodb.models import DossierModel, OutboxModel, ProcessedModel, StatsModel
from chalicelib.adapters.dynamodb.stats import StatsRepository
from chalicelib.domain import counting
from chalicelib.domain.dossier import Actor
from chalicelib.domain.events import DomainEvent
from chalicelib.services import statistics
from chalicelib.services.actions import perform_action
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD
from tests.integration.relay_worker import local_deps
from tests.integration.test_relay_pipeline import relay_until_published
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE

STORE = StatsRepository()


def counters(unit: str, day: str, group: str = "all") -> dict[str, int]:
    rows = [r for r in STORE.read(unit, day[:7], day, day) if r["group"] == group]
    return {k: v for row in rows for k, v in row.items() if k not in ("day", "group")}


def synthetic(kind: str, code: str, seq: int, at: datetime, unit: str, **data: object) -> DomainEvent:
    snapshot = {"code": code, "procedure_code": "P1", "field_code": None, "channel": "direct",
                "receiving_unit": unit, "competent_unit": unit, "received_at": "2026-03-16T02:00:00Z",
                "resolved_at": None, "outcome": None, "rescheduled": False, "supplement_violations": 0}
    return DomainEvent(kind, code, seq, seq, at, {**data, "dossier": snapshot})


def test_an_event_applied_twice_adds_once_even_when_the_consumer_claim_was_lost():
    unit, code = f"TEST.STATS-{uuid.uuid4().hex[:8]}", f"TEST.STATS-{uuid.uuid4().hex[:8]}"
    received = synthetic("dossier.received", code, 1, datetime(2026, 3, 16, 2, tzinfo=UTC), unit)
    assert STORE.apply(received, counting.booking(received)) is True
    assert STORE.apply(received, counting.booking(received)) is False
    statistics.on_event(local_deps(), received)  # what a redelivery past dispatch's claim would do
    assert counters(unit, "2026-03-16") == {"received": 1, "received_direct": 1, "open": 1,
                                            "received_for_resolution": 1, "received_for_resolution_direct": 1}
    assert counters(unit, "2026-03-16", "procedure#P1") == {"received": 1, "received_direct": 1, "open": 1,
                                                            "received_for_resolution": 1,
                                                            "received_for_resolution_direct": 1}


def test_the_overdue_interval_runs_from_the_due_date_to_the_end_in_whichever_order_the_events_come():
    unit = f"TEST.STATS-{uuid.uuid4().hex[:8]}"
    in_order, reordered, clean = f"{unit}-A", f"{unit}-B", f"{unit}-C"
    for code in (in_order, reordered, clean):
        received = synthetic("dossier.received", code, 1, datetime(2026, 3, 16, 2, tzinfo=UTC), unit)
        STORE.apply(received, counting.booking(received))

    def overdue(code: str) -> DomainEvent:
        return synthetic("dossier.overdue", code, 2, datetime(2026, 3, 19, 1, tzinfo=UTC), unit,
                         watched_at="2026-03-18T09:00:00Z", due_at="2026-03-18T09:00:00Z")

    def resolved(code: str, outcome: str) -> DomainEvent:
        return synthetic("dossier.resolved", code, 3, datetime(2026, 3, 20, 3, tzinfo=UTC), unit, outcome=outcome)

    # A: flagged, then resolved. B: the queue hands the resolution over first. C: resolved in time.
    sequence = [overdue(in_order), resolved(in_order, "late"), resolved(reordered, "late"), overdue(reordered),
                resolved(clean, "early")]
    for e in sequence + sequence:  # everything delivered twice
        STORE.apply(e, counting.booking(e))
    assert counters(unit, "2026-03-16") == {"received": 3, "received_direct": 3, "open": 3,
                                            "received_for_resolution": 3, "received_for_resolution_direct": 3}
    assert counters(unit, "2026-03-18") == {"overdue": 2}
    assert counters(unit, "2026-03-20") == {"resolved": 3, "early": 1, "late": 2, "open": -3, "overdue": -2,
                                            "resolved_late_766": 2}  # no late_766 on these events: the law's
    assert STORE.months(unit) == {"2026-03"}
    # The month's roll-ups, written in the same transactions, are the sums of its days (and nothing more).
    rolled = {(r["month"], r["group"]): {k: v for k, v in r.items() if k not in ("month", "group")}
              for r in STORE.rollups(unit, "2026-12")}
    month = {"received": 3, "received_direct": 3, "resolved": 3, "early": 1, "late": 2,
             "received_for_resolution": 3, "received_for_resolution_direct": 3, "resolved_late_766": 2}  # open: 0
    assert rolled == {("2026-03", "all"): month, ("2026-03", "procedure#P1"): month}
    assert STORE.rollups(unit, "2026-02") == []


def test_a_real_lifecycle_through_the_relay_counts_at_the_desk_and_the_competent_unit_once():
    day = "2025-06-10"  # a Tuesday no other test receives on
    before = {(u, g): counters(u, day, g) for u in (CENTRE, JUSTICE) for g in ("all", "procedure#2.001417")}
    clock = {"now": vn(2025, 6, 10, 9)}
    deps = local_deps(now=lambda: clock["now"])
    desk = Actor("desk.stats", CENTRE, frozenset({"desk"}))
    officer = Actor("cv.stats", JUSTICE, frozenset({"processor"}))
    leader = Actor("ld.stats", JUSTICE, frozenset({"leader"}))
    code = receive_dossier(deps, desk, CRIMINAL_RECORD)["code"]
    for actor, action, hour in ((officer, "assign", 10), (officer, "complete_step", 14), (leader, "resolve", 15),
                                (desk, "return_result", 16)):
        clock["now"] = vn(2025, 6, 10, hour)
        version = deps.dossiers.get(code, consistent=True).version
        request = {"action": action, "version": version}
        if action == "resolve":
            request["result"] = {"summary": "Phiếu LLTP"}
        perform_action(deps, actor, code, request)
    relay_until_published(deps, code)

    def delta(unit: str, group: str) -> dict[str, int]:
        after, old = counters(unit, day, group), before[(unit, group)]
        return {k: after.get(k, 0) - old.get(k, 0) for k in set(after) | set(old) if after.get(k, 0) != old.get(k, 0)}

    # Received at the desk; received for resolution and resolved early at Justice; opened and ended the same day
    # there (+1 -1).
    justice = {"received_for_resolution": 1, "received_for_resolution_direct": 1, "resolved": 1, "early": 1,
               "resolved_working_seconds": 4 * 3600}  # 09:00-11:30 and 13:30-15:00 of the agency's time
    expected = {(CENTRE, "all"): {"received": 1, "received_direct": 1}, (JUSTICE, "all"): justice}
    assert {(CENTRE, "all"): delta(CENTRE, "all"), (JUSTICE, "all"): delta(JUSTICE, "all")} == expected
    assert delta(JUSTICE, "procedure#2.001417") == justice

    # Everything relayed again with the consumer's claims forgotten: the guards keep the counters as they are.
    for item in OutboxModel.query(code, consistent_read=True):
        ProcessedModel(f"statistics#{code}/{int(item.seq)}").delete()
        item.update(actions=[OutboxModel.pending.set("0"), OutboxModel.pending_sk.set(f"2000#{code}#{item.seq}")])
    relay_until_published(deps, code)
    assert {(CENTRE, "all"): delta(CENTRE, "all"), (JUSTICE, "all"): delta(JUSTICE, "all")} == expected


def test_reconciliation_finds_the_counters_equal_to_the_dossiers_and_prints_a_counter_that_is_not():
    from chalicelib.services.reconcile import reconcile
    from scripts import reconcile_stats

    day = datetime(2025, 6, 10).date()  # the lifecycle above: the only dossiers of that day
    deps = local_deps()
    codes = [item.code for item in DossierModel.scan(attributes_to_get=["code"])]
    assert reconcile(deps, codes, day, day)["differences"] == []
    StatsModel(f"{JUSTICE}#2025-06", "2025-06-10#all").update(actions=[StatsModel.late.add(1)])
    try:
        assert reconcile(deps, codes, day, day)["differences"] == [
            f"{JUSTICE}#2025-06 2025-06-10#all late: counters 1, dossiers 0"]
        assert reconcile_stats.main(["2025-06-10", "2025-06-10"]) == 1  # the script on this (test) database
    finally:
        StatsModel(f"{JUSTICE}#2025-06", "2025-06-10#all").update(actions=[StatsModel.late.add(-1)])
    assert reconcile_stats.main(["2025-06-10", "2025-06-10"]) == 0


def test_the_backfill_rebuilds_counters_written_before_a_roll_up_or_a_column_existed(capsys):
    """`make backfill-stats` (scripts/reconcile_stats.py --repair): a yearly roll-up missing (counters written
    before the yearly roll-ups existed) and a column missing on a day (written before the column existed) are
    rebuilt from the dossiers; a second run writes nothing."""
    from chalicelib.services.reconcile import compare, recount_all
    from scripts import reconcile_stats

    day = datetime(2025, 6, 10).date()
    deps = local_deps()
    StatsModel(f"yearly#{JUSTICE}", "2025#all").delete()
    StatsModel(f"{JUSTICE}#2025-06", "2025-06-10#all").update(
        actions=[StatsModel.resolved_working_seconds.add(-4 * 3600)])
    codes = [item.code for item in DossierModel.scan(attributes_to_get=["code"])]
    lines = compare(deps, recount_all(deps, codes), day, day)["differences"]
    assert f"{JUSTICE}#2025-06 2025-06-10#all resolved_working_seconds: counters 0, dossiers 14400" in lines
    assert any(line.startswith(f"yearly#{JUSTICE} 2025#all received_for_resolution: counters 0") for line in lines)
    capsys.readouterr()
    assert reconcile_stats.main(["--repair", "2025-06-10", "2025-06-10"]) == 0
    assert "2 counter item(s) written" in capsys.readouterr().out
    assert reconcile_stats.main(["--repair", "2025-06-10", "2025-06-10"]) == 0
    assert "0 counter item(s) written" in capsys.readouterr().out
    assert StatsModel.get(f"yearly#{JUSTICE}", "2025#all").received_for_resolution >= 1
