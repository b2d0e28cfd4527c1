"""Decision 766 indicators per unit, the ranking of the units of a level, and the units not using the system:
all read from the daily counters of services/statistics.py, never from dossiers (docs/statistics.md).

A unit's figures roll up its subtree, as report 06 does. Each unit's own `all` counters are read once per call,
the way report 06 reads them (services/period_sums.py): its yearly roll-ups, the monthly ones of the years the
period covers in part and the daily items of the months it covers in part.
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
         "resolved_late_766", "resolved_working_seconds", "ended_766", "ended_late_766", "synced")
DELTAS = {"open": "in_progress", "overdue": "overdue", "open_supplement_late": "open_supplement_late",
          "overdue_supplement_late": "overdue_supplement_late"}
# Online payment and satisfaction (domain/counting.py), summed over the days of the period like FLOWS.
VOICE_FLOWS = ("paid", "paid_online", "rated", "rated_dissatisfied")
PARALLEL_READS = 8  # below botocore's 10 pooled connections per client
TIE_RULE = ("equal scores (two decimals) share a rank and the next rank skips as many places (1, 2, 2, 4); "
            "within a tie, more dossiers first, then the unit id")


class Counters:
    """One call's reader: each unit's own sums read once, subtrees added up from them."""

    def __init__(self, deps: Deps, from_day: date, to_day: date):
        self._deps, self._from, self._to = deps, from_day, to_day
        self._own: dict[str, tuple[dict[str, int], bool]] = {}
        # Per unit: procedure -> (received for resolution, of them online).
        self._procedures: dict[str, dict[str, tuple[int, int]]] = {}
        # Per unit: the period's payment and rating flows, and the procedures with a payment made online in it.
        self._voice: dict[str, dict[str, int]] = {}
        self._paid_online: dict[str, set[str]] = {}

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
        self._read_voice(unit, sums_by_group)
        counted = sums_by_group.get("all")
        if counted is None:
            return {}, False
        sums = {column: counted.flow(column) for column in FLOWS}
        sums.update({name: counted.at_end(column) for column, name in DELTAS.items()})
        return sums, counted.counted

    def sync_share(self, units: Iterable[str]) -> float | None:
        """1.4: the dossiers these units' desks received in the period that the national portal has heard of
        (`synced`, booked on the day of receipt) over the dossiers they received in the period. Not measured when
        this system does not push to the portal (MOTCUA_PORTAL_URL unset): its 0 would not be the unit's."""
        if not settings().portal.base_url:
            return None
        f = self.figures(units)
        return min(1.0, f.synced / f.received) if f.received else None

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
        members, offered = list(units), list(procedures)
        figures = self.figures(members)
        voice = self.voice(members)
        # Digitisation is measured where the deployment keeps files (docs/documents.md); elsewhere not measured.
        digitisation = (qi.digitisation_indicators(figures) if settings().files.bucket
                        else dict.fromkeys(qi.DIGITISATION_SPECS))
        return {**qi.indicators(figures, self.sync_share(members), self.catalogue(members, offered)),
                **qi.payment_indicators(self.payments(members, offered)),
                **qi.satisfaction_indicators(figures, voice.get("rated", 0), voice.get("rated_dissatisfied", 0)),
                **digitisation}

    def _read_voice(self, unit: str, sums_by_group: dict[str, Any]) -> None:
        counted = sums_by_group.get("all")
        self._voice[unit] = {name: counted.flow(name) for name in VOICE_FLOWS} if counted is not None else {}
        self._paid_online[unit] = {group.partition("#")[2] for group, sums in sums_by_group.items()
                                   if group.startswith("procedure#") and sums.flow("paid_online") > 0}

    def voice(self, units: Iterable[str]) -> dict[str, int]:
        """The payment and rating flows of these units over the period, summed."""
        total: dict[str, int] = {}
        for unit in units:
            self.own(unit)
            for name, n in self._voice.get(unit, {}).items():
                total[name] = total.get(name, 0) + n
        return total

    def payments(self, units: Iterable[str], procedures: Iterable[Procedure]) -> qi.Payments:
        """3.5-3.6's figures: payments confirmed and those made online; the procedures these units are competent
        for that are offered online with a fee, and of them those with a payment made online in the period."""
        members = list(units)
        voice = self.voice(members)
        with_fee = {p.code for p in procedures if set(p.competent_units) & set(members) and p.online_service
                    and int(p.fee.get("amount") or 0) > 0}
        paid_online = set().union(*(self._paid_online.get(u, set()) for u in members))
        return qi.Payments(paid=voice.get("paid", 0), paid_online=voice.get("paid_online", 0),
                           procedures_with_fee=len(with_fee), procedures_paid_online=len(with_fee & paid_online))

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
    bands = configured_bands()
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
        given = _band(indexes[entry.unit], bands)
        return {"rank": place, **row(entry), "band": given.key if given else None,
                "band_label": given.label if given else None}

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
        # Every band with its floor and label (MOTCUA_RANKING_BANDS, any number), and where the default comes from.
        "bands": [{"band": b.key, "floor": b.floor, "label": b.label} for b in bands],
        "bands_source": qi.BANDS_SOURCE if s.ranking_bands == _DEFAULT_BANDS else {"source": "MOTCUA_RANKING_BANDS",
                                                                                   "status": "configured"},
        "tie_rule": TIE_RULE,
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
    given = _band(index, configured_bands())
    return {"indicators": values, "score": index["score"], "band": given.key if given else None,
            "band_label": given.label if given else None, "dossiers": f.processed,
            "index": index,
            # 2.2, shown beside the index (it carries no points): the agency's average working hours per result.
            "average_working_hours": qi.average_working_hours(f)}


def configured_bands() -> tuple[qi.Band, ...]:
    """The rating bands of the settings (config.py MOTCUA_RANKING_BANDS), highest floor first."""
    return tuple(qi.Band(key, floor, label) for key, floor, label in settings().ranking_bands)


_DEFAULT_BANDS = tuple((b.key, b.floor, b.label) for b in qi.DEFAULT_BANDS)


def _band(index: dict[str, Any], bands: tuple[qi.Band, ...]) -> qi.Band | None:
    """A band of Decision 766 is given to a complete index only: a score with groups not measured is not comparable
    with the national one's bands (the points it could not earn are not the unit's fault, nor its merit)."""
    if not index["complete"] or index["score"] is None:
        return None
    return qi.band(index["score"], bands)


def _measured(points: dict[str, float], status: str) -> list[str]:
    """The groups the system's data can measure (some indicator of them has points), or those it cannot."""
    measurable = {qi.INDICATOR_SPECS[name].group for name, p in points.items() if p}
    return [g for g in qi.GROUPS if (g in measurable) == (status == "measured")]


def _figures(f: qi.Figures) -> dict[str, int]:
    return {"received": f.received, "received_online": f.received_online, "resolved": f.resolved,
            "finished_in_time": f.finished_in_time, "resolved_supplement_late": f.resolved_supplement_late,
            "resolved_late_766": f.resolved_late_766,
            "in_progress": f.in_progress, "overdue": f.overdue, "open_supplement_late": f.open_supplement_late,
            "overdue_supplement_late": f.overdue_supplement_late, "open_in_time": f.open_in_time,
            "processed": f.processed, "ended_766": f.ended_766, "ended_late_766": f.ended_late_766,
            "synced": f.synced}
