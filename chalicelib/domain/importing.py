"""Dossiers brought over from an old one-stop system: one exported row checked and built into the aggregate.

A province moving to motcua brings years of dossiers for lookup and statistics (docs/import.md). Each row is
checked in full (`parse_row`, then `build_imported` against the catalogue) and becomes a `Dossier` in its final
state together with the control-sheet lines and the domain events a live dossier with that history would have
produced (received, status changes, overdue, resolved, returned, closed), at their historical times and with the
due time the old system had in force. The import does what those events cause itself, in bulk, instead of queuing
them ahead of live events (services/importer.py): report 06 counts imported dossiers by the same rules and the
portal sync hears of them on its history lane; their ids are `code/seq` as always, and a code already stored is
never written again, so importing a file twice counts nothing twice.

Pure: no I/O. The catalogue is passed in.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import deadlines as dl
from . import events as ev
from .calendar import WorkingCalendar
from .catalogue import Procedure, UnitTree
from .clock import Clock, ClockEntry, ClockState, classify, iso
from .codes import MAX_SEQUENCE, MAX_SEQUENCE_DIGITS, code_day, is_agency_id, is_dossier_code, is_procedure_code
from .deadlines import WatchSettings
from .dossier import CHANNELS, OWN_OUTCOMES, Dossier, HistoryEntry, StepProgress
from .errors import FieldProblem
from .events import DomainEvent
from .lifecycle import RESUME, TRANSITIONS, Action
from .status import Status

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_CODE = 35 + 1 + 6 + 1 + 9  # a unit id, the day, a sequence of up to 9 digits (api/params.py)
MAX_HISTORY = 20  # lines per dossier: dossier + history + events stay inside one 100-item transaction
MAX_TEXT = 500
MAX_SOURCE = 64
FIELDS = ("code", "procedure_code", "unit_code", "competent_unit_code", "channel", "applicant", "received_at",
          "due_at", "finished_at", "history")
APPLICANT_FIELDS = ("name", "id_number", "phone", "email")
# The statuses a dossier's history may start with: an online submission, or the desk's decision on paper.
FIRST_STATUSES = {"online": {Status.SUBMITTED, Status.RECEIVED},
                  "direct": {Status.RECEIVED, Status.NOT_ACCEPTED, Status.GUIDED},
                  "postal": {Status.RECEIVED, Status.NOT_ACCEPTED, Status.GUIDED}}
_FINISHING = {Status.RESOLVED, Status.REFUSED, Status.WITHDRAWN, Status.STOPPED, Status.NOT_ACCEPTED, Status.GUIDED}
_PAUSING = {Status.SUPPLEMENT_REQUESTED, Status.PAYMENT_REQUESTED}
_BIDI = {"\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


class RowRejected(Exception):
    """A row that cannot be imported, with every reason found (field names as in docs/import.md)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class HistoryLine:
    status: Status
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class ImportRow:
    """A row whose fields each passed their own checks and whose history is a legal path (`parse_row`)."""

    code: str
    procedure_code: str
    unit_code: str
    competent_unit_code: str | None
    channel: str
    applicant: dict[str, str]
    received_at: datetime | None
    due_at: datetime | None
    finished_at: datetime | None
    history: tuple[HistoryLine, ...]
    actions: tuple[str, ...]  # the action each history line stands for (receive, accept, assign, resolve ...)


