"""Bad input at the edge: deep JSON, unencodable text, unbounded parameters and forged cursors are 400s that
name the field, before anything is read or written."""

import base64
import json

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.units import CENTRE, JUSTICE


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def _sequence_counter():
    from chalicelib.adapters.dynamodb.models import CounterModel

    return {c.name: c.value for c in CounterModel.scan()}


@pytest.mark.parametrize("depth", [33, 990, 5000, 100_000])
def test_deeply_nested_json_is_a_400_in_any_body(client, auth, depth):
    nested = "[" * depth + "]" * depth
    before = _sequence_counter()
    for path, body in (("/v1/dossiers", f'{{"procedure_code": "2.001417", "form": {nested}}}'),
                       (f"/v1/dossiers/{CENTRE}-260316-0001/actions", f'{{"action": "assign", "note": {nested}}}')):
        status, data = post(client, path, auth(CENTRE, "desk"), body)
        assert status == 400, (path, depth)
        assert data["error"]["message"] == "the JSON is nested too deeply"
        assert data["error"]["details"][0]["field"].startswith(("form", "note", "body"))
    assert _sequence_counter() == before


def test_json_nested_within_the_bound_reaches_the_schema(client, auth):
    nested = {"a": 1}
    for _ in range(20):
        nested = {"a": nested}
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), {**CRIMINAL_RECORD, "note": nested})
    assert status == 400 and data["error"]["details"][0]["field"] == "note"  # a string is expected


@pytest.mark.parametrize(("body", "field"), [
    ({**CRIMINAL_RECORD, "applicant": {**CRIMINAL_RECORD["applicant"], "name": "A\ud800"}}, "applicant.name"),
    ({**CRIMINAL_RECORD, "documents": [{"name": "ok", "copies": 1}, {"name": "\udfff", "copies": 1}]},
     "documents[1].name"),
    ({**CRIMINAL_RECORD, "form": {**CRIMINAL_RECORD["form"], "purpose": "Xin vi\ud83d"}}, "form.purpose"),
    ({**CRIMINAL_RECORD, "note": "x", "\ud800": 1}, "body"),
])
def test_lone_surrogates_in_the_body_are_refused_before_anything_is_written(client, auth, body, field):
    before = _sequence_counter()
    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape "\ud800", as an attacker sends it
    assert "\\ud8" in raw or "\\udf" in raw
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), raw)
    assert status == 400, data
    assert data["error"]["details"][0] == {"field": field,
                                           "reason": "contains an unpaired surrogate (\\ud800-\\udfff)"}
    assert _sequence_counter() == before


def test_a_paired_surrogate_escape_is_an_ordinary_character(client, auth):
    body = {**CRIMINAL_RECORD, "note": "Hồ sơ 😀"}
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), json.dumps(body))  # "\ud83d\ude00"
    assert status == 201
    status, dossier = get(client, f"/v1/dossiers/{data['code']}", auth(CENTRE, "desk"))
    assert status == 200


def test_lone_surrogates_in_query_path_and_headers_are_refused_naming_them(client, auth):
    headers = auth(CENTRE, "desk")
    status, data = get(client, "/v1/dossiers?procedure=2.00141\ud800", headers)
    assert status == 400 and data["error"]["details"][0]["field"] == "procedure"
    status, data = get(client, "/v1/public/dossiers/000.00.24.H56-260316-000\ud800")
    assert status == 400 and data["error"]["details"][0]["field"] == "code"
    status, data = post(client, "/v1/dossiers", {**headers, "Idempotency-Key": "k-\ud800"}, CRIMINAL_RECORD)
    assert status == 400 and data["error"]["details"][0]["field"] == "idempotency-key"


@pytest.mark.parametrize("path", [
    f"/v1/public/dossiers/{CENTRE}-260316-{'1' * 5000}",
    f"/v1/dossiers/{CENTRE}-260316-{'1' * 40}",
    f"/v1/dossiers/{CENTRE}-260316-{'1' * 10}/history",
    f"/v1/public/dossiers/{'9' * 3000}",
    f"/v1/procedures/{'1' * 5000}.001612",
    f"/v1/procedures/{'1' * 12}.001612",
])
def test_path_parameters_are_bounded(client, auth, path):
    status, data = get(client, path, auth(CENTRE, "desk"))
    assert status == 400, data
    assert data["error"]["details"][0]["field"] == "code"


def test_query_parameters_are_bounded(client, auth):
    status, data = get(client, f"/v1/dossiers?cursor={'A' * 5000}", auth(CENTRE, "desk"))
    assert status == 400 and data["error"]["details"][0]["field"] == "cursor"
    status, data = get(client, f"/v1/calendar/due?start={'2' * 5000}&days=1")
    assert status == 400 and data["error"]["details"][0]["field"] == "start"


