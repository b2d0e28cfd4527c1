"""Dossier routes through chalice.test.Client, against DynamoDB Local."""

import json

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.unit.calendars import vn
from tests.units import CENTRE, DONG_SON, HAC_THANH, JUSTICE, LAND, PROVINCE


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def test_intake_returns_code_statuses_times_and_the_receipt(client, auth, frozen_now):
    frozen_now(vn(2026, 3, 16, 10))
    data = receive(client, auth)
    assert data["code"].startswith(f"{CENTRE}-260316-")
    assert (data["status"], data["national_code"], data["label"]) == ("received", 2, "Được tiếp nhận")
    assert data["received_at"] == "2026-03-16T10:00:00+07:00"
    assert data["due_at"] == data["appointment_at"] == "2026-03-30T10:00:00+07:00"
    receipt = data["receipt"]
    assert receipt["form"] == "01" and receipt["appointment_at"] == data["due_at"]
    assert receipt["applicant_name"] == "Nguyễn Văn An" and receipt["limit"] == "10 ngày làm việc"


def test_online_intake_starts_at_status_1_and_is_accepted_by_the_desk(client, auth):
    data = receive(client, auth, {**CRIMINAL_RECORD, "channel": "online"})
    assert data["national_code"] == 1 and data["due_at"] is None
    status, data = post(client, f"/v1/dossiers/{data['code']}/actions", auth(CENTRE, "desk"),
                        {"action": "accept", "version": 1})
    assert status == 200 and data["national_code"] == 2 and data["due_at"]


def test_codes_count_up_per_unit_per_day(client, auth, frozen_now):
    frozen_now(vn(2026, 5, 4, 9))
    first = receive(client, auth, unit=JUSTICE)["code"]
    second = receive(client, auth, unit=JUSTICE)["code"]
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1
    frozen_now(vn(2026, 5, 5, 9))
    assert receive(client, auth, unit=JUSTICE)["code"] == f"{JUSTICE}-260505-0001"


def test_the_code_carries_the_local_receipt_date(client, auth, frozen_now):
    from datetime import UTC, datetime

    frozen_now(datetime(2026, 5, 6, 18, 30, tzinfo=UTC))  # 01:30 on 7 May in Vietnam
    data = receive(client, auth, unit=JUSTICE)
    assert data["code"] == f"{JUSTICE}-260507-0001"
    assert data["received_at"] == "2026-05-07T01:30:00+07:00"
    assert data["due_at"] == "2026-05-20T17:00:00+07:00"  # from 07:00 Thu 7 May: the 10th working day closes


def test_form_is_validated_against_the_procedure_schema(client, auth):
    body = {**CRIMINAL_RECORD, "form": {"full_name": "An", "form_number": 3}}
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), body)
    assert status == 400
    fields = {d["field"] for d in data["error"]["details"]}
    assert {"form.date_of_birth", "form.purpose", "form.form_number"} <= fields


def test_unknown_procedure_and_incompetent_unit_are_named(client, auth):
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), {**CRIMINAL_RECORD, "procedure_code": "9.999999"})
    assert status == 400 and data["error"]["details"][0]["field"] == "procedure_code"
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), {**CRIMINAL_RECORD, "competent_unit": LAND})
    assert status == 400 and data["error"]["details"][0]["field"] == "competent_unit"


def test_several_competent_units_need_a_choice_at_the_centre(client, auth):
    body = {"procedure_code": "1.004873", "channel": "direct", "applicant": {"name": "Lê Văn Cường"},
            "form": {"full_name": "Lê Văn Cường", "date_of_birth": "1995-01-01", "purpose": "Kết hôn"}}
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), body)
    assert status == 400 and data["error"]["details"][0]["field"] == "competent_unit"
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), {**body, "competent_unit": DONG_SON})
    assert status == 201 and data["handling_unit"] == DONG_SON


def test_idempotency_key_returns_the_same_dossier_and_refuses_a_changed_body(client, auth):
    headers = {**auth(CENTRE, "desk"), "Idempotency-Key": "desk-retry-001"}
    status1, first = post(client, "/v1/dossiers", headers, CRIMINAL_RECORD)
    status2, again = post(client, "/v1/dossiers", headers, CRIMINAL_RECORD)
    assert status1 == status2 == 201 and first["code"] == again["code"]
    changed = {**CRIMINAL_RECORD, "note": "khác"}
    status, data = post(client, "/v1/dossiers", headers, changed)
    assert status == 422 and data["error"]["details"][0]["field"] == "Idempotency-Key"


def test_stale_version_forbidden_action_and_other_unit(client, auth):
    code = receive(client, auth)["code"]
    path = f"/v1/dossiers/{code}/actions"
    status, data = post(client, path, auth(JUSTICE, "processor"), {"action": "assign", "version": 7})
    assert status == 409 and data["error"]["current_version"] == 1
    status, data = post(client, path, auth(CENTRE, "desk"), {"action": "return_result", "version": 1})
    assert status == 422 and "withdraw" in data["error"]["allowed_actions"]
    status, data = post(client, path, auth(LAND, "processor"), {"action": "assign", "version": 1})
    assert status == 403
    status, data = get(client, f"/v1/dossiers/{code}", auth(LAND, "processor"))
    assert status == 403


