"""What each domain event adds to report 06's counters (services/statistics.py `booking`): pure, no database."""

from datetime import UTC, date, datetime

from chalicelib.adapters.dynamodb.models import StatsModel
from chalicelib.domain import counting
from chalicelib.domain.events import DomainEvent
from chalicelib.services.consumers import registry

DESK, COMPETENT = "U.DESK", "U.COMP"
SNAP = {"code": "C-1", "procedure_code": "2.001417", "field_code": "F1", "channel": "direct",
        "receiving_unit": DESK, "competent_unit": COMPETENT, "received_at": "2026-03-16T02:00:00Z",
        "resolved_at": None, "outcome": None, "rescheduled": False, "supplement_violations": 0}


def event(kind: str, at: datetime, seq: int = 1, **data: object) -> DomainEvent:
    snapshot = {**SNAP, **data.pop("dossier", {})}  # type: ignore[dict-item]
    return DomainEvent(kind, "C-1", seq, seq, at, {**data, "dossier": snapshot})


def rows(book: counting.Booking) -> dict[tuple[str, str], dict[str, int]]:
    return {k: dict(v) for k, v in book.increments.items()}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_the_consumer_takes_exactly_what_the_booking_counts_and_the_table_has_every_column():
    assert next(c.types for c in registry() if c.name == "statistics") == counting.TYPES
    facts = ("pk", "sk", "flagged", "ended", "months")
    columns = {name for name in StatsModel.get_attributes() if name not in facts}
    assert columns == set(counting.COLUMNS)


def test_received_counts_at_the_desk_by_channel_and_opens_at_the_competent_unit_on_the_local_date():
    # 18:00 UTC on the 16th is 01:00 on the 17th in Hà Nội.
    book = counting.booking(event("dossier.received", at(16, 18), dossier={"channel": "online"}))
    desk, comp, day = f"{DESK}#2026-03", f"{COMPETENT}#2026-03", "2026-03-17#"
    assert rows(book) == {
        (desk, f"{day}all"): {"received": 1, "received_online": 1},
        (desk, f"{day}field#F1"): {"received": 1, "received_online": 1},
        (desk, f"{day}procedure#2.001417"): {"received": 1, "received_online": 1},
        (comp, f"{day}all"): {"open": 1, "received_for_resolution": 1, "received_for_resolution_online": 1},
        (comp, f"{day}field#F1"): {"open": 1, "received_for_resolution": 1, "received_for_resolution_online": 1},
        (comp, f"{day}procedure#2.001417"): {"open": 1, "received_for_resolution": 1,
                                              "received_for_resolution_online": 1},
    }
    assert book.months() == {DESK: {"2026-03"}, COMPETENT: {"2026-03"}}
    assert not book.flags_overdue and book.ends is None


def test_resolved_by_outcome_ends_the_open_interval_and_a_refusal_is_not_resolved():
    late = counting.booking(event("dossier.resolved", at(20, 3), outcome="late"))
    # No late_766 on the event (an imported dossier's): late for Decision 766 as for the law.
    assert rows(late)[(f"{COMPETENT}#2026-03", "2026-03-20#all")] == {"resolved": 1, "late": 1, "open": -1,
                                                                       "resolved_late_766": 1}
    assert late.ends is not None and (f"{COMPETENT}#2026-03", "2026-03-20#all") in late.ends
    refused = counting.booking(event("dossier.resolved", at(20, 3), outcome="refused"))
    assert rows(refused)[(f"{COMPETENT}#2026-03", "2026-03-20#all")] == {"refused": 1, "open": -1, "ended_766": 1}


def test_closing_counts_own_outcomes_and_ends_only_a_received_unresolved_clock():
    withdrawn = counting.booking(event("dossier.closed", at(18, 2), outcome="withdrawn"))
    assert rows(withdrawn)[(f"{COMPETENT}#2026-03", "2026-03-18#all")] == {"withdrawn": 1, "open": -1,
                                                                           "ended_766": 1}
    returned = counting.booking(event("dossier.closed", at(18, 2), outcome="early",
                                        dossier={"resolved_at": "2026-03-17T02:00:00Z"}))
    assert rows(returned) == {} and returned.ends is None  # ended at its resolution already
    refused = counting.booking(event("dossier.closed", at(16, 2), outcome="not_accepted",
                                       dossier={"received_at": None}))
    assert rows(refused)[(f"{DESK}#2026-03", "2026-03-16#all")] == {"not_accepted": 1}
    assert refused.ends is None
    guided = counting.booking(event("dossier.closed", at(16, 2), outcome="guided", dossier={"received_at": None}))
    assert rows(guided)[(f"{DESK}#2026-03", "2026-03-16#all")] == {"guided": 1}


