"""The dossier aggregate: its state, its clocks, and the one method every state change goes through.

`Dossier.act` is the single place a status changes. It returns the history entry (a line of the
process control sheet, form 05) that the repository writes in the same transaction, with the domain
events the change produced (`take_events`) and the deadline instants it now watches (`watch`);
`Dossier.wake` records the deadlines reached, once each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import deadlines as dl
from . import events as ev
from . import payments as pay
from .calendar import WorkingCalendar
from .catalogue import Procedure
from .clock import Clock, ClockState, Outcome, classify, iso, parse_iso
from .deadlines import WatchSettings
from .errors import ActionNotAllowed, DomainError, FieldProblem, Forbidden, InvalidInput
from .events import DomainEvent
from .lifecycle import TRANSITIONS, Action, allowed_actions
from .rating import rating as rating_of
from .status import Status
from .time_limit import TimeLimit

CHANNELS = ("direct", "postal", "online")
PAPER_CHANNELS = ("direct", "postal")
# A supplement is requested once, fully, within 3 working days of receipt (Decree 61/2018 Art 15(2)(a)
# for the one request, Art 19(4) for the 3-working-day window; carried into Decree 118/2025). Per procedure
# the catalogue may set another window or allow a further notice (sector law); these are the defaults.
SUPPLEMENT_WINDOW_WORKING_DAYS = 3
SUPPLEMENT_NOTICES_ALLOWED = 1
# How far an apology may move the appointment. The law sets no bound; a year past the due time covers any
# reason an agency can give (an archive to consult, another agency's answer) and keeps the date countable.
RESCHEDULE_MAX_DAYS = 365
# What the desk decides about a paper dossier in front of it (Decree 61/2018 Art 15(2)): receive it,
# refuse it (form 03), or hand back a guidance slip listing what is missing (form 02).
INTAKE_DECISIONS = ("receive", "refuse", "guide")
DEFAULT_WATCH = WatchSettings()

# The calendar each unit counts on: the dossier's limit on the receiving unit's, each step (a liên
# thông step at another agency included) on its own unit's. A single calendar stands for all units.
CalendarFor = Callable[[str], WorkingCalendar]
Calendars = WorkingCalendar | CalendarFor


def calendar_source(calendars: Calendars) -> CalendarFor:
    if isinstance(calendars, WorkingCalendar):
        single = calendars
        return lambda _unit: single
    return calendars


@dataclass(frozen=True)
class Actor:
    """Whoever performs an action: an officer from a verified token."""

    subject: str
    unit: str
    roles: frozenset[str]
    name: str = ""

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        return bool(self.roles & set(roles))


@dataclass
class StepProgress:
    index: int
    name: str
    unit: str
    role: str
    budget: TimeLimit
    clock: Clock | None = None
    assignee: str | None = None
    completed_at: datetime | None = None
    outcome: Outcome | None = None

    @property
    def due_at(self) -> datetime | None:
        return self.clock.due_at if self.clock else None

    @property
    def due_capped(self) -> bool:
        """Whether the step's own budget would have run past the dossier's due time (and was cut to it)."""
        return self.clock is not None and self.clock.capped

    def performable_by(self, actor: Actor) -> bool:
        """A step is done by its role; a leader may also do a processor's step of their unit, never the reverse."""
        return self.role in actor.roles or (self.role == "processor" and "leader" in actor.roles)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "unit": self.unit,
            "role": self.role,
            "budget": self.budget.as_dict(),
            "clock": self.clock.as_dict() if self.clock else None,
            "assignee": self.assignee,
            "completed_at": iso(self.completed_at),
            "outcome": self.outcome.value if self.outcome else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepProgress:
        return cls(
            data["index"], data["name"], data["unit"], data["role"], TimeLimit.from_dict(data["budget"]),
            Clock.from_dict(data["clock"]) if data.get("clock") else None,
            data.get("assignee"),
            parse_iso(data["completed_at"]) if data.get("completed_at") else None,
            Outcome(data["outcome"]) if data.get("outcome") else None,
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the process control sheet (form 05): who did what, when, on time or not."""

    seq: int
    action: str
    label: str
    from_status: Status | None
    to_status: Status
    at: datetime
    officer: str
    officer_unit: str
    step_index: int | None
    step_name: str | None
    step_unit: str | None
    step_due_at: datetime | None
    step_met: bool | None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    from_unit: str | None = None  # the unit handing the dossier over (form 05: bên giao)
    to_unit: str | None = None  # the unit receiving it (form 05: bên nhận)
    step_outcome: str | None = None  # early / on_time / late of the step this line finished
    officer_name: str | None = None  # the giver by name (form 05: người giao)
    to_officer: str | None = None  # the officer now holding the dossier, when assigned (form 05: người nhận)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "action": self.action,
            "label": self.label,
            "from_status": self.from_status.value if self.from_status else None,
            "to_status": self.to_status.value,
            "at": iso(self.at),
            "officer": self.officer,
            "officer_unit": self.officer_unit,
            "step_index": self.step_index,
            "step_name": self.step_name,
            "step_unit": self.step_unit,
            "step_due_at": iso(self.step_due_at),
            "step_met": self.step_met,
            "note": self.note,
            "details": self.details,
            "from_unit": self.from_unit,
            "to_unit": self.to_unit,
            "step_outcome": self.step_outcome,
            "officer_name": self.officer_name,
            "to_officer": self.to_officer,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryEntry:
        return cls(
            seq=data["seq"], action=data["action"], label=data["label"],
            from_status=Status(data["from_status"]) if data.get("from_status") else None,
            to_status=Status(data["to_status"]), at=parse_iso(data["at"]), officer=data["officer"],
            officer_unit=data["officer_unit"], step_index=data.get("step_index"), step_name=data.get("step_name"),
            step_unit=data.get("step_unit"),
            step_due_at=parse_iso(data["step_due_at"]) if data.get("step_due_at") else None,
            step_met=data.get("step_met"), note=data.get("note", ""), details=data.get("details", {}),
            from_unit=data.get("from_unit"), to_unit=data.get("to_unit"), step_outcome=data.get("step_outcome"),
            officer_name=data.get("officer_name"), to_officer=data.get("to_officer"),
        )


@dataclass
class Dossier:
    code: str
    procedure_code: str
    procedure_version: int
    procedure_name: str
    field_code: str
    limit: TimeLimit
    receiving_unit: str
    competent_unit: str
    channel: str
    status: Status
    applicant: dict[str, Any]
    form: dict[str, Any]
    documents: list[dict[str, Any]]
    fee: dict[str, Any]
    steps: list[StepProgress]
    submitted_at: datetime
    version: int = 1
    received_at: datetime | None = None
    clock: Clock | None = None
    appointment_at: datetime | None = None  # hẹn trả printed on the receipt
    current_step: int = 0
    paused_from: Status | None = None
    supplement_requests: int = 0
    result: dict[str, Any] | None = None
    resolved_at: datetime | None = None
    returned_at: datetime | None = None
    history_count: int = 0
    authorised_person: dict[str, Any] | None = None  # người được ủy quyền, when someone files for the applicant
    result_delivery: dict[str, Any] | None = None  # where and how the result is returned (form 01)
    # The desk's decision on the dossier (receive / refuse / guide), by whom and when: what counters need.
    intake: dict[str, Any] | None = None
    # Early / on_time / late for a resolved dossier; withdrawn, stopped, refused, not_accepted or guided
    # for the others, which the law does not measure against a deadline. Fixed when the dossier closes.
    final_outcome: str | None = None
    supplement_violations: int = 0  # requests outside Art 15/19(4): counted as late by Decision 766
    supplement_restarts: bool = False  # the pending supplement request restarts the limit when answered
    appointments: list[dict[str, Any]] = field(default_factory=list)  # every appointment given, oldest first
    # How long the applicant may take to supplement (the procedure's setting, copied at receipt): past it the
    # dossier is flagged so the desk can stop it or hand it back. None: not watched.
    supplement_period: TimeLimit | None = None
    # The procedure's supplement rules, copied at receipt: the window (working days after the day of receipt),
    # the notices the law allows, and the documents a request may name as missing (its document list).
    supplement_window_days: int = SUPPLEMENT_WINDOW_WORKING_DAYS
    supplement_notices_allowed: int = SUPPLEMENT_NOTICES_ALLOWED
    document_list: list[str] = field(default_factory=list)
    # The one-time guidance on an incomplete online submission: {missing_items, reason, by, at, completed_at}.
    guidance: dict[str, Any] | None = None
    rescheduled: bool = False  # an apology (form 04) gave a new appointment: allowed once
    apology: dict[str, Any] | None = None  # form 04: old and new appointment, reason, who, when, timely
    event_count: int = 0  # domain events produced so far: the next one's seq is event_count + 1
    flags: dict[str, str] = field(default_factory=dict)  # deadline flag -> when it was recorded (ISO Z)
    watch: dict[str, str] = field(default_factory=dict)  # deadline flag -> the instant it fires (ISO Z)
    watch_generation: int = 0  # bumped whenever `watch` changes: a timer of an older generation does nothing
    # Flags retired when the instant they were recorded for moved (a pause, a restart, the apology's new date),
    # oldest first: {flag, watched_at, recorded_at, retired_at (the generation that retired it)}.
    flag_history: list[dict[str, Any]] = field(default_factory=list)
    # Brought over from an old one-stop system (domain/importing.py): {source, original_code, original units,
    # imported_at}. None for dossiers received here.
    imported: dict[str, Any] | None = None
    # The fees and charges asked for (request_payment's amount, VND) and each payment confirmed, with its channel
    # (domain/payments.py): what Decision 766's online-payment indicators count.
    payment_due: int | None = None
    payments: list[dict[str, Any]] = field(default_factory=list)
    # The applicant's rating, once, after the result is returned (domain/rating.py), and an online applicant's
    # request to withdraw the dossier, which the desk confirms with the withdraw action (or not).
    rating: dict[str, Any] | None = None
    withdrawal_request: dict[str, Any] | None = None
    # Events of the change being made, not yet written: the repository takes them with the dossier.
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    # --- creation ---------------------------------------------------------------------------
    @classmethod
    def receive(
        cls, *, code: str, procedure: Procedure, receiving_unit: str, competent_unit: str, channel: str,
        applicant: dict[str, Any], form: dict[str, Any], documents: list[dict[str, Any]], actor: Actor,
        at: datetime, calendar: Calendars, note: str = "", authorised_person: dict[str, Any] | None = None,
        result_delivery: dict[str, Any] | None = None, decision: dict[str, Any] | None = None,
        watch: WatchSettings = DEFAULT_WATCH,
    ) -> tuple[Dossier, HistoryEntry]:
        """Intake: an online submission waits at status 1; a desk or postal dossier is received, or, on the
        desk's `decision`, refused (form 03, status 3) or handed back with a guidance slip (form 02)."""
        if channel not in CHANNELS:
            raise InvalidInput("invalid channel", [FieldProblem("channel", f"must be one of {', '.join(CHANNELS)}")])
        _check_offered_online(procedure, channel)
        if competent_unit not in procedure.competent_units:
            raise InvalidInput("unit not competent", [FieldProblem(
                "competent_unit", f"{competent_unit} is not competent for procedure {procedure.code}")])
        verdict = _intake_decision(decision, channel)
        steps = [
            StepProgress(i, s.name, procedure.unit_of(s, competent_unit), s.role, s.budget)
            for i, s in enumerate(procedure.steps)
        ]
        dossier = cls(
            code=code, procedure_code=procedure.code, procedure_version=procedure.version,
            procedure_name=procedure.name, field_code=procedure.field.get("code", ""), limit=procedure.limit,
            receiving_unit=receiving_unit, competent_unit=competent_unit, channel=channel,
            status=Status.SUBMITTED, applicant=applicant, form=form, documents=documents,
            fee=dict(procedure.fee), steps=steps, submitted_at=at, authorised_person=authorised_person,
            result_delivery=result_delivery, supplement_period=procedure.supplement_period,
            supplement_window_days=procedure.supplement_window_working_days,
            supplement_notices_allowed=procedure.supplement_notices_allowed,
            document_list=list(procedure.document_names),
        )
        calendars = calendar_source(calendar)
        if channel == "online":
            entry = dossier._record("submit", "Nộp hồ sơ trực tuyến", None, actor, at, note)
        elif verdict["decision"] == "refuse":
            dossier._decide_intake(actor, at, verdict)
            dossier.status = Status.NOT_ACCEPTED
            dossier.final_outcome = "not_accepted"
            entry = dossier._record("refuse_intake", "Từ chối tiếp nhận hồ sơ", None, actor, at, note,
                                    details={"form": "03", "reasons": verdict["reasons"]})
        elif verdict["decision"] == "guide":
            dossier._decide_intake(actor, at, verdict)
            dossier.status = Status.GUIDED
            dossier.final_outcome = "guided"
            entry = dossier._record("guide_intake", "Hướng dẫn bổ sung, hoàn thiện hồ sơ", None, actor, at, note,
                                    details={"form": "02", "missing_items": verdict["missing_items"]})
        else:
            dossier._start_clock(calendars, actor, at)
            dossier.status = Status.RECEIVED
            entry = dossier._record("receive", "Tiếp nhận hồ sơ", None, actor, at, note,
                                    details={"appointment_at": iso(dossier.appointment_at)},
                                    from_unit=receiving_unit)
        dossier._emit_for(entry.action, None, entry, actor, at)
        dossier.rearm(calendars, watch)
        dossier._flag_reached(at)
        return dossier, entry

    # --- the one entry point for every state change ------------------------------------------
    def act(
        self, action: Action, actor: Actor, at: datetime, calendars: Calendars, payload: dict[str, Any],
        watch: WatchSettings = DEFAULT_WATCH,
    ) -> HistoryEntry:
        """Apply `action` by `actor` at `at`. `calendars` gives each unit's working calendar (a single
        calendar stands for every unit): the dossier counts on its receiving unit's, each step on its own.
        The change's domain events are appended to `pending_events`, and the deadlines it watches re-armed.
        A watched deadline already reached at `at` that no timer recorded yet is recorded first (with its event),
        so an action racing a timer never erases a lateness the timer would have flagged."""
        transition = TRANSITIONS[action]
        if not actor.has_any(transition.roles):
            raise Forbidden(f"action {action.value} needs one of the roles: {', '.join(sorted(transition.roles))}")
        if self.status not in transition.sources:
            allowed = allowed_actions(self.status)
            raise ActionNotAllowed(
                f"action {action.value} is not allowed in status {self.status.value} "
                f"({self.status.label}); allowed: {', '.join(allowed) or 'none'}",
                allowed,
            )
        before, from_unit = self.status, self.handling_unit
        note = str(payload.get("note", ""))
        source = calendar_source(calendars)
        reached, flags_before = self._reached(at), dict(self.flags)
        # Due times as they stand; `recorded_by` tells the counters this change recorded the flag, not a timer.
        flag_events = [(kind, {**data, "recorded_by": action.value})
                       for kind, data in (self._flag_event(name, instant) for instant, name in reached)]
        self.flags.update({name: _z(at) for _, name in reached})  # before the handler: an apology keeps them
        try:
            details = HANDLERS[action](self, actor, at, source, payload)
        except Exception:
            self.flags = flags_before  # a refused action changes nothing
            raise
        target = self.status if transition.keeps_status else (transition.target or self._resume_target())
        step_met = details.pop("_step_met", None)
        step = details.pop("_step", None)
        label = details.pop("_label", transition.label)
        self.status = target
        self.version += 1
        for event_type, data in flag_events:
            self._emit(event_type, at, **data)
        entry = self._record(action.value, label, before, actor, at, note, details=details,
                             step_met=step_met, step=step, from_unit=from_unit)
        self._emit_for(action.value, before, entry, actor, at)
        self.rearm(source, watch)
        self._flag_reached(at, recorded_by=action.value)
        return entry

    # --- handlers, one per action (the table HANDLERS below maps each Action to one) -----------
    def _on_accept(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict[str, Any]) -> dict:
        self._start_clock(calendars, actor, at)
        return {"appointment_at": iso(self.appointment_at)}

    def _on_refuse_intake(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        reasons = _required_list(payload, "reasons")
        self._decide_intake(actor, at, {"decision": "refuse", "reasons": reasons})
        self.final_outcome = "not_accepted"
        return {"form": "03", "reasons": reasons}

    def _on_assign(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        officer = str(payload.get("officer") or actor.subject)
        if "leader" not in actor.roles and officer != actor.subject:
            raise Forbidden("a processor may only assign a step to themselves")
        step = self.steps[self.current_step]
        step.assignee = officer
        return {"officer": officer}

    def _on_complete_step(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        finished = self.steps[self.current_step]
        self._check_step_role(actor, finished, Action.COMPLETE_STEP)
        if self.current_step >= len(self.steps) - 1:
            raise ActionNotAllowed("this is the last step: resolve or refuse the dossier instead",
                                   ["resolve", "refuse"])
        met = self._finish_step(calendars, at)
        self.current_step += 1
        nxt = self._start_step(calendars, at, at)
        return {"_step_met": met, "_step": finished, "next_step": nxt.name, "next_unit": nxt.unit,
                "next_step_due_at": iso(nxt.due_at), "next_step_due_capped": nxt.due_capped}

    def _on_request_supplement(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        """Decree 61/2018 Art 15(2)(a), Art 19(4): one request (or the notices the procedure's sector law allows),
        no later than the end of the third working day after the day of receipt (or the procedure's window),
        restarts the limit once the complete dossier is back. It is the competent unit's decision, sent through
        the desk: the desk alone cannot issue it. Any other request is the agency's fault: it needs a leader and a
        reason, is recorded as a violation (Decision 766 counts it late) and the applicant's time is recorded,
        but neither the legal due time nor the appointment moves (only form 04 gives a new date).
        The missing items are picked from the procedure's document list; free text is only for the reason."""
        if not actor.has_any({"processor", "leader"}):
            raise Forbidden("a supplement request after receipt restarts the time limit: it is the competent "
                            "unit's decision (a processor or leader), sent to the applicant through the desk")
        missing = self._missing_items(payload)
        clock = self._legal_clock(Action.REQUEST_SUPPLEMENT)
        calendar = calendars(self.receiving_unit)
        window_end = self.supplement_window_end(calendar)
        within_window = at <= window_end
        lawful_number = self.supplement_requests < self.supplement_notices_allowed
        reason = str(payload.get("reason") or "").strip()
        details: dict[str, Any] = {"missing_items": missing, "within_legal_window": within_window,
                                   "window_ends_at": iso(window_end),
                                   "request_number": self.supplement_requests + 1}
        if reason:
            details["reason"] = reason
        lawful = lawful_number and within_window
        if not lawful:
            kind, why = (("second_request", "a supplement was already requested as many times as the law allows")
                         if not lawful_number else
                         ("outside_window", f"after the end of the {self.supplement_window_days}th working day "
                                            "after the day of receipt"))
            if "leader" not in actor.roles:
                raise Forbidden(f"{why}: such a request breaks Decree 61/2018 Art 15 and Art 19(4) "
                                "and may only be made by a leader, with a reason")
            details.update(violation=True, violation_kind=kind, reason=_required_text(payload, "reason"))
            self.supplement_violations += 1
            # The agency's fault: the clock runs on, the applicant's time is only recorded.
            self.paused_from = self.status
            clock.mark("wait", at, "supplement (unlawful request)")
        else:
            self._pause(calendars, at, "supplement", Action.REQUEST_SUPPLEMENT)
        self.supplement_requests += 1
        self.supplement_restarts = lawful
        details["restarts_limit"] = lawful
        return details

    def supplement_window_end(self, calendar: WorkingCalendar) -> datetime:
        """The close of the window's last working day, counted from the day after the day of receipt (or of the
        complete dossier's return, for a further notice the procedure allows)."""
        clock = self.clock
        received = self.received_at or self.submitted_at
        if clock is not None:
            received = next((e.at for e in reversed(clock.entries) if e.event in ("start", "restart")), received)
        day = calendar.local(received).date()
        counted = 0
        while counted < self.supplement_window_days:
            day += timedelta(days=1)
            if calendar.is_working_day(day):
                counted += 1
        return calendar.close_of_working_day(day)

    def _missing_items(self, payload: dict[str, Any]) -> list[str]:
        missing = _required_list(payload, "missing_items")
        if self.document_list:
            unknown = [item for item in missing if item not in self.document_list]
            if unknown:
                raise InvalidInput("missing items must come from the procedure's document list", [FieldProblem(
                    "missing_items", f"not in the procedure's document list: {', '.join(unknown)}; "
                                     f"one of: {'; '.join(self.document_list)} (explain in reason)")])
        return missing

    def _on_receive_supplement(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        clock = self._legal_clock(Action.RECEIVE_SUPPLEMENT)
        calendar = calendars(self.receiving_unit)
        step = self.steps[self.current_step]
        if self.supplement_restarts:
            # The lawful request: the legal time limit restarts from zero once the complete dossier is back.
            start = self.limit.start_of_count(calendar, at, self.channel)
            clock.restart(calendar, at, start, self.limit.budget_from(calendar, start, at), "supplement received")
            if step.clock is not None and step.clock.state is not ClockState.STOPPED:
                step_calendar = calendars(step.unit)
                step_start = step_calendar.next_working_instant(start)
                step.clock.restart(step_calendar, at, step_start,
                                   step.budget.budget_from(step_calendar, step_start, at),
                                   "supplement received", not_after=self.due_at)
            restarted = True
        elif clock.waiting_since is not None:
            # An unlawful request: the applicant's time is recorded, the limit never stopped.
            clock.mark("wait_end", at, "supplement received")
            restarted = False
        else:
            # Stored before unlawful requests kept the clock running: it was paused, it resumes.
            self._resume(calendars, at, Action.RECEIVE_SUPPLEMENT)
            restarted = False
        self.supplement_restarts = False
        return {"restarted": restarted,
                **self._new_appointment(at, "supplement_restarted" if restarted else "supplement_resumed")}

    def _on_request_payment(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        amount = payload.get("amount", self.fee.get("amount"))
        self._pause(calendars, at, "payment", Action.REQUEST_PAYMENT)
        self.payment_due = amount if isinstance(amount, int) and not isinstance(amount, bool) else None
        return {"amount": amount}

    def _on_confirm_payment(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        payment = pay.confirmed(payload, self.payment_due, actor.subject, at)
        self._resume(calendars, at, Action.CONFIRM_PAYMENT)
        self.payments.append(payment)
        return {"receipt_number": payload.get("receipt_number"), "due_at": iso(self.due_at), "payment": payment,
                **self._new_appointment(at, "payment_confirmed")}

    def _on_resolve(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        self._check_step_role(actor, self.steps[self.current_step], Action.RESOLVE)
        if self.current_step < len(self.steps) - 1:
            remaining = self.steps[self.current_step].name
            raise ActionNotAllowed(f"step {remaining!r} is not the last step: complete it first",
                                   ["complete_step", "refuse"])
        result = payload.get("result")
        if not isinstance(result, dict) or not str(result.get("summary", "")).strip():
            raise InvalidInput("a result is required", [FieldProblem("result.summary", "required to resolve")])
        return self._close_with_result(calendars, at, {"kind": "approved", **result})

    def _on_refuse(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        # The refusal closes the current step: it is signed by that step's role (a leader's signature stays a
        # leader's, as for resolve).
        self._check_step_role(actor, self.steps[self.current_step], Action.REFUSE)
        reasons = _required_list(payload, "reasons")
        return self._close_with_result(calendars, at, {"kind": "refused", "reasons": reasons})

    def _on_return_result(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        self.returned_at = at
        return {}

    def _on_withdraw(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        return self._end(calendars, at, _required_text(payload, "reason"), "withdrawn")

    def _on_stop(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        """Decree 118/2025: processing stops at the applicant's request; the line says who recorded the stop."""
        details = self._end(calendars, at, _required_text(payload, "reason"), "stopped")
        who = "Bộ phận Một cửa" if "desk" in actor.roles and "leader" not in actor.roles else "lãnh đạo đơn vị"
        by = f"{actor.name} ({actor.subject})" if actor.name else actor.subject
        return {**details, "_label": f"Dừng giải quyết theo yêu cầu của công dân, do {who} thực hiện: {by}",
                "stopped_by": actor.subject, "stopped_by_unit": actor.unit}

    def _on_apologize(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        """Form 04 (Circular 01/2018): the agency that will be late apologises with a reason and a new
        appointment, no later than 1 day before the due date (Decree 61/2018 Art 19; judged by date); a dossier
        is rescheduled only once.

        The new appointment is the citizen's: it is kept beside the old one with measures of its own (the dossier
        was rescheduled; the result came by the new date or not). It never moves the legal due time: statistics,
        the tracking book and the public outcome judge against the limit of the law, moved only by lawful pauses
        and the lawful supplement restart. An apology does not make a late dossier on time."""
        if self.apology is not None:
            raise ActionNotAllowed(
                f"dossier {self.code} was already rescheduled on {self.apology['issued_at']}: an apology with a new "
                "appointment is given only once", [a for a in allowed_actions(self.status) if a != "apologize"])
        reason = _required_text(payload, "reason")
        new_appointment = _required_instant(payload, "new_appointment_at")
        clock = self._legal_clock(Action.APOLOGIZE)
        old_due = clock.due_at
        current = self.appointment_at or old_due
        if old_due is None or current is None or clock.state is not ClockState.RUNNING:
            raise ActionNotAllowed("the dossier's clock is not running: there is no due time to reschedule",
                                   [a for a in allowed_actions(self.status) if a != "apologize"])
        if new_appointment <= max(current, old_due, at):
            raise InvalidInput("the new appointment must be later than the current one", [FieldProblem(
                "new_appointment_at", f"must be after the current appointment {iso(max(current, old_due))} "
                                      "and after now")])
        if new_appointment > old_due + timedelta(days=RESCHEDULE_MAX_DAYS):
            raise InvalidInput("the new appointment is too far away", [FieldProblem(
                "new_appointment_at", f"at most {RESCHEDULE_MAX_DAYS} days after the current due time "
                                      f"{iso(old_due)}")])
        calendar = calendars(self.receiving_unit)
        try:
            within = _within_working_hours(calendar, new_appointment)
        except ValueError as exc:  # outside the years the calendar covers
            raise InvalidInput("the new appointment cannot be counted", [FieldProblem(
                "new_appointment_at", str(exc))]) from exc
        if not within:
            raise InvalidInput("the new appointment must fall within working hours", [FieldProblem(
                "new_appointment_at", "must be a working day's working hours at the receiving unit, e.g. "
                                      f"{calendar.local(calendar.next_working_instant(new_appointment)).isoformat()}")])
        # "No later than 1 day before the due date": judged by date, not by working hours left.
        timely = calendar.local(at).date() < calendar.local(old_due).date()
        already_late = at > old_due
        previous = self.appointment_at
        self.appointment_at = new_appointment
        self.appointments.append({"appointment_at": iso(new_appointment), "given_at": iso(at), "reason": "apology"})
        self.rescheduled = True
        earlier = {k: self.flags[k] for k in (dl.DUE_SOON, dl.OVERDUE) if k in self.flags}
        self.apology = {
            "form": "04", "reason": reason, "previous_appointment_at": iso(previous), "previous_due_at": iso(old_due),
            "new_appointment_at": iso(new_appointment), "issued_at": iso(at), "issued_by": actor.subject,
            "issued_by_name": actor.name, "issued_by_unit": actor.unit, "timely": timely,
            "flags_before": earlier,
        }
        return {"form": "04", "reason": reason, "previous_appointment_at": iso(previous),
                "appointment_at": iso(new_appointment), "appointment_changed": True, "timely": timely,
                "late_apology": already_late, "legal_due_at": iso(old_due)}

    def _on_guide_submission(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        """The one-time guidance on an incomplete online submission: what is missing (from the procedure's document
        list) and why, on the same dossier and code (Decree 61/2018 Art 15(2)(a), carried into Decree 118/2025)."""
        if self.channel != "online":
            raise ActionNotAllowed("the guidance on the same dossier is for online submissions: a paper dossier gets "
                                   "its guidance slip at the desk (intake decision guide)", ["accept"])
        if self.guidance is not None:
            raise ActionNotAllowed(f"dossier {self.code} was already guided on {self.guidance['at']}: the guidance is "
                                   "given once, fully", [a for a in allowed_actions(self.status)
                                                         if a not in ("guide_submission",)])
        missing = self._missing_items(payload)
        reason = _required_text(payload, "reason")
        self.guidance = {"form": "02", "missing_items": missing, "reason": reason, "by": actor.subject,
                         "by_name": actor.name, "by_unit": actor.unit, "at": iso(at), "completed_at": None}
        return {"form": "02", "missing_items": missing, "reason": reason}

    def _on_complete_submission(self, actor: Actor, at: datetime, calendars: CalendarFor, payload: dict) -> dict:
        """The applicant completes the guided online dossier (through the portal, recorded by the desk)."""
        if self.guidance is None or self.guidance.get("completed_at"):
            raise ActionNotAllowed("only a dossier waiting for the applicant after the desk's guidance is completed",
                                   [a for a in allowed_actions(self.status) if a != "complete_submission"])
        added = payload.get("documents")
        if not isinstance(added, list) or not added or not all(isinstance(d, dict) and d.get("name") for d in added):
            raise InvalidInput("documents are required", [FieldProblem("documents", "a non-empty list of documents "
                                                                                    "with their names")])
        self.documents = [*self.documents, *added]
        self.guidance = {**self.guidance, "completed_at": iso(at)}
        return {"documents_added": [str(d["name"]) for d in added]}

    # --- helpers ----------------------------------------------------------------------------
    def _legal_clock(self, action: Action) -> Clock:
        """The dossier's clock; an action that needs it on a dossier never received is not allowed."""
        if self.clock is None:
            allowed = allowed_actions(self.status)
            raise ActionNotAllowed(f"action {action.value} needs the legal clock, but dossier {self.code} "
                                   "was never received (its clock has not started)", allowed)
        return self.clock

    def _check_step_role(self, actor: Actor, step: StepProgress, action: Action) -> None:
        if not step.performable_by(actor):
            raise Forbidden(f"action {action.value}: step {step.name!r} is performed by the role {step.role!r}, "
                            f"which you do not have")

    def _decide_intake(self, actor: Actor, at: datetime, verdict: dict[str, Any]) -> None:
        self.intake = {**verdict, "by": actor.subject, "by_name": actor.name, "by_unit": actor.unit, "at": iso(at)}

    def _start_clock(self, calendars: CalendarFor, actor: Actor, at: datetime) -> None:
        calendar = calendars(self.receiving_unit)
        start = self.limit.start_of_count(calendar, at, self.channel)
        self.received_at = at
        self.clock = Clock.start(calendar, at, start, self.limit.budget_from(calendar, start, at),
                                 self.limit.counting)
        self._decide_intake(actor, at, {"decision": "receive"})
        self._start_step(calendars, at, start, received_at=at)
        self._new_appointment(at, "received")

    def _start_step(
        self, calendars: CalendarFor, at: datetime, start: datetime, received_at: datetime | None = None
    ) -> StepProgress:
        """Start the current step's clock on its own unit's calendar, never due after the dossier.
        `received_at`: the dossier's arrival, for the first step (a same-day step received late runs on)."""
        step = self.steps[self.current_step]
        calendar = calendars(step.unit)
        begin = calendar.next_working_instant(start)
        step.clock = Clock.start(calendar, at, begin, step.budget.budget_from(calendar, begin, received_at),
                                 step.budget.counting, not_after=self.due_at)
        return step

    def _pause(self, calendars: CalendarFor, at: datetime, reason: str, action: Action) -> None:
        clock = self._legal_clock(action)
        self.paused_from = self.status
        clock.pause(calendars(self.receiving_unit), at, reason)
        step = self.steps[self.current_step]
        if step.clock is not None and step.clock.state is ClockState.RUNNING:
            step.clock.pause(calendars(step.unit), at, reason)

    def _resume(self, calendars: CalendarFor, at: datetime, action: Action) -> None:
        calendar = calendars(self.receiving_unit)
        clock = self._legal_clock(action)
        clock.resume(calendar, at, calendar.next_working_instant(at))
        step = self.steps[self.current_step]
        if step.clock is not None and step.clock.state is ClockState.PAUSED:
            step_calendar = calendars(step.unit)
            step.clock.resume(step_calendar, at, step_calendar.next_working_instant(at), not_after=self.due_at)

    def _new_appointment(self, at: datetime, reason: str) -> dict[str, Any]:
        """The appointment follows the due time; the applicant gets the new one, and every one is kept.
        `reason`: received, payment_confirmed, supplement_restarted or supplement_resumed."""
        previous = self.appointment_at
        target = self.due_at
        if target is not None and self.apology is not None and self.apology.get("new_appointment_at"):
            # The apology's date stands for the citizen unless the law's own due time moved past it.
            target = max(target, parse_iso(self.apology["new_appointment_at"]))
        if target is None or target == previous:
            return {}
        self.appointment_at = target
        self.appointments.append({"appointment_at": iso(self.appointment_at), "given_at": iso(at), "reason": reason})
        return {"previous_appointment_at": iso(previous), "appointment_at": iso(self.appointment_at),
                "appointment_changed": previous is not None}

    def _resume_target(self) -> Status:
        target = self.paused_from or Status.IN_PROGRESS
        self.paused_from = None
        return target

    def _finish_step(self, calendars: CalendarFor, at: datetime) -> bool | None:
        step = self.steps[self.current_step]
        step.completed_at = at
        if step.clock is None or step.clock.state is ClockState.STOPPED:
            return None
        calendar = calendars(step.unit)
        step.clock.stop(calendar, at, "step completed")
        step.outcome = step.clock.outcome(calendar)
        return step.outcome is not Outcome.LATE

    def _close_with_result(self, calendars: CalendarFor, at: datetime, result: dict[str, Any]) -> dict:
        finished = self.steps[self.current_step]
        clock = self._legal_clock(Action.RESOLVE if result["kind"] == "approved" else Action.REFUSE)
        met = self._finish_step(calendars, at)
        calendar = calendars(self.receiving_unit)
        clock.stop(calendar, at, result["kind"])
        self.result = result
        self.resolved_at = at
        # A refusal after appraisal is not measured against the deadline (it has an outcome of its own).
        self.final_outcome = "refused" if result["kind"] == "refused" else self._timeliness(calendar, at)
        details: dict[str, Any] = {"_step_met": met, "_step": finished, "result": result,
                                   "outcome": self.final_outcome}
        if result["kind"] == "refused":
            # A refusal after appraisal is a result (the portal's code 9): report 06 counts it among the resolved,
            # judged against the legal due time like any result.
            details["timeliness"] = self._timeliness(calendar, at)
        if self.rescheduled:  # form 04's own measure, beside the outcome by law
            details["appointment_met"] = self.appointment_met
        if result["kind"] == "approved":
            # Decision 766 counts the agency's working time against the original limit, the applicant's pauses
            # left out, where Decree 61 restarts the limit after a lawful supplement request. Late by the law is
            # late here too (a result after the due time, outside working hours, adds no working time).
            original = self.limit.budget_from(calendar, clock.first_started_at, self.received_at)
            worked = clock.working_time(calendar, at)
            details["late_766"] = self.final_outcome == "late" or worked > original
            # Decision 766's 2.2: the agency's working time to the result, for the average per procedure.
            details["working_seconds"] = int(worked.total_seconds())
        return details

    def _timeliness(self, calendar: WorkingCalendar, finished: datetime) -> str | None:
        """Early / on time / late against the legal due time (never the apology's new appointment)."""
        due = self.legal_due_at
        return classify(calendar, finished, due).value if due is not None else None

    @property
    def legal_due_at(self) -> datetime | None:
        """The due time of the law: the limit from receipt, moved only by lawful pauses and the lawful restart.

        Ledgers written before the apology stopped moving it carry a `reschedule` entry: for them the due time
        the apology replaced is the legal one."""
        clock = self.clock
        if clock is None:
            return None
        if self.apology is not None and self.apology.get("previous_due_at") and any(
                e.event == "reschedule" for e in clock.entries):
            return parse_iso(self.apology["previous_due_at"])
        return clock.due_at if clock.due_at is not None else clock.last_due_at

    @property
    def appointment_met(self) -> bool | None:
        """For a rescheduled dossier: whether the result came by the apology's new appointment (None while open
        or when never rescheduled): form 04's own measure, apart from lateness by law."""
        if self.apology is None or self.resolved_at is None or not self.apology.get("new_appointment_at"):
            return None
        return self.resolved_at <= parse_iso(self.apology["new_appointment_at"])

    def _end(self, calendars: CalendarFor, at: datetime, reason: str, why: str) -> dict:
        timeliness = self._end_timeliness(calendars(self.receiving_unit), at)
        if self.clock is not None and self.clock.state is not ClockState.STOPPED:
            self.clock.stop(calendars(self.receiving_unit), at, why)
        step = self.steps[self.current_step]
        if step.clock is not None and step.clock.state is not ClockState.STOPPED:
            step.clock.stop(calendars(step.unit), at, why)
        self.final_outcome = why
        return {"reason": reason, "outcome": why, **({"timeliness": timeliness} if timeliness else {})}

    def _end_timeliness(self, calendar: WorkingCalendar, at: datetime) -> str | None:
        """A dossier withdrawn or stopped after receipt, judged against the legal due time at its end (report 06
        places it as the province's reading says); a paused clock runs no due time: late only if it was
        already overdue. None when never received."""
        clock = self.clock
        if clock is None or self.resolved_at is not None:
            return None
        if clock.due_at is not None:
            return classify(calendar, at, clock.due_at).value
        return "late" if dl.OVERDUE in self.flags else "on_time"

    def _record(
        self, action: str, label: str, before: Status | None, actor: Actor, at: datetime, note: str, *,
        details: dict[str, Any] | None = None, step_met: bool | None = None, step: StepProgress | None = None,
        from_unit: str | None = None,
    ) -> HistoryEntry:
        """A control-sheet line for the change just made (the dossier's status is already the new one)."""
        step = step or (self.steps[self.current_step] if self.steps else None)
        self.history_count += 1
        return HistoryEntry(
            seq=self.history_count, action=action, label=label,
            from_status=before, to_status=self.status, at=at, officer=actor.subject, officer_unit=actor.unit,
            step_index=step.index if step else None, step_name=step.name if step else None,
            step_unit=step.unit if step else None, step_due_at=step.due_at if step else None,
            step_met=step_met, note=note, details=details or {},
            from_unit=from_unit or actor.unit, to_unit=self.handling_unit,
            step_outcome=step.outcome.value if step is not None and step_met is not None and step.outcome else None,
            officer_name=actor.name or None, to_officer=self._holder(),
        )

    def _holder(self) -> str | None:
        """The officer holding the dossier after a change: the current step's assignee while it is processed."""
        if self.status in (Status.RECEIVED, Status.IN_PROGRESS) and self.steps:
            return self.steps[self.current_step].assignee
        return None

    # --- events and deadline watch --------------------------------------------------------------
    def record_file(self, file: dict[str, Any], at: datetime, first: bool, at_receipt: bool,
                    completes: bool = False) -> None:
        """A file of the dossier was verified (services/documents.py): a component digitised at the desk or reused
        (document.digitised), or the result as a file (result.issued). `first`: the dossier's first of its kind
        (a component, a reused one, a result), what Decision 766's digitisation shares count once per dossier;
        `completes`: with this file every component of the document list is digitised (scanned or reused).
        No history line and no new version: the files' own records say who and when, and an officer holding the
        dossier need not reload for a scan."""
        by = {"officer": file["by"], "officer_unit": file["unit"]}
        if file["kind"] == "result":
            self._emit(ev.RESULT_ISSUED, at, file=file["id"], media_type=file["media_type"], first=first, **by)
            return
        self._emit(ev.DOCUMENT_DIGITISED, at, file=file["id"], component=file["component"],
                   reused=bool(file.get("reused_from")), pages=file.get("pages"), first=first,
                   at_receipt=at_receipt, completes=completes, **by)

    def take_events(self) -> list[DomainEvent]:
        """The events of the changes made since the last call, oldest first; the repository writes them."""
        taken, self.pending_events = self.pending_events, []
        return taken

    def snapshot(self) -> dict[str, Any]:
        """The compact view every event carries: what counters, webhooks and the portal sync need."""
        step = self.steps[self.current_step] if self.steps else None
        return {
            "code": self.code, "procedure_code": self.procedure_code, "procedure_version": self.procedure_version,
            "field_code": self.field_code, "channel": self.channel, "status": self.status.value,
            "national_code": self.status.national_code, "receiving_unit": self.receiving_unit,
            "competent_unit": self.competent_unit, "handling_unit": self.handling_unit,
            "current_step": self.current_step if step is not None else None,
            "assignee": step.assignee if step is not None else None, "submitted_at": iso(self.submitted_at),
            "received_at": iso(self.received_at), "appointment_at": iso(self.appointment_at),
            "due_at": iso(self.due_at), "resolved_at": iso(self.resolved_at), "outcome": self.final_outcome,
            "rescheduled": self.rescheduled, "appointment_met": self.appointment_met,
            "supplement_violations": self.supplement_violations,
            "supplement_requests": self.supplement_requests, "overdue": dl.OVERDUE in self.flags,
            # Only on imported dossiers: consumers that care (the portal sync, webhooks) see where it came from.
            **({"imported": {k: v for k, v in self.imported.items() if k != "fingerprint"}}
               if self.imported is not None else {}),
        }

    def _emit(self, kind: str, at: datetime, **data: Any) -> None:
        self.event_count += 1
        self.pending_events.append(DomainEvent(kind, self.code, self.event_count, self.version, at,
                                               {**data, "dossier": self.snapshot()}))

    def _emit_for(self, action: str, before: Status | None, entry: HistoryEntry, actor: Actor, at: datetime) -> None:
        """The events of one change (the status and version are already the new ones)."""
        by = {"officer": actor.subject, "officer_unit": actor.unit}
        if before is not self.status:
            self._emit(ev.STATUS_CHANGED, at, action=action, from_status=before.value if before else None,
                       to_status=self.status.value, national_code=self.status.national_code, **by)
        details = entry.details
        if action == "submit":
            self._emit(ev.SUBMITTED, at, **by)
        if action in ("receive", "accept"):
            self._emit(ev.RECEIVED, at, appointment_at=iso(self.appointment_at), due_at=iso(self.due_at),
                       clock_start=iso(self.clock.started_at if self.clock else None), **by)
        if action in ("complete_step", "resolve", "refuse") and entry.step_index is not None:
            self._emit_step_completed(entry, entry.step_index)
        if action in ("receive", "accept", "complete_step"):
            self._emit_step_started(at)
        if details.get("appointment_changed"):
            if action == "apologize" and self.apology is not None:
                self._emit(ev.APOLOGY_ISSUED, at, **{k: v for k, v in self.apology.items() if k != "form"})
            self._emit(ev.APPOINTMENT_CHANGED, at, previous_appointment_at=details.get("previous_appointment_at"),
                       appointment_at=details.get("appointment_at"), reason=self.appointments[-1]["reason"], **by)
        if action in ("resolve", "refuse"):
            late_766 = {"late_766": details["late_766"]} if isinstance(details.get("late_766"), bool) else {}
            if isinstance(details.get("working_seconds"), int):
                late_766["working_seconds"] = details["working_seconds"]
            timeliness = {"timeliness": details["timeliness"]} if details.get("timeliness") else {}
            self._emit(ev.RESOLVED, at, result_kind=(self.result or {}).get("kind"), outcome=self.final_outcome,
                       **late_766, **timeliness, **by)
        if action == "return_result":
            self._emit(ev.RETURNED, at, **by)
        if action == "confirm_payment" and details.get("payment"):
            self._emit(ev.PAYMENT_CONFIRMED, at, payment=details["payment"], **by)
        if self.status.is_closed:
            ended = ({"timeliness": details["timeliness"]}
                     if action in ("withdraw", "stop") and details.get("timeliness") else {})
            self._emit(ev.CLOSED, at, outcome=self.final_outcome or OWN_OUTCOMES.get(self.status), action=action,
                       **ended, **by)

    def _emit_step_started(self, at: datetime) -> None:
        step = self.steps[self.current_step]
        self._emit(ev.STEP_STARTED, at, step=_step_brief(step), unit=step.unit, officer=step.assignee)

    def _emit_step_completed(self, entry: HistoryEntry, index: int) -> None:
        step = self.steps[index]
        self._emit(ev.STEP_COMPLETED, entry.at, step=_step_brief(step), unit=step.unit, officer=step.assignee,
                   completed_by=entry.officer, outcome=step.outcome.value if step.outcome else None,
                   met=entry.step_met)

    def rearm(self, calendars: Calendars, settings: WatchSettings = DEFAULT_WATCH) -> bool:
        """Compute the instants the dossier's state now watches; a change bumps `watch_generation`.

        Due-soon is `settings.due_soon` of working time before the due time on the receiving unit's
        calendar; overdue the second after it; a step's own overdue the second after the step's due time
        (on its unit's calendar, already in its clock); an online submission's intake deadline; a pending
        supplement's period. A paused clock watches only the supplement period; a closed dossier nothing."""
        source = calendar_source(calendars)
        watched: dict[str, str] = {}
        calendar = source(self.receiving_unit)
        guidance = self.guidance
        if self.status is Status.SUBMITTED and (guidance is None or guidance.get("completed_at")):
            # After the guidance the dossier waits for the applicant; the desk's time runs again once completed.
            since = parse_iso(guidance["completed_at"]) if guidance else self.submitted_at
            opened = calendar.next_working_instant(since)
            watched[dl.INTAKE_OVERDUE] = _z(calendar.add_working(opened, settings.intake))
        clock = self.clock
        open_work = not (self.status.is_closed or self.status in (Status.RESOLVED, Status.REFUSED))
        if open_work and clock is not None and clock.state is ClockState.RUNNING and clock.due_at is not None:
            # Never before the current run started: a limit shorter than the warning warns when it starts.
            warn = max(dl.working_before(calendar, clock.due_at, settings.due_soon), clock.started_at)
            watched[dl.DUE_SOON] = _z(warn)
            watched[dl.OVERDUE] = _z(clock.due_at + dl.AFTER_DUE)
            step = self.steps[self.current_step] if self.steps else None
            if step is not None and step.clock is not None and step.clock.state is ClockState.RUNNING \
                    and step.clock.due_at is not None:
                watched[dl.step_flag(step.index)] = _z(step.clock.due_at + dl.AFTER_DUE)
        if (self.status is Status.SUPPLEMENT_REQUESTED and self.supplement_period is not None
                and clock is not None and (clock.state is ClockState.PAUSED or clock.waiting_since is not None)):
            requested = clock.waiting_since or clock.entries[-1].at
            watched[dl.SUPPLEMENT_OVERDUE] = _z(dl.period_end(calendar, requested, self.supplement_period))
        if watched == self.watch:
            return False
        self._retire_flags(watched, open_work)
        self.watch = watched
        self.watch_generation += 1
        return True

    def _retire_flags(self, watched: dict[str, str], open_work: bool) -> None:
        """Move to `flag_history` the warnings whose instant moved, so the new instant fires once.

        A flag for an instant that did not change stays (it never fires twice for one instant). A due-soon or
        supplement flag retires when its instant moves or stops being watched on an open dossier (a pause, a
        resume, a second supplement period, the apology's new date); on a closed one the flags stay as they were.
        Overdue flags (the dossier's, a step's, the intake's) never retire: lateness that happened is not
        cancelled (`dl.RETIRING`)."""
        for name in list(self.flags):
            if name not in dl.RETIRING:
                continue
            old, new = self.watch.get(name), watched.get(name)
            if old is None or old == new or (new is None and not open_work):
                continue
            self.flag_history.append({"flag": name, "watched_at": old, "recorded_at": self.flags.pop(name),
                                      "retired_generation": self.watch_generation + 1})

    @property
    def next_wake(self) -> datetime | None:
        """The earliest watched instant not yet flagged; None when nothing is left to watch."""
        pending = [parse_iso(instant) for name, instant in self.watch.items() if name not in self.flags]
        return min(pending) if pending else None

    def wake(self, now: datetime) -> bool:
        """Record every watched instant reached by `now` and not yet flagged, once each, with its event.

        A flag already present is never rewritten; a dossier that moved on watches other instants, so an old
        timer finds nothing to do. No history line: a deadline reached is not an officer's act. A change bumps
        the version (an officer holding the older one reloads)."""
        reached = self._reached(now)
        if not reached:
            return False
        self.version += 1
        for instant, name in reached:
            self.flags[name] = _z(now)
            self._emit_flag(name, instant, now)
        return True

    def _flag_reached(self, at: datetime, recorded_by: str | None = None) -> None:
        """Record, in the change being made, the instants it armed that are already reached (a limit shorter
        than the due-soon warning warns as its clock starts): no timer or sweep then has to change the dossier
        a moment later, under an officer who has just read it."""
        for instant, name in self._reached(at):
            self.flags[name] = _z(at)
            self._emit_flag(name, instant, at, recorded_by)

    def _reached(self, now: datetime) -> list[tuple[datetime, str]]:
        """Watched instants at or before `now` not yet flagged, earliest first."""
        return sorted((parse_iso(instant), name) for name, instant in self.watch.items()
                      if name not in self.flags and parse_iso(instant) <= now)

    def _emit_flag(self, name: str, instant: datetime, now: datetime, recorded_by: str | None = None) -> None:
        event_type, data = self._flag_event(name, instant)
        self._emit(event_type, now, **data, **({"recorded_by": recorded_by} if recorded_by else {}))

    def _flag_event(self, name: str, instant: datetime) -> tuple[str, dict[str, Any]]:
        """The event of a flag, with the due times as they stand now: an action reaching a deadline takes this
        before it changes the dossier (a pause leaves no due time to report)."""
        common = {"flag": name, "watched_at": _z(instant)}
        if name == dl.DUE_SOON:
            return ev.DUE_SOON, {"due_at": iso(self.due_at), **common}
        if name == dl.OVERDUE:
            return ev.OVERDUE, {"due_at": iso(self.due_at), **common}
        if name == dl.INTAKE_OVERDUE:
            return ev.INTAKE_OVERDUE, {"submitted_at": iso(self.submitted_at), **common}
        if name == dl.SUPPLEMENT_OVERDUE:
            requested = ((self.clock.waiting_since or self.clock.entries[-1].at)
                         if self.clock is not None else None)
            return ev.SUPPLEMENT_OVERDUE, {
                "requested_at": iso(requested),
                "supplement_period": self.supplement_period.as_dict() if self.supplement_period else None, **common}
        # The step, its unit and the officer holding it are recorded as responsible for the lateness.
        step = self.steps[int(name.split(":", 1)[1])]
        return ev.STEP_OVERDUE, {"step": _step_brief(step), "unit": step.unit, "officer": step.assignee, **common}

    # --- the applicant's own acts (no status change, no control-sheet line) ---------------------
    def rate(self, payload: dict[str, Any], via: str, by: str, at: datetime) -> dict[str, Any]:
        """Record the applicant's rating, once, after the result is returned (domain/rating.py), with its event."""
        self.rating = rating_of(self.status, self.rating, payload, via, by, at)
        self.version += 1
        self._emit(ev.RATED, at, rating=self.rating)
        return self.rating

    def request_withdrawal(self, reason: str, reference: str, by: str, at: datetime) -> dict[str, Any]:
        """An online applicant asks to withdraw the dossier: recorded for the desk, which confirms it with the
        withdraw action (Decree 61/2018: the applicant may withdraw; the desk records it). Asked once while open."""
        if self.status not in WITHDRAWABLE:
            raise ActionNotAllowed(f"a dossier in status {self.status.value} cannot be withdrawn",
                                   allowed_actions(self.status), "dossier_code")
        if self.withdrawal_request is not None:
            raise DomainError("the withdrawal was requested already", [FieldProblem(
                "dossier_code", f"requested at {self.withdrawal_request.get('at')}")], "action_not_allowed")
        reason = _required_text({"reason": reason}, "reason")
        self.withdrawal_request = {"reason": reason, "reference": reference, "by": by, "at": iso(at)}
        self.version += 1
        self._emit(ev.WITHDRAWAL_REQUESTED, at, request=self.withdrawal_request)
        return self.withdrawal_request

    # --- questions --------------------------------------------------------------------------
    @property
    def handling_unit(self) -> str:
        """The unit whose turn it is: the receiving desk until received, then the current step's unit."""
        if self.status in (Status.SUBMITTED, Status.NOT_ACCEPTED, Status.GUIDED) or not self.steps:
            return self.receiving_unit
        if self.status in (Status.RESOLVED, Status.REFUSED):
            return self.receiving_unit  # the desk hands back the result
        return self.steps[self.current_step].unit

    @property
    def units_involved(self) -> set[str]:
        return {self.receiving_unit, self.competent_unit, *(s.unit for s in self.steps)}

    @property
    def coordinating_units(self) -> list[str]:
        """Units other than the lead (competent) one that do a step: the liên thông partners."""
        return list(dict.fromkeys(s.unit for s in self.steps if s.unit != self.competent_unit))

    @property
    def tracking_number(self) -> int:
        """The entry number in the receiving unit's tracking book (form 06): the dossier's daily sequence,
        the last group of its code, unique per unit and receipt day and never reused."""
        return int(self.code.rsplit("-", 1)[1])

    @property
    def due_at(self) -> datetime | None:
        return self.clock.due_at if self.clock else None

    @property
    def clock_running(self) -> bool:
        return self.clock is not None and self.clock.state is ClockState.RUNNING

    def is_overdue(self, now: datetime) -> bool:
        return self.clock is not None and self.clock.is_overdue(now)

    def outcome(self, calendar: WorkingCalendar) -> str | None:
        """The dossier's outcome once closed: early / on_time / late for a resolved one, else its own word
        (withdrawn, stopped, refused, not_accepted, guided); None while open."""
        if self.final_outcome is not None:
            return self.final_outcome
        # Dossiers closed before the outcome was stored: derive it the same way.
        if self.status in OWN_OUTCOMES:
            return OWN_OUTCOMES[self.status]
        if self.result is not None and self.result.get("kind") == "refused":
            return "refused"
        if self.resolved_at is None:
            return None
        return self._timeliness(calendar, self.resolved_at)

    # --- persistence shape ------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "procedure_code": self.procedure_code,
            "procedure_version": self.procedure_version,
            "procedure_name": self.procedure_name,
            "field_code": self.field_code,
            "limit": self.limit.as_dict(),
            "receiving_unit": self.receiving_unit,
            "competent_unit": self.competent_unit,
            "channel": self.channel,
            "status": self.status.value,
            "applicant": self.applicant,
            "form": self.form,
            "documents": self.documents,
            "fee": self.fee,
            "steps": [s.as_dict() for s in self.steps],
            "submitted_at": iso(self.submitted_at),
            "version": self.version,
            "received_at": iso(self.received_at),
            "clock": self.clock.as_dict() if self.clock else None,
            "appointment_at": iso(self.appointment_at),
            "current_step": self.current_step,
            "paused_from": self.paused_from.value if self.paused_from else None,
            "supplement_requests": self.supplement_requests,
            "result": self.result,
            "resolved_at": iso(self.resolved_at),
            "returned_at": iso(self.returned_at),
            "history_count": self.history_count,
            "authorised_person": self.authorised_person,
            "result_delivery": self.result_delivery,
            "intake": self.intake,
            "final_outcome": self.final_outcome,
            "supplement_violations": self.supplement_violations,
            "supplement_restarts": self.supplement_restarts,
            "appointments": self.appointments,
            "supplement_period": self.supplement_period.as_dict() if self.supplement_period else None,
            "rescheduled": self.rescheduled,
            "apology": self.apology,
            "supplement_window_days": self.supplement_window_days,
            "supplement_notices_allowed": self.supplement_notices_allowed,
            "document_list": self.document_list,
            "guidance": self.guidance,
            "event_count": self.event_count,
            "flags": self.flags,
            "watch": self.watch,
            "watch_generation": self.watch_generation,
            "flag_history": self.flag_history,
            **({"imported": self.imported} if self.imported is not None else {}),
            "payment_due": self.payment_due,
            "payments": self.payments,
            "rating": self.rating,
            "withdrawal_request": self.withdrawal_request,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Dossier:
        def when(key: str) -> datetime | None:
            return parse_iso(d[key]) if d.get(key) else None

        return cls(
            code=d["code"], procedure_code=d["procedure_code"], procedure_version=d["procedure_version"],
            procedure_name=d["procedure_name"], field_code=d.get("field_code", ""),
            limit=TimeLimit.from_dict(d["limit"]), receiving_unit=d["receiving_unit"],
            competent_unit=d["competent_unit"], channel=d["channel"], status=Status(d["status"]),
            applicant=d["applicant"], form=d["form"], documents=d.get("documents", []), fee=d.get("fee", {}),
            steps=[StepProgress.from_dict(s) for s in d["steps"]], submitted_at=parse_iso(d["submitted_at"]),
            version=d["version"], received_at=when("received_at"),
            clock=Clock.from_dict(d["clock"]) if d.get("clock") else None,
            appointment_at=when("appointment_at"), current_step=d.get("current_step", 0),
            paused_from=Status(d["paused_from"]) if d.get("paused_from") else None,
            supplement_requests=d.get("supplement_requests", 0), result=d.get("result"),
            resolved_at=when("resolved_at"), returned_at=when("returned_at"),
            history_count=d.get("history_count", 0), authorised_person=d.get("authorised_person"),
            result_delivery=d.get("result_delivery"), intake=d.get("intake"), final_outcome=d.get("final_outcome"),
            supplement_violations=d.get("supplement_violations", 0),
            # Stored before the rule: only a first request ever restarted the limit.
            supplement_restarts=d.get("supplement_restarts", d.get("supplement_requests", 0) == 1),
            appointments=d.get("appointments", []),
            # Stored before deadlines acted: nothing watched until the next change re-arms the watch.
            supplement_period=TimeLimit.from_dict(d["supplement_period"]) if d.get("supplement_period") else None,
            rescheduled=bool(d.get("rescheduled", False)), apology=d.get("apology"),
            supplement_window_days=int(d.get("supplement_window_days", SUPPLEMENT_WINDOW_WORKING_DAYS)),
            supplement_notices_allowed=int(d.get("supplement_notices_allowed", SUPPLEMENT_NOTICES_ALLOWED)),
            document_list=list(d.get("document_list") or []), guidance=d.get("guidance"),
            event_count=int(d.get("event_count", 0)), flags=dict(d.get("flags") or {}),
            watch=dict(d.get("watch") or {}), watch_generation=int(d.get("watch_generation", 0)),
            flag_history=list(d.get("flag_history") or []), imported=d.get("imported"),
            payment_due=d.get("payment_due"), payments=list(d.get("payments") or []),
            rating=d.get("rating"), withdrawal_request=d.get("withdrawal_request"),
        )


Handler = Callable[[Dossier, Actor, datetime, CalendarFor, dict[str, Any]], dict[str, Any]]

# One handler per action, where a reader sees them all (and a test checks it against the API schema).
HANDLERS: dict[Action, Handler] = {
    Action.ACCEPT: Dossier._on_accept,
    Action.REFUSE_INTAKE: Dossier._on_refuse_intake,
    Action.ASSIGN: Dossier._on_assign,
    Action.COMPLETE_STEP: Dossier._on_complete_step,
    Action.REQUEST_SUPPLEMENT: Dossier._on_request_supplement,
    Action.RECEIVE_SUPPLEMENT: Dossier._on_receive_supplement,
    Action.REQUEST_PAYMENT: Dossier._on_request_payment,
    Action.CONFIRM_PAYMENT: Dossier._on_confirm_payment,
    Action.RESOLVE: Dossier._on_resolve,
    Action.REFUSE: Dossier._on_refuse,
    Action.RETURN_RESULT: Dossier._on_return_result,
    Action.WITHDRAW: Dossier._on_withdraw,
    Action.STOP: Dossier._on_stop,
    Action.APOLOGIZE: Dossier._on_apologize,
    Action.GUIDE_SUBMISSION: Dossier._on_guide_submission,
    Action.COMPLETE_SUBMISSION: Dossier._on_complete_submission,
}

# Closed dossiers that are not early, on time or late: each has an outcome of its own (DOMAIN: lifecycle).
OWN_OUTCOMES = {
    Status.WITHDRAWN: "withdrawn", Status.STOPPED: "stopped", Status.REFUSED: "refused",
    Status.NOT_ACCEPTED: "not_accepted", Status.GUIDED: "guided",
}


def _intake_decision(decision: dict[str, Any] | None, channel: str) -> dict[str, Any]:
    """Validate the desk's decision on a paper dossier (Decree 61/2018 Art 15(2))."""
    if decision is None:
        return {"decision": "receive"}
    kind = decision.get("decision", "receive")
    if kind not in INTAKE_DECISIONS:
        raise InvalidInput("invalid intake decision", [FieldProblem(
            "intake.decision", f"must be one of {', '.join(INTAKE_DECISIONS)}")])
    if kind != "receive" and channel not in PAPER_CHANNELS:
        raise InvalidInput("an online submission is not refused at intake", [FieldProblem(
            "intake.decision", "online submissions wait at status 1: refuse them with the refuse_intake action")])
    if kind == "refuse":
        return {"decision": kind, "reasons": _required_list(decision, "reasons", "intake.reasons")}
    if kind == "guide":
        return {"decision": kind, "missing_items": _required_list(decision, "missing_items", "intake.missing_items")}
    return {"decision": kind}


def _required_list(payload: dict[str, Any], key: str, field_name: str | None = None) -> list[str]:
    value = payload.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        name = field_name or key
        raise InvalidInput(f"{name} is required", [FieldProblem(name, "a non-empty list of non-empty strings")])
    return [v.strip() for v in value]


def _within_working_hours(calendar: WorkingCalendar, instant: datetime) -> bool:
    """Open at `instant`, its periods' closing time included (a due time may be 17:00): when the applicant can come."""
    return any(start <= instant <= end for start, end in calendar.periods_on(calendar.local(instant).date()))


def _step_brief(step: StepProgress) -> dict[str, Any]:
    return {"index": step.index, "name": step.name, "unit": step.unit, "role": step.role,
            "assignee": step.assignee, "due_at": iso(step.due_at)}


def _z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _required_instant(payload: dict[str, Any], key: str) -> datetime:
    value = payload.get(key)
    try:
        if not isinstance(value, str) or "T" not in value:
            raise ValueError(value)
        return parse_iso(value)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"{key} is required", [FieldProblem(
            key, "an ISO 8601 instant with its offset, e.g. 2026-09-10T10:00:00+07:00")]) from exc


def _required_text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{key} is required", [FieldProblem(key, "a non-empty string")])
    return value.strip()


def _check_offered_online(procedure: Procedure, channel: str) -> None:
    """An online submission is taken only for a procedure the catalogue offers online, in part (một phần) or in
    full (toàn trình), the two levels of Decree 42/2022/NĐ-CP: any other is filed at a desk or by post."""
    if channel == "online" and procedure.online_service is None:
        raise InvalidInput("the procedure is not offered online", [FieldProblem(
            "channel", f"procedure {procedure.code} is not offered as an online public service: "
                       "submit it at a desk (direct) or by post (postal)")])


# Where the applicant's request to withdraw can be recorded: where the desk's withdraw action applies.
WITHDRAWABLE = TRANSITIONS[Action.WITHDRAW].sources
