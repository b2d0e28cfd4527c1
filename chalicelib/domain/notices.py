"""The texts a dossier's deadlines produce, in Vietnamese: the apology letter (form 04) and the notifications.

Pure: a dossier or a plain context in, text out. The notifications consumer renders with `render`, building its
context with `context_from_event`; `apology_letter` is what `GET /v1/dossiers/{code}/apology` serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .calendar import LOCAL_TIMEZONE
from .clock import parse_iso
from .errors import NotFound

if TYPE_CHECKING:
    from .dossier import Dossier
    from .events import DomainEvent

_ZONE = ZoneInfo(LOCAL_TIMEZONE)

APOLOGY_TITLE = "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"
NATIONAL_HEADER = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def local_date(instant: datetime | str | None) -> str:
    """'ngày 30 tháng 3 năm 2026', the way forms write a date."""
    when = _local(instant)
    return f"ngày {when.day} tháng {when.month} năm {when.year}" if when else ""


def local_time(instant: datetime | str | None) -> str:
    """'09 giờ 00 phút, ngày 30 tháng 3 năm 2026'."""
    when = _local(instant)
    return f"{when.hour:02d} giờ {when.minute:02d} phút, {local_date(when)}" if when else ""


def apology_letter(dossier: Dossier, unit_name: str) -> dict[str, Any]:
    """Form 04 of Circular 01/2018/TT-VPCP (carried into Circular 03/2025), Phiếu xin lỗi và hẹn lại ngày trả kết
    quả: the agency that will be late apologises, gives the reason and the new appointment (Decree 61/2018 Art 19).
    `unit_name`: the agency issuing it (the dossier's competent unit). Raises NotFound when none was issued."""
    apology = dossier.apology
    if apology is None:
        raise NotFound(f"dossier {dossier.code} has no apology (form 04): it was never rescheduled")
    applicant = str(dossier.applicant.get("name") or "Ông/Bà")
    old = apology.get("previous_appointment_at") or apology.get("previous_due_at")
    new = apology["new_appointment_at"]
    received = dossier.received_at or dossier.submitted_at
    paragraphs = [
        f"Ngày {local_date(received).removeprefix('ngày ')}, {unit_name} tiếp nhận giải quyết hồ sơ đề nghị "
        f"{dossier.procedure_name} của Ông/Bà, mã hồ sơ {dossier.code}.",
        f"Thời hạn trả kết quả giải quyết hồ sơ theo quy định là {local_time(old)}.",
        f"Tuy nhiên, đến nay {unit_name} chưa thể trả kết quả giải quyết hồ sơ của Ông/Bà đúng hạn. "
        f"Lý do: {apology['reason']}.",
        f"Sự chậm trễ này đã gây phiền hà cho Ông/Bà. {unit_name} xin lỗi Ông/Bà và sẽ trả kết quả giải quyết hồ sơ "
        f"cho Ông/Bà vào {local_time(new)}.",
        "Xin trân trọng cảm ơn sự hợp tác của Ông/Bà./.",
    ]
    issued = apology["issued_at"]
    return {
        "form": "04",
        "title": APOLOGY_TITLE,
        "national_header": list(NATIONAL_HEADER),
        "code": dossier.code,
        "issuing_unit": {"id": dossier.competent_unit, "name": unit_name},
        "addressee": applicant,
        "procedure": {"code": dossier.procedure_code, "name": dossier.procedure_name},
        "received_at": _iso_local(received),
        "previous_appointment_at": _iso_local(old),
        "new_appointment_at": _iso_local(new),
        "reason": apology["reason"],
        "issued_at": _iso_local(issued),
        "issued_by": {"officer": apology.get("issued_by"), "name": apology.get("issued_by_name") or None,
                      "unit": apology.get("issued_by_unit")},
        # Decree 61/2018 Art 19: at the latest one working day before the due time.
        "timely": bool(apology.get("timely")),
        "place_and_date": local_date(issued).capitalize(),
        "salutation": f"Kính gửi: {applicant}",
        "paragraphs": paragraphs,
        "signature": "THỦ TRƯỞNG CƠ QUAN",
        "text": "\n".join([*NATIONAL_HEADER, "", APOLOGY_TITLE, "", f"Kính gửi: {applicant}", "", *paragraphs,
                           "", f"{local_date(issued).capitalize()}", "THỦ TRƯỞNG CƠ QUAN"]),
    }


# Decree 118/2025/NĐ-CP replaced Decree 61/2018/NĐ-CP (as amended by Decree 107/2021) from 1 Jul 2025: a dossier
# received since then is handled under the new decree, one received before under the old one.
DECREE_118_FROM = "2025-07-01"


def legal_basis(received: datetime | str | None) -> str:
    """The one-stop decree a dossier received at `received` is handled under (its citation in notices)."""
    when = _local(received)
    if when is not None and when.date().isoformat() < DECREE_118_FROM:
        return "Nghị định số 61/2018/NĐ-CP (được sửa đổi, bổ sung bởi Nghị định số 107/2021/NĐ-CP)"
    return "Nghị định số 118/2025/NĐ-CP"


# The written notices to the applicant that an officer's act produces (not a deadline): form 02 (supplement
# request, or the one-time guidance on an online submission), the refusal after appraisal, the result ready, the
# stop notice (Decree 118/2025). Each is laid out as its form; `applicant_notice` fills it from the dossier and the
# control-sheet line of the act.
NOTICE_TITLES = {
    "supplement_request": "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    "online_guidance": "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    "refusal": "THÔNG BÁO TỪ CHỐI GIẢI QUYẾT HỒ SƠ",
    "result_ready": "THÔNG BÁO CÓ KẾT QUẢ GIẢI QUYẾT HỒ SƠ",
    "stop": "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
}
NOTICE_FORMS = {"supplement_request": "02", "online_guidance": "02", "refusal": None, "result_ready": None,
                "stop": None}


def applicant_notice(kind: str, dossier: Dossier, details: Mapping[str, Any], at: datetime | str,
                     unit_name: str) -> dict[str, Any]:
    """The written notice `kind` for the applicant of `dossier`, issued at `at` by `unit_name`."""
    if kind not in NOTICE_TITLES:
        raise ValueError(f"unknown notice {kind!r}; known: {', '.join(NOTICE_TITLES)}")
    applicant = str(dossier.applicant.get("name") or "Ông/Bà")
    received = dossier.received_at or dossier.submitted_at
    basis = legal_basis(received)
    head = (f"{unit_name} đã nhận hồ sơ đề nghị {dossier.procedure_name} của Ông/Bà, mã hồ sơ {dossier.code}, "
            f"{local_date(received)}.")
    items = [str(i) for i in details.get("missing_items") or []]
    reasons = [str(r) for r in details.get("reasons") or []] or ([str(details["reason"])] if details.get("reason")
                                                                  else [])
    if kind in ("supplement_request", "online_guidance"):
        body = [head, "Hồ sơ của Ông/Bà cần được bổ sung, hoàn thiện các nội dung sau:",
                *(f"{n}. {item}" for n, item in enumerate(items, 1)),
                *([f"Lý do: {'; '.join(reasons)}."] if reasons else []),
                ("Ông/Bà bổ sung, hoàn thiện hồ sơ trên chính hồ sơ trực tuyến này (cùng mã hồ sơ)."
                 if kind == "online_guidance" else
                 "Thời hạn giải quyết được tính lại từ đầu kể từ khi nhận đủ hồ sơ bổ sung."
                 if details.get("restarts_limit") else
                 "Thời hạn giải quyết không thay đổi; ngày hẹn trả kết quả giữ nguyên."),
                f"Căn cứ: {basis}."]
    elif kind == "refusal":
        body = [head, "Sau khi thẩm định, hồ sơ của Ông/Bà không đủ điều kiện giải quyết.",
                f"Lý do: {'; '.join(reasons)}.", f"Căn cứ: {basis}."]
    elif kind == "result_ready":
        body = [head, f"Hồ sơ đã có kết quả giải quyết. Ông/Bà nhận kết quả tại {unit_name} hoặc theo hình thức đã "
                      "đăng ký.", f"Căn cứ: {basis}."]
    else:
        body = [head, f"Theo đề nghị của Ông/Bà, {unit_name} dừng giải quyết hồ sơ.",
                *([f"Lý do: {'; '.join(reasons)}."] if reasons else []), f"Căn cứ: {basis}."]
    title = NOTICE_TITLES[kind]
    place = local_date(at).capitalize()
    return {
        "kind": kind, "form": NOTICE_FORMS[kind], "title": title, "code": dossier.code, "addressee": applicant,
        "issuing_unit": unit_name, "issued_at": _iso_local(at), "legal_basis": basis, "missing_items": items,
        "reasons": reasons, "paragraphs": body,
        "text": "\n".join([*NATIONAL_HEADER, "", title, "", f"Kính gửi: {applicant}", "", *body, "", place]),
    }


# Each template: (subject, body) with {placeholders}, and the context keys it needs. Instants are given as
# ISO strings or datetimes and written in Asia/Ho_Chi_Minh ("09 giờ 00 phút, ngày 30 tháng 3 năm 2026").
TEMPLATES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "due_soon": (
        "[Sắp đến hạn] Hồ sơ {code}",
        "Hồ sơ {code} ({procedure_name}) sắp đến hạn trả kết quả: {due_at}. Đơn vị đang xử lý: {unit_name}. "
        "Đề nghị hoàn thành đúng hạn; nếu không thể, ban hành Phiếu xin lỗi và hẹn lại ngày trả kết quả "
        "(mẫu 04) chậm nhất 01 ngày làm việc trước thời hạn.",
        ("code", "procedure_name", "due_at", "unit_name"),
    ),
    "overdue": (
        "[Quá hạn] Hồ sơ {code}",
        "Hồ sơ {code} ({procedure_name}) đã quá hạn trả kết quả ({due_at}) mà chưa có kết quả giải quyết. "
        "Đơn vị đang xử lý: {unit_name}.",
        ("code", "procedure_name", "due_at", "unit_name"),
    ),
    "step_overdue": (
        "[Quá hạn bước xử lý] Hồ sơ {code}",
        "Bước \u201c{step_name}\u201d của hồ sơ {code} ({procedure_name}) tại {step_unit_name} đã quá hạn "
        "({step_due_at}). Cán bộ xử lý: {officer}.",
        ("code", "procedure_name", "step_name", "step_unit_name", "step_due_at", "officer"),
    ),
    "intake_overdue": (
        "[Chưa tiếp nhận] Hồ sơ trực tuyến {code}",
        "Hồ sơ trực tuyến {code} ({procedure_name}) nộp lúc {submitted_at} chưa được tiếp nhận hoặc từ chối "
        "trong thời hạn quy định ({deadline_at}). Đơn vị tiếp nhận: {unit_name}.",
        ("code", "procedure_name", "submitted_at", "deadline_at", "unit_name"),
    ),
    "supplement_overdue": (
        "[Quá hạn bổ sung] Hồ sơ {code}",
        "Hồ sơ {code} ({procedure_name}) được yêu cầu bổ sung lúc {requested_at}; đã quá thời hạn bổ sung "
        "({deadline_at}) mà chưa nhận được hồ sơ bổ sung. Bộ phận Một cửa xem xét dừng giải quyết hoặc trả lại "
        "hồ sơ. Đơn vị tiếp nhận: {unit_name}.",
        ("code", "procedure_name", "requested_at", "deadline_at", "unit_name"),
    ),
    "apology_issued": (
        "Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}",
        "Kính gửi {applicant_name}. {unit_name} xin lỗi vì hồ sơ {code} ({procedure_name}) chưa thể trả kết quả "
        "đúng hẹn ({previous_appointment_at}). Lý do: {reason}. Ngày hẹn trả kết quả mới: {appointment_at}.",
        ("code", "procedure_name", "applicant_name", "unit_name", "previous_appointment_at", "reason",
         "appointment_at"),
    ),
    "appointment_changed": (
        "Hẹn lại ngày trả kết quả hồ sơ {code}",
        "Kính gửi {applicant_name}. Ngày hẹn trả kết quả hồ sơ {code} ({procedure_name}) đã thay đổi: "
        "từ {previous_appointment_at} sang {appointment_at}.",
        ("code", "procedure_name", "applicant_name", "previous_appointment_at", "appointment_at"),
    ),
    "digest": (
        "[Tổng hợp {day}] {unit_name}: {overdue_count} hồ sơ quá hạn, {due_soon_count} hồ sơ sắp đến hạn",
        "{unit_name}, {day}.\nHồ sơ quá hạn ({overdue_count}):\n{overdue_lines}\n"
        "Hồ sơ sắp đến hạn ({due_soon_count}):\n{due_soon_lines}",
        ("unit_name", "day", "overdue", "due_soon"),
    ),
}