def test_supplement_requests_and_those_outside_the_law():
    lawful = counting.booking(event("dossier.status_changed", at(17, 2), action="request_supplement"))
    assert rows(lawful)[(f"{COMPETENT}#2026-03", "2026-03-17#all")] == {"supplement_requests": 1}
    second = counting.booking(event("dossier.status_changed", at(17, 2), action="request_supplement",
                                      dossier={"supplement_violations": 1}))
    assert rows(second)[(f"{COMPETENT}#2026-03", "2026-03-17#all")] == {"supplement_requests": 1,
                                                               "supplement_violations": 1}
    other = counting.booking(event("dossier.status_changed", at(17, 2), action="assign"))
    assert rows(other) == {}


def test_apologies_rescheduled_and_overdue_on_the_local_date_of_the_instant_watched():
    apology = counting.booking(event("dossier.apology_issued", at(19, 2), dossier={"rescheduled": True}))
    assert rows(apology)[(f"{COMPETENT}#2026-03", "2026-03-19#all")] == {"apologies": 1, "rescheduled": 1}
    # Flagged by a sweep on the 23rd, watched at 17:00 local on Friday the 20th.
    overdue = counting.booking(event("dossier.overdue", at(23, 1), watched_at="2026-03-20T10:00:00Z",
                                       due_at="2026-03-20T10:00:00Z"))
    assert rows(overdue)[(f"{COMPETENT}#2026-03", "2026-03-20#all")] == {"overdue": 1}
    assert overdue.flags_overdue and overdue.ends is None


def test_local_day_is_vietnam_time():
    assert counting.local_day("2026-03-16T16:59:59Z") == date(2026, 3, 16)
    assert counting.local_day("2026-03-16T17:00:00Z") == date(2026, 3, 17)


# Decision 766's supplement rule (services/quality.py): the columns that let the index count a dossier late.
COMP_DAY = f"{COMPETENT}#2026-03"


def test_the_second_request_and_only_it_makes_the_dossier_supplement_late():
    second = counting.booking(event("dossier.status_changed", at(17, 2), action="request_supplement",
                                      dossier={"supplement_violations": 1, "supplement_requests": 2}))
    assert rows(second)[(COMP_DAY, "2026-03-17#all")] == {
        "supplement_requests": 1, "supplement_violations": 1, "supplement_late": 1, "open_supplement_late": 1}
    # A single request after the window breaks Decree 61 but is the applicant's time for Decision 766.
    outside = counting.booking(event("dossier.status_changed", at(17, 2), action="request_supplement",
                                       dossier={"supplement_violations": 1, "supplement_requests": 1}))
    assert "supplement_late" not in rows(outside)[(COMP_DAY, "2026-03-17#all")]
    third = counting.booking(event("dossier.status_changed", at(18, 2), action="request_supplement",
                                     dossier={"supplement_violations": 2, "supplement_requests": 3}))
    assert rows(third)[(COMP_DAY, "2026-03-18#all")] == {"supplement_requests": 1, "supplement_violations": 1}


def test_a_dossier_resolved_in_time_after_a_second_request_is_counted_apart_and_leaves_the_open_ones():
    late_snap = {"supplement_violations": 1, "supplement_requests": 2}
    on_time = counting.booking(event("dossier.resolved", at(20, 3), outcome="on_time", dossier=late_snap))
    assert rows(on_time)[(COMP_DAY, "2026-03-20#all")] == {
        "resolved": 1, "on_time": 1, "resolved_supplement_late": 1, "open": -1, "open_supplement_late": -1}
    late = counting.booking(event("dossier.resolved", at(20, 3), outcome="late",
                                    dossier={**late_snap, "overdue": True}))
    assert rows(late)[(COMP_DAY, "2026-03-20#all")] == {
        "resolved": 1, "late": 1, "resolved_late_766": 1, "open": -1, "open_supplement_late": -1,
        "overdue_supplement_late": -1}
    withdrawn = counting.booking(event("dossier.closed", at(20, 3), outcome="withdrawn", dossier=late_snap))
    assert rows(withdrawn)[(COMP_DAY, "2026-03-20#all")] == {"withdrawn": 1, "open": -1, "open_supplement_late": -1,
                                                             "ended_766": 1, "ended_late_766": 1}


