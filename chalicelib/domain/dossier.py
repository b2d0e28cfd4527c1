"""The dossier aggregate: its state, its clocks, and the one method every state change goes through.

`Dossier.act` is the single place a status changes. It returns the history entry (a line of the
process control sheet, form 05) that the repository writes in the same transaction; deadline
watchers, counters and the national-portal outbox hook in there later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .calendar import WorkingCalendar
from .catalogue import Procedure
from .clock import Clock, ClockState, Outcome, iso, parse_iso
from .errors import ActionNotAllowed, FieldProblem, Forbidden, InvalidInput
from .lifecycle import TRANSITIONS, Action, allowed_actions
from .status import Status
from .time_limit import TimeLimit

CHANNELS = ("direct", "postal", "online")
# A supplement may be requested within 3 working days of receipt (Decree 61/2018 Art 15, carried into 118/2025).
SUPPLEMENT_WINDOW_WORKING_DAYS = 3


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

    # --- creation ---------------------------------------------------------------------------
    @classmethod
    def receive(
        cls, *, code: str, procedure: Procedure, receiving_unit: str, competent_unit: str, channel: str,
        applicant: dict[str, Any], form: dict[str, Any], documents: list[dict[str, Any]], actor: Actor,
        at: datetime, calendar: WorkingCalendar, note: str = "",
    ) -> tuple[Dossier, HistoryEntry]:
        """Intake: an online submission waits at status 1; a desk or postal dossier is received."""
        if channel not in CHANNELS:
            raise InvalidInput("invalid channel", [FieldProblem("channel", f"must be one of {', '.join(CHANNELS)}")])
        if competent_unit not in procedure.competent_units:
            raise InvalidInput("unit not competent", [FieldProblem(
                "competent_unit", f"{competent_unit} is not competent for procedure {procedure.code}")])
        steps = [
            StepProgress(i, s.name, procedure.unit_of(s, competent_unit), s.role, s.budget)
            for i, s in enumerate(procedure.steps)
        ]
        dossier = cls(
            code=code, procedure_code=procedure.code, procedure_version=procedure.version,
            procedure_name=procedure.name, field_code=procedure.field.get("code", ""), limit=procedure.limit,
            receiving_unit=receiving_unit, competent_unit=competent_unit, channel=channel,
            status=Status.SUBMITTED, applicant=applicant, form=form, documents=documents,
            fee=dict(procedure.fee), steps=steps, submitted_at=at,
        )
        if channel == "online":
            entry = dossier._record("submit", "Nộp hồ sơ trực tuyến", None, actor, at, note)
        else:
            dossier._start_clock(calendar, at)
            dossier.status = Status.RECEIVED
            entry = dossier._record("receive", "Tiếp nhận hồ sơ", None, actor, at, note,
                                    details={"appointment_at": iso(dossier.appointment_at)})
        return dossier, entry

    # --- the one entry point for every state change ------------------------------------------
    def act(
        self, action: Action, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict[str, Any]
    ) -> HistoryEntry:
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
        before = self.status
        note = str(payload.get("note", ""))
        handler = getattr(self, f"_on_{action.value}")
        details: dict[str, Any] = handler(actor, at, calendar, payload) or {}
        target = transition.target or self._resume_target()
        step_met = details.pop("_step_met", None)
        step = details.pop("_step", None)
        self.status = target
        self.version += 1
        return self._record(action.value, transition.label, before, actor, at, note, details=details,
                            step_met=step_met, step=step)

    # --- handlers, one per action -------------------------------------------------------------
    def _on_accept(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict[str, Any]) -> dict:
        self._start_clock(calendar, at)
        return {"appointment_at": iso(self.appointment_at)}

    def _on_refuse_intake(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        return {"reasons": _required_list(payload, "reasons")}

    def _on_assign(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        officer = str(payload.get("officer") or actor.subject)
        if "leader" not in actor.roles and officer != actor.subject:
            raise Forbidden("a processor may only assign a step to themselves")
        step = self.steps[self.current_step]
        step.assignee = officer
        return {"officer": officer}

    def _on_complete_step(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        if self.current_step >= len(self.steps) - 1:
            raise ActionNotAllowed("this is the last step: resolve or refuse the dossier instead",
                                   ["resolve", "refuse"])
        finished = self.steps[self.current_step]
        met = self._finish_step(calendar, at)
        self.current_step += 1
        nxt = self.steps[self.current_step]
        start = calendar.next_working_instant(at)
        nxt.clock = Clock.start(calendar, at, start, nxt.budget.budget_from(calendar, start), nxt.budget.counting)
        return {"_step_met": met, "_step": finished, "next_step": nxt.name, "next_unit": nxt.unit,
                "next_step_due_at": iso(nxt.due_at)}

    def _on_request_supplement(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        missing = _required_list(payload, "missing_items")
        assert self.clock is not None
        window = timedelta(hours=calendar.settings.hours_per_day * SUPPLEMENT_WINDOW_WORKING_DAYS)
        within_window = calendar.working_between(self.clock.started_at, at) <= window
        self._pause(calendar, at, "supplement")
        self.supplement_requests += 1
        return {"missing_items": missing, "within_legal_window": within_window,
                "request_number": self.supplement_requests}

    def _on_receive_supplement(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        # The legal time limit restarts from zero once the complete dossier is back.
        assert self.clock is not None
        start = calendar.clock_start(at, self.channel)
        self.clock.restart(calendar, at, start, self.limit.budget_from(calendar, start), "supplement received")
        step = self.steps[self.current_step]
        if step.clock is not None:
            step.clock.restart(calendar, at, start, step.budget.budget_from(calendar, start), "supplement received")
        previous = self.appointment_at
        self.appointment_at = self.clock.due_at
        return {"previous_appointment_at": iso(previous), "appointment_at": iso(self.appointment_at)}

    def _on_request_payment(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        amount = payload.get("amount", self.fee.get("amount"))
        self._pause(calendar, at, "payment")
        return {"amount": amount}

    def _on_confirm_payment(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        start = calendar.next_working_instant(at)
        assert self.clock is not None
        self.clock.resume(calendar, at, start)
        step = self.steps[self.current_step]
        if step.clock is not None and step.clock.state is ClockState.PAUSED:
            step.clock.resume(calendar, at, start)
        return {"receipt_number": payload.get("receipt_number"), "due_at": iso(self.clock.due_at)}

    def _on_resolve(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        if self.current_step < len(self.steps) - 1:
            remaining = self.steps[self.current_step].name
            raise ActionNotAllowed(f"step {remaining!r} is not the last step: complete it first",
                                   ["complete_step", "refuse"])
        result = payload.get("result")
        if not isinstance(result, dict) or not str(result.get("summary", "")).strip():
            raise InvalidInput("a result is required", [FieldProblem("result.summary", "required to resolve")])
        return self._close_with_result(calendar, at, {"kind": "approved", **result})

    def _on_refuse(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        reasons = _required_list(payload, "reasons")
        return self._close_with_result(calendar, at, {"kind": "refused", "reasons": reasons})

    def _on_return_result(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        self.returned_at = at
        return {}

    def _on_withdraw(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        return self._end(calendar, at, _required_text(payload, "reason"), "withdrawn")

    def _on_stop(self, actor: Actor, at: datetime, calendar: WorkingCalendar, payload: dict) -> dict:
        return self._end(calendar, at, _required_text(payload, "reason"), "stopped")

    # --- helpers ----------------------------------------------------------------------------
    def _start_clock(self, calendar: WorkingCalendar, at: datetime) -> None:
        start = calendar.clock_start(at, self.channel)
        self.received_at = at
        self.clock = Clock.start(calendar, at, start, self.limit.budget_from(calendar, start), self.limit.counting)
        first = self.steps[0]
        first.clock = Clock.start(calendar, at, start, first.budget.budget_from(calendar, start),
                                  first.budget.counting)
        self.appointment_at = self.clock.due_at

    def _pause(self, calendar: WorkingCalendar, at: datetime, reason: str) -> None:
        assert self.clock is not None
        self.paused_from = self.status
        self.clock.pause(calendar, at, reason)
        step = self.steps[self.current_step]
        if step.clock is not None and step.clock.state is ClockState.RUNNING:
            step.clock.pause(calendar, at, reason)

    def _resume_target(self) -> Status:
        target = self.paused_from or Status.IN_PROGRESS
        self.paused_from = None
        return target

    def _finish_step(self, calendar: WorkingCalendar, at: datetime) -> bool | None:
        step = self.steps[self.current_step]
        step.completed_at = at
        if step.clock is None or step.clock.state is ClockState.STOPPED:
            return None
        step.clock.stop(calendar, at, "step completed")
        step.outcome = step.clock.outcome(calendar)
        return step.outcome is not Outcome.LATE

    def _close_with_result(self, calendar: WorkingCalendar, at: datetime, result: dict[str, Any]) -> dict:
        finished = self.steps[self.current_step]
        met = self._finish_step(calendar, at)
        assert self.clock is not None
        self.clock.stop(calendar, at, result["kind"])
        self.result = result
        self.resolved_at = at
        return {"_step_met": met, "_step": finished, "result": result, "outcome": self.outcome(calendar)}

    def _end(self, calendar: WorkingCalendar, at: datetime, reason: str, why: str) -> dict:
        if self.clock is not None and self.clock.state is not ClockState.STOPPED:
            self.clock.stop(calendar, at, why)
        step = self.steps[self.current_step]
        if step.clock is not None and step.clock.state is not ClockState.STOPPED:
            step.clock.stop(calendar, at, why)
        return {"reason": reason}

    def _record(
        self, action: str, label: str, before: Status | None, actor: Actor, at: datetime, note: str, *,
        details: dict[str, Any] | None = None, step_met: bool | None = None, step: StepProgress | None = None,
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
        )

    # --- questions --------------------------------------------------------------------------
    @property
    def handling_unit(self) -> str:
        """The unit whose turn it is: the receiving desk until received, then the current step's unit."""
        if self.status is Status.SUBMITTED or not self.steps:
            return self.receiving_unit
        if self.status in (Status.RESOLVED, Status.REFUSED):
            return self.receiving_unit  # the desk hands back the result
        return self.steps[self.current_step].unit

    @property
    def units_involved(self) -> set[str]:
        return {self.receiving_unit, self.competent_unit, *(s.unit for s in self.steps)}

    @property
    def due_at(self) -> datetime | None:
        return self.clock.due_at if self.clock else None

    @property
    def clock_running(self) -> bool:
        return self.clock is not None and self.clock.state is ClockState.RUNNING

    def is_overdue(self, now: datetime) -> bool:
        return self.clock is not None and self.clock.is_overdue(now)

    def outcome(self, calendar: WorkingCalendar) -> str | None:
        if self.clock is None:
            return None
        result = self.clock.outcome(calendar)
        return result.value if result else None

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
            history_count=d.get("history_count", 0),
        )


def _required_list(payload: dict[str, Any], key: str) -> list[str]:
    value = payload.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidInput(f"{key} is required", [FieldProblem(key, "a non-empty list of non-empty strings")])
    return [v.strip() for v in value]


def _required_text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{key} is required", [FieldProblem(key, "a non-empty string")])
    return value.strip()
