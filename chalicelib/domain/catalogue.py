"""Units and procedures: the catalogue, which is data entered by administrators, never code."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .calendar import CalendarError, CalendarSettings
from .codes import is_agency_id, is_procedure_code
from .errors import FieldProblem, InvalidInput
from .time_limit import TimeLimit

COMPETENT_UNIT = "$competent"  # a step done by whichever competent unit the dossier goes to
ROLES = ("desk", "processor", "leader", "admin")


@dataclass(frozen=True)
class Unit:
    """A unit (đơn vị) and the local days it exists: the 2025 reform (two-tier local government from
    1 Jul 2025, Law on the Organisation of Local Government 2025) abolished the districts; an abolished
    unit has a `valid_to` and a `successor` that takes over the dossiers it left open."""

    id: str
    name: str
    level: str  # data, not an enum: province, centre, department, district, commune ...
    parent: str | None = None
    successor: str | None = None
    calendar: Mapping[str, Any] | None = None  # overrides of the calendar for this subtree
    valid_from: date | None = None  # first local day in operation; None: always was
    valid_to: date | None = None  # last local day in operation; None: still is

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Unit:
        unit = cls(data["id"], data["name"], data["level"], data.get("parent"), data.get("successor"),
                   data.get("calendar"), _optional_date(data, "valid_from"), _optional_date(data, "valid_to"))
        if not is_agency_id(unit.id):
            reason = f"{unit.id!r} is not a Decision 20/2020 identifier"
            raise InvalidInput("invalid unit", [FieldProblem("id", reason)])
        if unit.valid_from and unit.valid_to and unit.valid_to < unit.valid_from:
            raise InvalidInput("invalid unit", [FieldProblem("valid_to", f"{unit.id}: before valid_from")])
        if unit.successor == unit.id:
            raise InvalidInput("invalid unit", [FieldProblem("successor", f"{unit.id} cannot succeed itself")])
        return unit

    def active_on(self, day: date) -> bool:
        """Whether the unit exists on local day `day` (and may receive dossiers)."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "level": self.level, "parent": self.parent,
                               "valid_from": self.valid_from.isoformat() if self.valid_from else None,
                               "valid_to": self.valid_to.isoformat() if self.valid_to else None}
        if self.successor:
            out["successor"] = self.successor
        if self.calendar:
            out["calendar"] = dict(self.calendar)
        return out


class UnitTree:
    """The unit hierarchy of any depth, with the questions access control and calendars ask."""

    def __init__(self, units: Iterable[Unit]):
        self.units = {u.id: u for u in units}
        self._check()

    def _check(self) -> None:
        for unit in self.units.values():
            if unit.parent and unit.parent not in self.units:
                raise InvalidInput("invalid unit", [FieldProblem("parent", f"{unit.id}: unknown parent {unit.parent}")])
            if unit.successor and unit.successor not in self.units:
                raise InvalidInput("invalid unit", [FieldProblem(
                    "successor", f"{unit.id}: unknown successor {unit.successor}")])
            self.ancestors(unit.id)  # raises on cycles
            self.successors(unit.id)

    def check_calendars(self, national: CalendarSettings) -> None:
        """Refuse, before anything is published, a unit whose calendar overrides cannot be counted on
        (e.g. working periods that do not add up to `hours_per_day`), naming the unit and the setting."""
        for unit_id in sorted(self.units):
            if not self.units[unit_id].calendar:
                continue
            try:
                self.calendar_for(unit_id, national)
            except CalendarError as exc:
                raise InvalidInput("invalid unit calendar", [FieldProblem(
                    f"calendar.{exc.field}", f"{unit_id}: {exc.reason}")]) from exc
            except (ValueError, TypeError, KeyError) as exc:
                raise InvalidInput("invalid unit calendar", [FieldProblem("calendar", f"{unit_id}: {exc}")]) from exc

    def get(self, unit_id: str) -> Unit | None:
        return self.units.get(unit_id)

    def ancestors(self, unit_id: str) -> list[str]:
        """Parents from the nearest up to the root."""
        return self._chain(unit_id, "parent")

    def successors(self, unit_id: str) -> list[str]:
        """The units that took over from `unit_id`, nearest first (a successor may itself be abolished)."""
        return self._chain(unit_id, "successor")

    def _chain(self, unit_id: str, link: str) -> list[str]:
        """The units reached by following `link` (parent or successor) from `unit_id`, refusing a cycle."""
        out: list[str] = []
        current = self.units.get(unit_id)
        while current is not None and getattr(current, link):
            nxt = getattr(current, link)
            if nxt in out or nxt == unit_id:
                raise InvalidInput("invalid unit", [FieldProblem(link, f"cycle through {unit_id}")])
            out.append(nxt)
            current = self.units.get(nxt)
        return out

    def is_within(self, unit_id: str, ancestor_id: str) -> bool:
        return unit_id == ancestor_id or ancestor_id in self.ancestors(unit_id)

    def subtree(self, unit_id: str) -> list[str]:
        return [u for u in self.units if self.is_within(u, unit_id)]

    def calendar_for(self, unit_id: str, national: CalendarSettings) -> CalendarSettings:
        """National settings overlaid by each ancestor's overrides, root first."""
        settings = national
        for uid in [*reversed(self.ancestors(unit_id)), unit_id]:
            unit = self.units.get(uid)
            if unit is not None and unit.calendar:
                settings = CalendarSettings.from_dict(unit.calendar, settings)
        return settings


@dataclass(frozen=True)
class Step:
    name: str
    unit: str  # a unit id, or COMPETENT_UNIT
    role: str  # the role that performs the step within that unit
    budget: TimeLimit

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(data["name"], data.get("unit", COMPETENT_UNIT), data.get("role", "processor"),
                   TimeLimit.from_dict(data["budget"]))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "role": self.role, "budget": self.budget.as_dict()}


