"""The working-time calendar: due-date preview and a year's days off."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.calendar import FIRST_YEAR, LAST_YEAR, WorkingCalendar
from ..domain.catalogue import Procedure
from ..domain.clock import parse_iso
from ..domain.errors import FieldProblem, InvalidInput, NotFound
from ..domain.time_limit import Counting, LimitUnit, TimeLimit
from ..services.views import local
from .routing import Call, route

bp = Blueprint(__name__)
_OUTSIDE = f"outside the years the calendar covers ({FIRST_YEAR}–{LAST_YEAR})"


def _calendar(unit: str | None, procedure: Procedure | None = None) -> WorkingCalendar:
    catalogue = deps().catalogue
    if unit:
        catalogue.unit(unit)
        return catalogue.calendar_for(unit, procedure)
    return catalogue.national_calendar(procedure)


def _procedure(code: str | None) -> Procedure | None:
    if code is None:
        return None
    try:
        return deps().catalogue.procedure(code)
    except NotFound as exc:
        raise InvalidInput("unknown procedure", [FieldProblem("procedure", exc.message)]) from exc


@route(bp, "GET", "/v1/calendar/due", summary="Clock start and due time of a dossier received at an instant",
       tag="calendar", query="calendar-due-query", response="DuePreview", errors=(400,))
def due_preview(call: Call) -> dict[str, Any]:
    query = call.query()
    try:
        start = parse_iso(query["start"])
    except OverflowError as exc:  # a valid instant whose UTC time leaves the datetime range (0001, 9999)
        raise InvalidInput("invalid start", [FieldProblem("start", _OUTSIDE)]) from exc
    except ValueError as exc:
        raise InvalidInput("invalid start", [FieldProblem("start", "an ISO 8601 instant with an offset")]) from exc
    procedure = _procedure(query.get("procedure"))
    if procedure is not None:
        limit, field = procedure.limit, "procedure"
    elif "days" in query:
        limit, field = TimeLimit(float(query["days"]), LimitUnit.WORKING_DAYS), "days"
    else:
        limit, field = TimeLimit(float(query["hours"]), LimitUnit.WORKING_HOURS), "hours"
    calendar = _calendar(query.get("unit"), procedure)
    try:
        clock_start = limit.start_of_count(calendar, start, query.get("channel", "direct"))
        budget = limit.budget_from(calendar, clock_start, start)
        due = (calendar.add_calendar(clock_start, budget) if limit.counting is Counting.CALENDAR
               else clock_start + budget if limit.counting is Counting.ELAPSED
               else calendar.add_working(clock_start, budget))
        answer = {
            "received_at": local(start),
            "clock_start": local(clock_start),
            "due_at": local(due),
            "limit": limit.as_dict(),
            "calendar_id": calendar.settings.calendar_id,
            "calendar_version": calendar.settings.version,
            # False when a day between receipt and due lies in a year without a shipped decision.
            "confirmed": calendar.confirmed_between(start, due),
        }
    except (ValueError, OverflowError) as exc:
        raise InvalidInput("start is outside the supported range",
                           [FieldProblem("start", f"start plus {field}: {_OUTSIDE}")]) from exc
    return answer


@route(bp, "GET", "/v1/calendar/{year}", summary="A year's non-working days and make-up working days",
       tag="calendar", query="calendar-year-query", response="CalendarYear", errors=(400,),
       path_params={"year": {"type": "string", "pattern": "^(20[0-9]{2}|2100)$", "example": "2026"}})
def calendar_year(call: Call, year: str) -> dict[str, Any]:
    if not (year.isascii() and year.isdigit()) or not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise InvalidInput("invalid year", [FieldProblem("year", f"a year from {FIRST_YEAR} to {LAST_YEAR}")])
    calendar = _calendar(call.query().get("unit"))
    y = int(year)
    s = calendar.settings
    return {
        "year": y,
        "calendar_id": s.calendar_id,
        "timezone": s.timezone,
        "working_hours": [[a.isoformat("minutes"), b.isoformat("minutes")] for a, b in s.periods],
        "hours_per_working_day": s.hours_per_day,
        "intake_cutoff": s.intake_cutoff.isoformat("minutes") if s.intake_cutoff else None,
        "non_working_days": calendar.non_working_days(y),
        "make_up_working_days": calendar.make_up_working_days(y),
        "first_day": date(y, 1, 1).isoformat(),
        # False: no civil-service decision for this year is shipped; counted on public holidays alone.
        "confirmed": calendar.confirmed(y),
        "calendar_version": s.version,
    }
