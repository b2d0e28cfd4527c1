"""Text that prints deceptively on a receipt or a letter, names with nothing in them, bodies that only claim to
be JSON, preflights: each refused or answered before anything is written, naming the field."""

import json

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import CRIMINAL_RECORD, post
from tests.units import CENTRE


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def _with_name(name: str) -> dict:
    return {**CRIMINAL_RECORD, "applicant": {**CRIMINAL_RECORD["applicant"], "name": name}}


@pytest.mark.parametrize(("body", "field"), [
    (_with_name("Nguyễn\u0000Văn An"), "applicant.name"),
    (_with_name("\u202eNguyễn Văn An"), "applicant.name"),
    (_with_name("\ufeffNguyễn Văn An"), "applicant.name"),
    ({**CRIMINAL_RECORD, "note": "ghi chú\u0007"}, "note"),
])
def test_control_and_direction_characters_are_refused_naming_the_field(client, auth, body, field):
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), body)
    assert status == 400, data
    assert data["error"]["details"][0]["field"] == field and "U+" in data["error"]["details"][0]["reason"]


def test_a_name_is_one_line_and_the_reason_says_what_is_expected(client, auth):
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), _with_name("Nguyễn Văn An\r\nKính gửi"))
    assert status == 400 and data["error"]["details"][0]["field"] == "applicant.name", data
    assert data["error"]["details"][0]["reason"].endswith("one line, with at least one letter or digit")


def test_line_breaks_and_tabs_stay_allowed_in_notes(client, auth):
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), {**CRIMINAL_RECORD, "note": "Dòng 1\n\tDòng 2"})
    assert status == 201, data


@pytest.mark.parametrize("name", [" ", "\u200b", "...", "\u3000"])
def test_a_name_without_a_letter_or_digit_is_refused(client, auth, name):
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), _with_name(name))
    assert status == 400 and data["error"]["details"][0]["field"] == "applicant.name", data


def test_a_document_name_of_blanks_is_refused(client, auth):
    body = {**CRIMINAL_RECORD, "documents": [{"name": "   ", "copies": 1}]}
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), body)
    assert status == 400 and data["error"]["details"][0]["field"] == "documents[0].name", data


@pytest.mark.parametrize("content_type", ["application/notjson; x=json", "text/json-ish", "application/jsonp"])
def test_only_a_json_media_type_is_json(client, auth, content_type):
    headers = {**auth(CENTRE, "desk"), "Content-Type": content_type}
    status, data = post(client, "/v1/dossiers", headers, CRIMINAL_RECORD)
    assert status == 415 and data["error"]["details"][0]["field"] == "content-type", data


def test_a_json_media_type_with_parameters_is_json(client, auth):
    headers = {**auth(CENTRE, "desk"), "Content-Type": "application/json; charset=utf-8"}
    assert post(client, "/v1/dossiers", headers, CRIMINAL_RECORD)[0] == 201


def test_a_number_too_long_to_read_is_a_400_without_the_parsers_internals(client, auth):
    raw = json.dumps(CRIMINAL_RECORD).replace('"copies": 1', '"copies": ' + "9" * 5000)
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), raw)
    assert status == 400 and data["error"]["details"][0]["field"] == "body", data
    assert "set_int_max_str_digits" not in json.dumps(data)


@pytest.mark.parametrize("origin", ["http://localhost:3000", "https://evil.example", None])
def test_preflights_carry_a_request_id_and_vary_on_origin(client, origin):
    headers = {"Access-Control-Request-Method": "POST", **({"Origin": origin} if origin else {})}
    response = client.http.request("OPTIONS", "/v1/dossiers", headers=headers)
    assert response.status_code == 204
    assert response.headers.get("X-Request-Id") and response.headers.get("Vary") == "Origin"
    allowed = response.headers.get("Access-Control-Allow-Origin")
    assert allowed == (origin if origin == "http://localhost:3000" else None)
