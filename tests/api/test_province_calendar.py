"""A province's own calendar settings apply to its whole subtree, through the API."""

from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.calendar_data import national_settings
from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
from chalicelib.domain.catalogue import Unit
from chalicelib.services.catalogue import Catalogue
from tests.api.helpers import get


def test_province_override_reaches_its_communes():
    repo = CatalogueRepository()
    repo.put_unit(Unit("000.00.00.T99", "Tỉnh thử nghiệm", "province", calendar={
        "calendar_id": "T99", "intake_cutoff": "16:00",
        "days_off": [{"date": "2026-03-17", "reason": "Nghỉ lễ hội của tỉnh"}]}))
    repo.put_unit(Unit("000.01.30.T99", "Xã thử nghiệm", "commune", parent="000.00.00.T99"))
    bootstrap.override(catalogue=Catalogue(repo, national_settings))  # a cold cache that sees the new units
    try:
        with Client(app, stage_name="local") as client:
            status, year = get(client, "/v1/calendar/2026?unit=000.01.30.T99")
            assert status == 200 and year["calendar_id"] == "T99" and year["intake_cutoff"] == "16:00"
            assert {"date": "2026-03-17", "reason": "Nghỉ lễ hội của tỉnh"} in year["non_working_days"]
            # 15:30 is before this province's 16:00 cutoff; 17 Mar is its own day off.
            status, due = get(client, "/v1/calendar/due?start=2026-03-16T15:30:00%2B07:00&days=1&unit=000.01.30.T99")
            assert (due["clock_start"], due["due_at"]) == ("2026-03-16T15:30:00+07:00", "2026-03-18T15:30:00+07:00")
            status, national = get(client, "/v1/calendar/due?start=2026-03-16T15:30:00%2B07:00&days=1")
            assert national["due_at"] == "2026-03-17T17:00:00+07:00"
            assert get(client, "/v1/calendar/2026?unit=000.99.99.X00")[0] == 400
    finally:
        bootstrap.override()
