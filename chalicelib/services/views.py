"""How dossiers are shown: instants in Asia/Ho_Chi_Minh with their offset, statuses with national codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.calendar import LOCAL_TIMEZONE, WorkingCalendar
from ..domain.clock import Clock, parse_iso
from ..domain.dossier import OWN_OUTCOMES, Dossier, HistoryEntry, StepProgress
from ..domain.lifecycle import allowed_actions
from ..domain.notices import apology_letter
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
        "confirmed": clock.confirmed,
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
        "due_capped": step.due_capped,  # the step's budget ran past the dossier's due time: cut to it
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
        # false: counted across a year with no civil-service decision shipped yet (public holidays only)
        "due_confirmed": dossier.clock.confirmed if dossier.clock else None,
        "overdue": dossier.is_overdue(now),
        "outcome": dossier.outcome(calendar),
        "current_step": dossier.current_step,
        "steps": [step_view(s, now) for s in dossier.steps],
        "clock": clock_view(dossier.clock, now),
        "supplement_requests": dossier.supplement_requests,
        "supplement_violations": dossier.supplement_violations,
        "appointments": appointments_view(dossier),
        "intake": intake_view(dossier),
        "tracking_number": dossier.tracking_number,
        "applicant": dossier.applicant,
        "authorised_person": dossier.authorised_person,
        "result_delivery": dossier.result_delivery,
        "form": dossier.form,
        "documents": dossier.documents,
        "fee": dossier.fee,
        # Fees and charges paid, each with its channel (domain/payments.py), oldest first.
        "payments": [{**p, "paid_at": local(p.get("paid_at")), "recorded_at": local(p.get("recorded_at"))}
                     for p in dossier.payments],
        # The applicant's rating (once, after the result) and request to withdraw, when given.
        "rating": {**dossier.rating, "at": local(dossier.rating.get("at"))} if dossier.rating else None,
        "withdrawal_request": ({**dossier.withdrawal_request, "at": local(dossier.withdrawal_request.get("at"))}
                               if dossier.withdrawal_request else None),
        "result": dossier.result,
        "resolved_at": local(dossier.resolved_at),
        "returned_at": local(dossier.returned_at),
        **deadline_view(dossier),
        # Only on a dossier brought over from an old system (docs/import.md).
        **({"imported": {**dossier.imported, "imported_at": local(dossier.imported.get("imported_at"))}}
           if dossier.imported else {}),
    }


def deadline_view(dossier: Dossier) -> dict[str, Any]:
    """What the deadlines did: each flag with when it was recorded (due_soon, overdue, step_overdue:<index>,
    intake_overdue, supplement_overdue), the instants still watched, the apology (form 04) if one was given."""
    return {
        "flags": {name: local(at) for name, at in dossier.flags.items()},
        "due_soon": "due_soon" in dossier.flags,
        "overdue_flagged": "overdue" in dossier.flags,
        "overdue_steps": sorted(int(n.split(":", 1)[1]) for n in dossier.flags if n.startswith("step_overdue:")),
        "watch": {name: local(at) for name, at in dossier.watch.items()},
        "next_wake": local(dossier.next_wake),
        "watch_generation": dossier.watch_generation,
        # Warnings retired because their instant moved (a pause, a restart, the apology's new date).
        "flag_history": [{**h, "watched_at": local(h.get("watched_at")), "recorded_at": local(h.get("recorded_at"))}
                         for h in dossier.flag_history],
        "rescheduled": dossier.rescheduled,
        "apology": apology_summary(dossier, public=False),
    }


def apology_summary(dossier: Dossier, public: bool) -> dict[str, Any] | None:
    """The apology's record; the public lookup shows only its dates (who issued it and why are on form 04)."""
    apology = dossier.apology
    if apology is None:
        return None
    out: dict[str, Any] = {
        "form": "04",
        "issued_at": local(apology.get("issued_at")),
        "previous_appointment_at": local(apology.get("previous_appointment_at")),
        "new_appointment_at": local(apology.get("new_appointment_at")),
    }
    if not public:
        out.update(reason=apology.get("reason"), timely=apology.get("timely"), issued_by=apology.get("issued_by"),
                   issued_by_name=apology.get("issued_by_name") or None, issued_by_unit=apology.get("issued_by_unit"),
                   previous_due_at=local(apology.get("previous_due_at")),
                   flags_before={k: local(v) for k, v in (apology.get("flags_before") or {}).items()})
    return out


