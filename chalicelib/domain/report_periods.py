"""The official reporting periods (Decree 09/2019/NĐ-CP on the reporting regime of state administrative agencies,
Art 12): a period's data runs from the 15th of the month before it to the 14th of its last month.

Presets: `Q1-2026` … `Q4-2026` (quarters), `6M-2026` (the first six months), `9M-2026` (nine months), `Y-2026`
(the year). Q1 2026 is 15/12/2025 – 14/03/2026; the year 2026 is 15/12/2025 – 14/12/2026. A free period
(`from`, `to`) stays possible beside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .errors import FieldProblem, InvalidInput

PRESET = re.compile(r"^(Q[1-4]|6M|9M|Y)-([0-9]{4})$")
_LAST_MONTH = {"6M": 6, "9M": 9, "Y": 12}
_LABELS = {"6M": "6 tháng", "9M": "9 tháng", "Y": "năm"}


@dataclass(frozen=True)
class ReportPeriod:
    from_day: date
    to_day: date
    preset: str | None = None  # the official period it is, None for a free one

    @property
    def label(self) -> str:
        """The period printed on the form: "Kỳ báo cáo: Quý I năm 2026 (từ ngày 15/12/2025 đến ngày 14/03/2026)"."""
        span = f"từ ngày {self.from_day:%d/%m/%Y} đến ngày {self.to_day:%d/%m/%Y}"
        if self.preset is None:
            return f"Kỳ báo cáo ({span})"
        kind, year = self.preset.split("-")
        name = (f"Quý {'I II III IV'.split()[int(kind[1]) - 1]} năm {year}" if kind.startswith("Q")
                else f"Báo cáo {_LABELS[kind]} năm {year}")
        return f"Kỳ báo cáo: {name} ({span})"

    def as_dict(self) -> dict[str, str | None]:
        return {"from": self.from_day.isoformat(), "to": self.to_day.isoformat(), "preset": self.preset,
                "label": self.label, "cut_off": "Nghị định 09/2019/NĐ-CP, Điều 12" if self.preset else None}


def official_period(preset: str) -> ReportPeriod:
    """The days of an official period, with Decree 09/2019 Art 12's cut-off."""
    match = PRESET.match(preset)
    if match is None:
        raise InvalidInput("invalid period", [FieldProblem(
            "period", "Q1-2026 … Q4-2026, 6M-2026, 9M-2026 or Y-2026")])
    kind, year = match.group(1), int(match.group(2))
    if not 2000 <= year <= 2100:
        raise InvalidInput("invalid period", [FieldProblem("period", "a year from 2000 to 2100")])
    last = int(kind[1]) * 3 if kind.startswith("Q") else _LAST_MONTH[kind]
    first = last - 2 if kind.startswith("Q") else 1
    start = date(year - 1, 12, 15) if first == 1 else date(year, first - 1, 15)
    return ReportPeriod(start, date(year, last, 14), preset)
