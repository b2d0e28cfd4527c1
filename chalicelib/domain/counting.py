"""Report 06's counting rules (Circular 01/2020/TT-VPCP): what each domain event adds to which daily counter.

Pure: the statistics consumer (services/statistics.py) applies a `Booking` through the stats store, and the
store (adapters/dynamodb/stats.py) and the recount (services/reconcile.py) use the same rules.

Each event becomes a `Booking`: increments of counters keyed `(<unit>#<local month>, <local date>#<group>)`, the
group being `all`, `field#<code>` or `procedure#<code>`, so that a report over a period reads one partition per
unit and month (a Query over the days it needs) and never a dossier. Each unit's item `unit#<unit>`/`months` holds
the set of months it has counters in (a set ADD: idempotent and order-free). Every increment is also ADDed, in the
same transaction, to the unit's monthly roll-up (`rollup#<unit>`, `<YYYY-MM>#<group>`) and yearly roll-up
(`yearly#<unit>`, `<YYYY>#<group>`): a report reads whole years from the yearly ones, the months of the years it
covers in part from the monthly ones and the days of the months it covers in part from the daily items
(services/period_sums.py), so what it reads does not grow with the years it spans.

The store applies one booking and a guard item keyed by the event id in ONE transaction
(`StatsStore.apply`): an event delivered again adds nothing, whatever `dispatch`'s claim knew.

Which unit a figure counts under (the provincial systems' rule, ../shared/DOMAIN.md "Statistics"):
- received, and the intake decisions not accepted / guided: the **receiving unit** (the desk that took it: its
  tracking book, form 06 of the one-stop shop, counts what it received);
- everything measured against the deadline (resolved early / on time / late, refused after appraisal, withdrawn,
  stopped, in progress, overdue) and what the deciding agency does (supplement requests, apologies,
  rescheduling): the **competent unit**, which answers for the result (Decree 61/2018 Art 19), as the real
  systems do. A liên thông dossier is therefore counted once, not at every unit its steps pass.
- an imported dossier of a unit since abolished: at that unit on the days it was in operation (CountingUnits).

Dates are local dates in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).

Point-in-time figures are written as deltas, so the figure at the end of any day D is the sum of its deltas on
days <= D, right for any past day whatever happened afterwards:
- `open`: +1 on the day the clock started (dossier.received), -1 on the day it ended (dossier.resolved, or
  dossier.closed of a withdrawn or stopped dossier that was received and never resolved).
- `overdue`: the interval [due time, end) becomes known when the due time passes (dossier.overdue, which the
  aggregate records before any action taken after it): +1 on the local date of the instant watched; -1 on the
  day the dossier ends. Queues may deliver the two out of order, so each dossier has a `life` item remembering
  both facts (`flagged`, and `ended`: the items of the end day); whichever event comes second writes the -1, in
  the same transaction that records its own fact, conditioned on what it read. A due time moved after the period
  does not touch the days already counted: an apology issued before the due time moves the watch before any +1 is
  written; one issued after it leaves the lateness standing (the flag never moves). Within deadline = open -
  overdue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from . import events as ev
from .clock import parse_iso
from .events import DomainEvent
from .rating import LEVELS as RATING_LEVELS

if TYPE_CHECKING:
    from .catalogue import UnitTree

LOCAL = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

# The counters (report 06's columns and what they are made of). Deltas: open, overdue.
COLUMNS: tuple[str, ...] = (
    "received", "received_online", "received_direct", "received_postal",
    "resolved", "early", "on_time", "late",
    "refused", "withdrawn", "stopped", "not_accepted", "guided",
    "supplement_requests", "supplement_violations", "apologies", "rescheduled",
    "open", "overdue",
    # Decision 766's rule on supplements (services/quality.py): a dossier asked for supplements more than once
    # counts late. supplement_late: the day of its second request; resolved_supplement_late: resolved and not
    # late by Decision 766's working time (resolved_late_766 below) all the same; deltas: open_supplement_late,
    # +1 on that second request, -1 when the clock ends; overdue_supplement_late, the open dossiers both overdue
    # and supplement-late, so that neither is subtracted twice from those within their deadline.
    "supplement_late", "resolved_supplement_late", "open_supplement_late", "overdue_supplement_late",
    # Report 06's "received for resolution": the clock started for a dossier whose competent unit this is (the
    # unit that resolves it), so that on a unit's row received for resolution + carried over = resolved + refused
    # + withdrawn or stopped after receipt + in progress, whatever desk took it in (`received` counts at the desk).
    "received_for_resolution",
    # Decision 766's on-time share counts the agency's working time against the original limit (the applicant's
    # pauses left out, no restart after a supplement: `late_766` on dossier.resolved). resolved_late_766: resolved
    # (early, on time or late) and late by that rule; resolved_supplement_late above is then the resolved NOT late
    # by it but asked for supplements more than once, so that neither is subtracted twice.
    "resolved_late_766",
    # Report 06 as the official form (biểu 06a/06b, Circular 01/2020/TT-VPCP): the online / direct / postal split
    # of the dossiers received for resolution, booked at the resolving (competent) unit; refusals after appraisal
    # by their timeliness (results: the portal's code 9); withdrawals and stops after receipt by their timeliness
    # (the form has no column of their own: the province's reading places them, services/reports.py).
    "received_for_resolution_online", "received_for_resolution_direct", "received_for_resolution_postal",
    "refused_early", "refused_on_time", "refused_late",
    "ended_early", "ended_on_time", "ended_late",
    # Decision 766's 2.2 (average processing time): the agency's working seconds of the dossiers resolved (early,
    # on time or late) that day, `working_seconds` on dossier.resolved; the average divides it by `resolved`.
    "resolved_working_seconds",
    # Decision 766's online payment (3.5, 3.6; domain/payments.py): a payment confirmed that day, at the competent
    # unit (the agency whose fee it is), and of those, paid online (the DVCQG's platform or a payment gateway).
    "paid", "paid_online",
    # Decision 766's satisfaction (5.4; domain/rating.py): ratings given that day at the competent unit (the agency
    # that answers for the result), by level.
    "rated", "rated_very_satisfied", "rated_satisfied", "rated_dissatisfied",
    # Decision 766's 2.1 ends a dossier at its result, or else at "Dừng xử lý/Từ chối" (a refusal after appraisal,
    # a stop, a withdrawal: ../shared/DECISION-766.md): those received are processed dossiers of the index too.
    # ended_766: the clock ended without a result that day (refused after appraisal, or withdrawn or stopped after
    # receipt and never resolved); ended_late_766: of them, late for the index (after the legal due time at their
    # end, or asked for supplements more than once).
    "ended_766", "ended_late_766",
    # Decision 766's 1.4 (dossiers synced to the national portal): a dossier received that day at this desk (as
    # `received`) that the portal has heard of (its DongBoHoSoMC acknowledged), booked once per dossier on its
    # day of receipt by whichever comes second, the receipt or the acknowledgement (services/statistics.py).
    "synced",
    # Decision 766's digitisation group (4.1-4.3, docs/documents.md), each dossier once, from document.digitised and
    # result.issued: digitised, a component scanned (`first`); digitised_at_receipt, every component of the
    # document list digitised (scanned or reused) by the receiving unit on the day of receipt (`completes`); reused,
    # a component reused from an earlier dossier (`first`): all three at the receiving unit; e_result, the result
    # issued as a file (`first`), at the competent unit.
    "digitised", "digitised_at_receipt", "reused", "e_result",
)
TIMELINESS = ("early", "on_time", "late")

TYPES = frozenset({ev.RECEIVED, ev.RESOLVED, ev.CLOSED, ev.STATUS_CHANGED, ev.APOLOGY_ISSUED, ev.OVERDUE,
                   ev.PAYMENT_CONFIRMED, ev.RATED,
                   ev.DOCUMENT_DIGITISED, ev.RESULT_ISSUED})

Key = tuple[str, str]  # (hash "<unit>#<YYYY-MM>", range "<YYYY-MM-DD>#" + "all" | "field#<code>" | "procedure#<code>")


@dataclass
class Booking:
    """What one event changes: counter increments, and the facts the overdue interval needs (module docstring)."""

    increments: dict[Key, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    flags_overdue: bool = False  # the due time passed: `overdue` +1 (in increments), the dossier's life `flagged`
    ends: list[Key] | None = None  # the dossier's clock ended: these items get `overdue` -1 if it was flagged

    def months(self) -> dict[str, set[str]]:
        """unit -> the months its counted items are in (for the unit's `months` set)."""
        out: dict[str, set[str]] = {}
        for pk, _ in self.increments:
            unit, _, month = pk.rpartition("#")
            out.setdefault(unit, set()).add(month)
        return out

    def add(self, snapshot: dict[str, Any], unit: str | None, day: date, column: str, n: int = 1) -> None:
        for key in keys(snapshot, unit, day):
            row = self.increments[key]
            row[column] = row.get(column, 0) + n


def local_day(instant: datetime | str) -> date:
    moment = parse_iso(instant) if isinstance(instant, str) else instant
    return moment.astimezone(LOCAL).date()


def month_key(unit: str, month: str) -> str:
    """The partition of a unit's counters in a month (`YYYY-MM`)."""
    return f"{unit}#{month}"


def keys(snapshot: dict[str, Any], unit: str | None, day: date) -> list[Key]:
    """The items an increment goes to: the unit's total, its field, its procedure, on that day."""
    if not unit:
        return []
    pk, prefix = month_key(unit, day.isoformat()[:7]), f"{day.isoformat()}#"
    out = [(pk, f"{prefix}all")]
    if snapshot.get("field_code"):
        out.append((pk, f"{prefix}field#{snapshot['field_code']}"))
    if snapshot.get("procedure_code"):
        out.append((pk, f"{prefix}procedure#{snapshot['procedure_code']}"))
    return out


def rollup_key(unit: str) -> str:
    """The partition of a unit's monthly roll-ups (range `<YYYY-MM>#<group>`): all its months in one Query."""
    return f"rollup#{unit}"


def rollups(increments: dict[Key, dict[str, int]]) -> dict[Key, dict[str, int]]:
    """The monthly roll-up items daily increments add to, summed: (`<unit>#<month>`, `<day>#<group>`) ->
    (`rollup#<unit>`, `<month>#<group>`). The store ADDs them in the transaction of the daily increments."""
    out: dict[Key, dict[str, int]] = {}
    for (pk, sk), row in increments.items():
        unit, _, month = pk.rpartition("#")
        target = out.setdefault((rollup_key(unit), f"{month}#{sk.partition('#')[2]}"), {})
        for column, n in row.items():
            target[column] = target.get(column, 0) + n
    return out


def yearly_key(unit: str) -> str:
    """The partition of a unit's yearly roll-ups (range `<YYYY>#<group>`): a report over whole years reads one
    item per year and group instead of twelve months."""
    return f"yearly#{unit}"


def yearly(increments: dict[Key, dict[str, int]]) -> dict[Key, dict[str, int]]:
    """The yearly roll-up items daily increments add to, summed: (`<unit>#<YYYY-MM>`, `<day>#<group>`) ->
    (`yearly#<unit>`, `<YYYY>#<group>`)."""
    out: dict[Key, dict[str, int]] = {}
    for (pk, sk), row in increments.items():
        unit, _, month = pk.rpartition("#")
        target = out.setdefault((yearly_key(unit), f"{month[:4]}#{sk.partition('#')[2]}"), {})
        for column, n in row.items():
            target[column] = target.get(column, 0) + n
    return out


def all_rollups(increments: dict[Key, dict[str, int]]) -> dict[Key, dict[str, int]]:
    """Every roll-up item daily increments add to, monthly and yearly: what the store ADDs in the same
    transaction as the daily increments (an event's, or an import's)."""
    return {**rollups(increments), **yearly(increments)}


@dataclass(frozen=True)
class CountingUnits:
    """Which unit a dossier's figures count under on a local day: the unit that was in operation that day.

    A dossier imported from an old system (domain/importing.py) whose unit has been abolished belongs to the
    successor, but keeps its original units (`imported.original_receiving_unit` / `original_competent_unit`):
    an event on a day within the original unit's validity (domain/catalogue.py: valid_from, valid_to) counts
    there, so that past periods show what each unit did; a later one counts at the successor. Any other dossier
    counts at its own units whatever the day.

    The intervals kept as deltas (in progress, overdue, and their supplement-late parts) count wholly under the
    unit of the day the clock started (`interval_unit`), so that their -1 meets their +1 at the same unit: a
    dossier in progress across its unit's abolition stays in progress at the original unit until it ends.
    """

    receiving: str | None
    competent: str | None
    original_receiving: str | None = None
    original_competent: str | None = None
    tree: UnitTree | None = None

    def receiving_on(self, day: date) -> str | None:
        return self._on(self.original_receiving, self.receiving, day)

    def competent_on(self, day: date) -> str | None:
        return self._on(self.original_competent, self.competent, day)

    def _on(self, original: str | None, current: str | None, day: date) -> str | None:
        if original is None or self.tree is None:
            return current
        unit = self.tree.get(original)
        return original if unit is not None and unit.active_on(day) else current


def counting_units(receiving: str | None, competent: str | None, imported: dict[str, Any] | None,
                   tree: UnitTree | None) -> CountingUnits:
    """The one rule for which unit counts a dossier's event (CountingUnits), for the consumer (`on_event`) and the
    recount from the dossiers (services/reconcile.py). Without a tree, the dossier's own units."""
    original = imported if isinstance(imported, dict) else {}
    return CountingUnits(receiving, competent, _unit_id(original.get("original_receiving_unit")),
                         _unit_id(original.get("original_competent_unit")), tree)


def _unit_id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def snapshot_units(snap: dict[str, Any], tree: UnitTree | None) -> CountingUnits:
    return counting_units(snap.get("receiving_unit"), snap.get("competent_unit"), snap.get("imported"), tree)


def booking(event: DomainEvent, units: CountingUnits | None = None) -> Booking:
    """The counters `event` moves. Each branch names the column's predicate (DOMAIN.md, report 06). `units`: which
    unit counts on which day (`snapshot_units` with the catalogue's tree); by default the snapshot's own."""
    snap: dict[str, Any] = event.data.get("dossier") or {}
    data = event.data
    book = Booking()
    day = local_day(event.at)
    units = units or snapshot_units(snap, None)
    receiving, competent = units.receiving_on(day), units.competent_on(day)
    # The intervals (open, overdue, supplement-late while open) at the unit of the clock's start (CountingUnits).
    started = local_day(snap["received_at"]) if snap.get("received_at") else day
    holder = units.competent_on(started)
    if event.type == ev.RECEIVED:
        # Received: the legal clock started (a complete, valid dossier: desk or postal intake, or an online
        # submission accepted), on the local day of that instant; by channel.
        book.add(snap, receiving, day, "received")
        book.add(snap, receiving, day, f"received_{snap.get('channel')}")
        book.add(snap, competent, day, "received_for_resolution")
        if snap.get("channel") in ("online", "direct", "postal"):
            book.add(snap, competent, day, f"received_for_resolution_{snap.get('channel')}")
        book.add(snap, holder, day, "open")
    elif event.type == ev.RESOLVED:
        # Resolved: a result (status 9) on that day; early / on time / late as the aggregate judged it against the
        # due time in force (after any rescheduling; the old one when the apology came late). A refusal after
        # appraisal has its own outcome and is not resolved.
        outcome = data.get("outcome") or snap.get("outcome")
        if outcome in ("early", "on_time", "late"):
            book.add(snap, competent, day, "resolved")
            book.add(snap, competent, day, str(outcome))
            if isinstance(data.get("working_seconds"), int) and data["working_seconds"] > 0:
                book.add(snap, competent, day, "resolved_working_seconds", data["working_seconds"])
            if late_766(data.get("late_766"), outcome):
                book.add(snap, competent, day, "resolved_late_766")
            elif _supplement_late(snap):
                book.add(snap, competent, day, "resolved_supplement_late")
        elif outcome == "refused":
            book.add(snap, competent, day, "refused")
            if data.get("timeliness") in TIMELINESS:
                book.add(snap, competent, day, f"refused_{data['timeliness']}")
            _ended_766(book, snap, competent, day, data.get("late_766"), data.get("timeliness"))
        _end(book, snap, holder, day)
    elif event.type == ev.CLOSED:
        outcome = data.get("outcome")
        if outcome in ("not_accepted", "guided"):
            # Not accepted (form 03) / guided to complete it (form 02): decided at intake, never received.
            book.add(snap, receiving, day, str(outcome))
        elif outcome in ("withdrawn", "stopped"):
            book.add(snap, competent, day, str(outcome))
            if snap.get("received_at") and not snap.get("resolved_at"):
                _end(book, snap, holder, day)
                if data.get("timeliness") in TIMELINESS:
                    book.add(snap, competent, day, f"ended_{data['timeliness']}")
                _ended_766(book, snap, competent, day, None, data.get("timeliness"))
    elif event.type == ev.STATUS_CHANGED and data.get("action") == "request_supplement":
        # A supplement request; outside the law (Decree 61/2018 Art 15, 19(4)) when it is not the first one or
        # came after the window. Only the first request can be lawful and a lawful first request leaves the
        # dossier's violation count at 0, so this one broke the rules exactly when the count is now >= 1.
        book.add(snap, competent, day, "supplement_requests")
        if int(snap.get("supplement_violations") or 0) >= 1:
            book.add(snap, competent, day, "supplement_violations")
        if _requests(snap) == 2:
            # The dossier's second request (the count is 2 exactly once): from now on Decision 766 counts it late.
            book.add(snap, competent, day, "supplement_late")
            book.add(snap, holder, day, "open_supplement_late")
            if snap.get("overdue"):  # already overdue (flagged now or before): both from today
                book.add(snap, holder, day, "overdue_supplement_late")
    elif event.type == ev.APOLOGY_ISSUED:
        # An apology (form 04); rescheduled when it gave a new appointment (allowed once).
        book.add(snap, competent, day, "apologies")
        if snap.get("rescheduled"):
            book.add(snap, competent, day, "rescheduled")
    elif event.type == ev.OVERDUE:
        watched = data.get("watched_at") or data.get("due_at")
        watched_day = local_day(watched) if watched else day
        book.add(snap, holder, watched_day, "overdue")
        book.flags_overdue = True
        # Supplement-late before the due time passed: both from the day watched. The one case left to the
        # request's own event: the second request made after the due time, which records the flag in the same
        # change (`recorded_by`; the snapshot then shows two requests). A flag a timer records later, while that
        # unlawful request is pending (the clock runs on), is this event's to count.
        second_request_now = _requests(snap) == 2 and data.get("recorded_by") == "request_supplement"
        if _supplement_late(snap) and not second_request_now:
            book.add(snap, holder, watched_day, "overdue_supplement_late")
    elif event.type == ev.PAYMENT_CONFIRMED:
        paid(book, snap, competent, day, data.get("payment"))
    elif event.type == ev.RATED:
        rated(book, snap, competent, day, data.get("rating"))
    else:
        _digitisation(book, event, snap, receiving, competent, day)
    return book


def _digitisation(book: Booking, event: DomainEvent, snap: dict[str, Any], receiving: str | None,
                  competent: str | None, day: date) -> None:
    """A dossier's first scan, first reuse and first electronic result, each counted once (the event's `first`),
    and the dossier whose every listed component was digitised at receipt (the file that completed it)."""
    data = event.data
    if event.type == ev.DOCUMENT_DIGITISED:
        if data.get("completes") and data.get("at_receipt"):
            book.add(snap, receiving, day, "digitised_at_receipt")
        if data.get("first"):
            book.add(snap, receiving, day, "reused" if data.get("reused") else "digitised")
    elif event.type == ev.RESULT_ISSUED and data.get("first"):
        book.add(snap, competent, day, "e_result")


def rated(book: Booking, snap: dict[str, Any], unit: str | None, day: date, rating: Any) -> None:
    """A rating given (the dossier's event or its stored rating): rated, and rated at its level."""
    level = rating.get("level") if isinstance(rating, dict) else None
    if level in RATING_LEVELS:
        book.add(snap, unit, day, "rated")
        book.add(snap, unit, day, f"rated_{level}")


def paid(book: Booking, snap: dict[str, Any], unit: str | None, day: date, payment: Any) -> None:
    """A payment confirmed (the dossier's event or its confirm_payment line): paid, and paid online."""
    book.add(snap, unit, day, "paid")
    if isinstance(payment, dict) and payment.get("online") is True:
        book.add(snap, unit, day, "paid_online")


def synced_booking(snapshot: dict[str, Any], units: CountingUnits) -> Booking:
    """1.4's count of a received dossier the national portal has heard of: `synced` at the desk that received
    it, on the local day of receipt (the day `received` counted it), so that synced / received is the share of
    the period's dossiers on the portal. Nothing for a dossier not received."""
    book = Booking()
    if snapshot.get("received_at"):
        day = local_day(str(snapshot["received_at"]))
        book.add(snapshot, units.receiving_on(day), day, "synced")
    return book


def synced_guard(code: str) -> str:
    """The guard of a dossier's `synced` count: one per dossier, whichever of its two writers comes second."""
    return f"synced#{code}"


def late_766(recorded: Any, outcome: Any) -> bool:
    """Late for Decision 766: what the resolution recorded (domain/dossier.py: the agency's working time over
    the original limit); a result that recorded nothing (an imported dossier, whose old system kept no pauses)
    falls back on the law's outcome."""
    return recorded if isinstance(recorded, bool) else outcome == "late"


def ended_late_766(recorded: Any, timeliness: Any, supplement_late: bool) -> bool:
    """A dossier ended without a result (refused after appraisal, withdrawn or stopped after receipt) is late for
    Decision 766 when asked for supplements more than once, or when late by what its end recorded: the agency's
    working time if recorded, else the legal due time at its end (`timeliness`)."""
    return supplement_late or late_766(recorded, timeliness)


def _ended_766(book: Booking, snap: dict[str, Any], unit: str | None, day: date, recorded: Any,
               timeliness: Any) -> None:
    book.add(snap, unit, day, "ended_766")
    if ended_late_766(recorded, timeliness, _supplement_late(snap)):
        book.add(snap, unit, day, "ended_late_766")


def _end(book: Booking, snap: dict[str, Any], unit: str | None, day: date) -> None:
    """The clock ended on `day`: no longer in progress, nor overdue if it was."""
    book.add(snap, unit, day, "open", -1)
    if _supplement_late(snap):
        book.add(snap, unit, day, "open_supplement_late", -1)
        if snap.get("overdue"):
            book.add(snap, unit, day, "overdue_supplement_late", -1)
    book.ends = keys(snap, unit, day)


def _requests(snap: dict[str, Any]) -> int:
    return int(snap.get("supplement_requests") or 0)


def _supplement_late(snap: dict[str, Any]) -> bool:
    """Decision 766 counts late a dossier asked for supplements more than once, whatever its clock says (the
    law allows one request: Decree 61/2018 Art 15(2)(a))."""
    return _requests(snap) >= 2


def overdue_closing(book: Booking, flagged: bool, ended: list[Any] | None) -> list[Any]:
    """The items that get `overdue` -1 when `book` is applied to a dossier whose life says `flagged` (an earlier
    event started the overdue interval) and `ended` (the items of its end day, if an earlier event ended it): the
    second of the two facts closes the interval, whichever order they come in (module docstring)."""
    if book.flags_overdue:
        return list(ended or [])
    if book.ends is not None and flagged:
        return list(book.ends)
    return []
