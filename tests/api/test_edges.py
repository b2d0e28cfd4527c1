"""Auth, malformed input, CORS, catalogue, calendar and health at the HTTP edge."""

import json

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import CRIMINAL_RECORD, get, post
from tests.units import CENTRE


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def test_missing_bad_and_foreign_tokens_get_401(client, auth):
    assert post(client, "/v1/dossiers", {"Content-Type": "application/json"}, CRIMINAL_RECORD)[0] == 401
    bad = {"Authorization": "Bearer abc.def.ghi", "Content-Type": "application/json"}
    status, data = post(client, "/v1/dossiers", bad, CRIMINAL_RECORD)
    assert status == 401 and data["error"]["details"][0]["field"] == "authorization"


def test_roles_are_enforced(client, auth):
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "processor"), CRIMINAL_RECORD)
    assert status == 403 and data["error"]["code"] == "forbidden"


def test_malformed_json_wrong_types_and_oversized_bodies_are_4xx(client, auth):
    headers = auth(CENTRE, "desk")
    status, data = post(client, "/v1/dossiers", headers, "{not json")
    assert status == 400 and data["error"]["details"][0]["field"] == "body"
    status, data = post(client, "/v1/dossiers", headers, {**CRIMINAL_RECORD, "channel": 5})
    assert status == 400 and data["error"]["details"][0]["field"] == "channel"
    status, data = post(client, "/v1/dossiers", headers, [1, 2])
    assert status == 400
    status, data = post(client, "/v1/dossiers", headers, {**CRIMINAL_RECORD, "note": "x" * 300_000})
    assert status == 413
    status, data = post(client, "/v1/dossiers", {**headers, "Content-Type": "text/plain"}, CRIMINAL_RECORD)
    assert status == 415


def test_action_body_names_missing_fields(client, auth):
    status, data = post(client, f"/v1/dossiers/{CENTRE}-260316-0001/actions", auth(CENTRE, "desk"),
                        {"action": "request_supplement", "version": 1})
    assert status == 400 and data["error"]["details"][0]["field"] == "missing_items"


def test_cors_allows_configured_origins_only(client):
    allowed = client.http.get("/v1/health", headers={"Origin": "https://motcua.thanhhoa.gov.vn"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://motcua.thanhhoa.gov.vn"
    other = client.http.get("/v1/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.http.request("OPTIONS", "/v1/dossiers", headers={"Origin": "http://localhost:3000"})
    assert preflight.status_code == 204 and "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]


def test_catalogue_is_public(client):
    status, data = get(client, "/v1/procedures")
    assert status == 200 and len(data["items"]) >= 6
    kinds = {p["limit"]["unit"] for p in data["items"]}
    assert {"same_day", "working_days", "working_hours", "calendar_days"} <= kinds
    status, data = get(client, "/v1/procedures/1.004227")
    assert status == 200 and len({s["unit"] for s in data["steps"]}) == 3
    assert data["form_schema"]["$schema"].endswith("2020-12/schema")
    assert get(client, "/v1/procedures/9.999999")[0] == 404
    assert get(client, "/v1/procedures/abc")[0] == 400
    status, data = get(client, "/v1/units")
    levels = [u["level"] for u in data["items"]]
    assert levels.count("department") >= 3 and levels.count("commune") >= 3 and "centre" in levels


def test_due_preview_and_year_calendar(client):
    status, data = get(client, "/v1/calendar/due?start=2026-03-16T15:30:00%2B07:00&days=3")
    assert status == 200
    assert data["clock_start"] == "2026-03-17T07:00:00+07:00" and data["due_at"] == "2026-03-19T17:00:00+07:00"
    status, data = get(client, "/v1/calendar/due?start=2026-08-21T03:00:00Z&hours=8&unit=000.00.24.H56")
    assert status == 200 and data["due_at"] == "2026-08-22T10:00:00+07:00"
    for bad in ("start=2026-03-16T10:00:00&days=3", "start=2026-03-16T10:00:00Z", "start=x&days=1",
                "start=2026-03-16T10:00:00Z&days=1&hours=2", "start=2026-03-16T10:00:00Z&days=0"):
        assert get(client, f"/v1/calendar/due?{bad}")[0] == 400, bad
    status, data = get(client, "/v1/calendar/2026")
    assert status == 200 and "2026-08-22" in data["make_up_working_days"]
    assert {"date": "2026-08-31", "reason": "Nghỉ hoán đổi (làm bù thứ Bảy 22/8/2026)"} in data["non_working_days"]
    assert get(client, "/v1/calendar/1800")[0] == 400


def test_health_and_openapi(client):
    status, health = get(client, "/v1/health")
    assert status == 200 and health["status"] == "ok" and health["time"].endswith("+07:00")
    status, doc = get(client, "/v1/openapi.json")
    assert status == 200 and doc["openapi"] == "3.1.0"
    from openapi_spec_validator import validate

    validate(doc)


def test_openapi_request_schemas_are_the_files_the_handlers_use(client):
    _, doc = get(client, "/v1/openapi.json")
    from pathlib import Path

    intake = json.loads((Path(__file__).resolve().parents[2] / "schemas/api/dossier-intake.json").read_text())
    intake.pop("$schema")
    assert doc["components"]["schemas"]["DossierIntake"] == intake
    ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert ("POST", "/v1/dossiers/{code}/actions") in ops and ("GET", "/v1/public/dossiers/{code}") in ops
    assert len(ops) == len([r for r in app.routes.values() for m in r if m != "OPTIONS"])