def test_overdue_and_supplement_late_start_together_on_the_later_of_the_two_days():
    # The second request came first (the 18th); the due time passed on the 20th: from the day watched.
    twice = {"supplement_violations": 1, "supplement_requests": 2, "overdue": True}
    overdue = counting.booking(event("dossier.overdue", at(23, 1), watched_at="2026-03-20T10:00:00Z",
                                       dossier={**twice, "status": "in_progress"}))
    assert rows(overdue)[(COMP_DAY, "2026-03-20#all")] == {"overdue": 1, "overdue_supplement_late": 1}
    # The second request came after the due time: its own event starts both, on its day; the flag recorded in
    # the same change (`recorded_by` that request) adds only the overdue.
    request = counting.booking(event("dossier.status_changed", at(24, 2), action="request_supplement",
                                       dossier={**twice, "status": "supplement_requested"}))
    assert rows(request)[(COMP_DAY, "2026-03-24#all")]["overdue_supplement_late"] == 1
    same_change = counting.booking(event("dossier.overdue", at(24, 2), watched_at="2026-03-20T10:00:00Z",
                                           recorded_by="request_supplement",
                                           dossier={**twice, "status": "supplement_requested"}))
    assert rows(same_change)[(COMP_DAY, "2026-03-20#all")] == {"overdue": 1}
    # The second request came before the due time and is still pending (unlawful: the clock ran on) when the
    # sweep records the flag: the flag's event starts both, from the day watched.
    by_timer = counting.booking(event("dossier.overdue", at(25, 2), watched_at="2026-03-20T10:00:00Z",
                                        dossier={**twice, "status": "supplement_requested"}))
    assert rows(by_timer)[(COMP_DAY, "2026-03-20#all")] == {"overdue": 1, "overdue_supplement_late": 1}
    # A third request after the due time, the second one long before: the flag's day.
    third = counting.booking(event("dossier.overdue", at(24, 2), watched_at="2026-03-20T10:00:00Z",
                                     dossier={**twice, "supplement_requests": 3, "status": "supplement_requested"}))
    assert rows(third)[(COMP_DAY, "2026-03-20#all")] == {"overdue": 1, "overdue_supplement_late": 1}


def test_a_report_reads_daily_items_only_for_the_months_its_period_covers_in_part():
    from chalicelib.services.period_sums import partial_months

    assert partial_months(date(2026, 3, 1), date(2026, 3, 31)) == []
    assert partial_months(date(2026, 1, 1), date(2026, 12, 31)) == []
    assert partial_months(date(2026, 2, 1), date(2026, 2, 28)) == []
    assert partial_months(date(2026, 3, 1), date(2026, 3, 15)) == [("2026-03", "2026-03-15")]
    assert partial_months(date(2026, 3, 10), date(2026, 3, 31)) == [("2026-03", "2026-03-31")]
    assert partial_months(date(2026, 3, 10), date(2026, 5, 20)) == [("2026-03", "2026-03-31"),
                                                                    ("2026-05", "2026-05-20")]
    assert partial_months(date(2026, 3, 1), date(2026, 5, 20)) == [("2026-05", "2026-05-20")]
    assert partial_months(date(2024, 2, 10), date(2024, 2, 29)) == [("2024-02", "2024-02-29")]


def test_the_monthly_roll_ups_are_the_sums_of_the_days_by_unit_month_and_group():
    increments = {("U#2026-03", "2026-03-02#all"): {"open": 1, "received": 1},
                  ("U#2026-03", "2026-03-30#all"): {"open": -1},
                  ("U#2026-03", "2026-03-30#field#F1"): {"open": -1},
                  ("U#2026-04", "2026-04-01#all"): {"overdue": 1}}
    assert counting.rollups(increments) == {("rollup#U", "2026-03#all"): {"open": 0, "received": 1},
                                              ("rollup#U", "2026-03#field#F1"): {"open": -1},
                                              ("rollup#U", "2026-04#all"): {"overdue": 1}}


