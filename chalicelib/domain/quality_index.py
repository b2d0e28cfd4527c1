"""Decision 766/QĐ-TTg (23 Jun 2022): the index of service quality, as far as the one-stop system's own data
goes, the rating bands and the ranking of units. Pure: figures in, indicators, scores and ranks out.

Decision 766 scores 100 points in five groups: transparency (công khai, minh bạch), progress and results (tiến
độ, kết quả giải quyết, 20 points), online services (cung cấp dịch vụ trực tuyến, with online payment),
digitisation (số hóa hồ sơ) and satisfaction (mức độ hài lòng). This system holds the dossiers and their clocks,
so it computes two indicators (docs/statistics.md lists the others and the data they need):

- `on_time`: the progress-and-results share, the dossiers finished in time plus those still open within their
  deadline, over the dossiers processed (finished plus still open) in the period. A finished dossier is in time
  when the agency's working time (clock start to result, the applicant's supplement and payment pauses left out)
  stayed within the procedure's original limit and it was not late by the law (`late_766` on dossier.resolved:
  Decree 61's restart of the limit after a lawful supplement request does not apply here); an open one when its
  due time in force has not passed (the law's overdue flag: after a restart that due time is later than the
  index's, docs/statistics.md). A dossier asked for supplements more than once counts late whatever its clock
  says (the law allows one request, Decree 61/2018 Art 15(2)(a)).
- `online`: online dossiers received over all dossiers received.

Each indicator carries points (its group's, by default: the group is represented by the one indicator the system
holds); a unit's score is the points it earns over the points of the indicators it has figures for, out of 100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

INDICATORS = ("on_time", "online")
BANDS = ("excellent", "good", "fair", "average", "weak")
BAND_LABELS = {"excellent": "Xuất sắc", "good": "Tốt", "fair": "Khá", "average": "Trung bình", "weak": "Yếu"}
DEFAULT_POINTS: Mapping[str, float] = {"on_time": 20.0, "online": 22.0}
DEFAULT_BAND_FLOORS: tuple[float, float, float, float] = (90.0, 80.0, 65.0, 50.0)  # excellent, good, fair, average
SCORE_DIGITS = 2  # scores are compared as shown: two decimals


@dataclass(frozen=True)
class Figures:
    """A unit's counters over a period: flows of the period, and point-in-time values at its last day."""

    received: int = 0
    received_online: int = 0
    resolved: int = 0  # early + on_time + late
    early: int = 0
    on_time: int = 0
    late: int = 0
    resolved_supplement_late: int = 0  # of resolved, not late_766: supplements asked more than once
    resolved_late_766: int = 0  # of resolved: the agency's working time over the original limit
    in_progress: int = 0  # open at the end of the period
    overdue: int = 0  # of in_progress: due time passed
    open_supplement_late: int = 0  # of in_progress: supplements asked more than once
    overdue_supplement_late: int = 0  # of in_progress: both overdue and supplement-late

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> Figures:
        return cls(**{name: int(counts.get(name, 0)) for name in cls.__dataclass_fields__})

    @property
    def processed(self) -> int:
        """The on-time share's denominator: finished in the period plus still open at its end."""
        return self.resolved + self.in_progress

    @property
    def finished_in_time(self) -> int:
        """Resolved within the original limit by the agency's working time, and asked for supplements once at
        most (the two sets are disjoint: services/statistics.py)."""
        return max(0, self.resolved - self.resolved_late_766 - self.resolved_supplement_late)

    @property
    def open_in_time(self) -> int:
        """Open, neither overdue nor counted late for their supplements (those both are subtracted once)."""
        late = self.overdue + self.open_supplement_late - self.overdue_supplement_late
        return max(0, self.in_progress - late)


def on_time_share(f: Figures) -> float | None:
    """(finished in time by the agency's working time + open within deadline, both less the supplement-late) /
    (finished + open)."""
    return (f.finished_in_time + f.open_in_time) / f.processed if f.processed else None


def online_share(f: Figures) -> float | None:
    """Online dossiers received / dossiers received (the legal clock started), in the period."""
    return f.received_online / f.received if f.received else None


def indicators(f: Figures) -> dict[str, float | None]:
    return {"on_time": _round(on_time_share(f), 4), "online": _round(online_share(f), 4)}


def score(values: Mapping[str, float | None], points: Mapping[str, float]) -> float | None:
    """Points earned over the points of the indicators with a value, on 100; None when none has one."""
    earned = sum(points[name] * value for name, value in values.items() if value is not None and name in points)
    possible = sum(points[name] for name, value in values.items() if value is not None and name in points)
    return round(100 * earned / possible, SCORE_DIGITS) if possible else None


def band(value: float, floors: Sequence[float] = DEFAULT_BAND_FLOORS) -> str:
    """The rating band of a score: at or above a floor earns that band (floors: excellent, good, fair, average);
    below the last one, weak."""
    for name, floor in zip(BANDS, floors, strict=False):
        if value >= floor:
            return name
    return "weak"


@dataclass(frozen=True)
class Entry:
    unit: str
    dossiers: int  # processed: the on-time share's denominator
    score: float | None


def rank(entries: Sequence[Entry], min_dossiers: int) -> tuple[list[tuple[int, Entry]], list[Entry]]:
    """Rank the units with at least `min_dossiers` dossiers and a score, best first; the others apart.

    Ties: equal scores (as shown, two decimals) share a rank, and the next rank skips as many places
    (1, 2, 2, 4: standard competition ranking); within a tie, more dossiers first (more evidence), then the unit
    id, so the order never depends on how the units were read."""
    ranked = sorted((e for e in entries if e.score is not None and e.dossiers >= min_dossiers),
                    key=lambda e: (-(e.score or 0.0), -e.dossiers, e.unit))
    apart = sorted((e for e in entries if e.score is None or e.dossiers < min_dossiers),
                   key=lambda e: (-e.dossiers, e.unit))
    out: list[tuple[int, Entry]] = []
    for index, entry in enumerate(ranked):
        same = bool(out) and out[-1][1].score == entry.score
        out.append((out[-1][0] if same else index + 1, entry))
    return out, apart


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
