"""The law's rules through the API (issue 5): forms 01, 02, 03 and 05, step roles, outcomes, appointments,
supplements. chalice.test.Client against DynamoDB Local, with the service clock frozen."""

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.unit.calendars import vn
from tests.units import CENTRE, DONG_SON, FINANCE, JUSTICE, LAND

CENTRE_NAME = "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa"
JUSTICE_NAME = "Sở Tư pháp tỉnh Thanh Hóa"


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def actions(client, code):
    return f"/v1/dossiers/{code}/actions"


def step(client, headers, code, body, version):
    status, data = post(client, actions(client, code), headers, {**body, "version": version})
    assert status == 200, data
    return data


# --- form 01: the receipt ------------------------------------------------------------------------------
def test_the_receipt_carries_what_form_01_has(client, auth, frozen_now):
    frozen_now(vn(2026, 7, 6, 9))
    body = {
        **CRIMINAL_RECORD,
        "applicant": {**CRIMINAL_RECORD["applicant"], "email": "an@example.vn", "address": "12 Lê Lợi, Hạc Thành"},
        "authorised_person": {"name": "Nguyễn Thị Hoa", "phone": "0911222333", "authorisation": "Giấy ủy quyền 12"},
        "documents": [{"name": "Tờ khai", "kind": "original", "copies": 1},
                      {"name": "Bản sao căn cước", "kind": "certified_copy", "copies": 2}],
        "result_delivery": {"method": "postal", "address": "12 Lê Lợi, Hạc Thành"},
    }
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk", sub="tn.lan"), body)
    assert status == 201, data
    receipt = data["receipt"]
    assert receipt["form"] == "01" and receipt["reissued"] is False
    assert receipt["receiving_unit"] == {"id": CENTRE, "name": CENTRE_NAME}
    assert receipt["received_by"]["officer"] == "tn.lan" and receipt["received_by"]["name"] == "tn.lan"
    assert receipt["applicant"]["phone"] == "0912345678" and receipt["applicant"]["email"] == "an@example.vn"
    assert receipt["authorised_person"]["name"] == "Nguyễn Thị Hoa"
    assert [(d["kind"], d["kind_label"], d["copies"]) for d in receipt["documents"]] == [
        ("original", "Bản chính", 1), ("certified_copy", "Bản sao có chứng thực", 2)]
    assert receipt["result_delivery"]["method"] == "postal" and receipt["result_delivery"]["address"]
    assert receipt["tracking_book"]["entry_number"] == int(data["code"].rsplit("-", 1)[1])
    assert receipt["appointment_at"] == data["appointment_at"] == "2026-07-20T09:00:00+07:00"


def test_postal_delivery_needs_an_address_and_document_kinds_are_checked(client, auth):
    headers = auth(CENTRE, "desk")
    status, data = post(client, "/v1/dossiers", headers, {**CRIMINAL_RECORD, "result_delivery": {"method": "postal"}})
    assert status == 400 and any("result_delivery" in d["field"] for d in data["error"]["details"])
    status, data = post(client, "/v1/dossiers", headers,
                        {**CRIMINAL_RECORD, "documents": [{"name": "Tờ khai", "kind": "photo"}]})
    assert status == 400


def test_an_online_dossier_gets_its_receipt_when_the_desk_accepts_it(client, auth):
    submitted = receive(client, auth, {**CRIMINAL_RECORD, "channel": "online"})
    assert "receipt" not in submitted and submitted["national_code"] == 1
    data = step(client, auth(CENTRE, "desk", sub="tn.lan"), submitted["code"], {"action": "accept"}, 1)
    assert data["receipt"]["form"] == "01" and data["receipt"]["received_by"]["officer"] == "tn.lan"
    assert data["receipt"]["appointment_at"] == data["appointment_at"] is not None
    assert data["intake"]["decision"] == "receive" and data["intake"]["by"] == "tn.lan"


