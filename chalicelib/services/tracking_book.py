"""The tracking book (Sổ theo dõi hồ sơ, form 06 of Circular 01/2018/TT-VPCP, carried into 03/2025) of a
desk for a period: one line per dossier the unit's desk took in (received, refused with form 03, or guided
with form 02), oldest first.

Unlike report 06 it lists dossiers, so it reads them: the unit's received list (the by-receiving-filed index,
the same Query as `GET /v1/dossiers?view=received`), page by page, then the dossiers themselves in batches.
Bounded: a period of at most 366 days (MAX_DAYS: the book lists dossiers, not counters) and at most MAX_ROWS
dossiers, else a 400 naming `to` that asks for a shorter period.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..domain.access import check_may_list
from ..domain.dossier import Actor, Dossier
from ..domain.errors import FieldProblem, InvalidInput, NotFound
from ..domain.status import Status
from .ports import DossierQuery
from .reports import check_period
from .views import local

if TYPE_CHECKING:
    from ..domain.calendar import WorkingCalendar
    from .deps import Deps

MAX_DAYS = 366
MAX_ROWS = 5000  # a month of a busy provincial centre; a Lambda reads and lays them out in a few seconds
PAGE = 500  # dossiers listed per Query of the index

# The remark column: the outcome in the words of the forms; an open dossier is "in progress" (and overdue).
NOTES = {
    "early": "Trả trước hạn", "on_time": "Trả đúng hạn", "late": "Trả quá hạn", "withdrawn": "Rút hồ sơ",
    "stopped": "Dừng giải quyết", "refused": "Từ chối giải quyết", "not_accepted": "Không tiếp nhận (mẫu 03)",
    "guided": "Hướng dẫn bổ sung, hoàn thiện (mẫu 02)",
}


def tracking_book(deps: Deps, actor: Actor, unit: str, from_day: date, to_day: date) -> dict[str, Any]:
    """The book of `unit`'s desk for the local days [from_day, to_day]. Who may list the unit's dossiers
    (domain/access.py: its officers, a leader above it, admins) may read its book."""
    check_period(from_day, to_day)
    if (to_day - from_day).days + 1 > MAX_DAYS:
        raise InvalidInput("period too long", [FieldProblem("to", f"at most {MAX_DAYS} days after from")])
    tree = deps.catalogue.tree()
    book_unit = tree.get(unit)
    if book_unit is None:
        raise NotFound(f"no unit {unit}")
    check_may_list(actor, unit, tree)
    zone = deps.catalogue.national_calendar().zone
    start = datetime.combine(from_day, time(0), zone)
    end = datetime.combine(to_day + timedelta(days=1), time(0), zone)  # the filed range is half-open
    codes = received_codes(deps, unit, start, end)  # the cap is checked before a dossier is read
    now = deps.now()
    calendars: dict[str, WorkingCalendar] = {}

    def calendar(unit_id: str) -> WorkingCalendar:
        if unit_id not in calendars:
            calendars[unit_id] = deps.catalogue.calendar_for(unit_id)
        return calendars[unit_id]

    def name(unit_id: str) -> str:
        found = tree.get(unit_id)
        return found.name if found is not None else unit_id

    rows: list[dict[str, Any]] = []
    for first in range(0, len(codes), PAGE):  # each page's dossiers become lines and are let go
        rows.extend(entry(0, d, calendar(d.receiving_unit), name, now)
                    for d in deps.dossiers.get_many(codes[first:first + PAGE]))
    # Oldest first. Local instants all carry +07:00 (Vietnam has kept it since 1975): as text they sort in time.
    rows.sort(key=lambda row: (row["taken_in_at"], row["code"]))
    for number, row in enumerate(rows, start=1):
        row["number"] = number
    return {"unit": unit, "unit_name": book_unit.name, "from": from_day.isoformat(), "to": to_day.isoformat(),
            "count": len(rows), "rows": rows}


def received_codes(deps: Deps, unit: str, start: datetime, end: datetime, codes: list[str] | None = None,
                   too_many: str = "the unit's desk") -> list[str]:
    """The codes of the dossiers `unit`'s desk received in [start, end), added to `codes`; refused (400) past
    MAX_ROWS in all, before a dossier is read. `too_many` names whose dossiers they are in that refusal."""
    codes = [] if codes is None else codes
    cursor: str | None = None
    while True:
        query = DossierQuery(unit, view="received", filed_from=start, filed_to=end, limit=PAGE, cursor=cursor)
        items, cursor = deps.dossiers.search(query, deps.now())
        codes.extend(item["code"] for item in items)
        if len(codes) > MAX_ROWS:
            raise InvalidInput("too many dossiers", [FieldProblem(
                "to", f"{too_many} took in more than {MAX_ROWS} dossiers in the period: ask for a shorter one")])
        if cursor is None:
            return codes


def _taken_in(dossier: Dossier) -> datetime:
    """When the desk took the dossier in: received (the clock started), or its refusal or guidance slip
    decided at intake, or an online submission not yet accepted."""
    if dossier.received_at is not None:
        return dossier.received_at
    decided = (dossier.intake or {}).get("at")
    return datetime.fromisoformat(decided) if isinstance(decided, str) else dossier.submitted_at


def transferred_at(dossier: Dossier) -> datetime | None:
    """When the dossier went from the desk to the agency that resolves it: the start of its first step at
    another unit; None while it has not (or is resolved where it was received)."""
    for step in dossier.steps:
        if step.unit != dossier.receiving_unit and step.clock is not None and step.clock.started_at is not None:
            return step.clock.started_at
    return None


def entry(number: int, dossier: Dossier, calendar: WorkingCalendar, name: Any, now: datetime) -> dict[str, Any]:
    """One line of the book."""
    applicant = dossier.applicant or {}
    outcome = dossier.outcome(calendar)
    return {
        "number": number,
        "code": dossier.code,
        "procedure": {"code": dossier.procedure_code, "name": dossier.procedure_name},
        "applicant": {"name": applicant.get("name"), "address": applicant.get("address"),
                      "phone": applicant.get("phone")},
        "competent_unit": {"id": dossier.competent_unit, "name": name(dossier.competent_unit)},
        "channel": dossier.channel,
        "taken_in_at": local(_taken_in(dossier)),
        "received_at": local(dossier.received_at),
        "appointment_at": local(dossier.appointment_at),
        "transferred_at": local(transferred_at(dossier)),
        "resolved_at": local(dossier.resolved_at),
        "returned_at": local(dossier.returned_at),
        **dossier.status.as_dict(),
        "outcome": outcome,
        "overdue": dossier.is_overdue(now),
        "rescheduled": dossier.rescheduled,
        "note": note(dossier.status, outcome, dossier.is_overdue(now), dossier.rescheduled),
    }


def note(status: Status, outcome: str | None, overdue: bool, rescheduled: bool) -> str:
    if outcome is not None:
        text = NOTES.get(outcome, outcome)
    elif status is Status.SUBMITTED:
        text = "Chờ tiếp nhận"
    else:
        text = "Đang giải quyết, quá hạn" if overdue else "Đang giải quyết"
    return f"{text}; đã hẹn lại (mẫu 04)" if rescheduled else text
