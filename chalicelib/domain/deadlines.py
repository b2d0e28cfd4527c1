"""What a dossier's deadlines watch: the instants at which something must be flagged, and the settings.

The instants are computed when the dossier's state changes (receipt, a step, a pause, a resume, a restart,
the apology's new appointment, closing), on the calendars that count them, and stored with the dossier.
Waking up later (a timer, the sweep) needs no calendar: it only compares stored instants with the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .calendar import WorkingCalendar
from .time_limit import Counting, TimeLimit

# Flag and watch names (a step's is "step_overdue:<index>").
DUE_SOON = "due_soon"
OVERDUE = "overdue"
STEP_OVERDUE = "step_overdue"
INTAKE_OVERDUE = "intake_overdue"
SUPPLEMENT_OVERDUE = "supplement_overdue"
# Warnings that retire when their instant moves, so the new instant warns once (Dossier.rearm). The other
# flags (overdue, a step's, the intake's) record a lateness that happened: they never retire.
RETIRING = frozenset({DUE_SOON, SUPPLEMENT_OVERDUE})

# A deadline is missed once its instant has passed (a dossier resolved at its due time is on time,
# domain.clock.classify): the overdue watches fire one second after the due time.
AFTER_DUE = timedelta(seconds=1)
_MAX_DAYS_BACK = 3660


@dataclass(frozen=True)
class WatchSettings:
    """How far ahead the province is warned, and how long an online submission may wait at the desk.

    `due_soon_working_hours`: 16 (2 working days) by default. The law has the agency apologise and give a new
    appointment no later than 1 working day before the due time (Decree 61/2018 Art 19; form 04 of Circular
    01/2018): a warning 1 working day ahead would fire at that last legal moment, and no apology made after it
    could be timely. Two working days leave the warned leader a working day to apologise in time.
    `intake_working_hours`: an online submission neither accepted nor refused within this is flagged
    (the province's intake deadline; Decree 61/2018 Art 15 has the desk check a submission promptly).
    """

    due_soon_working_hours: float = 16
    intake_working_hours: float = 8

    def __post_init__(self) -> None:
        for name in ("due_soon_working_hours", "intake_working_hours"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value != value or value < 0 or value > 24 * 365:
                raise ValueError(f"{name} must be a number of working hours between 0 and 8760")

    @property
    def due_soon(self) -> timedelta:
        return timedelta(seconds=round(self.due_soon_working_hours * 3600))

    @property
    def intake(self) -> timedelta:
        return timedelta(seconds=round(self.intake_working_hours * 3600))


def step_flag(index: int) -> str:
    return f"{STEP_OVERDUE}:{index}"


def working_before(calendar: WorkingCalendar, end: datetime, duration: timedelta) -> datetime:
    """The instant `duration` of working time before `end` (the mirror of `add_working`).

    Walks the working periods backwards from `end`'s day; a duration longer than the working time back to
    ten years ago answers the earliest instant reached (a warning that is due at once).
    """
    if duration <= timedelta(0):
        return end
    remaining = duration
    day = calendar.local(end).date()
    earliest = end
    for _ in range(_MAX_DAYS_BACK):
        for start, stop in reversed(calendar.periods_on(day)):
            if start >= end:
                continue
            available = min(stop, end) - start
            if remaining <= available:
                return min(stop, end) - remaining
            remaining -= available
            earliest = start
        day -= timedelta(days=1)
    return earliest


def period_end(calendar: WorkingCalendar, start: datetime, period: TimeLimit) -> datetime:
    """When `period` (a procedure's supplement period) counted from `start` runs out on `calendar`."""
    begin = calendar.next_working_instant(start)
    budget = period.budget_from(calendar, begin)
    if period.counting is Counting.CALENDAR:
        return calendar.add_calendar(start, budget)
    return calendar.add_working(begin, budget)