def apology_view(dossier: Dossier, unit_name: Callable[[str], str]) -> dict[str, Any]:
    """Form 04 as served by GET /v1/dossiers/{code}/apology: issued in the name of the competent unit."""
    return apology_letter(dossier, unit_name(dossier.competent_unit))


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
        # false: counted across a year with no civil-service decision shipped yet (public holidays only)
        "due_confirmed": dossier.clock.confirmed if dossier.clock else None,
        "overdue": dossier.is_overdue(now),
        "outcome": dossier.outcome(calendar),
        "appointments": appointments_view(dossier),
        # Rescheduled once by an apology (form 04): appointment_at is the new date, the old one is in appointments.
        "rescheduled": dossier.rescheduled,
        "apology": apology_summary(dossier, public=True),
        "resolved_at": local(dossier.resolved_at),
        "returned_at": local(dossier.returned_at),
        "steps": [step_view(s, now, public=True) for s in dossier.steps],
    }


def appointments_view(dossier: Dossier) -> list[dict[str, Any]]:
    """Every appointment the applicant was given, oldest first (the old ones are kept, never rewritten)."""
    return [{**a, "appointment_at": local(a.get("appointment_at")), "given_at": local(a.get("given_at"))}
            for a in dossier.appointments]


def intake_view(dossier: Dossier) -> dict[str, Any] | None:
    """The desk's decision (receive / refuse / guide), by whom and when."""
    if dossier.intake is None:
        return None
    return {**dossier.intake, "at": local(dossier.intake.get("at"))}


_DOCUMENT_KINDS = {"original": "Bản chính", "certified_copy": "Bản sao có chứng thực", "copy": "Bản sao"}
_DELIVERY = {"at_desk": "Nhận trực tiếp tại Bộ phận Một cửa", "postal": "Qua dịch vụ bưu chính công ích",
             "online": "Trực tuyến"}


def _documents(dossier: Dossier) -> list[dict[str, Any]]:
    out = []
    for doc in dossier.documents:
        kind = doc.get("kind") or ("original" if doc.get("original") else None)
        out.append({"name": doc.get("name"), "kind": kind, "kind_label": _DOCUMENT_KINDS.get(kind or ""),
                    "copies": doc.get("copies", 1)})
    return out


def _contact(person: dict[str, Any] | None) -> dict[str, Any] | None:
    if not person:
        return None
    keys = ("name", "kind", "id_number", "phone", "email", "address", "authorisation")
    return {k: person[k] for k in keys if k in person}


def _officer(dossier: Dossier) -> dict[str, Any]:
    intake = dossier.intake or {}
    return {"officer": intake.get("by"), "name": intake.get("by_name") or intake.get("by")}


def _unit(unit_id: str, unit_name: Callable[[str], str]) -> dict[str, str]:
    return {"id": unit_id, "name": unit_name(unit_id)}


def receipt_view(dossier: Dossier, unit_name: Callable[[str], str], reissued: bool = False) -> dict[str, Any]:
    """Form 01 (Circular 01/2018/TT-VPCP, carried into 03/2025): Giấy tiếp nhận hồ sơ và hẹn trả kết quả.

    The tracking-book entry (Sổ theo dõi hồ sơ, form 06) is numbered by the dossier's daily sequence,
    the last group of its code: unique per receiving unit and receipt day, and never reused.
    """
    delivery = dossier.result_delivery or {"method": "at_desk"}
    return {
        "form": "01",
        "title": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        "reissued": reissued,
        "code": dossier.code,
        "receiving_unit": _unit(dossier.receiving_unit, unit_name),
        "received_by": _officer(dossier),
        "applicant": _contact(dossier.applicant),
        "applicant_name": dossier.applicant.get("name"),
        "authorised_person": _contact(dossier.authorised_person),
        "procedure": f"{dossier.procedure_code} - {dossier.procedure_name}",
        "documents": _documents(dossier),
        "received_at": local(dossier.received_at or dossier.submitted_at),
        "appointment_at": local(dossier.appointment_at),
        "limit": dossier.limit.label,
        "fee": dossier.fee,
        "result_delivery": {**delivery, "label": _DELIVERY.get(str(delivery.get("method")), "")},
        "tracking_book": {"entry_number": dossier.tracking_number,
                          "day": local(dossier.received_at or dossier.submitted_at)},
    }


def refusal_view(dossier: Dossier, unit_name: Callable[[str], str]) -> dict[str, Any]:
    """Form 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ (Decree 61/2018 Art 15(2)(b)), with the reasons."""
    intake = dossier.intake or {}
    return {
        "form": "03",
        "title": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
        "code": dossier.code,
        "receiving_unit": _unit(dossier.receiving_unit, unit_name),
        "refused_by": _officer(dossier),
        "refused_at": local(intake.get("at")),
        "applicant": _contact(dossier.applicant),
        "procedure": f"{dossier.procedure_code} - {dossier.procedure_name}",
        "reasons": intake.get("reasons", []),
        "tracking_book": {"entry_number": dossier.tracking_number, "day": local(intake.get("at"))},
    }


