"""Decision 766 indicators per unit, the ranking of the units of a level, and the units not using the system:
all read from the daily counters of services/statistics.py, never from dossiers (docs/statistics.md).

A unit's figures roll up its subtree, as report 06 does. Each unit's own `all` counters are read once per call,
the way report 06 reads them (services/period_sums.py): one Query of its monthly roll-ups up to the month of `to`,
and one Query of daily items per month the period covers in part (at most two).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from ..config import settings
from ..domain import quality_index as qi
from ..domain.catalogue import Procedure, Unit, UnitTree
from ..domain.errors import FieldProblem, InvalidInput
from .period_sums import unit_sums
from .reports import check_period

if TYPE_CHECKING:
    from .deps import Deps

# Counted over the days of the period; the deltas are summed over every day up to its end.
FLOWS = ("received", "received_online", "resolved", "early", "on_time", "late", "resolved_supplement_late",
         "resolved_late_766", "resolved_working_seconds")
DELTAS = {"open": "in_progress", "overdue": "overdue", "open_supplement_late": "open_supplement_late",
          "overdue_supplement_late": "overdue_supplement_late"}
PARALLEL_READS = 8  # below botocore's 10 pooled connections per client
TIE_RULE = ("equal scores (two decimals) share a rank and the next rank skips as many places (1, 2, 2, 4); "
            "within a tie, more dossiers first, then the unit id")


class Counters:
    """One call's reader: each unit's own sums read once, subtrees added up from them."""

    def __init__(self, deps: Deps, from_day: date, to_day: date):
        self._deps, self._from, self._to = deps, from_day, to_day
        self._own: dict[str, tuple[dict[str, int], bool]] = {}
        # Per unit: procedure -> (received for resolution, of them online), and the sync table's figures.
        self._procedures: dict[str, dict[str, tuple[int, int]]] = {}
        self._sync: dict[str, tuple[int, int]] = {}

    def prefetch(self, units: Iterable[str]) -> None:
        """Read these units' counters PARALLEL_READS at a time: a ranking reads every unit of a level, and each
        read is a network round trip (botocore clients are thread-safe; the first read makes the client here)."""
        from concurrent.futures import ThreadPoolExecutor  # only the statistics routes need it: not at cold start

        todo = [u for u in dict.fromkeys(units) if u not in self._own]
        if not todo:
            return
        self.own(todo[0])
        with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
            for unit, result in zip(todo[1:], pool.map(self._read, todo[1:]), strict=True):
                self._own[unit] = result

    def own(self, unit: str) -> tuple[dict[str, int], bool]:
        """The unit's own sums, and whether any dossier event was counted for it on a day of the period."""
        if unit not in self._own:
            self._own[unit] = self._read(unit)
        return self._own[unit]

    def _read(self, unit: str) -> tuple[dict[str, int], bool]:
        sums_by_group = unit_sums(self._deps, unit, self._from, self._to)
        self._procedures[unit] = {
            group.partition("#")[2]: (sums.flow("received_for_resolution"),
                                      sums.flow("received_for_resolution_online"))
            for group, sums in sums_by_group.items() if group.startswith("procedure#")}
        self._sync[unit] = _sync_figures(self._deps, unit)
        counted = sums_by_group.get("all")
        if counted is None:
            return {}, False
        sums = {column: counted.flow(column) for column in FLOWS}
        sums.update({name: counted.at_end(column) for column, name in DELTAS.items()})
        return sums, counted.counted

    def sync_share(self, units: Iterable[str]) -> float | None:
        """1.4: the dossiers of these units' desks synced to the national portal over those it knows (the sync
        table, as it stands: a count of the unit's dossiers, not of the period's)."""
        known = synced = 0
        for unit in units:
            self.own(unit)
            k, s = self._sync.get(unit, (0, 0))
            known, synced = known + k, synced + s
        return synced / known if known else None

    def catalogue(self, units: Iterable[str], procedures: Iterable[Procedure]) -> qi.Catalogue:
        """3.1-3.3's figures: the procedures these units are competent for, those offered online, those with an
        online dossier in the period, and the dossiers received for resolution over the procedures offered."""
        members = list(units)
        mine = [p for p in procedures if set(p.competent_units) & set(members)]
        counts: dict[str, tuple[int, int]] = {}
        for unit in members:
            self.own(unit)
            for code, (received, online) in self._procedures.get(unit, {}).items():
                before = counts.get(code, (0, 0))
                counts[code] = (before[0] + received, before[1] + online)
        offered = {p.code for p in mine if p.online_service}
        return qi.Catalogue(
            procedures=len({p.code for p in mine}), offered=len(offered),
            used=sum(1 for code in offered if counts.get(code, (0, 0))[1] > 0),
            received_offered=sum(counts.get(code, (0, 0))[0] for code in offered),
            online_offered=sum(counts.get(code, (0, 0))[1] for code in offered))

    def values(self, units: Iterable[str], procedures: Iterable[Procedure]) -> dict[str, float | None]:
        members = list(units)
        figures = self.figures(members)
        # Digitisation is measured where the deployment keeps files (docs/documents.md); elsewhere not measured.
        digitisation = (qi.digitisation_indicators(figures) if settings().files.bucket
                        else dict.fromkeys(qi.DIGITISATION_SPECS))
        return {**qi.indicators(figures, self.sync_share(members), self.catalogue(members, procedures)),
                **digitisation}

    def figures(self, units: Iterable[str]) -> qi.Figures:
        total: dict[str, int] = {}
        for unit in units:
            for name, n in self.own(unit)[0].items():
                total[name] = total.get(name, 0) + n
        return qi.Figures.from_counts(total)