# --- one row's fields -------------------------------------------------------------------------------
def parse_row(raw: Mapping[str, Any], now: datetime) -> ImportRow:
    """Check every field of `raw` (the NDJSON shape; the CSV reader builds it) and the order of its times.
    Raises RowRejected listing every problem found, not only the first."""
    problems: list[FieldProblem] = []
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        problems.append(FieldProblem(unknown[0], f"unknown field (expected: {', '.join(FIELDS)})"))
    code = _text(raw, "code", problems, MAX_CODE)
    if code and not is_dossier_code(code):
        problems.append(FieldProblem("code", "expected <unit id>-<YYMMDD>-<NNNN> (Circular 01/2018 Art 19), "
                                             "e.g. 000.20.30.H56-240315-0001"))
    elif code:
        problems.extend(code_problems(code, now))
    procedure = _text(raw, "procedure_code", problems, 16)
    if procedure and not is_procedure_code(procedure):
        problems.append(FieldProblem("procedure_code", "expected a national procedure code like 1.004873"))
    unit = _text(raw, "unit_code", problems, 35)
    if unit and not is_agency_id(unit):
        problems.append(FieldProblem("unit_code", "expected a Decision 20/2020 identifier like 000.21.30.H56"))
    competent = _text(raw, "competent_unit_code", problems, 35, required=False)
    if competent and not is_agency_id(competent):
        problems.append(FieldProblem("competent_unit_code", "expected a Decision 20/2020 identifier"))
    channel = _text(raw, "channel", problems, 16)
    if channel and channel not in CHANNELS:
        problems.append(FieldProblem("channel", f"one of {', '.join(CHANNELS)}"))
    applicant = _applicant(raw.get("applicant"), problems)
    received = _instant(raw, "received_at", problems, now)
    due = _instant(raw, "due_at", problems, None)
    finished = _instant(raw, "finished_at", problems, now)
    history = _history(raw.get("history"), problems, now)
    actions: tuple[str, ...] = ()
    if history and channel in CHANNELS:
        actions = _legal_path(history, channel, problems)
        if not problems:
            _check_times(history, received, due, finished, problems)
    if problems:
        raise RowRejected(problems)
    return ImportRow(code or "", procedure or "", unit or "", competent or None, channel or "", applicant,
                     received, due, finished, tuple(history), actions)


def code_problems(code: str, now: datetime) -> list[FieldProblem]:
    """A code that would break the live intake: one naming a day after today (it would move that day's counter
    in advance), or a sequence the code format cannot follow (more than 9 digits, or the last 9-digit number of
    today: the unit's next intake would need a tenth digit, a code every route refuses)."""
    seq = code.rpartition("-")[2]
    if len(seq) > MAX_SEQUENCE_DIGITS:
        return [FieldProblem("code", f"a sequence of at most {MAX_SEQUENCE_DIGITS} digits")]
    today = now.astimezone(LOCAL_ZONE).date()
    day = code_day(code)
    if day is not None and day > today:
        return [FieldProblem("code", f"names {day.isoformat()}, a day after today: a dossier is not received "
                                     "in the future")]
    if day == today and int(seq) >= MAX_SEQUENCE:
        return [FieldProblem("code", f"sequence {seq} is the last the code format holds: the unit's next intake "
                                     "of the day would get a number no route accepts")]
    return []


def parse_instant(value: str) -> datetime:
    """ISO 8601 with an offset (`2024-03-15T09:30:00+07:00`, `...Z`), or a local Asia/Ho_Chi_Minh time without
    one (`2024-03-15 09:30`, `2024-03-15T09:30:00`). ValueError otherwise."""
    text = value.strip()
    if len(text) < 16 or text[10] not in "T ":
        raise ValueError(value)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_ZONE)
    return moment.astimezone(UTC)


def _text(raw: Mapping[str, Any], name: str, problems: list[FieldProblem], limit: int,
          required: bool = True) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            problems.append(FieldProblem(name, "required"))
        return None
    if not isinstance(value, str):
        problems.append(FieldProblem(name, "a string"))
        return None
    value = value.strip()
    reason = text_problem(value, limit)
    if reason:
        problems.append(FieldProblem(name, reason))
        return None
    return value


def text_problem(value: str, limit: int) -> str | None:
    """Why `value` is not acceptable text (too long, control or direction characters), or None."""
    if len(value) > limit:
        return f"at most {limit} characters"
    if any(unicodedata.category(c) == "Cc" or c in _BIDI for c in value):
        return "control and direction characters are not allowed"
    return None


