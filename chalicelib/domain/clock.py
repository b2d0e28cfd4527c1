"""The clock of a dossier (or of one step): a ledger of start, pauses, restarts and stop.

Due times are computed once, when the clock starts or resumes, and stored: editing a calendar
afterwards never moves a deadline already given to an applicant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC as _UTC
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .calendar import WorkingCalendar
from .time_limit import Counting


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class Outcome(StrEnum):
    EARLY = "early"  # finished on a day before the due date (trước hạn)
    ON_TIME = "on_time"  # finished on the due date, not after the due time (đúng hạn)
    LATE = "late"  # finished after the due time (trễ hạn)


@dataclass(frozen=True)
class ClockEntry:
    event: str  # start | pause | resume | restart | wait | wait_end | stop; reschedule in older ledgers
    at: datetime  # when it happened
    effective_at: datetime  # when it counts from (a working instant for start/resume/restart)
    consumed_seconds: int  # budget used in the current run, as of this entry
    due_at: datetime | None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "at": iso(self.at),
            "effective_at": iso(self.effective_at),
            "consumed_seconds": self.consumed_seconds,
            "due_at": iso(self.due_at),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClockEntry:
        return cls(
            data["event"],
            parse_iso(data["at"]),
            parse_iso(data["effective_at"]),
            int(data["consumed_seconds"]),
            parse_iso(data["due_at"]) if data.get("due_at") else None,
            data.get("reason", ""),
        )


@dataclass
class Clock:
    counting: Counting
    budget: timedelta
    state: ClockState
    running_since: datetime | None
    consumed: timedelta  # used before running_since (or in total once paused/stopped)
    due_at: datetime | None  # None while paused: no deadline runs
    calendar_version: str
    entries: list[ClockEntry] = field(default_factory=list)
    # A step's due time never falls after its dossier's (Decree 61/2018 Art 19: the steps share the
    # procedure's limit): `not_after` is that ceiling, `capped` says the budget would have run past it.
    not_after: datetime | None = None
    capped: bool = False
    # False when the due time was counted across a year with no civil-service decision shipped (public
    # holidays only): the date stands, but a reader is told it was computed without that year's decision.
    confirmed: bool = True

    @classmethod
    def start(
        cls, calendar: WorkingCalendar, at: datetime, effective_at: datetime, budget: timedelta, counting: Counting,
        *, not_after: datetime | None = None,
    ) -> Clock:
        clock = cls(counting, budget, ClockState.RUNNING, effective_at, timedelta(0), None,
                    calendar.settings.version, not_after=not_after)
        clock.due_at = clock._due_from(calendar, effective_at)
        clock._log("start", at, effective_at)
        return clock

    # --- questions --------------------------------------------------------------------------
    def consumed_at(self, calendar: WorkingCalendar, instant: datetime) -> timedelta:
        if self.state is ClockState.RUNNING and self.running_since is not None:
            return self.consumed + self._elapsed(calendar, self.running_since, instant)
        return self.consumed

    def is_overdue(self, now: datetime) -> bool:
        return self.state is ClockState.RUNNING and self.due_at is not None and now > self.due_at

    @property
    def first_started_at(self) -> datetime:
        """When the clock first started: the receipt of the complete dossier, as the law counts it."""
        return next(e.effective_at for e in self.entries if e.event == "start")

    @property
    def started_at(self) -> datetime:
        """Start of the current run: the last start or restart."""
        return next(e.effective_at for e in reversed(self.entries) if e.event in ("start", "restart"))

    @property
    def finished_at(self) -> datetime | None:
        return self.entries[-1].at if self.state is ClockState.STOPPED else None

    @property
    def waiting_since(self) -> datetime | None:
        """When an unlawful supplement request left the dossier with the applicant, while it still waits."""
        for entry in reversed(self.entries):
            if entry.event == "wait_end":
                return None
            if entry.event == "wait":
                return entry.at
        return None

    @property
    def last_due_at(self) -> datetime | None:
        return next((e.due_at for e in reversed(self.entries) if e.due_at is not None), None)

    def working_time(self, calendar: WorkingCalendar, until: datetime) -> timedelta:
        """The time the clock ran over its whole ledger, up to `until`: every run (from a start, resume or restart
        to the next pause or stop), the pauses for the applicant left out, and a restart resetting nothing
        (Decision 766's agency time, not Decree 61's restarted limit)."""
        total, running_from, waiting = timedelta(0), None, False
        for entry in self.entries:
            if entry.event == "wait_end":
                if waiting:
                    running_from, waiting = entry.at, False
                continue
            if entry.event == "wait" and running_from is not None:
                total += self._elapsed(calendar, running_from, max(entry.at, running_from))
                running_from, waiting = None, True
                continue
            if entry.event in ("start", "resume", "restart"):
                if running_from is not None:  # a restart of a running clock: the run so far counts
                    total += self._elapsed(calendar, running_from, max(entry.at, running_from))
                running_from = entry.effective_at
            elif entry.event in ("pause", "stop") and running_from is not None:
                total += self._elapsed(calendar, running_from, max(entry.at, running_from))
                running_from = None
        if running_from is not None and until > running_from:
            total += self._elapsed(calendar, running_from, until)
        return total

    def outcome(self, calendar: WorkingCalendar) -> Outcome | None:
        if self.state is not ClockState.STOPPED or self.finished_at is None:
            return None
        due = self.last_due_at
        if due is None:
            return None
        return classify(calendar, self.finished_at, due)

    # --- changes ----------------------------------------------------------------------------
    def pause(self, calendar: WorkingCalendar, at: datetime, reason: str) -> None:
        self._require(ClockState.RUNNING, "pause")
        self.consumed = self.consumed_at(calendar, at)
        self.running_since = None
        self.state = ClockState.PAUSED
        self.due_at = None
        self._log("pause", at, at, reason)

    def resume(
        self, calendar: WorkingCalendar, at: datetime, effective_at: datetime, *, not_after: datetime | None = None
    ) -> None:
        """Run again with the budget left: the due time moves by the working time spent paused."""
        self._require(ClockState.PAUSED, "resume")
        self.not_after = not_after
        self.state = ClockState.RUNNING
        self.running_since = effective_at
        self.due_at = self._due_from(calendar, effective_at)
        self._log("resume", at, effective_at)

    def restart(
        self, calendar: WorkingCalendar, at: datetime, effective_at: datetime, budget: timedelta, reason: str,
        *, not_after: datetime | None = None,
    ) -> None:
        """Start the full limit again from zero (a complete supplement was received)."""
        if self.state is ClockState.STOPPED:
            raise ValueError("a stopped clock cannot restart")
        self.not_after = not_after
        self.budget = budget
        self.consumed = timedelta(0)
        self.state = ClockState.RUNNING
        self.running_since = effective_at
        self.due_at = self._due_from(calendar, effective_at)
        self._log("restart", at, effective_at, reason)

    def reschedule(self, calendar: WorkingCalendar, at: datetime, due_at: datetime, reason: str) -> None:
        """Move a running clock's due time to a later appointment (the apology, form 04: once per dossier).

        The budget grows by the time between the old and the new due time, counted as the clock counts, so a
        later pause and resume moves the new due time as it would have moved the old one."""
        self._require(ClockState.RUNNING, "reschedule")
        if self.due_at is None or due_at <= self.due_at:
            raise ValueError("a rescheduled due time must be later than the current one")
        self.budget += self._elapsed(calendar, self.due_at, due_at)
        self.due_at = due_at
        self.capped = False
        self.confirmed = calendar.confirmed_between(self.running_since or at, due_at)
        self._log("reschedule", at, at, reason)

    def mark(self, event: str, at: datetime, reason: str = "") -> None:
        """Record the applicant's time without touching the limit: `wait` when an unlawful supplement request
        (a second one, or one outside the window) leaves the dossier with the applicant, `wait_end` when the
        supplement is back. The due time runs on (the agency's fault does not move it); Decision 766's agency
        time (`working_time`) leaves the wait out."""
        if event not in ("wait", "wait_end"):
            raise ValueError(f"unknown mark {event!r}")
        self._log(event, at, at, reason)

    def stop(self, calendar: WorkingCalendar, at: datetime, reason: str) -> None:
        if self.state is ClockState.STOPPED:
            raise ValueError("the clock is already stopped")
        self.consumed = self.consumed_at(calendar, at)
        self.running_since = None
        self.state = ClockState.STOPPED
        self._log("stop", at, at, reason)

    # --- internals --------------------------------------------------------------------------
    def _require(self, state: ClockState, what: str) -> None:
        if self.state is not state:
            raise ValueError(f"cannot {what} a {self.state.value} clock")

    def _elapsed(self, calendar: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
        if self.counting in (Counting.CALENDAR, Counting.ELAPSED):
            return max(end - start, timedelta(0))
        return calendar.working_between(start, end)

    def _due_from(self, calendar: WorkingCalendar, effective_at: datetime) -> datetime:
        remaining = max(self.budget - self.consumed, timedelta(0))
        if self.counting is Counting.CALENDAR:
            due = calendar.add_calendar(effective_at, remaining)
        elif self.counting is Counting.ELAPSED:
            due = (effective_at + remaining).astimezone(_UTC)
        else:
            due = calendar.add_working(effective_at, remaining)
        self.capped = self.not_after is not None and due > self.not_after
        if self.not_after is not None and self.capped:
            due = self.not_after
        # Stamp what the due time was computed with: the calendar's version and whether its years are confirmed.
        self.calendar_version = calendar.settings.version
        self.confirmed = calendar.confirmed_between(effective_at, due)
        return due

    def _log(self, event: str, at: datetime, effective_at: datetime, reason: str = "") -> None:
        self.entries.append(
            ClockEntry(event, at, effective_at, int(self.consumed.total_seconds()), self.due_at, reason)
        )

    # --- persistence shape ------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "counting": self.counting.value,
            "budget_seconds": int(self.budget.total_seconds()),
            "state": self.state.value,
            "running_since": iso(self.running_since),
            "consumed_seconds": int(self.consumed.total_seconds()),
            "due_at": iso(self.due_at),
            "calendar_version": self.calendar_version,
            "entries": [e.as_dict() for e in self.entries],
        }
        if self.not_after is not None:  # step clocks only: dossier clocks stay as small as before
            out.update(not_after=iso(self.not_after), capped=self.capped)
        if not self.confirmed:
            out["confirmed"] = False
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clock:
        return cls(
            Counting(data["counting"]),
            timedelta(seconds=int(data["budget_seconds"])),
            ClockState(data["state"]),
            parse_iso(data["running_since"]) if data.get("running_since") else None,
            timedelta(seconds=int(data["consumed_seconds"])),
            parse_iso(data["due_at"]) if data.get("due_at") else None,
            data["calendar_version"],
            [ClockEntry.from_dict(e) for e in data.get("entries", [])],
            parse_iso(data["not_after"]) if data.get("not_after") else None,
            bool(data.get("capped", False)),
            bool(data.get("confirmed", True)),
        )


def classify(calendar: WorkingCalendar, finished: datetime, due: datetime) -> Outcome:
    """Early: finished on a day before the due date; on time: on the due date, by the due time; late: after it."""
    if finished > due:
        return Outcome.LATE
    if calendar.local(finished).date() < calendar.local(due).date():
        return Outcome.EARLY
    return Outcome.ON_TIME


def iso(instant: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, the storage form of every instant."""
    if instant is None:
        return None
    return instant.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("instants must carry a timezone offset")
    return value.astimezone(_UTC)