def unit_quality(deps: Deps, unit: str, from_day: date, to_day: date) -> dict[str, Any]:
    """The Decision 766 indicators of `unit` and its subtree for the local days [from_day, to_day]."""
    check_period(from_day, to_day)
    tree = deps.catalogue.tree()
    deps.catalogue.unit(unit, "unit")
    counters = Counters(deps, from_day, to_day)
    counters.prefetch(tree.subtree(unit))
    f = counters.figures(tree.subtree(unit))
    values = counters.values(tree.subtree(unit), deps.catalogue.procedures())
    return {"unit": unit, "name": tree.units[unit].name, "from": from_day.isoformat(), "to": to_day.isoformat(),
            **_assessment(f, values), "figures": _figures(f)}


def ranking(deps: Deps, level: str, from_day: date, to_day: date, within: str | None = None,
            visible: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """The units of `level` (in `within`'s subtree, if given) that exist during the period, ranked by score.

    Ranks are computed over every unit of the level, so a unit's rank is the same whoever asks; `visible`
    (a caller who needs a token) keeps only the units they may see."""
    check_period(from_day, to_day)
    tree = deps.catalogue.tree()
    units = _units_of(tree, level, within, from_day, to_day)
    s = settings()
    counters = Counters(deps, from_day, to_day)
    subtrees = {u.id: tree.subtree(u.id) for u in units}
    counters.prefetch(uid for members in subtrees.values() for uid in members)
    figures = {uid: counters.figures(members) for uid, members in subtrees.items()}
    procedures = deps.catalogue.procedures()
    values = {uid: counters.values(members, procedures) for uid, members in subtrees.items()}
    points = dict(s.quality_points)
    indexes = {uid: qi.index(values[uid], points) for uid in figures}
    entries = [qi.Entry(uid, f.processed, indexes[uid]["score"]) for uid, f in figures.items()]
    ranked, apart = qi.rank(entries, s.ranking_min_dossiers)
    show = visible or (lambda _: True)

    def row(entry: qi.Entry) -> dict[str, Any]:
        f = figures[entry.unit]
        return {"unit": entry.unit, "name": tree.units[entry.unit].name, "dossiers": entry.dossiers,
                "received": f.received, "score": entry.score, "indicators": values[entry.unit],
                "measured_points": indexes[entry.unit]["measured_points"],
                # Open at the end of the period, and of those past their due time ("đang xử lý trễ").
                "in_progress": f.in_progress, "overdue": f.overdue}

    def rated(place: int, entry: qi.Entry) -> dict[str, Any]:
        name = _band(indexes[entry.unit], s.ranking_bands)
        return {"rank": place, **row(entry), "band": name, "band_label": qi.BAND_LABELS[name] if name else None}

    def aside(entry: qi.Entry) -> dict[str, Any]:
        reason = "no dossier processed" if entry.score is None else f"fewer than {s.ranking_min_dossiers} dossiers"
        return {**row(entry), "reason": reason}

    return {
        "level": level, "within": within, "from": from_day.isoformat(), "to": to_day.isoformat(),
        "min_dossiers": s.ranking_min_dossiers, "points": points,
        # What the ranking measures of Decision 766's six groups, and what it does not: the score is the points
        # earned out of 100, never rescaled to the groups measured.
        "index": "Quyết định 766/QĐ-TTg", "measured_groups": _measured(points, "measured"),
        "not_measured_groups": _measured(points, "not_measured"),
        "bands": dict(zip(qi.BANDS[:4], s.ranking_bands, strict=True)), "tie_rule": TIE_RULE,
        "ranked_total": len(ranked),
        "ranked": [rated(place, e) for place, e in ranked if show(e.unit)],
        "apart": [aside(e) for e in apart if show(e.unit)],
        # The units of the level with no dossier event counted on their own in the period (as `inactive`).
        "inactive": [{"unit": u.id, "name": u.name} for u in units if show(u.id) and not counters.own(u.id)[1]],
    }


def inactive(deps: Deps, unit: str, from_day: date, to_day: date) -> dict[str, Any]:
    """The units of `unit`'s subtree in operation on some day of the period for which no dossier event was
    counted on any of its days: nothing received at their desk, nothing received, resolved, closed or acted on
    as the competent unit. Units abolished before the period (or created after it) are left out."""
    check_period(from_day, to_day)
    tree = deps.catalogue.tree()
    deps.catalogue.unit(unit, "unit")
    counters = Counters(deps, from_day, to_day)
    counters.prefetch(sorted(tree.subtree(unit)))
    idle = [tree.units[u] for u in sorted(tree.subtree(unit))
            if _exists(tree.units[u], from_day, to_day) and not counters.own(u)[1]]
    return {"unit": unit, "from": from_day.isoformat(), "to": to_day.isoformat(),
            "items": [{"unit": u.id, "name": u.name, "level": u.level, "parent": u.parent} for u in idle]}


def levels(tree: UnitTree) -> list[str]:
    return sorted({u.level for u in tree.units.values()})


def check_scope(tree: UnitTree, level: str, within: str | None) -> None:
    """A level the catalogue has (units carry it as data: domain/catalogue.py) and a unit it knows."""
    known = levels(tree)
    if level not in known:
        raise InvalidInput("unknown level", [FieldProblem("level", f"one of {', '.join(known)}")])
    if within is not None and tree.get(within) is None:
        raise InvalidInput("unknown unit", [FieldProblem("unit", f"no unit {within!r} in the catalogue")])


def _units_of(tree: UnitTree, level: str, within: str | None, from_day: date, to_day: date) -> list[Unit]:
    check_scope(tree, level, within)
    scope = set(tree.subtree(within)) if within else set(tree.units)
    return [u for u in tree.units.values() if u.level == level and u.id in scope and _exists(u, from_day, to_day)]


def _exists(unit: Unit, from_day: date, to_day: date) -> bool:
    """In operation on at least one day of the period (domain/catalogue.py: valid_from, valid_to)."""
    return (unit.valid_from is None or unit.valid_from <= to_day) and (unit.valid_to is None
                                                                        or unit.valid_to >= from_day)


def _assessment(f: qi.Figures, values: dict[str, float | None]) -> dict[str, Any]:
    s = settings()
    index = qi.index(values, dict(s.quality_points))
    name = _band(index, s.ranking_bands)
    return {"indicators": values, "score": index["score"], "band": name,
            "band_label": qi.BAND_LABELS[name] if name else None, "dossiers": f.processed,
            "index": index,
            # 2.2, shown beside the index (it carries no points): the agency's average working hours per result.
            "average_working_hours": qi.average_working_hours(f)}


def _band(index: dict[str, Any], floors: tuple[float, ...]) -> str | None:
    """A band of Decision 766 is given to a complete index only: a score with groups not measured is not comparable
    with the national one's bands (the points it could not earn are not the unit's fault, nor its merit)."""
    if not index["complete"] or index["score"] is None:
        return None
    return qi.band(index["score"], floors)


def _measured(points: dict[str, float], status: str) -> list[str]:
    """The groups the system's data can measure (some indicator of them has points), or those it cannot."""
    measurable = {qi.INDICATOR_SPECS[name].group for name, p in points.items() if p}
    return [g for g in qi.GROUPS if (g in measurable) == (status == "measured")]


def _sync_figures(deps: Deps, unit: str) -> tuple[int, int]:
    """(known, synced) of the unit's desk in the national portal's sync table."""
    figures = deps.sync.unit_figures(unit)
    known = int(figures.get("known") or 0)
    return known, max(0, known - int(figures.get("pending") or 0) - int(figures.get("failing") or 0))


def _figures(f: qi.Figures) -> dict[str, int]:
    return {"received": f.received, "received_online": f.received_online, "resolved": f.resolved,
            "finished_in_time": f.finished_in_time, "resolved_supplement_late": f.resolved_supplement_late,
            "resolved_late_766": f.resolved_late_766,
            "in_progress": f.in_progress, "overdue": f.overdue, "open_supplement_late": f.open_supplement_late,
            "overdue_supplement_late": f.overdue_supplement_late, "open_in_time": f.open_in_time,
            "processed": f.processed}