def test_the_receiving_centre_does_not_act_on_the_agencys_steps(client, auth):
    """The centre received the dossier; its steps are the Department of Justice's: the centre's leader may
    neither take nor sign them (assign, complete, resolve, refuse, ask for the fee, apologise)."""
    code = receive(client, auth)["code"]
    path = f"/v1/dossiers/{code}/actions"
    centre_leader = auth(CENTRE, "leader", "processor", sub="gd.trung")
    for body in ({"action": "assign", "officer": "gd.trung"}, {"action": "request_payment"},
                 {"action": "refuse", "reasons": ["Không đủ điều kiện"]},
                 {"action": "apologize", "reason": "x", "new_appointment_at": "2026-04-10T09:00:00+07:00"}):
        status, data = post(client, path, centre_leader, {**body, "version": 1})
        assert status == 403, (body, data)
        assert JUSTICE in data["error"]["message"] and "current step" in data["error"]["message"]
    status, data = post(client, path, auth(JUSTICE, "processor", sub="cv.binh"), {"action": "assign", "version": 1})
    assert status == 200, data
    status, data = post(client, path, auth(JUSTICE, "processor", sub="cv.binh"),
                        {"action": "complete_step", "version": data["version"]})
    assert status == 200 and data["steps"][data["current_step"]]["role"] == "leader", data
    version = data["version"]
    for body in ({"action": "resolve", "result": {"summary": "Phiếu LLTP do Trung tâm ký"}},
                 {"action": "complete_step"}):
        status, data = post(client, path, centre_leader, {**body, "version": version})
        assert status == 403 and JUSTICE in data["error"]["message"], (body, data)
    # A processor of the agency may not refuse at its leader's signing step either.
    status, data = post(client, path, auth(JUSTICE, "processor"), {"action": "refuse", "version": version,
                                                                    "reasons": ["Không đủ điều kiện"]})
    assert status == 403 and "leader" in data["error"]["message"], data
    # The desk's own acts stay the centre's; a leader above the agency signs.
    status, data = post(client, path, auth(PROVINCE, "leader", sub="ct.tinh"),
                        {"action": "resolve", "version": version, "result": {"summary": "Phiếu LLTP số 1"}})
    assert status == 200 and data["status"] == "resolved", data
    status, data = post(client, path, auth(CENTRE, "desk"), {"action": "return_result", "version": data["version"]})
    assert status == 200, data


def test_leaders_see_their_subtree_and_admins_everything(client, auth):
    code = receive(client, auth)["code"]
    assert get(client, f"/v1/dossiers/{code}", auth(PROVINCE, "leader"))[0] == 200
    assert get(client, f"/v1/dossiers/{code}", auth(HAC_THANH, "leader"))[0] == 403
    assert get(client, f"/v1/dossiers/{code}", auth(HAC_THANH, "admin"))[0] == 200
    assert get(client, f"/v1/dossiers?unit={JUSTICE}", auth(PROVINCE, "leader"))[0] == 200
    assert get(client, f"/v1/dossiers?unit={JUSTICE}", auth(HAC_THANH, "processor"))[0] == 403


def test_history_is_the_control_sheet(client, auth):
    code = receive(client, auth)["code"]
    post(client, f"/v1/dossiers/{code}/actions", auth(JUSTICE, "processor", sub="cv.binh"),
         {"action": "assign", "version": 1})
    status, data = get(client, f"/v1/dossiers/{code}/history", auth(CENTRE, "desk"))
    assert status == 200 and data["form"] == "05"
    assign = data["entries"][1]
    assert assign["officer"] == "cv.binh" and assign["officer_unit"] == JUSTICE
    assert assign["from_status"]["national_code"] == 2 and assign["to_status"]["national_code"] == 4
    assert assign["step_name"] and assign["step_due_at"].endswith("+07:00")


def test_list_filters_and_bad_filters(client, auth, frozen_now):
    frozen_now(vn(2026, 6, 1, 9))
    code = receive(client, auth, unit=JUSTICE)["code"]
    headers = auth(JUSTICE, "desk")
    status, data = get(client, "/v1/dossiers?view=received&received_from=2026-06-01&received_to=2026-06-01",
                       headers)
    assert status == 200 and code in {i["code"] for i in data["items"]}
    assert all(i["national_code"] == 2 for i in data["items"])
    status, data = get(client, "/v1/dossiers?status=received&procedure=2.001417", headers)
    assert status == 200 and code in {i["code"] for i in data["items"]}
    frozen_now(vn(2026, 7, 1, 9))
    status, data = get(client, "/v1/dossiers?overdue=true", headers)
    assert status == 200 and code in {i["code"] for i in data["items"]}
    assert all(i["overdue"] for i in data["items"])
    status, data = get(client, "/v1/dossiers?view=received&received_from=2026-06-01", headers)
    assert status == 200 and code in {i["code"] for i in data["items"]}
    for bad in ("status=lost", "limit=0", "overdue=maybe", "received_from=2026-13-45", "cursor=!!", "color=red",
                "received_from=9426-07-12", "received_from=0001-01-01",
                "received_from=2026-06-02&received_to=2026-06-01"):
        status, data = get(client, f"/v1/dossiers?{bad}", headers)
        assert status == 400, bad
        assert data["error"]["details"], bad


def test_public_lookup_shows_no_personal_data(client, auth):
    code = receive(client, auth)["code"]
    status, data = get(client, f"/v1/public/dossiers/{code}")
    assert status == 200 and data["national_code"] == 2
    text = json.dumps(data, ensure_ascii=False)
    assert "Nguyễn Văn An" not in text and "038090001234" not in text and "assignee" not in text
    assert get(client, f"/v1/public/dossiers/{CENTRE}-990101-0001")[0] == 404
    assert get(client, "/v1/public/dossiers/not-a-code")[0] == 400