def _two_pages(client, auth, query=""):
    for _ in range(3):
        receive(client, auth, unit=JUSTICE)
    headers = auth(JUSTICE, "desk")
    status, page = get(client, f"/v1/dossiers?view=received&limit=2{query}", headers)
    assert status == 200 and page["next_cursor"], page
    return headers, page["next_cursor"]


def test_a_cursor_works_for_the_list_that_issued_it(client, auth):
    headers, cursor = _two_pages(client, auth)
    status, page = get(client, f"/v1/dossiers?view=received&limit=2&cursor={cursor}", headers)
    assert status == 200 and page["items"]


@pytest.mark.parametrize("other", ["", "&procedure=2.001417", "&status=received", "&received_from=2026-01-01",
                                   "&overdue=true"])
def test_a_cursor_replayed_with_other_filters_is_refused(client, auth, other):
    headers, cursor = _two_pages(client, auth)
    view = "view=handling" if other == "" else "view=received"
    status, data = get(client, f"/v1/dossiers?{view}&limit=2&cursor={cursor}{other}", headers)
    assert status == 400 and data["error"]["details"][0]["field"] == "cursor"


def test_a_cursor_moved_to_another_unit_is_refused(client, auth):
    _, cursor = _two_pages(client, auth)
    status, data = get(client, f"/v1/dossiers?unit={JUSTICE}&view=received&limit=2&cursor={cursor}",
                       auth(CENTRE, "admin"))
    assert status == 200  # the same list, read by an admin elsewhere: still that list
    status, data = get(client, f"/v1/dossiers?unit={CENTRE}&view=received&limit=2&cursor={cursor}",
                       auth(CENTRE, "admin"))
    assert status == 400 and data["error"]["details"][0]["field"] == "cursor"


def _forge(payload: bytes, mac: bytes = b"\0" * 32) -> str:
    return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    _forge(json.dumps({"code": {"S": f"{JUSTICE}-260316-0001"}}).encode()),
    _forge(json.dumps({"code": 5, "filed_sk": [1]}).encode()),
    _forge(b"[" * 5000 + b"]" * 5000),
    base64.urlsafe_b64encode(json.dumps({"code": {"S": "x"}}).encode()).decode().rstrip("="),
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode().rstrip("=")[:2000],
    "bm90LWEtY3Vyc29y",
    "A",
])
def test_forged_or_malformed_cursors_are_400(client, auth, cursor):
    status, data = get(client, f"/v1/dossiers?view=received&cursor={cursor}", auth(JUSTICE, "desk"))
    assert status == 400, data
    assert data["error"]["details"][0]["field"] == "cursor"


def test_a_validly_signed_cursor_of_the_wrong_shape_is_still_refused():
    from chalicelib.adapters.dynamodb import dossiers
    from chalicelib.domain.errors import InvalidInput
    from chalicelib.services.ports import DossierQuery

    query = DossierQuery(unit=JUSTICE, view="received")
    for key in ({"code": 5}, {"code": {"S": "x"}, "admin": {"S": "y"}}, {"filed_sk": {"S": "x"}},
                {"code": {"S": "x", "N": "1"}}):
        payload = json.dumps(key).encode()
        signed = DossierQuery(unit=JUSTICE, view="received", cursor=_forge(payload, dossiers._mac(query, payload)))
        with pytest.raises(InvalidInput):
            dossiers._decode_cursor(signed)


def test_formats_are_checked_with_the_libraries_lambda_ships():
    from chalicelib.services.forms import schema_problems

    schema = {"type": "object", "properties": {"email": {"type": "string", "format": "email"},
                                               "at": {"type": "string", "format": "date-time"},
                                               "day": {"type": "string", "format": "date"}}}
    problems = schema_problems(schema, {"email": "x@", "at": "2026-03-16 10:00", "day": "2026-02-30"})
    assert {p.field for p in problems} == {"email", "at", "day"}
    assert schema_problems(schema, {"email": "an.nguyen@thanhhoa.gov.vn", "at": "2026-03-16T10:00:00+07:00",
                                    "day": "2026-02-28"}) == []


@pytest.mark.parametrize("value", ["5%0A", "5%0D%0A", "%0A5", "100%0A"])
def test_a_pattern_does_not_take_a_trailing_line_feed(client, auth, value):
    # JSON Schema patterns are ECMA-262: `$` is the end of the text, not "before a final newline" as in Python.
    status, data = get(client, f"/v1/dossiers?view=received&limit={value}", auth(CENTRE, "desk"))
    assert status == 400 and data["error"]["details"][0]["field"] == "limit", data
    assert get(client, "/v1/dossiers?view=received&limit=5", auth(CENTRE, "desk"))[0] == 200
