"""The calendar routes: unconfirmed years say so, instants outside the covered years are a 400."""

from urllib.parse import quote

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import get
from tests.units import HAC_THANH


def due(client: Client, start: str, **params: str) -> tuple[int, dict]:
    query = "&".join([f"start={quote(start)}", *(f"{k}={v}" for k, v in params.items())])
    return get(client, f"/v1/calendar/due?{query}")


@pytest.mark.parametrize(("year", "confirmed"), [("2025", True), ("2026", True), ("2027", False), ("2024", False)])
def test_year_says_whether_a_decision_is_shipped(year, confirmed):
    with Client(app, stage_name="local") as client:
        status, data = get(client, f"/v1/calendar/{year}")
    assert status == 200 and data["confirmed"] is confirmed and data["calendar_version"]
    assert type(data["hours_per_working_day"]) is int and data["hours_per_working_day"] == 8  # not 8.0


def test_year_2026_lists_the_culture_day_and_2024_its_make_up_saturday():
    with Client(app, stage_name="local") as client:
        _, y2026 = get(client, "/v1/calendar/2026")
        _, y2024 = get(client, "/v1/calendar/2024")
    assert {"date": "2026-11-24", "reason": "Ngày Văn hóa Việt Nam"} in y2026["non_working_days"]
    assert y2024["make_up_working_days"] == ["2024-05-04"]


@pytest.mark.parametrize(("start", "days", "confirmed"), [
    ("2026-03-16T10:00:00+07:00", "3", True),
    ("2025-12-30T10:00:00+07:00", "5", True),
    ("2026-12-29T10:00:00+07:00", "5", False),  # due in January 2027
    ("2027-03-16T10:00:00+07:00", "1", False),
])
def test_due_time_says_whether_every_year_it_spans_is_confirmed(start, days, confirmed):
    with Client(app, stage_name="local") as client:
        status, data = due(client, start, days=days)
    assert status == 200 and data["confirmed"] is confirmed, data


@pytest.mark.parametrize(("start", "params"), [
    ("0001-01-01T00:00:00+07:00", {"days": "1"}),
    ("0001-01-01T00:00:00+14:00", {"hours": "1"}),
    ("9999-12-31T23:00:00-07:00", {"days": "1"}),
    ("9999-12-31T10:00:00+07:00", {"hours": "9999"}),
    ("9999-12-31T10:00:00+07:00", {"days": "999", "unit": HAC_THANH}),
    ("2100-12-31T10:00:00+07:00", {"days": "999"}),
    ("1999-12-31T10:00:00+07:00", {"days": "1", "channel": "online"}),
])
def test_instants_outside_the_covered_years_are_a_400_naming_start(start, params):
    with Client(app, stage_name="local") as client:
        status, data = due(client, start, **params)
    assert status == 400, data
    assert data["error"]["details"][0]["field"] == "start"
    assert "2000–2100" in data["error"]["details"][0]["reason"]


@pytest.mark.parametrize("year", ["0001", "1999", "2101", "9999", "٢٠٢٦"])  # Arabic-Indic digits too
def test_years_outside_the_covered_range_are_a_400(year):
    with Client(app, stage_name="local") as client:
        status, data = get(client, f"/v1/calendar/{year}?unit={HAC_THANH}")
    assert status == 400 and data["error"]["details"][0]["field"] == "year"
