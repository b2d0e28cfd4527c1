"""How dossiers are shown: instants in Asia/Ho_Chi_Minh with their offset, statuses with national codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.calendar import LOCAL_TIMEZONE, WorkingCalendar
from ..domain.clock import Clock, parse_iso
from ..domain.dossier import Dossier, HistoryEntry, StepProgress
from ..domain.lifecycle import allowed_actions
from ..domain.status import Status

_ZONE = ZoneInfo(LOCAL_TIMEZONE)


def local(instant: datetime | str | None) -> str | None:
    if instant is None:
        return None
    if isinstance(instant, str):
        instant = parse_iso(instant)
    return instant.astimezone(_ZONE).isoformat()


def clock_view(clock: Clock | None, now: datetime) -> dict[str, Any] | None:
    if clock is None:
        return None
    return {
        "state": clock.state.value,
        "counting": clock.counting.value,
        "budget_seconds": int(clock.budget.total_seconds()),
        "consumed_seconds": int(clock.consumed.total_seconds()),
        "started_at": local(clock.started_at),
        "due_at": local(clock.due_at),
        "overdue": clock.is_overdue(now),
        "calendar_version": clock.calendar_version,
        "ledger": [{**e.as_dict(), "at": local(e.at), "effective_at": local(e.effective_at),
                    "due_at": local(e.due_at)} for e in clock.entries],
    }


def step_view(step: StepProgress, now: datetime, public: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": step.index,
        "name": step.name,
        "unit": step.unit,
        "budget": step.budget.as_dict(),
        "started_at": local(step.clock.started_at) if step.clock else None,
        "due_at": local(step.due_at),
        "completed_at": local(step.completed_at),
        "outcome": step.outcome.value if step.outcome else None,
    }
    if not public:
        out["role"] = step.role
        out["assignee"] = step.assignee
        out["clock"] = clock_view(step.clock, now)
    return out


def dossier_view(dossier: Dossier, calendar: WorkingCalendar, now: datetime) -> dict[str, Any]:
    return {
        "code": dossier.code,
        "version": dossier.version,
        **dossier.status.as_dict(),
        "allowed_actions": allowed_actions(dossier.status),
        "procedure": {"code": dossier.procedure_code, "version": dossier.procedure_version,
                      "name": dossier.procedure_name, "field": dossier.field_code, "limit": dossier.limit.as_dict()},
        "channel": dossier.channel,
        "receiving_unit": dossier.receiving_unit,
        "competent_unit": dossier.competent_unit,
        "handling_unit": dossier.handling_unit,
        "submitted_at": local(dossier.submitted_at),
        "received_at": local(dossier.received_at),
        "appointment_at": local(dossier.appointment_at),
        "due_at": local(dossier.due_at),
        "overdue": dossier.is_overdue(now),
        "outcome": dossier.outcome(calendar),
        "current_step": dossier.current_step,
        "steps": [step_view(s, now) for s in dossier.steps],
        "clock": clock_view(dossier.clock, now),
        "supplement_requests": dossier.supplement_requests,
        "applicant": dossier.applicant,
        "form": dossier.form,
        "documents": dossier.documents,
        "fee": dossier.fee,
        "result": dossier.result,
        "resolved_at": local(dossier.resolved_at),
        "returned_at": local(dossier.returned_at),
    }


def public_view(dossier: Dossier, calendar: WorkingCalendar, now: datetime) -> dict[str, Any]:
    """What an applicant may see by code: no personal data, no officers."""
    return {
        "code": dossier.code,
        **dossier.status.as_dict(),
        "procedure": {"code": dossier.procedure_code, "name": dossier.procedure_name},
        "receiving_unit": dossier.receiving_unit,
        "submitted_at": local(dossier.submitted_at),
        "received_at": local(dossier.received_at),
        "appointment_at": local(dossier.appointment_at),
        "due_at": local(dossier.due_at),
        "overdue": dossier.is_overdue(now),
        "outcome": dossier.outcome(calendar),
        "resolved_at": local(dossier.resolved_at),
        "returned_at": local(dossier.returned_at),
        "steps": [step_view(s, now, public=True) for s in dossier.steps],
    }


def receipt_view(dossier: Dossier, officer: str) -> dict[str, Any]:
    """Form 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả."""
    return {
        "form": "01",
        "title": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        "code": dossier.code,
        "applicant_name": dossier.applicant.get("name"),
        "procedure": f"{dossier.procedure_code} - {dossier.procedure_name}",
        "documents": dossier.documents,
        "received_at": local(dossier.received_at or dossier.submitted_at),
        "appointment_at": local(dossier.appointment_at),
        "limit": dossier.limit.label,
        "fee": dossier.fee,
        "receiving_unit": dossier.receiving_unit,
        "received_by": officer,
    }


def history_view(entry: HistoryEntry) -> dict[str, Any]:
    data = entry.as_dict()
    for key in ("at", "step_due_at"):
        data[key] = local(data[key])
    data["from_status"] = entry.from_status.as_dict() if entry.from_status else None
    data["to_status"] = entry.to_status.as_dict()
    return data


def summary_view(summary: dict[str, Any], now: datetime) -> dict[str, Any]:
    status = Status(summary["status"])
    due = summary.get("due_at")
    return {
        **summary,
        **status.as_dict(),
        "submitted_at": local(summary.get("submitted_at")),
        "received_at": local(summary.get("received_at")),
        "appointment_at": local(summary.get("appointment_at")),
        "due_at": local(due),
        "overdue": due is not None and summary.get("clock_state") == "running" and parse_iso(due) < now,
    }