def _applicant(value: Any, problems: list[FieldProblem]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        problems.append(FieldProblem("applicant", "an object with name, id_number, phone, email"))
        return {}
    out: dict[str, str] = {}
    for key in value:
        if key not in APPLICANT_FIELDS:
            problems.append(FieldProblem(f"applicant.{key}", f"unknown (expected: {', '.join(APPLICANT_FIELDS)})"))
    for key in APPLICANT_FIELDS:
        item = value.get(key)
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        reason = text_problem(item.strip(), 200) if isinstance(item, str) else "a string"
        if reason:
            problems.append(FieldProblem(f"applicant.{key}", reason))
        else:
            out[key] = item.strip()
    if "name" not in out:
        if not any(p.field == "applicant.name" for p in problems):
            problems.append(FieldProblem("applicant.name", "required"))
    elif not any(c.isalpha() for c in out["name"]):
        problems.append(FieldProblem("applicant.name", "needs a letter"))
    return out


def _instant(raw: Mapping[str, Any], name: str, problems: list[FieldProblem],
             not_after: datetime | None) -> datetime | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        moment = parse_instant(value)
    except (ValueError, OverflowError):
        problems.append(FieldProblem(name, "an ISO 8601 time with its offset (2024-03-15T09:30:00+07:00) or a local "
                                           "time in Asia/Ho_Chi_Minh (2024-03-15 09:30)"))
        return None
    if moment.year < 2000:
        problems.append(FieldProblem(name, "before 2000"))
        return None
    if not_after is not None and moment > not_after:
        problems.append(FieldProblem(name, "in the future"))
        return None
    return moment


def _history(value: Any, problems: list[FieldProblem], now: datetime) -> list[HistoryLine]:
    if not isinstance(value, list) or not value:
        problems.append(FieldProblem("history", "a non-empty list of {status, at, note}"))
        return []
    if len(value) > MAX_HISTORY:
        problems.append(FieldProblem("history", f"at most {MAX_HISTORY} lines"))
        return []
    lines: list[HistoryLine] = []
    statuses = ", ".join(s.value for s in Status)
    for i, item in enumerate(value):
        where = f"history[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"status", "at", "note"}:
            problems.append(FieldProblem(where, "an object with status, at and an optional note"))
            continue
        try:
            status = Status(str(item.get("status")))
        except ValueError:
            problems.append(FieldProblem(f"{where}.status", f"one of {statuses}"))
            continue
        own: list[FieldProblem] = []
        at = _instant(item, "at", own, now)
        if at is None and not own:
            own.append(FieldProblem("at", "required"))
        note = _text(item, "note", own, MAX_TEXT, required=False)
        problems.extend(FieldProblem(f"{where}.{p.field}", p.reason) for p in own)
        if at is None:
            continue
        if lines and at < lines[-1].at:
            problems.append(FieldProblem(f"{where}.at", f"before the previous line ({iso(lines[-1].at)})"))
        lines.append(HistoryLine(status, at, note or ""))
    return lines if len(lines) == len(value) else []


def _legal_path(history: list[HistoryLine], channel: str, problems: list[FieldProblem]) -> tuple[str, ...]:
    """The action each line stands for, found in the transition table (lifecycle.py); a step no action allows
    is a problem naming the line."""
    first = history[0].status
    if first not in FIRST_STATUSES[channel]:
        allowed = ", ".join(sorted(s.value for s in FIRST_STATUSES[channel]))
        problems.append(FieldProblem("history[0].status", f"a {channel} dossier starts {allowed}"))
        return ()
    actions = [{Status.SUBMITTED: "submit", Status.RECEIVED: "receive", Status.NOT_ACCEPTED: "refuse_intake",
                Status.GUIDED: "guide_intake"}[first]]
    paused_from: Status | None = None
    for i, (before, line) in enumerate(zip(history, history[1:], strict=False), start=1):
        action = action_between(before.status, line.status, paused_from)
        if action is None:
            problems.append(FieldProblem(f"history[{i}].status", f"{before.status.value} -> {line.status.value} is "
                                                                  "not a step of the lifecycle"))
            return ()
        paused_from = before.status if line.status in _PAUSING else (
            None if TRANSITIONS[action].target is RESUME else paused_from)
        actions.append(action.value)
    return tuple(actions)


def action_between(before: Status, after: Status, paused_from: Status | None) -> Action | None:
    """The action that moves a dossier from `before` to `after` (the first in the table's order)."""
    for action, transition in TRANSITIONS.items():
        if transition.keeps_status or before not in transition.sources:
            continue
        if transition.target is after or (transition.target is RESUME and after is paused_from):
            return action
    return None


def _check_times(history: list[HistoryLine], received: datetime | None, due: datetime | None,
                 finished: datetime | None, problems: list[FieldProblem]) -> None:
    """The columns agree with the history: received when it was received, finished when it ended."""
    received_line = next((h for h in history if h.status is Status.RECEIVED), None)
    if received_line is None:
        for name, value in (("received_at", received), ("due_at", due)):
            if value is not None:
                problems.append(FieldProblem(name, "the history never receives the dossier: leave it empty"))
    else:
        if received is None:
            problems.append(FieldProblem("received_at", "required: the history receives the dossier"))
        elif received != received_line.at:
            problems.append(FieldProblem("received_at", f"differs from the history's received line "
                                                        f"({iso(received_line.at)})"))
        if due is None:
            problems.append(FieldProblem("due_at", "required for a received dossier"))
        elif received is not None and due <= received:
            problems.append(FieldProblem("due_at", "must be after received_at"))
    ending = next((h for h in history if h.status in _FINISHING), None)
    if ending is None:
        if finished is not None:
            problems.append(FieldProblem("finished_at", "the history never finishes the dossier: leave it empty"))
    elif finished is None:
        problems.append(FieldProblem("finished_at", f"required: the dossier was {ending.status.value}"))
    elif finished != ending.at:
        problems.append(FieldProblem("finished_at", f"differs from the history's {ending.status.value} line "
                                                    f"({iso(ending.at)})"))


# --- the catalogue ------------------------------------------------------------------------------------
def successor_in_operation(tree: UnitTree, unit_id: str, today: date, field: str) -> tuple[str, FieldProblem | None]:
    """`unit_id`, or, for a unit abolished by the reform, the first successor in operation `today`."""
    unit = tree.get(unit_id)
    if unit is None:
        return unit_id, FieldProblem(field, f"no unit {unit_id} in the catalogue")
    if unit.active_on(today):
        return unit_id, None
    for successor in tree.successors(unit_id):
        found = tree.get(successor)
        if found is not None and found.active_on(today):
            return successor, None
    return unit_id, FieldProblem(field, f"unit {unit_id} is not in operation and has no successor that is")


# --- the aggregate ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Imported:
    dossier: Dossier
    history: list[HistoryEntry]


def build_imported(
    row: ImportRow, *, procedure: Procedure, tree: UnitTree, calendar: Callable[[str], WorkingCalendar],
    source: str, now: datetime, watch: WatchSettings = WatchSettings(),
) -> Imported:
    """The dossier `row` describes, in its final state, with its control-sheet lines and its events
    (`dossier.pending_events`). Units of abolished units are mapped to their successors and the originals kept
    in `dossier.imported`. Raises RowRejected."""
    today = now.astimezone(LOCAL_ZONE).date()
    receiving, problem = successor_in_operation(tree, row.unit_code, today, "unit_code")
    problems = [problem] if problem else []
    competent_code = row.competent_unit_code
    competent: str | None = None
    if competent_code is not None:
        competent, problem = successor_in_operation(tree, competent_code, today, "competent_unit_code")
        problems += [problem] if problem else []
    elif receiving in procedure.competent_units:
        competent = receiving
    elif len(procedure.competent_units) == 1:
        competent = procedure.competent_units[0]
    else:
        problems.append(FieldProblem("competent_unit_code", "required: the procedure is handled by "
                                                            f"{', '.join(procedure.competent_units)}"))
    if competent is not None and not problems and competent not in procedure.competent_units:
        problems.append(FieldProblem("competent_unit_code", f"{competent} is not competent for procedure "
                                                            f"{procedure.code}"))
    if problems or competent is None:
        raise RowRejected(problems)
    dossier = _blank(row, procedure, receiving, competent, source, now)
    builder = _Builder(dossier, row, calendar(receiving), f"import:{source}")
    for line, action in zip(row.history, row.actions, strict=True):
        builder.apply(line, action)
    builder.finish(now, watch)
    return Imported(dossier, builder.entries)


def _blank(row: ImportRow, procedure: Procedure, receiving: str, competent: str, source: str,
           now: datetime) -> Dossier:
    steps = [StepProgress(i, s.name, procedure.unit_of(s, competent), s.role, s.budget)
             for i, s in enumerate(procedure.steps)]
    return Dossier(
        code=row.code, procedure_code=procedure.code, procedure_version=procedure.version,
        procedure_name=procedure.name, field_code=procedure.field.get("code", ""), limit=procedure.limit,
        receiving_unit=receiving, competent_unit=competent, channel=row.channel, status=Status.SUBMITTED,
        applicant=dict(row.applicant), form={}, documents=[], fee=dict(procedure.fee), steps=steps,
        submitted_at=row.history[0].at, supplement_period=procedure.supplement_period,
        imported={"source": source, "original_code": row.code,
                  "original_receiving_unit": row.unit_code if row.unit_code != receiving else None,
                  "original_competent_unit": (row.competent_unit_code
                                              if row.competent_unit_code not in (None, competent) else None),
                  "imported_at": iso(now), "fingerprint": row_fingerprint(row)},
    )


def row_fingerprint(row: ImportRow) -> str:
    """What the row says, hashed: the same row imported again is a duplicate; another row under a code already
    stored is a collision, never silently skipped (services/importer.py)."""
    canonical = json.dumps(asdict(row), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


class _Builder:
    """Walks the history, changing the dossier as the matching action would and emitting the same events."""

    def __init__(self, dossier: Dossier, row: ImportRow, calendar: WorkingCalendar, officer: str) -> None:
        self.d, self.row, self.calendar, self.officer = dossier, row, calendar, officer
        self.entries: list[HistoryEntry] = []
        self.by = {"officer": officer, "officer_unit": dossier.receiving_unit}

    def apply(self, line: HistoryLine, action: str) -> None:
        d = self.d
        self._overdue_before(line.at)
        before: Status | None = d.status if self.entries else None
        from_unit = d.handling_unit
        if self.entries:
            d.version += 1
        self._change(line, action, before)
        d.status = line.status
        d.history_count += 1
        self.entries.append(HistoryEntry(
            seq=d.history_count, action=action, label=_label(action), from_status=before, to_status=d.status,
            at=line.at, officer=self.officer, officer_unit=d.receiving_unit, step_index=None, step_name=None,
            step_unit=None, step_due_at=None, step_met=None, note=line.note, details=self._details(action),
            from_unit=from_unit, to_unit=d.handling_unit))
        self._events(line, action, before)

    def _details(self, action: str) -> dict[str, Any]:
        """What a live line of the same action records and readers of the control sheet use (the outcome of a
        result or an end: services/reconcile.py recounts report 06 from it)."""
        d = self.d
        if action in ("resolve", "refuse"):
            return {"imported": True, "result": d.result, "outcome": d.final_outcome}
        if action in ("withdraw", "stop"):
            return {"imported": True, "outcome": d.final_outcome}
        return {"imported": True}

    def _change(self, line: HistoryLine, action: str, before: Status | None) -> None:
        d, at, target = self.d, line.at, line.status
        if action == "submit":
            return
        if action in ("receive", "accept"):
            due = self.row.due_at
            d.received_at = at
            d.clock = Clock(d.limit.counting, d.limit.nominal(self.calendar.settings.hours_per_day),
                            ClockState.RUNNING, at, timedelta(0), due, self.calendar.settings.version,
                            [ClockEntry("start", at, at, 0, due, "imported")])
            d.appointment_at = due
            d.appointments.append({"appointment_at": iso(due), "given_at": iso(at), "reason": "received"})
            d.intake = self._intake("receive", at)
        elif action == "refuse_intake":
            d.intake = {**self._intake("refuse", at), "reasons": [line.note or "Không tiếp nhận (hệ thống cũ)"]}
            d.final_outcome = "not_accepted"
        elif action == "guide_intake":
            d.intake = {**self._intake("guide", at), "missing_items": [line.note or "Hướng dẫn (hệ thống cũ)"]}
            d.final_outcome = "guided"
        elif target in _PAUSING:
            d.paused_from = before
            if target is Status.SUPPLEMENT_REQUESTED:
                d.supplement_requests += 1
            self._clock_step("pause", at, ClockState.PAUSED, None)
        elif TRANSITIONS[Action(action)].target is RESUME:
            d.paused_from = None
            self._clock_step("resume", at, ClockState.RUNNING, self.row.due_at)
        elif target in (Status.RESOLVED, Status.REFUSED):
            self._clock_step("stop", at, ClockState.STOPPED, d.due_at)
            d.resolved_at = at
            refused = target is Status.REFUSED
            d.result = ({"kind": "refused", "reasons": [line.note or "Từ chối giải quyết (hệ thống cũ)"]} if refused
                        else {"kind": "approved", "summary": line.note or "Kết quả giải quyết (hệ thống cũ)"})
            due = self.row.due_at
            d.final_outcome = "refused" if refused or due is None else classify(self.calendar, at, due).value
            d.current_step = len(d.steps) - 1
        elif target is Status.RETURNED:
            d.returned_at = at
        elif target in (Status.WITHDRAWN, Status.STOPPED):
            if d.clock is not None and d.clock.state is not ClockState.STOPPED:
                self._clock_step("stop", at, ClockState.STOPPED, d.due_at)
            d.final_outcome = OWN_OUTCOMES[target]

    def _intake(self, decision: str, at: datetime) -> dict[str, Any]:
        return {"decision": decision, "by": self.officer, "by_name": "", "by_unit": self.d.receiving_unit,
                "at": iso(at)}

    def _clock_step(self, event: str, at: datetime, state: ClockState, due: datetime | None) -> None:
        clock = self.d.clock
        if clock is None:
            return
        clock.state, clock.due_at = state, due
        clock.running_since = at if state is ClockState.RUNNING else None
        clock.entries.append(ClockEntry(event, at, at, 0, due, "imported"))

    def _events(self, line: HistoryLine, action: str, before: Status | None) -> None:
        d, at = self.d, line.at
        if before is not d.status:
            self._emit(ev.STATUS_CHANGED, at, action=action, from_status=before.value if before else None,
                       to_status=d.status.value, national_code=d.status.national_code, **self.by)
        if action == "submit":
            self._emit(ev.SUBMITTED, at, **self.by)
        if action in ("receive", "accept"):
            self._emit(ev.RECEIVED, at, appointment_at=iso(d.appointment_at), due_at=iso(d.due_at),
                       clock_start=iso(at), **self.by)
        if action in ("resolve", "refuse"):
            self._emit(ev.RESOLVED, at, result_kind=(d.result or {}).get("kind"), outcome=d.final_outcome,
                       **self.by)
        if action == "return_result":
            self._emit(ev.RETURNED, at, **self.by)
        if d.status.is_closed:
            self._emit(ev.CLOSED, at, outcome=d.final_outcome or OWN_OUTCOMES.get(d.status), action=action,
                       **self.by)

    def _overdue_before(self, instant: datetime) -> None:
        """The due time passed while the clock ran, before `instant`: the event a timer would have recorded."""
        d, due = self.d, self.row.due_at
        if due is None or d.clock is None or d.clock.state is not ClockState.RUNNING or dl.OVERDUE in d.flags:
            return
        fired = due + dl.AFTER_DUE
        if fired > instant:
            return
        d.version += 1
        d.flags[dl.OVERDUE] = _z(fired)
        self._emit(ev.OVERDUE, fired, due_at=iso(due), flag=dl.OVERDUE, watched_at=_z(fired))

    def finish(self, now: datetime, watch: WatchSettings) -> None:
        """An open dossier goes on being watched like a live one: the overdue instant already passed is
        recorded with its event; the other instants already passed (warnings) are recorded without one."""
        d = self.d
        self._overdue_before(now)
        if d.status.is_closed or d.status in (Status.RESOLVED, Status.REFUSED):
            return
        try:
            d.rearm(self.calendar, watch)
        except ValueError as exc:
            raise RowRejected([FieldProblem("due_at", f"cannot be watched: {exc}")]) from exc
        for name, instant in d.watch.items():
            if name not in d.flags and instant <= _z(now):
                d.flags[name] = instant

    def _emit(self, kind: str, at: datetime, **data: Any) -> None:
        d = self.d
        d.event_count += 1
        d.pending_events.append(DomainEvent(kind, d.code, d.event_count, d.version, at,
                                            {**data, "dossier": d.snapshot()}))


def _label(action: str) -> str:
    own = {"submit": "Nộp hồ sơ trực tuyến", "receive": "Tiếp nhận hồ sơ", "refuse_intake": "Từ chối tiếp nhận hồ sơ",
           "guide_intake": "Hướng dẫn bổ sung, hoàn thiện hồ sơ"}
    label = own.get(action) or TRANSITIONS[Action(action)].label
    return f"{label} (hệ thống cũ)"


def _z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