_INSTANT_KEYS = frozenset({"due_at", "step_due_at", "submitted_at", "deadline_at", "requested_at",
                           "previous_appointment_at", "appointment_at"})


def render(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of the notification `template` with `context`.

    Each template's keys are in TEMPLATES; a missing one is a ValueError naming it (a notification is never
    sent with a hole in it). For "digest", `overdue` and `due_soon` are lists of {"code", "procedure_name",
    "due_at"} and `day` a date or instant."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown notification template {template!r}; known: {', '.join(TEMPLATES)}")
    subject, body, needed = TEMPLATES[template]
    missing = [key for key in needed if context.get(key) in (None, "")]
    if missing:
        raise ValueError(f"notification {template!r} needs: {', '.join(missing)}")
    values = {key: (local_time(value) if key in _INSTANT_KEYS else value) for key, value in context.items()}
    if template == "digest":
        overdue, due_soon = list(context.get("overdue") or []), list(context.get("due_soon") or [])
        day = context["day"]
        values.update(
            day=local_date(day) if isinstance(day, datetime) or "T" in str(day) else f"ngày {_dmy(str(day))}",
            overdue_count=len(overdue), due_soon_count=len(due_soon),
            overdue_lines=_lines(overdue), due_soon_lines=_lines(due_soon))
    return subject.format_map(values), body.format_map(values)


