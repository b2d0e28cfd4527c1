"""An old system's row checked and built into a dossier with the events a live one would have (domain/importing.py)."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain import counting
from chalicelib.domain import events as ev
from chalicelib.domain.catalogue import Unit, UnitTree
from chalicelib.domain.importing import RowRejected, build_imported, parse_instant, parse_row, row_fingerprint
from chalicelib.domain.status import Status
from tests.unit.calendars import CALENDAR
from tests.unit.demo import procedure
from tests.unit.test_events_schemas import check

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
DISTRICT, HAC_THANH = "000.20.30.H56", "000.21.30.H56"
TREE = UnitTree(Unit.from_dict(u) for u in json.loads((ROOT / "demo" / "catalogue.json").read_text("utf-8"))["units"])


def row(**changes: Any) -> dict[str, Any]:
    """A birth registration (1.004873, 3 working days) received by the district in 2024, resolved and returned."""
    base = {
        "code": f"{DISTRICT}-240312-0007", "procedure_code": "1.004873", "unit_code": DISTRICT, "channel": "direct",
        "applicant": {"name": "Trần Thị Lan", "id_number": "038190000001", "phone": "0912000001"},
        "received_at": "2024-03-12 09:00", "due_at": "2024-03-15T09:00:00+07:00", "finished_at": "2024-03-14 10:00",
        "history": [{"status": "received", "at": "2024-03-12 09:00"},
                    {"status": "in_progress", "at": "2024-03-12 10:00"},
                    {"status": "resolved", "at": "2024-03-14 10:00", "note": "Giấy khai sinh"},
                    {"status": "returned", "at": "2024-03-15 08:00"}],
    }
    return {**base, **changes}


def build(raw: dict[str, Any]):
    parsed = parse_row(raw, NOW)
    return build_imported(parsed, procedure=procedure(parsed.procedure_code), tree=TREE,
                          calendar=lambda unit: CALENDAR, source="MotCua-2019", now=NOW)


def problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RowRejected) as caught:
        build(raw)
    return {p.field: p.reason for p in caught.value.problems}


def test_a_district_dossier_is_mapped_to_its_successor_and_keeps_its_code_and_origin():
    imported = build(row())
    d = imported.dossier
    assert d.code == f"{DISTRICT}-240312-0007" and d.status is Status.RETURNED
    assert d.receiving_unit == d.competent_unit == HAC_THANH
    assert d.imported == {"source": "MotCua-2019", "original_code": d.code, "original_receiving_unit": DISTRICT,
                          "original_competent_unit": None, "imported_at": "2026-11-20T03:00:00Z",
                          "fingerprint": row_fingerprint(parse_row(row(), NOW))}
    assert "fingerprint" not in d.snapshot()["imported"]  # events carry where it came from, not the row's hash
    assert d.final_outcome == "early" and d.due_at == parse_instant("2024-03-15 09:00")
    assert [h.action for h in imported.history] == ["receive", "assign", "resolve", "return_result"]
    assert d.watch == {} and d.next_wake is None  # a closed dossier is watched by no timer


def test_its_events_are_a_live_dossiers_with_historical_times_and_deterministic_ids():
    events = build(row()).dossier.pending_events
    check(events)  # every event validates against its JSON Schema, `imported` included
    assert [e.type for e in events] == [ev.STATUS_CHANGED, ev.RECEIVED, ev.STATUS_CHANGED, ev.STATUS_CHANGED,
                                        ev.RESOLVED, ev.STATUS_CHANGED, ev.RETURNED, ev.CLOSED]
    assert [e.id for e in events] == [f"{DISTRICT}-240312-0007/{n}" for n in range(1, 9)]
    assert events[1].at == parse_instant("2024-03-12 09:00") and events[1].data["due_at"] == "2024-03-15T02:00:00Z"
    assert [e.id for e in build(row()).dossier.pending_events] == [e.id for e in events]
    # Counted as a live dossier's, at the unit in operation on its day (services/statistics.py CountingUnits): the
    # desk's figures at the abolished district it came from, in 2024; the row named no competent unit, so the
    # competent unit's are at the one the import chose. Without the units looked up, all at the successor.
    received = counting.booking(events[1], counting.snapshot_units(events[1].data["dossier"], TREE)).increments
    assert received[(f"{DISTRICT}#2024-03", "2024-03-12#all")] == {"received": 1, "received_direct": 1}
    assert received[(f"{HAC_THANH}#2024-03", "2024-03-12#all")] == {
        "received_for_resolution": 1, "received_for_resolution_direct": 1, "open": 1}
    received = counting.booking(events[1]).increments
    assert received[(f"{HAC_THANH}#2024-03", "2024-03-12#all")] == {
        "received": 1, "received_direct": 1, "received_for_resolution": 1, "received_for_resolution_direct": 1,
        "open": 1}


def test_a_dossier_finished_after_its_due_time_was_overdue_from_the_second_after_it():
    late = row(finished_at="2024-03-18 10:00", history=[
        {"status": "received", "at": "2024-03-12 09:00"}, {"status": "in_progress", "at": "2024-03-12 10:00"},
        {"status": "resolved", "at": "2024-03-18 10:00"}, {"status": "returned", "at": "2024-03-18 11:00"}])
    d = build(late).dossier
    overdue = [e for e in d.pending_events if e.type == ev.OVERDUE]
    assert d.final_outcome == "late" and len(overdue) == 1
    assert overdue[0].data["watched_at"] == "2024-03-15T02:00:01Z"
    assert [e.type for e in d.pending_events].index(ev.OVERDUE) < [e.type for e in d.pending_events].index(
        ev.RESOLVED)
    check(d.pending_events)


def test_an_open_dossier_is_watched_like_a_live_one_and_its_past_overdue_recorded():
    open_row = row(code="000.21.30.H56-261110-0003", unit_code=HAC_THANH, received_at="2026-11-10 09:00",
                   due_at="2026-11-13 09:00", finished_at=None,
                   history=[{"status": "received", "at": "2026-11-10 09:00"},
                            {"status": "in_progress", "at": "2026-11-10 10:00"}])
    d = build(open_row).dossier
    assert d.status is Status.IN_PROGRESS and d.clock_running
    assert "overdue" in d.flags and d.watch  # flagged (with its event) and still watched: nothing fires twice
    assert d.next_wake is None or d.next_wake > NOW
    check(d.pending_events)


def test_a_supplement_pause_and_resume_and_an_online_submission():
    online = row(channel="online", history=[
        {"status": "submitted", "at": "2024-03-11 20:00"}, {"status": "received", "at": "2024-03-12 09:00"},
        {"status": "supplement_requested", "at": "2024-03-12 11:00", "note": "Thiếu bản sao"},
        {"status": "received", "at": "2024-03-13 08:00"}, {"status": "in_progress", "at": "2024-03-13 09:00"},
        {"status": "resolved", "at": "2024-03-14 10:00"}, {"status": "returned", "at": "2024-03-15 08:00"}])
    imported = build(online)
    assert [h.action for h in imported.history] == ["submit", "accept", "request_supplement", "receive_supplement",
                                                    "assign", "resolve", "return_result"]
    d = imported.dossier
    assert d.submitted_at == parse_instant("2024-03-11 20:00") and d.supplement_requests == 1
    assert [e.event for e in d.clock.entries] == ["start", "pause", "resume", "stop"]
    check(d.pending_events)


@pytest.mark.parametrize("changes, field, words", [
    ({"procedure_code": "1.0048"}, "procedure_code", "national procedure code"),
    ({"code": "HS-2024-0001"}, "code", "<unit id>-<YYMMDD>-<NNNN>"),
    ({"received_at": "2024-13-45 25:00"}, "received_at", "ISO 8601"),
    ({"received_at": "2024-03-12 09:30"}, "received_at", "differs from the history"),
    ({"due_at": "2024-03-11 09:00"}, "due_at", "after received_at"),
    ({"due_at": None}, "due_at", "required"),
    ({"finished_at": None}, "finished_at", "required"),
    ({"channel": "fax"}, "channel", "one of"),
    ({"applicant": {"name": "  "}}, "applicant.name", "required"),
    ({"applicant": {"name": "Lan\u202e"}}, "applicant.name", "control"),
    ({"history": []}, "history", "non-empty"),
    ({"history": [{"status": "received", "at": "2024-03-12 09:00"}, {"status": "returned", "at": "2024-03-13"}]},
     "history[1].at", "ISO 8601"),
    ({"history": [{"status": "received", "at": "2024-03-12 09:00"},
                  {"status": "returned", "at": "2024-03-13 09:00"}], "finished_at": None},
     "history[1].status", "received -> returned is not a step"),
    ({"history": [{"status": "in_progress", "at": "2024-03-12 09:00"}]}, "history[0].status", "starts"),
    ({"history": [{"status": "received", "at": "2024-03-12 09:00"}, {"status": "in_progress",
                                                                      "at": "2024-03-11 09:00"}]},
     "history[1].at", "before the previous line"),
    ({"history": [{"status": "received", "at": "2099-03-12 09:00"}]}, "history[0].at", "future"),
    ({"history": [{"status": "archived", "at": "2024-03-12 09:00"}]}, "history[0].status", "one of"),
    ({"extra": 1}, "extra", "unknown field"),
])
def test_a_bad_row_is_rejected_naming_the_field_and_why(changes, field, words):
    found = problems(row(**changes))
    assert field in found and words in found[field], found


@pytest.mark.parametrize("changes, field, words", [
    ({"procedure_code": "1.009994", "competent_unit_code": DISTRICT}, "competent_unit_code", "not competent"),
    ({"unit_code": "000.99.99.H56"}, "unit_code", "no unit"),
    ({"competent_unit_code": "000.99.99.H56"}, "competent_unit_code", "no unit"),
])
def test_the_catalogue_decides_units_and_procedures(changes, field, words):
    found = problems(row(**changes))
    assert field in found and words in found[field], found


def test_every_problem_of_a_row_is_named_not_only_the_first():
    found = problems(row(channel="fax", procedure_code="x", applicant={}))
    assert {"channel", "procedure_code", "applicant.name"} <= set(found)


def test_local_times_are_asia_ho_chi_minh_and_offsets_are_kept():
    assert parse_instant("2024-03-12 09:00") == datetime(2024, 3, 12, 2, 0, tzinfo=UTC)
    assert parse_instant("2024-03-12T09:00:00+07:00") == parse_instant("2024-03-12T02:00:00Z")
    with pytest.raises(ValueError):
        parse_instant("2024-03-12")


@pytest.mark.parametrize("code, words", [
    (f"{HAC_THANH}-261121-0001", "a day after today"),  # NOW is 20 Nov 2026, 10:00 local
    (f"{HAC_THANH}-261120-999999999", "the last the code format holds"),
    (f"{HAC_THANH}-241120-1000000000", "at most 9 digits"),
])
def test_a_code_that_would_break_the_live_intake_is_rejected_with_its_reason(code, words):
    found = problems(row(code=code))
    assert words in found["code"], found


def test_codes_of_today_and_of_the_past_within_the_format_are_taken():
    for code in (f"{HAC_THANH}-261120-999999998", f"{HAC_THANH}-241120-999999999"):
        parse_row(row(code=code), NOW)
