"""Official reporting periods with Decree 09/2019 Art 12's cut-off."""

from datetime import date

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.report_periods import ReportPeriod, official_period


@pytest.mark.parametrize(("preset", "first", "last"), [
    ("Q1-2026", date(2025, 12, 15), date(2026, 3, 14)), ("Q2-2026", date(2026, 3, 15), date(2026, 6, 14)),
    ("Q4-2026", date(2026, 9, 15), date(2026, 12, 14)), ("6M-2026", date(2025, 12, 15), date(2026, 6, 14)),
    ("9M-2026", date(2025, 12, 15), date(2026, 9, 14)), ("Y-2026", date(2025, 12, 15), date(2026, 12, 14)),
])
def test_presets_cut_from_the_15th_of_the_month_before_to_the_14th_of_the_last(preset, first, last):
    period = official_period(preset)
    assert (period.from_day, period.to_day) == (first, last)


def test_the_period_is_printed():
    assert official_period("Q1-2026").label == "Kỳ báo cáo: Quý I năm 2026 (từ ngày 15/12/2025 đến ngày 14/03/2026)"
    assert ReportPeriod(date(2019, 1, 21), date(2021, 3, 3)).label.endswith("(từ ngày 21/01/2019 đến ngày 03/03/2021)")
    with pytest.raises(InvalidInput):
        official_period("Q5-2026")
