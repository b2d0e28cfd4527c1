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

Each indicator carries points within its group (settings, cited defaults); a unit's score is the points it earns,
out of 100, never rescaled: a group the data cannot measure is reported as not measured with its points (`index`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The six groups of the national dashboard (Decision 766/QĐ-TTg; ../shared/DECISION-766.md: the decision's five
# groups with online service and online payment apart), 100 points. Points are settings (config.py); these are
# the cited defaults.
GROUPS: Mapping[str, tuple[float, str]] = {
    "transparency": (18.0, "Công khai, minh bạch"),
    "progress": (20.0, "Tiến độ, kết quả giải quyết"),
    "online_service": (12.0, "Cung cấp dịch vụ trực tuyến"),
    "online_payment": (10.0, "Thanh toán trực tuyến"),
    "satisfaction": (18.0, "Mức độ hài lòng"),
    "digitisation": (22.0, "Số hóa hồ sơ"),
}


@dataclass(frozen=True)
class Indicator:
    code: str  # the formula specification's number (1.4, 2.1 ...)
    group: str
    label: str
    formula: str
    full_at: float | None = None  # full points at or above this share; below it, pro rata (None: points x share)


# The indicators the one-stop system's own data supports, each with its official formula and denominator. Default
# points: the sample allocation of a real provincial system (Thanh Hóa: sync 6, progress 20 x ratio, TTHC with
# online service 2, online services with dossiers 4, online dossier share 6), as configuration.
INDICATOR_SPECS: Mapping[str, Indicator] = {
    "sync": Indicator("1.4", "transparency", "Hồ sơ đồng bộ lên Cổng DVCQG",
                      "dossiers received in the period known to the national portal / dossiers received in the "
                      "period, at the unit's desks"),
    "on_time": Indicator("2.1", "progress", "Hồ sơ xử lý trước hạn, đúng hạn",
                         "(finished in time + open within deadline) / (finished + open); finished: a result, "
                         "or a refusal after appraisal, a withdrawal or a stop after receipt"),
    "online_procedures": Indicator("3.1", "online_service", "TTHC cung cấp dịch vụ công trực tuyến",
                                   "procedures offered online (một phần or toàn trình) / procedures of the unit",
                                   full_at=0.8),
    "online_used": Indicator("3.2", "online_service", "Dịch vụ công trực tuyến phát sinh hồ sơ",
                             "procedures offered online with an online dossier received / procedures offered online"),
    "online": Indicator("3.3", "online_service", "Tỷ lệ hồ sơ trực tuyến",
                        "online dossiers received / dossiers received, over the procedures offered online, "
                        "x the sync share", full_at=0.5),
    # Online payment (domain/payments.py). The formula specification names 3.5 and 3.6 without thresholds; the
    # thresholds are the provincial sample's (Thanh Hóa: transactions full at >= 50%, paid online at >= 30%), pro
    # rata below them as 3.1 and 3.3 are. 3.5's "fees payable on the DVCQG" needs the portal's catalogue: not here.
    "payment_procedures": Indicator("3.5", "online_payment", "TTHC phát sinh giao dịch thanh toán trực tuyến",
                                    "procedures offered online with a fee, with a payment made online in the period "
                                    "/ procedures offered online with a fee", full_at=0.5),
    "paid_online": Indicator("3.6", "online_payment", "Hồ sơ thanh toán trực tuyến",
                             "payments confirmed online (DVCQG platform or a payment gateway) / payments confirmed",
                             full_at=0.3),
    # Satisfaction (domain/rating.py): 5.4 = 100% - (late-dossier rate + rate of dossiers rated dissatisfied).
    "satisfaction": Indicator("5.4", "satisfaction", "Mức độ hài lòng trong giải quyết TTHC",
                              "1 - ((processed - in time) / processed + dossiers rated dissatisfied / dossiers "
                              "rated)", full_at=0.9),
}
# Group 4, digitisation (số hóa hồ sơ, 22 points), from the dossiers' files (docs/documents.md): the formula
# specification's 4.1-4.3 as far as the files show them; 4.4 (the citizen's data store on the national portal) and
# 4.5 (population data) need data this system does not hold and stay not measured. Default points: the sample
# allocation of a real provincial system (Thanh Hóa: e-result 6 x ratio, digitised 4 and reuse 2, each full at 80%).
DIGITISATION_SPECS: Mapping[str, Indicator] = {
    "e_result": Indicator("4.1", "digitisation", "Hồ sơ có kết quả điện tử",
                          "dossiers whose result was issued as a file (once each) / dossiers resolved"),
    "digitised": Indicator("4.2", "digitisation", "Hồ sơ được số hóa khi tiếp nhận",
                           "dossiers with every component of the document list digitised (scanned or reused) by "
                           "the receiving unit on the day of receipt / dossiers received", full_at=0.8),
    "reuse": Indicator("4.3", "digitisation", "Hồ sơ tái sử dụng dữ liệu số hóa",
                       "dossiers with a component reused from an earlier dossier / dossiers received", full_at=0.8),
}
INDICATOR_SPECS = {**INDICATOR_SPECS, **DIGITISATION_SPECS}
INDICATORS = tuple(INDICATOR_SPECS)
DEFAULT_POINTS: Mapping[str, float] = {"sync": 6.0, "on_time": 20.0, "online_procedures": 2.0, "online_used": 4.0,
                                       "online": 6.0, "payment_procedures": 2.0, "paid_online": 6.0,
                                       "satisfaction": 6.0}
DIGITISATION_POINTS: Mapping[str, float] = {"e_result": 6.0, "digitised": 4.0, "reuse": 2.0}


@dataclass(frozen=True)
class Band:
    """A rating band: a score at or above `floor` (and below the next band's) earns it."""

    key: str  # a name for programs (the ranking map's colours): lowercase letters and "_"
    floor: float
    label: str


# The default bands: the legend of a real provincial map ("Chất lượng quản trị dịch vụ công", Thanh Hóa): 90-100
# Xuất sắc, 80-90 Tốt, 70-80 Khá, 50-70 Trung bình, below 50 Yếu (../shared/DECISION-766.md). Whether they are
# official is unconfirmed: they are settings (config.py MOTCUA_RANKING_BANDS), any number of them.
DEFAULT_BANDS: tuple[Band, ...] = (Band("excellent", 90.0, "Xuất sắc"), Band("good", 80.0, "Tốt"),
                                   Band("fair", 70.0, "Khá"), Band("average", 50.0, "Trung bình"),
                                   Band("weak", 0.0, "Yếu"))
BANDS_SOURCE = {"source": "chú giải bản đồ \"Chất lượng quản trị dịch vụ công\" của một tỉnh (Thanh Hóa)",
                "status": "unconfirmed: not in the text of Decision 766/QĐ-TTg as read; a setting"}
BANDS = tuple(b.key for b in DEFAULT_BANDS)
BAND_LABELS = {b.key: b.label for b in DEFAULT_BANDS}
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
    resolved_working_seconds: int = 0  # of resolved: the agency's working time to the result, summed
    ended_766: int = 0  # ended without a result: refused after appraisal, withdrawn or stopped after receipt
    ended_late_766: int = 0  # of ended_766: late for the index (domain/counting.py ended_late_766)
    synced: int = 0  # of received: known to the national portal (1.4)
    # Digitisation (counting.py): dossiers with a scanned component, with every component digitised at receipt,
    # with a reused component, with an electronic result; each dossier once.
    digitised: int = 0
    digitised_at_receipt: int = 0
    reused: int = 0
    e_result: int = 0

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> Figures:
        return cls(**{name: int(counts.get(name, 0)) for name in cls.__dataclass_fields__})

    @property
    def processed(self) -> int:
        """The on-time share's denominator: finished in the period (a result, or a refusal after appraisal, a
        withdrawal or a stop after receipt: Decision 766 ends a dossier there too) plus still open at its end."""
        return self.resolved + self.ended_766 + self.in_progress

    @property
    def finished_in_time(self) -> int:
        """Resolved within the original limit by the agency's working time, and asked for supplements once at
        most (the two sets are disjoint: services/statistics.py); plus the dossiers ended without a result that
        were not late for the index."""
        resolved = max(0, self.resolved - self.resolved_late_766 - self.resolved_supplement_late)
        return resolved + max(0, self.ended_766 - self.ended_late_766)

    @property
    def open_in_time(self) -> int:
        """Open, neither overdue nor counted late for their supplements (those both are subtracted once)."""
        late = self.overdue + self.open_supplement_late - self.overdue_supplement_late
        return max(0, self.in_progress - late)


def average_working_hours(f: Figures) -> float | None:
    """2.2: the average processing time, in working hours of the agency (clock start to result, the applicant's
    pauses left out) over the dossiers resolved in the period; None when none was."""
    return round(f.resolved_working_seconds / 3600 / f.resolved, 2) if f.resolved else None


def on_time_share(f: Figures) -> float | None:
    """(finished in time by the agency's working time + open within deadline, both less the supplement-late) /
    (finished + open)."""
    return (f.finished_in_time + f.open_in_time) / f.processed if f.processed else None


def online_share(f: Figures) -> float | None:
    """Online dossiers received / dossiers received (the legal clock started), in the period."""
    return f.received_online / f.received if f.received else None


def indicators(f: Figures, sync: float | None = None, catalogue: Catalogue | None = None
               ) -> dict[str, float | None]:
    """Every indicator the data supports, as a share (None: not measurable for this unit and period)."""
    cat = catalogue or Catalogue()
    online = cat.online_share(sync)
    return {"sync": _round(sync, 4), "on_time": _round(on_time_share(f), 4),
            "online_procedures": _round(cat.offered_share, 4), "online_used": _round(cat.used_share, 4),
            "online": _round(online, 4)}


def digitisation_indicators(f: Figures) -> dict[str, float | None]:
    """Decision 766's digitisation group (4.1-4.3, DIGITISATION_SPECS) as shares; None without a denominator. An
    electronic result counts on the day its file was verified and the dossier on the day it was resolved, so a
    period's share is capped at 1."""
    def share(part: int, whole: int) -> float | None:
        return _round(min(1.0, part / whole), 4) if whole else None

    return {"e_result": share(f.e_result, f.resolved), "digitised": share(f.digitised_at_receipt, f.received),
            "reuse": share(f.reused, f.received)}


@dataclass(frozen=True)
class Catalogue:
    """What the online-service indicators need: the unit's procedures, those offered online, those of them that had
    an online dossier in the period, and the dossiers received over the procedures offered online."""

    procedures: int = 0
    offered: int = 0
    used: int = 0
    received_offered: int = 0  # dossiers received of the procedures offered online
    online_offered: int = 0  # of them, online

    @property
    def offered_share(self) -> float | None:
        return self.offered / self.procedures if self.procedures else None

    @property
    def used_share(self) -> float | None:
        return self.used / self.offered if self.offered else None

    def online_share(self, sync: float | None) -> float | None:
        if not self.received_offered:
            return None
        share = self.online_offered / self.received_offered
        return share * sync if sync is not None else share


def earned(name: str, value: float | None, points: float) -> float | None:
    """The points an indicator earns: pro rata, or full at its threshold and pro rata below it."""
    if value is None:
        return None
    full_at = INDICATOR_SPECS[name].full_at
    ratio = min(1.0, value / full_at) if full_at else value
    return points * ratio


def index(values: Mapping[str, float | None], points: Mapping[str, float],
          group_points: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The Decision 766 index as far as the data goes: each of the six groups with its points, what is measured in
    it and what that earns. A group (or part of one) without data is "not measured" with its points: nothing is
    rescaled, so the score is out of 100 like the national one, and `measured_points` says how much of it was
    measurable. A score published under the decision's name must be comparable with the national one."""
    groups_points = dict(group_points or {g: p for g, (p, _) in GROUPS.items()})
    groups = []
    score, measured = 0.0, 0.0
    for group, (_, label) in GROUPS.items():
        rows: list[dict[str, Any]] = []
        group_measured, group_earned = 0.0, 0.0
        for name, spec in INDICATOR_SPECS.items():
            if spec.group != group or name not in points:
                continue
            got = earned(name, values.get(name), points[name])
            rows.append({"indicator": name, "code": spec.code, "label": spec.label, "formula": spec.formula,
                         "value": values.get(name), "points": points[name],
                         "earned": None if got is None else round(got, SCORE_DIGITS),
                         "full_at": spec.full_at, "status": "measured" if got is not None else "not_measured"})
            if got is not None:
                group_measured += points[name]
                group_earned += got
        total = groups_points[group]
        status = ("not_measured" if group_measured == 0 else "measured" if group_measured >= total else "partial")
        groups.append({"group": group, "label": label, "points": total, "measured_points": group_measured,
                       "earned": round(group_earned, SCORE_DIGITS) if group_measured else None,
                       "status": status, "indicators": rows})
        score += group_earned
        measured += group_measured
    return {"index": "Quyết định 766/QĐ-TTg", "groups": groups,
            "score": round(score, SCORE_DIGITS) if measured else None,
            "measured_points": round(measured, SCORE_DIGITS), "max_points": sum(groups_points.values()),
            "complete": measured >= sum(groups_points.values()),
            "measured_groups": [g["group"] for g in groups if g["status"] != "not_measured"],
            "not_measured_groups": [g["group"] for g in groups if g["status"] == "not_measured"]}


def score(values: Mapping[str, float | None], points: Mapping[str, float]) -> float | None:
    """The points earned, out of 100, never rescaled to the indicators measured; None when none has a value."""
    return index(values, points)["score"]


def band(value: float, bands: Sequence[Band] = DEFAULT_BANDS) -> Band | None:
    """The rating band of a score: the band with the highest floor at or below it (a score on a floor is in the
    band above); None below the lowest floor. Any number of bands, in any order."""
    for b in sorted(bands, key=lambda b: -b.floor):
        if value >= b.floor:
            return b
    return None


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


@dataclass(frozen=True)
class Payments:
    """What the online-payment indicators need: payments confirmed in the period and those made online, and the
    procedures offered online with a fee, and of them those with an online payment in the period."""

    paid: int = 0
    paid_online: int = 0
    procedures_with_fee: int = 0
    procedures_paid_online: int = 0


def payment_indicators(p: Payments) -> dict[str, float | None]:
    """3.5 (procedures with online payment transactions) and 3.6 (dossiers paid online), as shares. Both are not
    measured when no payment at all was confirmed in the period: the payments are not in the data then."""
    if not p.paid:
        return {"payment_procedures": None, "paid_online": None}
    return {"payment_procedures": _round(p.procedures_paid_online / p.procedures_with_fee
                                         if p.procedures_with_fee else None, 4),
            "paid_online": _round(p.paid_online / p.paid if p.paid else None, 4)}


def satisfaction_indicators(f: Figures, rated: int, dissatisfied: int) -> dict[str, float | None]:
    """5.4: 100% less the late-dossier rate (the complement of the progress share) and the rate of dossiers rated
    dissatisfied, floored at 0; not measured without a rating in the period (no one was asked) or a dossier
    processed."""
    progress = on_time_share(f)
    if not rated or progress is None:
        return {"satisfaction": None}
    return {"satisfaction": _round(max(0.0, 1 - ((1 - progress) + dissatisfied / rated)), 4)}