# --- forms 03 and 02 at the desk -------------------------------------------------------------------------
def test_the_desk_refuses_a_paper_dossier_with_form_03_and_it_is_in_the_tracking_book(client, auth, frozen_now):
    frozen_now(vn(2026, 7, 7, 9))
    body = {**CRIMINAL_RECORD, "intake": {"decision": "refuse", "reasons": ["Không thuộc thẩm quyền giải quyết"]}}
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk", sub="tn.lan"), body)
    assert status == 201, data
    assert (data["status"], data["national_code"], data["outcome"]) == ("not_accepted", 3, "not_accepted")
    assert "receipt" not in data and data["due_at"] is None
    refusal = data["refusal"]
    assert refusal["form"] == "03" and refusal["reasons"] == ["Không thuộc thẩm quyền giải quyết"]
    assert refusal["refused_by"]["officer"] == "tn.lan" and refusal["refused_at"] == "2026-07-07T09:00:00+07:00"
    assert data["intake"] == {"decision": "refuse", "reasons": ["Không thuộc thẩm quyền giải quyết"],
                              "by": "tn.lan", "by_name": "", "by_unit": CENTRE, "at": "2026-07-07T09:00:00+07:00"}
    status, page = get(client, "/v1/dossiers?view=received&received_from=2026-07-07&received_to=2026-07-07",
                       auth(CENTRE, "desk"))
    listed = {i["code"]: i for i in page["items"]}
    assert status == 200 and listed[data["code"]]["national_code"] == 3
    assert listed[data["code"]]["outcome"] == "not_accepted"


def test_the_desk_guides_an_incomplete_dossier_with_form_02_without_receiving_it(client, auth, frozen_now):
    frozen_now(vn(2026, 7, 8, 9))
    body = {"procedure_code": "2.001417", "channel": "direct", "applicant": {"name": "Trần Thị Bình"},
            "form": {"full_name": "Trần Thị Bình"},  # incomplete: that is why the desk guides
            "intake": {"decision": "guide", "missing_items": ["Bản chụp căn cước công dân"]}}
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk"), body)
    assert status == 201, data
    assert (data["status"], data["national_code"], data["outcome"]) == ("guided", 3, "guided")
    assert data["received_at"] is None and data["clock"] is None and "receipt" not in data
    assert data["guidance"]["form"] == "02" and data["guidance"]["missing_items"] == ["Bản chụp căn cước công dân"]
    status, page = get(client, "/v1/dossiers?view=received&status=guided&received_from=2026-07-08",
                       auth(CENTRE, "desk"))
    assert status == 200 and data["code"] in {i["code"] for i in page["items"]}
    assert get(client, f"/v1/public/dossiers/{data['code']}")[1]["outcome"] == "guided"


def test_intake_decisions_are_validated(client, auth):
    headers = auth(CENTRE, "desk")
    for intake, field in (({"decision": "refuse"}, "reasons"), ({"decision": "guide"}, "missing_items"),
                          ({"decision": "later"}, "decision")):
        status, data = post(client, "/v1/dossiers", headers, {**CRIMINAL_RECORD, "intake": intake})
        assert status == 400, intake
        assert any(field in d["field"] or field in d["reason"] for d in data["error"]["details"]), data
    online = {**CRIMINAL_RECORD, "channel": "online", "intake": {"decision": "refuse", "reasons": ["x"]}}
    status, data = post(client, "/v1/dossiers", headers, online)
    assert status == 400 and any("intake" in d["field"] for d in data["error"]["details"]), data


def test_refuse_intake_of_an_online_dossier_hands_out_form_03(client, auth):
    code = receive(client, auth, {**CRIMINAL_RECORD, "channel": "online"})["code"]
    data = step(client, auth(CENTRE, "desk"), code, {"action": "refuse_intake", "reasons": ["Hồ sơ giả mạo"]}, 1)
    assert data["refusal"]["form"] == "03" and data["refusal"]["reasons"] == ["Hồ sơ giả mạo"]
    assert data["outcome"] == "not_accepted"