def test_an_imported_dossier_counts_at_its_abolished_unit_for_the_days_it_worked():
    """CountingUnits: the original unit on a day of its validity, the successor after it; the intervals at the
    unit of the clock's start, so that the end's -1 meets the start's +1."""
    from chalicelib.domain.catalogue import Unit, UnitTree

    tree = UnitTree([Unit("P", "Tỉnh", "province"), Unit("W", "Phường", "commune", "P", valid_from=date(2025, 7, 1)),
                     Unit("D", "Huyện", "district", "P", successor="W", valid_to=date(2025, 6, 30))])
    imported = {"original_receiving_unit": "D", "original_competent_unit": "D"}
    units = counting.counting_units("W", "W", imported, tree)
    assert units.competent_on(date(2025, 6, 30)) == "D" and units.competent_on(date(2025, 7, 1)) == "W"
    assert units.receiving_on(date(2025, 6, 30)) == "D"
    assert counting.counting_units("W", "W", None, tree).competent_on(date(2025, 6, 30)) == "W"
    assert counting.counting_units("W", "W", imported, None).competent_on(date(2025, 6, 30)) == "W"
    forged = {"original_competent_unit": {"x": 1}, "original_receiving_unit": "NOPE"}
    assert counting.counting_units("W", "W", forged, tree).competent_on(date(2025, 6, 30)) == "W"
    assert counting.counting_units("W", "W", forged, tree).receiving_on(date(2025, 6, 30)) == "W"

    snap = {**SNAP, "receiving_unit": "W", "competent_unit": "W", "imported": imported,
            "received_at": "2025-06-29T02:00:00Z", "resolved_at": "2025-07-02T02:00:00Z"}
    done = datetime(2025, 7, 2, 2, tzinfo=UTC)
    resolved = DomainEvent("dossier.resolved", "X", 1, 1, done, {"outcome": "early", "dossier": snap})
    book = counting.booking(resolved, counting.snapshot_units(snap, tree))
    assert book.increments[("W#2025-07", "2025-07-02#all")] == {"resolved": 1, "early": 1}
    assert book.increments[("D#2025-07", "2025-07-02#all")] == {"open": -1}
    assert book.ends == counting.keys(snap, "D", date(2025, 7, 2))


def test_decision_766_lateness_is_what_the_resolution_recorded_and_is_counted_apart_from_the_supplement_rule():
    """late_766 on dossier.resolved (the agency's working time over the original limit) books resolved_late_766
    whatever the law's outcome; a dossier not late by it but asked twice is the supplement-late one: disjoint."""
    day = (f"{COMPETENT}#2026-03", "2026-03-20#all")
    restarted = counting.booking(event("dossier.resolved", at(20, 3), outcome="early", late_766=True))
    assert rows(restarted)[day] == {"resolved": 1, "early": 1, "resolved_late_766": 1, "open": -1}
    twice = {"supplement_violations": 1, "supplement_requests": 2}
    both = counting.booking(event("dossier.resolved", at(20, 3), outcome="on_time", late_766=True, dossier=twice))
    assert rows(both)[day] == {"resolved": 1, "on_time": 1, "resolved_late_766": 1, "open": -1,
                               "open_supplement_late": -1}
    paused_late = counting.booking(event("dossier.resolved", at(20, 3), outcome="late", late_766=False))
    assert rows(paused_late)[day] == {"resolved": 1, "late": 1, "open": -1}
    forged = counting.booking(event("dossier.resolved", at(20, 3), outcome="early", late_766="yes"))
    assert rows(forged)[day] == {"resolved": 1, "early": 1, "open": -1}  # not a bool: the law's outcome


def test_decision_766_ends_a_dossier_at_a_refusal_withdrawal_or_stop_after_receipt():
    """2.1's end of processing is the result, else "Dừng xử lý/Từ chối" (also a withdrawal): those dossiers are
    processed dossiers of the index, late when after the legal due time at their end or asked twice."""
    day = (f"{COMPETENT}#2026-03", "2026-03-20#all")
    late = counting.booking(event("dossier.resolved", at(20, 3), outcome="refused", timeliness="late"))
    assert rows(late)[day] == {"refused": 1, "refused_late": 1, "open": -1, "ended_766": 1, "ended_late_766": 1}
    withdrawn = counting.booking(event("dossier.closed", at(20, 3), outcome="withdrawn", timeliness="early"))
    assert rows(withdrawn)[day] == {"withdrawn": 1, "open": -1, "ended_early": 1, "ended_766": 1}
    asked_twice = counting.booking(event("dossier.closed", at(20, 3), outcome="stopped", timeliness="on_time",
                                         dossier={"supplement_requests": 2}))
    assert rows(asked_twice)[day]["ended_late_766"] == 1 and rows(asked_twice)[day]["ended_766"] == 1
    never_received = counting.booking(event("dossier.closed", at(20, 3), outcome="withdrawn",
                                            dossier={"received_at": None}))
    assert rows(never_received)[day] == {"withdrawn": 1}  # never received: not processed