@dataclass(frozen=True)
class Procedure:
    code: str
    version: int
    name: str
    field: Mapping[str, str]  # {"code": ..., "name": ...}: lĩnh vực
    competent_units: tuple[str, ...]
    limit: TimeLimit
    steps: tuple[Step, ...]
    form_schema: Mapping[str, Any]
    fee: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # {"amount": VND, "description": ...}
    documents: tuple[Mapping[str, Any], ...] = ()
    # Whether the intake cutoff (15:00) hands online submissions of this procedure on to the next
    # working day: True/False decides it for the procedure, None leaves it to the province's calendar.
    intake_cutoff_online: bool | None = None
    # How long an applicant may take to bring a requested supplement before the dossier is flagged for the
    # desk to stop it or hand it back (a province setting per procedure; None: not watched).
    supplement_period: TimeLimit | None = None
    # The supplement request's window in working days after the day of receipt, and how many notices the law
    # allows (Decree 61/2018 Art 15(2)(a), Art 19(4): one, within 3 working days; sector law may differ, e.g.
    # the Construction Law for building permits allows a further notice).
    supplement_window_working_days: int = 3
    supplement_notices_allowed: int = 1
    # The online service the procedure is offered as (dịch vụ công trực tuyến "partial": một phần, "full": toàn
    # trình), None when it is not offered online: Decision 766's indicators 3.1-3.3 count over it.
    online_service: str | None = None

    @property
    def document_names(self) -> tuple[str, ...]:
        """The names of the documents the procedure asks for: what a supplement request may name as missing."""
        return tuple(str(d["name"]) for d in self.documents if d.get("name"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Procedure:
        try:
            procedure = cls(
                code=data["code"],
                version=int(data.get("version", 1)),
                name=data["name"],
                field=dict(data["field"]),
                competent_units=tuple(data["competent_units"]),
                limit=TimeLimit.from_dict(data["limit"]),
                steps=tuple(Step.from_dict(s) for s in data["steps"]),
                form_schema=data["form_schema"],
                fee=dict(data.get("fee") or {}),
                documents=tuple(data.get("documents", ())),
                intake_cutoff_online=_optional_bool(data.get("intake_cutoff_online"), "intake_cutoff_online"),
                supplement_period=_optional_limit(data.get("supplement_period"), "supplement_period"),
                supplement_window_working_days=_count(data, "supplement_window_working_days", 3, 1, 30),
                supplement_notices_allowed=_count(data, "supplement_notices_allowed", 1, 1, 5),
                online_service=_online_service(data.get("online_service")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidInput("invalid procedure", [FieldProblem("procedure", str(exc))]) from exc
        procedure.check()
        return procedure

    def check(self, hours_per_day: int = 8) -> None:
        problems: list[FieldProblem] = []
        if not is_procedure_code(self.code):
            problems.append(FieldProblem("code", f"{self.code!r} is not a national procedure code"))
        if not self.competent_units:
            problems.append(FieldProblem("competent_units", "at least one competent unit"))
        if not self.steps:
            problems.append(FieldProblem("steps", "at least one processing step"))
        for index, step in enumerate(self.steps):
            if step.role not in ROLES:
                problems.append(FieldProblem(f"steps[{index}].role", f"unknown role {step.role!r}"))
            if step.budget.counting is not self.limit.counting:
                problems.append(FieldProblem(f"steps[{index}].budget",
                                             "counted on a different clock than the procedure's limit"))
        total = sum((s.budget.nominal(hours_per_day) for s in self.steps), start=timedelta(0))
        if total > self.limit.nominal(hours_per_day):
            problems.append(FieldProblem("steps", f"step budgets add up to more than the limit ({self.limit.label})"))
        if problems:
            raise InvalidInput(f"procedure {self.code} is inconsistent", problems)

    def unit_of(self, step: Step, competent_unit: str) -> str:
        return competent_unit if step.unit == COMPETENT_UNIT else step.unit

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "name": self.name,
            "field": dict(self.field),
            "competent_units": list(self.competent_units),
            "limit": self.limit.as_dict(),
            "steps": [s.as_dict() for s in self.steps],
            "fee": dict(self.fee),
            "documents": [dict(d) for d in self.documents],
            "intake_cutoff_online": self.intake_cutoff_online,
            "form_schema": self.form_schema,
            # Only when set: procedures published without it keep their shape.
            **({"supplement_period": self.supplement_period.as_dict()} if self.supplement_period else {}),
            "supplement_window_working_days": self.supplement_window_working_days,
            "supplement_notices_allowed": self.supplement_notices_allowed,
            "online_service": self.online_service,
        }


def _optional_date(data: Mapping[str, Any], name: str) -> date | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput("invalid unit", [FieldProblem(name, f"{data.get('id')}: a date YYYY-MM-DD")]) from exc


def _optional_limit(value: Any, name: str) -> TimeLimit | None:
    if value is None:
        return None
    try:
        return TimeLimit.from_dict(value)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidInput("invalid procedure", [FieldProblem(
            name, f"a time limit ({{\"amount\": n, \"unit\": \"working_days\"}}) or null: {exc}")]) from exc


def _optional_bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InvalidInput("invalid procedure", [FieldProblem(name, "true, false or null")])


def _count(data: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput("invalid procedure", [FieldProblem(name, f"a whole number from {low} to {high}")])
    return value


def _online_service(value: Any) -> str | None:
    if value is None or value in ("partial", "full"):
        return value
    raise InvalidInput("invalid procedure", [FieldProblem("online_service", "partial, full or null")])