# --- step roles, outcomes, appointments, supplements --------------------------------------------------------
def test_a_processor_cannot_resolve_the_leaders_step(client, auth):
    code = receive(client, auth)["code"]
    processor = auth(JUSTICE, "processor", sub="cv.binh")
    step(client, processor, code, {"action": "assign"}, 1)
    step(client, processor, code, {"action": "complete_step"}, 2)
    status, data = post(client, actions(client, code), processor,
                        {"action": "resolve", "version": 3, "result": {"summary": "Phiếu LLTP"}})
    assert status == 403 and "Lãnh đạo Sở ký Phiếu" in data["error"]["message"]
    assert "leader" in data["error"]["message"]
    assert get(client, f"/v1/dossiers/{code}", processor)[1]["version"] == 3


def test_withdrawn_while_paused_for_a_supplement_is_withdrawn_everywhere(client, auth, frozen_now):
    frozen_now(vn(2026, 7, 9, 9))
    code = receive(client, auth)["code"]
    desk = auth(CENTRE, "desk")
    step(client, auth(JUSTICE, "processor"), code,
         {"action": "request_supplement", "missing_items": ["Bản chụp căn cước công dân"]}, 1)
    frozen_now(vn(2026, 9, 30, 9))  # long after the first appointment
    data = step(client, desk, code, {"action": "withdraw", "reason": "Công dân rút hồ sơ"}, 2)
    assert data["outcome"] == "withdrawn"
    assert get(client, f"/v1/public/dossiers/{code}")[1]["outcome"] == "withdrawn"
    status, page = get(client, "/v1/dossiers?view=received&received_from=2026-07-09&received_to=2026-07-09", desk)
    assert {i["code"]: i["outcome"] for i in page["items"]}[code] == "withdrawn"


def test_confirm_payment_gives_the_applicant_a_new_appointment_and_the_history_keeps_both(client, auth, frozen_now):
    frozen_now(vn(2026, 7, 13, 9))
    first = receive(client, auth)
    code = first["code"]
    processor = auth(JUSTICE, "processor", sub="cv.binh")
    step(client, processor, code, {"action": "assign"}, 1)
    frozen_now(vn(2026, 7, 14, 9))
    step(client, processor, code, {"action": "request_payment", "amount": 200000}, 2)
    frozen_now(vn(2026, 7, 16, 9))
    data = step(client, auth(CENTRE, "desk"), code, {"action": "confirm_payment", "receipt_number": "BL-7"}, 3)
    notice = data["appointment_notice"]
    assert notice["previous_appointment_at"] == first["appointment_at"] == "2026-07-27T09:00:00+07:00"
    assert notice["appointment_at"] == data["appointment_at"] == data["due_at"] == "2026-07-29T09:00:00+07:00"
    assert data["history_entry"]["details"]["previous_appointment_at"] == "2026-07-27T09:00:00+07:00"
    status, sheet = get(client, f"/v1/dossiers/{code}/history", auth(CENTRE, "desk"))
    assert [a["appointment_at"] for a in sheet["header"]["appointments"]] == [
        "2026-07-27T09:00:00+07:00", "2026-07-29T09:00:00+07:00"]
    assert get(client, f"/v1/public/dossiers/{code}")[1]["appointment_at"] == "2026-07-29T09:00:00+07:00"


