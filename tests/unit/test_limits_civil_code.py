"""Limits in calendar days, months and clock hours count as the Civil Code 2015 says (Arts 147-148)."""

import dataclasses
from datetime import timedelta

from chalicelib.domain.dossier import Dossier
from chalicelib.domain.time_limit import LimitUnit, TimeLimit, add_months
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.unit.dossiers import DESK
from tests.units import JUSTICE


def receive(limit: TimeLimit, at):
    base = procedure("2.001417")
    steps = tuple(dataclasses.replace(s, budget=TimeLimit(limit.amount / 100 if limit.unit is not LimitUnit.MONTHS
                                                           else 1, limit.unit))
                  for s in base.steps[:1])
    proc = dataclasses.replace(base, limit=limit, steps=steps)
    dossier, _ = Dossier.receive(
        code=f"{DESK.unit}-260213-0001", procedure=proc, receiving_unit=DESK.unit, competent_unit=JUSTICE,
        channel="direct", applicant={"name": "Nguyễn Văn An"}, form={}, documents=[], actor=DESK, at=at,
        calendar=CALENDAR)
    return dossier


def test_calendar_days_run_from_the_day_after_receipt_and_end_on_the_next_working_day():
    # Fri 13/02/2026 16:00, after the 15:00 hand-over and on the eve of Tết: 15 days end Sat 28/02,
    # moved to the next working day, Mon 02/03, at its close.
    dossier = receive(TimeLimit(15, LimitUnit.CALENDAR_DAYS), vn(2026, 2, 13, 16))
    assert CALENDAR.local(dossier.due_at) == vn(2026, 3, 2, 17)
    assert CALENDAR.local(dossier.clock.started_at) == vn(2026, 2, 14, 0)


def test_calendar_days_ending_on_a_working_day_end_at_its_close():
    dossier = receive(TimeLimit(3, LimitUnit.CALENDAR_DAYS), vn(2026, 3, 16, 9))  # Mon: ends Thu 19/03
    assert CALENDAR.local(dossier.due_at) == vn(2026, 3, 19, 17)


def test_months_end_on_the_corresponding_day_of_the_last_month():
    dossier = receive(TimeLimit(1, LimitUnit.MONTHS), vn(2026, 3, 16, 9))  # Mon 16/03 -> Thu 16/04
    assert CALENDAR.local(dossier.due_at) == vn(2026, 4, 16, 17)
    short = receive(TimeLimit(1, LimitUnit.MONTHS), vn(2026, 3, 31, 9))  # no 31/04: Thu 30/04 is a holiday
    assert CALENDAR.local(short.due_at) == vn(2026, 5, 4, 17)  # 30/04, 01/05, weekend: Mon 04/05
    assert add_months(vn(2026, 1, 31).date(), 1) == vn(2026, 2, 28).date()


def test_clock_hours_run_from_the_instant_of_receipt():
    dossier = receive(TimeLimit(24, LimitUnit.CLOCK_HOURS), vn(2026, 3, 20, 16))  # Fri 16:00 -> Sat 16:00
    assert CALENDAR.local(dossier.due_at) == vn(2026, 3, 21, 16)
    assert dossier.clock.counting.value == "elapsed"
    assert dossier.due_at - dossier.received_at == timedelta(hours=24)


def test_new_units_round_trip_with_their_labels():
    assert TimeLimit.from_dict({"amount": 2, "unit": "months"}).label == "2 tháng"
    assert TimeLimit.from_dict({"amount": 24, "unit": "clock_hours"}).as_dict()["label"] == "24 giờ"
