"""DossierRepository.get_many on DynamoDB Local: batches of 100, missing codes skipped, duplicates read once; keys
DynamoDB leaves unprocessed (throttling) asked again a bounded number of times, then a 503 through the API."""

import json
from dataclasses import replace

import pytest
from botocore.client import BaseClient
from chalice.test import Client

from app import app
from chalicelib.adapters.dynamodb import dossiers
from chalicelib.bootstrap import deps
from chalicelib.domain.dossier import Actor
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD
from tests.unit.calendars import vn
from tests.units import CENTRE

DESK = Actor("desk.batch", CENTRE, frozenset({"desk"}))


@pytest.fixture(scope="module")
def codes():
    base = deps()
    return [receive_dossier(replace(base, now=lambda i=i: vn(2025, 11, 3, 8, i)), DESK, CRIMINAL_RECORD)["code"]
            for i in range(3)]


def test_batches_skip_missing_codes_and_read_duplicates_once(codes, calls, monkeypatch):
    monkeypatch.setattr(dossiers, "BATCH_GET_KEYS", 2)
    missing = f"{CENTRE}-251103-9999"
    found = deps().dossiers.get_many([*codes, missing, codes[0]])
    assert sorted(d.code for d in found) == sorted(codes)
    assert calls["BatchGetItem"] == 2  # 4 distinct codes, 2 a call
    assert deps().dossiers.get_many([]) == []


def test_keys_left_unprocessed_are_asked_again_then_a_503(codes, monkeypatch, auth):
    original = BaseClient._make_api_call
    answered: list[int] = []

    def throttled(self, operation_name, params):
        result = original(self, operation_name, params)
        if operation_name == "BatchGetItem":
            answered.append(1)
            table, request = next(iter(params["RequestItems"].items()))
            result = {"Responses": {table: []}, "UnprocessedKeys": {table: request}}
        return result

    monkeypatch.setattr(BaseClient, "_make_api_call", throttled)
    monkeypatch.setattr(dossiers.time, "sleep", lambda _: None)
    with pytest.raises(dossiers.BatchIncomplete):
        deps().dossiers.get_many(codes)
    assert len(answered) == dossiers.BATCH_GET_ATTEMPTS
    with Client(app, stage_name="local") as client:
        response = client.http.get(f"/v1/units/{CENTRE}/tracking-book?from=2025-11-03&to=2025-11-03",
                                   headers=auth(CENTRE, "desk"))
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert json.loads(response.body)["error"]["code"] == "unavailable"