def guidance_view(dossier: Dossier, unit_name: Callable[[str], str]) -> dict[str, Any]:
    """Form 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Decree 61/2018 Art 15(2)(a)): what is missing;
    the dossier is not received and no clock starts."""
    intake = dossier.intake or {}
    return {
        "form": "02",
        "title": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
        "code": dossier.code,
        "receiving_unit": _unit(dossier.receiving_unit, unit_name),
        "guided_by": _officer(dossier),
        "guided_at": local(intake.get("at")),
        "applicant": _contact(dossier.applicant),
        "procedure": f"{dossier.procedure_code} - {dossier.procedure_name}",
        "missing_items": intake.get("missing_items", []),
        "tracking_book": {"entry_number": dossier.tracking_number, "day": local(intake.get("at"))},
    }


def intake_forms(dossier: Dossier, unit_name: Callable[[str], str]) -> dict[str, Any]:
    """What the desk hands over at intake: the receipt (form 01) for a received dossier, the refusal (form 03)
    or the guidance slip (form 02) instead; an online submission gets its receipt when the desk accepts it."""
    if dossier.status is Status.NOT_ACCEPTED:
        return {"refusal": refusal_view(dossier, unit_name)}
    if dossier.status is Status.GUIDED:
        return {"guidance": guidance_view(dossier, unit_name)}
    if dossier.received_at is None:
        return {}
    return {"receipt": receipt_view(dossier, unit_name)}


def appointment_notice_view(dossier: Dossier, entry: HistoryEntry) -> dict[str, Any] | None:
    """The new appointment the applicant is given when the due time moved (payment, supplement)."""
    details = entry.details
    if not details.get("appointment_changed"):
        return None
    return {
        "title": "Thông báo hẹn lại ngày trả kết quả",
        "code": dossier.code,
        "previous_appointment_at": local(details.get("previous_appointment_at")),
        "appointment_at": local(details.get("appointment_at")),
        "reason": entry.label,
        "given_at": local(entry.at),
    }


def control_sheet_view(dossier: Dossier, entries: list[HistoryEntry], unit_name: Callable[[str], str]
                       ) -> dict[str, Any]:
    """Form 05, Phiếu kiểm soát quá trình giải quyết hồ sơ: its header, then one line per hand-over."""
    return {
        "code": dossier.code,
        "form": "05",
        "title": "Phiếu kiểm soát quá trình giải quyết hồ sơ",
        "header": {
            "procedure": {"code": dossier.procedure_code, "name": dossier.procedure_name},
            "applicant": dossier.applicant.get("name"),
            "received_at": local(dossier.received_at),
            "appointment_at": local(dossier.appointment_at),
            "appointments": appointments_view(dossier),
            "receiving_unit": _unit(dossier.receiving_unit, unit_name),
            "lead_unit": _unit(dossier.competent_unit, unit_name),
            "coordinating_units": [_unit(u, unit_name) for u in dossier.coordinating_units],
        },
        "entries": [history_view(e, unit_name) for e in entries],
    }


_LOCAL_DETAILS = ("appointment_at", "previous_appointment_at", "due_at", "next_step_due_at", "previous_due_at")


def history_view(entry: HistoryEntry, unit_name: Callable[[str], str] | None = None) -> dict[str, Any]:
    data = entry.as_dict()
    for key in ("at", "step_due_at"):
        data[key] = local(data[key])
    data["details"] = {k: local(v) if k in _LOCAL_DETAILS and isinstance(v, str) else v
                       for k, v in entry.details.items()}
    data["from_status"] = entry.from_status.as_dict() if entry.from_status else None
    data["to_status"] = entry.to_status.as_dict()
    data["officer_name"] = entry.officer_name or entry.officer  # the display name; the user name before it was kept
    if unit_name is not None:
        data["from_unit_name"] = unit_name(entry.from_unit) if entry.from_unit else None
        data["to_unit_name"] = unit_name(entry.to_unit) if entry.to_unit else None
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
        # Closed dossiers the law does not measure against a deadline have their status's own word, even
        # in summaries stored before the outcome was; resolved ones carry early/on_time/late in the summary.
        "outcome": summary.get("outcome") or OWN_OUTCOMES.get(status),
    }