def context_from_event(event: DomainEvent, unit_name: Callable[[str], str],
                       procedure_name: str = "") -> dict[str, Any]:
    """The context `render` needs for the notification of `event`, from the event alone (its snapshot)."""
    data, snapshot = event.data, event.data.get("dossier", {})
    step = data.get("step") or {}
    unit = snapshot.get("handling_unit") or snapshot.get("receiving_unit") or ""
    return {
        "code": event.code,
        "procedure_name": procedure_name or snapshot.get("procedure_code", ""),
        "unit_name": unit_name(str(data.get("issued_by_unit") or unit)) if unit else "",
        "applicant_name": data.get("applicant_name") or "Ông/Bà",
        "due_at": data.get("due_at") or snapshot.get("due_at"),
        "step_name": step.get("name"),
        "step_unit_name": unit_name(str(step["unit"])) if step.get("unit") else None,
        "step_due_at": step.get("due_at"),
        "officer": data.get("officer") or "chưa phân công",
        "submitted_at": data.get("submitted_at") or snapshot.get("submitted_at"),
        "requested_at": data.get("requested_at"),
        "deadline_at": data.get("watched_at"),
        "reason": data.get("reason"),
        "previous_appointment_at": data.get("previous_appointment_at") or data.get("previous_due_at"),
        "appointment_at": data.get("appointment_at") or data.get("new_appointment_at"),
    }


def _lines(items: list[Mapping[str, Any]]) -> str:
    if not items:
        return "- (không có)"
    return "\n".join(f"- {i.get('code')} ({i.get('procedure_name') or i.get('procedure_code') or ''}), "
                     f"hạn {local_time(i.get('due_at'))}" for i in items)


def _dmy(day: str) -> str:
    year, month, date_ = day.split("-")
    return f"{int(date_)}/{int(month)}/{year}"


def _local(instant: datetime | str | None) -> datetime | None:
    if instant is None or instant == "":
        return None
    if isinstance(instant, str):
        instant = parse_iso(instant)
    return instant.astimezone(_ZONE)


def _iso_local(instant: datetime | str | None) -> str | None:
    when = _local(instant)
    return when.isoformat() if when else None
