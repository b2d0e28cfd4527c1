"""Reading the catalogue, with a short per-container cache (it changes rarely; versions never)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..domain.calendar import CalendarSettings, WorkingCalendar
from ..domain.catalogue import Procedure, Unit, UnitTree
from ..domain.errors import FieldProblem, InvalidInput, NotFound
from .ports import CatalogueStore

if TYPE_CHECKING:
    from ..domain.dossier import Actor


class Catalogue:
    def __init__(self, store: CatalogueStore, national: Callable[[], CalendarSettings], ttl_seconds: float = 60,
                 monotonic: Callable[[], float] = time.monotonic):
        self._store = store
        self._national = national
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._tree: tuple[float, UnitTree] | None = None
        self._versions: dict[tuple[str, int], Procedure] = {}
        self._current: dict[str, tuple[float, Procedure]] = {}
        self._calendars: dict[str, WorkingCalendar] = {}

    def tree(self) -> UnitTree:
        now = self._monotonic()
        if self._tree is None or now - self._tree[0] > self._ttl:
            self._tree = (now, UnitTree(self._store.units()))
        return self._tree[1]

    def unit(self, unit_id: str, field_name: str = "unit") -> Unit:
        unit = self.tree().get(unit_id)
        if unit is None:
            raise InvalidInput("unknown unit", [FieldProblem(field_name, f"no unit {unit_id!r} in the catalogue")])
        return unit

    def active_unit(self, unit_id: str, field_name: str, at: datetime) -> Unit:
        """The unit, refused (naming `field_name`) when it is not in operation on the local day of `at`:
        a unit abolished by the 2025 reform receives no dossier; its successor does."""
        unit = self.unit(unit_id, field_name)
        day = at.astimezone(ZoneInfo(self._national().timezone)).date()
        if unit.active_on(day):
            return unit
        if unit.valid_to is not None and day > unit.valid_to:
            reason = f"unit {unit.id} ceased operating after {unit.valid_to.isoformat()}"
            if unit.successor:
                reason += f"; its successor is {unit.successor}"
        else:
            reason = f"unit {unit.id} operates only from {unit.valid_from.isoformat() if unit.valid_from else ''}"
        raise InvalidInput("unit not in operation", [FieldProblem(field_name, reason)])

    def officer(self, actor: Actor, at: datetime) -> Actor:
        """The token's actor checked against the catalogue on the local day of `at` (domain/access.py
        `check_claims`): an unknown or abolished unit, or no recognised role, is refused (403)."""
        from ..domain.access import check_claims

        day = at.astimezone(ZoneInfo(self._national().timezone)).date()
        return check_claims(actor, self.tree(), day)

    def procedures(self) -> list[Procedure]:
        return sorted(self._store.procedures(), key=lambda p: p.code)

    def procedure(self, code: str, version: int | None = None) -> Procedure:
        """The current version (re-read after the TTL), or a given one (immutable: cached for good)."""
        if version is not None and (code, version) in self._versions:
            return self._versions[(code, version)]
        now = self._monotonic()
        if version is None and code in self._current and now - self._current[code][0] <= self._ttl:
            return self._current[code][1]
        found = self._store.procedure(code, version)
        if found is None:
            raise NotFound(f"no procedure {code}" + (f" version {version}" if version else ""))
        self._versions[(found.code, found.version)] = found
        if version is None:
            self._current[code] = (now, found)
        return found

    def calendar_for(self, unit_id: str, procedure: Procedure | None = None) -> WorkingCalendar:
        """The calendar a unit counts deadlines on: national, overlaid by its ancestors' settings,
        with the procedure's choice on whether the intake cutoff applies to online submissions."""
        return self.calendar_for_settings(_with(self.tree().calendar_for(unit_id, self._national()), procedure))

    def national_calendar(self, procedure: Procedure | None = None) -> WorkingCalendar:
        return self.calendar_for_settings(_with(self._national(), procedure))

    def calendar_for_settings(self, settings: CalendarSettings) -> WorkingCalendar:
        calendar = self._calendars.get(settings.version)
        if calendar is None:
            calendar = self._calendars[settings.version] = WorkingCalendar(settings)
        return calendar


def _with(settings: CalendarSettings, procedure: Procedure | None) -> CalendarSettings:
    """`settings` with the procedure's choice on whether the intake cutoff applies to online submissions."""
    if procedure is None or procedure.intake_cutoff_online is None:
        return settings
    channels = settings.cutoff_channels - {"online"}
    if procedure.intake_cutoff_online:
        channels |= {"online"}
    return dataclasses.replace(settings, cutoff_channels=frozenset(channels))
