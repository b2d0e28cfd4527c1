"""Reconciliation: report 06's counters recomputed from the dossiers themselves, and every difference.

The audit path, not the report path: it reads every dossier and its control sheet (form 05), never the events
the counters were made from, and applies the rules of services/statistics.py to what the dossier records:
- its history lines: receive/accept (received, by channel at the desk and, for report 06's official form, at the
  competent unit; opens), refuse_intake / guide_intake (not accepted, guided), resolve / refuse (the outcome on the
  line, a refusal's timeliness, the agency's working seconds; ends), withdraw / stop (ends a received, unresolved
  dossier; its timeliness), request_supplement (and its `violation`; the second one makes the dossier late for
  Decision 766: supplement_late, open_supplement_late until it ends, resolved_supplement_late if resolved and not
  late by Decision 766's working time (the resolve line's `late_766`: resolved_late_766),
  overdue_supplement_late from the later of that day and the overdue interval's start),
  apologize (with a new appointment; rescheduled); refuse / withdraw / stop after receipt (Decision 766's
  ended_766, ended_late_766);
- its sync state: the portal acknowledged its dossier sync (synced, on the day of receipt, at the desk);
- its `overdue` flag: the interval starts on the local date of the instant it watched, the due time in force
  just before the flag was recorded (the legal clock's ledger entries carry each due time) plus a second, and
  ends on the day the dossier ended.
Each unit's monthly roll-ups are checked too: a month's roll-up must equal the sum of the recomputed days of that
whole month, for every month the period touches; and a year's roll-up the sum of its months' (those the period
touches as recomputed, the others as stored), for every year it touches. `repair` writes the
differences (the backfill of counters written before a column or a roll-up existed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..domain.clock import parse_iso
from ..domain.counting import (
    COLUMNS,
    TIMELINESS,
    Booking,
    Key,
    counting_units,
    ended_late_766,
    late_766,
    local_day,
    paid,
    rated,
    rollup_key,
    rollups,
    yearly,
    yearly_key,
)
from ..domain.deadlines import AFTER_DUE, OVERDUE

if TYPE_CHECKING:
    from ..domain.catalogue import UnitTree
    from ..domain.dossier import Dossier, HistoryEntry
    from .deps import Deps

Counts = dict[Key, dict[str, int]]
_ENDS = {"withdraw": "withdrawn", "stop": "stopped"}


def recount(dossier: Dossier, history: list[HistoryEntry], tree: UnitTree | None = None,
            synced: bool = False, files: Sequence[dict[str, Any]] = ()) -> Counts:
    """The counters one dossier accounts for, from its own records; `tree`: the catalogue's units, for the unit
    in operation on each day (services/statistics.py CountingUnits); `synced`: its sync state says the national
    portal acknowledged its dossier sync (Decision 766's 1.4, on its day of receipt); `files`: its file records
    (the digitisation counters)."""
    snap = {"field_code": dossier.field_code, "procedure_code": dossier.procedure_code}
    book = Booking()
    units = counting_units(dossier.receiving_unit, dossier.competent_unit, dossier.imported, tree)
    # The intervals (open, overdue, supplement-late while open) at the unit of the clock's start.
    holder = units.competent_on(local_day(dossier.received_at)) if dossier.received_at else dossier.competent_unit
    received, resolved, ended, supplement_late = False, False, None, False
    supplement_late_day: date | None = None
    for line in history:
        day, action, details = local_day(line.at), line.action, line.details
        receiving, competent = units.receiving_on(day), units.competent_on(day)
        if action in ("receive", "accept"):
            received = True
            book.add(snap, receiving, day, "received")
            book.add(snap, receiving, day, f"received_{dossier.channel}")
            book.add(snap, competent, day, "received_for_resolution")
            book.add(snap, competent, day, f"received_for_resolution_{dossier.channel}")
            book.add(snap, holder, day, "open")
        elif action in ("refuse_intake", "guide_intake"):
            book.add(snap, receiving, day, "not_accepted" if action == "refuse_intake" else "guided")
        elif action in ("resolve", "refuse"):
            outcome = details.get("outcome")
            if outcome in ("early", "on_time", "late"):
                book.add(snap, competent, day, "resolved")
                if isinstance(details.get("working_seconds"), int) and details["working_seconds"] > 0:
                    book.add(snap, competent, day, "resolved_working_seconds", details["working_seconds"])
            if outcome:
                book.add(snap, competent, day, str(outcome))
            if outcome == "refused" and details.get("timeliness") in TIMELINESS:
                book.add(snap, competent, day, f"refused_{details['timeliness']}")
            if outcome == "refused":
                book.add(snap, competent, day, "ended_766")
                if ended_late_766(details.get("late_766"), details.get("timeliness"), supplement_late):
                    book.add(snap, competent, day, "ended_late_766")
            if outcome in ("early", "on_time", "late") and late_766(details.get("late_766"), outcome):
                book.add(snap, competent, day, "resolved_late_766")
            elif outcome in ("early", "on_time", "late") and supplement_late:
                book.add(snap, competent, day, "resolved_supplement_late")
            resolved, ended = True, day
            book.add(snap, holder, day, "open", -1)
            if supplement_late:
                book.add(snap, holder, day, "open_supplement_late", -1)
        elif action in _ENDS:
            book.add(snap, competent, day, _ENDS[action])
            if received and not resolved:
                ended = day
                book.add(snap, holder, day, "open", -1)
                if details.get("timeliness") in TIMELINESS:
                    book.add(snap, competent, day, f"ended_{details['timeliness']}")
                book.add(snap, competent, day, "ended_766")
                if ended_late_766(None, details.get("timeliness"), supplement_late):
                    book.add(snap, competent, day, "ended_late_766")
                if supplement_late:
                    book.add(snap, holder, day, "open_supplement_late", -1)
        elif action == "request_supplement":
            book.add(snap, competent, day, "supplement_requests")
            if details.get("violation"):
                book.add(snap, competent, day, "supplement_violations")
            if details.get("request_number") == 2:  # asked more than once: Decision 766 counts it late
                supplement_late, supplement_late_day = True, day
                book.add(snap, competent, day, "supplement_late")
                book.add(snap, holder, day, "open_supplement_late")
        elif action == "apologize" and details.get("appointment_changed"):
            book.add(snap, competent, day, "apologies")
            if dossier.rescheduled:
                book.add(snap, competent, day, "rescheduled")
        elif action == "confirm_payment" and details.get("payment"):  # lines before payments were recorded: none
            paid(book, snap, competent, day, details["payment"])
    if dossier.rating is not None and dossier.rating.get("at"):  # given once, after the result: no line of its own
        day = local_day(dossier.rating["at"])
        rated(book, snap, units.competent_on(day), day, dossier.rating)
    if synced and dossier.received_at is not None:
        day = local_day(dossier.received_at)
        book.add(snap, units.receiving_on(day), day, "synced")
    _recount_files(book, snap, dossier, units, files)
    watched = overdue_watched(dossier)
    if watched is not None:
        book.add(snap, holder, local_day(watched), "overdue")
        if ended is not None:
            book.add(snap, holder, ended, "overdue", -1)
        if supplement_late_day is not None:  # both overdue and supplement-late: from the later of the two days
            book.add(snap, holder, max(local_day(watched), supplement_late_day), "overdue_supplement_late")
            if ended is not None:
                book.add(snap, holder, ended, "overdue_supplement_late", -1)
    return {key: dict(row) for key, row in book.increments.items()}


def overdue_watched(dossier: Dossier) -> datetime | None:
    """The instant the dossier's overdue flag watched: the due time in force before the flag was recorded."""
    recorded = dossier.flags.get(OVERDUE)
    if recorded is None or dossier.clock is None:
        return None
    at = parse_iso(recorded)
    dues = [e.due_at for e in dossier.clock.entries if e.at < at and e.due_at is not None]
    return dues[-1] + AFTER_DUE if dues else None


def recount_all(deps: Deps, codes: Iterable[str]) -> Counts:
    total: Counts = {}
    tree = deps.catalogue.tree()
    for code in codes:
        dossier = deps.dossiers.get(code, consistent=True)
        if dossier is None:
            continue
        state = deps.sync.state(code)
        files = deps.file_records.of_dossier(code) if deps.file_records is not None else []
        merge(total, recount(dossier, deps.dossiers.history(code), tree, bool(state and state.announced), files))
    return total


def _recount_files(book: Booking, snap: dict[str, Any], dossier: Dossier, units: Any,
                   files: Sequence[dict[str, Any]]) -> None:
    """The digitisation counters from the dossier's verified files, in the order they were verified, by the rules
    services/documents.py applies when it writes each file's event: the first scan, the first reused copy and the
    first result file count once each; the file that completes the document list on the day of receipt at the
    receiving desk counts `digitised_at_receipt`."""
    kept = sorted((f for f in files if f.get("state") == "verified" and f.get("verified_at")),
                  key=lambda f: (str(f["verified_at"]), str(f["id"])))
    listed = set(dossier.document_list or [str(d.get("name")) for d in dossier.documents])
    received = local_day(dossier.received_at) if dossier.received_at else None
    seen: set[tuple[str, bool]] = set()
    components: set[str] = set()
    for file in kept:
        day = local_day(str(file["verified_at"]))
        kind, reused = str(file["kind"]), bool(file.get("reused_from"))
        first = (kind, reused) not in seen
        seen.add((kind, reused))
        if kind == "result":
            if first:
                book.add(snap, units.competent_on(day), day, "e_result")
            continue
        completes = bool(listed) and not listed <= components and listed <= components | {str(file["component"])}
        components.add(str(file["component"]))
        receiving = units.receiving_on(day)
        if completes and day == received and file.get("unit") == dossier.receiving_unit:
            book.add(snap, receiving, day, "digitised_at_receipt")
        if first:
            book.add(snap, receiving, day, "reused" if reused else "digitised")


# Every counter is recounted: the digitisation ones from the dossiers' file records.
RECONCILED = COLUMNS


def merge(into: Counts, more: Counts, sign: int = 1) -> Counts:
    for key, row in more.items():
        target = into.setdefault(key, {})
        for column, n in row.items():
            target[column] = target.get(column, 0) + sign * n
    return into


def stored(deps: Deps, units: Iterable[str], from_day: date, to_day: date) -> Counts:
    """The counters the statistics consumer wrote for these units on the days [from_day, to_day]."""
    out: Counts = {}
    first, last = from_day.isoformat(), to_day.isoformat()
    for unit in units:
        for month in sorted(m for m in deps.stats.months(unit) if first[:7] <= m <= last[:7]):
            for row in deps.stats.read(unit, month, max(first, f"{month}-01"), min(last, f"{month}-31")):
                key = (f"{unit}#{month}", f"{row['day']}#{row['group']}")
                out[key] = {c: int(row[c]) for c in RECONCILED if row.get(c)}
    return out


def within(counts: Counts, from_day: date, to_day: date) -> Counts:
    first, last = from_day.isoformat(), to_day.isoformat()
    return {k: v for k, v in counts.items() if first <= k[1][:10] <= last}


def differences(expected: Counts, actual: Counts) -> list[str]:
    """One line per counter that differs: `<unit>#<month> <day>#<group> <column>: counters N, dossiers M`."""
    out = []
    for key in sorted(set(expected) | set(actual)):
        want, got = expected.get(key, {}), actual.get(key, {})
        for column in RECONCILED:
            if want.get(column, 0) != got.get(column, 0):
                out.append(f"{key[0]} {key[1]} {column}: counters {got.get(column, 0)}, "
                           f"dossiers {want.get(column, 0)}")
    return out


def stored_rollups(deps: Deps, units: Iterable[str], from_day: date, to_day: date) -> Counts:
    """The monthly roll-ups the statistics consumer wrote for these units, for the months [from_day, to_day]
    touches."""
    out: Counts = {}
    first, last = from_day.isoformat()[:7], to_day.isoformat()[:7]
    for unit in units:
        for row in deps.stats.rollups(unit, last):
            if row["month"] >= first:
                out[(rollup_key(unit), f"{row['month']}#{row['group']}")] = {
                    c: int(row[c]) for c in RECONCILED if row.get(c)}
    return out


def stored_yearly(deps: Deps, units: Iterable[str], from_day: date, to_day: date) -> Counts:
    """The yearly roll-ups the statistics consumer wrote for these units, for the years [from_day, to_day]
    touches."""
    out: Counts = {}
    for unit in units:
        for row in deps.stats.yearly(unit, str(to_day.year)):
            if int(row["year"]) >= from_day.year:
                out[(yearly_key(unit), f"{row['year']}#{row['group']}")] = {
                    c: int(row[c]) for c in COLUMNS if row.get(c)}
    return out


def months_within(counts: Counts, from_day: date, to_day: date) -> Counts:
    """The roll-ups of the months [from_day, to_day] touches, whole."""
    first, last = from_day.isoformat()[:7], to_day.isoformat()[:7]
    return {k: v for k, v in counts.items() if first <= k[1][:7] <= last}


def reconcile(deps: Deps, codes: Iterable[str], from_day: date, to_day: date) -> dict[str, Any]:
    """Recompute every counter of [from_day, to_day], and the monthly roll-ups of the months it touches, from the
    dossiers `codes` (all of them: a Scan) and compare with the stored ones, for every unit either side names."""
    return compare(deps, recount_all(deps, codes), from_day, to_day)


def compare(deps: Deps, counted: Counts, from_day: date, to_day: date) -> dict[str, Any]:
    """`reconcile` on counters already recomputed from every dossier."""
    gaps = _gaps(deps, counted, from_day, to_day)
    lines = [line for expected, actual in gaps for line in differences(expected, actual)]
    return {"from": from_day.isoformat(), "to": to_day.isoformat(),
            "items": sum(len(set(expected) | set(actual)) for expected, actual in gaps), "differences": lines}


def repair(deps: Deps, counted: Counts, from_day: date, to_day: date) -> dict[str, Any]:
    """Make the stored counters of [from_day, to_day] (daily items, and the monthly and yearly roll-ups of the
    months and years it touches) what the dossiers say, by ADDing each difference: the backfill of counters
    written before a column or a roll-up existed (`make backfill-stats`). Run it while no event is being counted
    (an event counted between the read and the write would be counted twice or not at all); a second run finds
    nothing left to do."""
    fixes: Counts = {}
    for expected, actual in _gaps(deps, counted, from_day, to_day):
        merge(fixes, expected)
        merge(fixes, actual, -1)
    fixes = {k: {c: n for c, n in row.items() if n} for k, row in fixes.items()}
    fixes = {k: row for k, row in fixes.items() if row}
    written = deps.stats.adjust(fixes) if fixes else 0
    return {"from": from_day.isoformat(), "to": to_day.isoformat(), "items_fixed": written}


def _gaps(deps: Deps, counted: Counts, from_day: date, to_day: date) -> list[tuple[Counts, Counts]]:
    """(expected, stored) for the daily items of [from_day, to_day] and the monthly roll-ups of the months it
    touches (expected: recomputed from the dossiers), and the yearly roll-ups of the years it touches (expected:
    the sum of the year's monthly roll-ups, the months it touches as the dossiers say, the others as stored), for
    every unit either side names. A year is thus checked against its months, and the months the period touches
    against the dossiers, whatever dossiers of the year's other months were recounted."""
    expected = within(counted, from_day, to_day)
    expected_rollups = months_within(rollups(counted), from_day, to_day)
    units = {pk.rpartition("#")[0] for pk, _ in expected} | set(deps.catalogue.tree().units)
    units |= {pk.removeprefix(rollup_key("")) for pk, _ in expected_rollups}
    ordered = sorted(units)
    whole_years = (date(from_day.year, 1, 1), date(to_day.year, 12, 31))
    months = {k: v for k, v in stored_rollups(deps, ordered, *whole_years).items()
              if not from_day.isoformat()[:7] <= k[1][:7] <= to_day.isoformat()[:7]}
    expected_yearly = _years_of(merge(months, expected_rollups))
    ordered = sorted(units | {pk.removeprefix(yearly_key("")) for pk, _ in expected_yearly})
    return [(expected, stored(deps, ordered, from_day, to_day)),
            (expected_rollups, stored_rollups(deps, ordered, from_day, to_day)),
            (expected_yearly, stored_yearly(deps, ordered, from_day, to_day))]


def _years_of(monthly: Counts) -> Counts:
    """Monthly roll-ups summed into the yearly ones they make up."""
    out: Counts = {}
    for (pk, sk), row in monthly.items():
        month, _, group = sk.partition("#")
        merge(out, {(yearly_key(pk.removeprefix(rollup_key(""))), f"{month[:4]}#{group}"): row})
    return out


class RecountedStats:
    """The counters recomputed from the dossiers, read as the report reads the stored ones (services.ports
    StatsStore, read side): report 06 straight from the dossiers, to set beside the one from the counters."""

    def __init__(self, counted: Counts) -> None:
        self._days: dict[str, list[tuple[str, str, dict[str, int]]]] = {}
        for (pk, sk), row in counted.items():
            day, _, group = sk.partition("#")
            self._days.setdefault(pk, []).append((day, group, row))
        self._rollups: dict[str, list[tuple[str, str, dict[str, int]]]] = {}
        for (pk, sk), row in rollups(counted).items():
            month, _, group = sk.partition("#")
            self._rollups.setdefault(pk, []).append((month, group, row))
        self._yearly: dict[str, list[tuple[str, str, dict[str, int]]]] = {}
        for (pk, sk), row in yearly(counted).items():
            year, _, group = sk.partition("#")
            self._yearly.setdefault(pk, []).append((year, group, row))

    def apply(self, event: Any, booking: Booking) -> bool:
        raise TypeError("recomputed counters are read-only: events are applied to the stored ones")

    def months(self, unit: str) -> set[str]:
        return {month for month, _, _ in self._rollups.get(rollup_key(unit), [])}

    def read(self, unit: str, month: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
        return [{"day": day, "group": group, **{c: n for c, n in row.items() if n}}
                for day, group, row in sorted(self._days.get(f"{unit}#{month}", []))
                if first_day <= day <= last_day]

    def rollups(self, unit: str, last_month: str, first_month: str | None = None) -> list[dict[str, Any]]:
        return [{"month": month, "group": group, **{c: n for c, n in row.items() if n}}
                for month, group, row in sorted(self._rollups.get(rollup_key(unit), []))
                if (first_month or "") <= month <= last_month]

    def yearly(self, unit: str, last_year: str) -> list[dict[str, Any]]:
        return [{"year": year, "group": group, **{c: n for c, n in row.items() if n}}
                for year, group, row in sorted(self._yearly.get(yearly_key(unit), [])) if year <= last_year]

    def adjust(self, increments: Counts) -> int:
        raise TypeError("recomputed counters are read-only")