def test_a_second_supplement_request_needs_a_leader_and_a_reason_and_is_a_violation(client, auth, frozen_now):
    frozen_now(vn(2026, 7, 20, 9))
    code = receive(client, auth)["code"]
    processor, leader, desk = auth(JUSTICE, "processor"), auth(JUSTICE, "leader"), auth(CENTRE, "desk")
    step(client, processor, code, {"action": "assign"}, 1)
    step(client, processor, code, {"action": "request_supplement", "missing_items": ["Bản chụp căn cước công dân"]}, 2)
    frozen_now(vn(2026, 7, 22, 9))
    data = step(client, desk, code, {"action": "receive_supplement"}, 3)
    assert data["receipt"]["reissued"] is True and data["appointment_notice"]["appointment_at"] == data["due_at"]
    frozen_now(vn(2026, 7, 23, 9))
    again = {"action": "request_supplement", "version": 4, "missing_items": ["Bản chụp căn cước công dân"]}
    status, error = post(client, actions(client, code), processor, again)
    assert status == 403 and "leader" in error["error"]["message"]
    status, error = post(client, actions(client, code), leader, again)
    assert status == 400 and error["error"]["details"][0]["field"] == "reason"
    data = step(client, leader, code, {**again, "reason": "Bỏ sót khi thẩm định"}, 4)
    assert data["supplement_violations"] == 1 and data["national_code"] == 5
    assert data["label"] == "Yêu cầu bổ sung giấy tờ"
    details = data["history_entry"]["details"]
    assert details["violation"] is True and details["restarts_limit"] is False
    frozen_now(vn(2026, 7, 27, 9))
    data = step(client, desk, code, {"action": "receive_supplement"}, 5)
    assert data["history_entry"]["details"]["restarted"] is False and "receipt" not in data
    # The agency's fault: the clock ran on, neither the due time nor the appointment moved.
    assert data["clock"]["state"] == "running"
    assert data["due_at"] == data["appointment_at"] == "2026-08-05T09:00:00+07:00"  # 10 working days from 22 Jul


# --- form 05: header and lines -----------------------------------------------------------------------------
def test_the_control_sheet_has_its_header_and_lines_with_both_units_and_the_steps_result(client, auth, frozen_now):
    frozen_now(vn(2026, 7, 27, 9))
    body = {"procedure_code": "1.004227", "channel": "direct", "applicant": {"name": "Lê Văn Cường"},
            "form": {"parcel": {"map_sheet": 45, "parcel_number": 123}, "area_m2": 200, "land_use": "ONT"}}
    status, data = post(client, "/v1/dossiers", auth(DONG_SON, "desk"), body)
    assert status == 201, data
    code = data["code"]
    commune = auth(DONG_SON, "processor", sub="cv.minh")
    step(client, commune, code, {"action": "assign"}, 1)
    frozen_now(vn(2026, 7, 28, 9))
    step(client, commune, code, {"action": "complete_step"}, 2)
    status, sheet = get(client, f"/v1/dossiers/{code}/history", auth(DONG_SON, "desk"))
    assert status == 200 and sheet["form"] == "05"
    header = sheet["header"]
    assert header["procedure"]["code"] == "1.004227" and header["applicant"] == "Lê Văn Cường"
    assert header["appointment_at"] == data["appointment_at"]
    assert header["lead_unit"]["id"] == DONG_SON and header["lead_unit"]["name"] == "Ủy ban nhân dân xã Đông Sơn"
    assert [u["id"] for u in header["coordinating_units"]] == [LAND, FINANCE]
    handover = sheet["entries"][-1]
    assert (handover["from_unit"], handover["to_unit"], handover["step_outcome"]) == (DONG_SON, LAND, "early")
    assert handover["to_unit_name"] == "Sở Nông nghiệp và Môi trường tỉnh Thanh Hóa"


def test_the_receipt_line_names_the_desk_handing_over_to_the_competent_unit(client, auth):
    code = receive(client, auth)["code"]
    status, sheet = get(client, f"/v1/dossiers/{code}/history", auth(CENTRE, "desk"))
    first = sheet["entries"][0]
    assert (first["from_unit"], first["to_unit"]) == (CENTRE, JUSTICE)
    assert (first["from_unit_name"], first["to_unit_name"]) == (CENTRE_NAME, JUSTICE_NAME)
