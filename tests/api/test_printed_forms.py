"""The printed forms (issue 16): each form of a dossier as PDF, with its fields in the text, every font
embedded, and the first page as its golden picture. chalice.test.Client against DynamoDB Local."""

import os
from pathlib import Path

import pytest
from chalice.test import Client

from app import app
from tests.api.helpers import CRIMINAL_RECORD, post, receive
from tests.pdf_tools import check_golden, pdffonts, pdftotext
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE

PDF = {"Accept": "application/pdf"}
APPLICANT = {"name": "Trần Thị Thuỳ Dương", "id_number": "038190001234", "phone": "0912345678",
             "address": "12 Lê Lợi, phường Hạc Thành", "email": "duong@example.vn"}


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


def act(client, auth_headers, code, body):
    status, data = post(client, f"/v1/dossiers/{code}/actions", auth_headers, body)
    assert status == 200, data
    return data


def pdf(client, headers, code, form):
    response = client.http.get(f"/v1/dossiers/{code}/forms/{form}.pdf", headers={**headers, **PDF})
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.body[:5] == b"%PDF-"
    fonts = pdffonts(response.body)
    assert fonts and all(f["emb"] == "yes" for f in fonts), fonts
    if os.environ.get("MOTCUA_PRINT_DIR"):  # the pictures in docs/forms/ are made from these
        Path(os.environ["MOTCUA_PRINT_DIR"], f"{form}.pdf").write_bytes(response.body)
    return response.body


def text_of(body):
    return " ".join(pdftotext(body).split())  # lines joined: a name may wrap


def test_the_receipt_form_01_prints_the_dossier_and_a_qr_code(client, auth, frozen_now):
    frozen_now(vn(2026, 11, 2, 9, 30))
    body = {**CRIMINAL_RECORD, "applicant": APPLICANT,
            "authorised_person": {"name": "Nguyễn Thị Hoa", "phone": "0911222333", "authorisation": "Giấy ủy quyền 12"},
            "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "kind": "original", "copies": 1},
                          {"name": "Bản sao căn cước", "kind": "certified_copy", "copies": 2}]}
    status, data = post(client, "/v1/dossiers", auth(CENTRE, "desk", sub="tn.lan"), body)
    assert status == 201, data
    code = data["code"]
    printed = pdf(client, auth(CENTRE, "desk"), code, "01")
    text = text_of(printed)
    for expected in (code, "Trần Thị Thuỳ Dương", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Thanh Hóa, ngày 2 tháng 11 năm 2026", "09 giờ 30 phút, ngày 2 tháng 11 năm 2026",
                     "Bản sao có chứng thực", "Nguyễn Thị Hoa", "tn.lan", "Trung tâm Phục vụ hành chính công",
                     f"/v1/public/dossiers/{code}"):
        assert expected in text, (expected, text)
    appointment = data["appointment_at"]  # 2.001417: 10 working days
    assert appointment.startswith("2026-11-16T09:30"), appointment
    assert "09 giờ 30 phút, ngày 16 tháng 11 năm 2026" in text
    check_golden("form-01", printed)


def test_forms_02_and_03_at_the_desk(client, auth, frozen_now):
    frozen_now(vn(2026, 11, 3, 10))
    body = {**CRIMINAL_RECORD, "applicant": APPLICANT,
            "intake": {"decision": "guide", "missing_items": ["Bản chụp căn cước công dân", "Tờ khai có chữ ký"]}}
    status, guided = post(client, "/v1/dossiers", auth(CENTRE, "desk", sub="tn.lan"), body)
    assert status == 201, guided
    printed = pdf(client, auth(CENTRE, "desk"), guided["code"], "02")
    text = text_of(printed)
    for expected in (guided["code"], "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "Trần Thị Thuỳ Dương",
                     "Bản chụp căn cước công dân", "Tờ khai có chữ ký", "Thanh Hóa, ngày 3 tháng 11 năm 2026"):
        assert expected in text, (expected, text)
    check_golden("form-02", printed)

    body = {**CRIMINAL_RECORD, "applicant": APPLICANT,
            "intake": {"decision": "refuse", "reasons": ["Không thuộc thẩm quyền giải quyết của Sở Tư pháp"]}}
    status, refused = post(client, "/v1/dossiers", auth(CENTRE, "desk", sub="tn.lan"), body)
    assert status == 201, refused
    printed = pdf(client, auth(CENTRE, "desk"), refused["code"], "03")
    text = text_of(printed)
    for expected in (refused["code"], "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
                     "Không thuộc thẩm quyền giải quyết của Sở Tư pháp", "Trần Thị Thuỳ Dương"):
        assert expected in text, (expected, text)
    check_golden("form-03", printed)
    # A form the dossier has no record of is a 404, never a blank page.
    response = client.http.get(f"/v1/dossiers/{refused['code']}/forms/01.pdf", headers={**auth(CENTRE, "desk"), **PDF})
    assert response.status_code == 404 and b"not received" in response.body


def test_the_apology_04_and_the_control_sheet_05(client, auth, frozen_now):
    frozen_now(vn(2026, 11, 4, 9))
    code = receive(client, auth, {**CRIMINAL_RECORD, "applicant": APPLICANT})["code"]
    processor, leader = auth(JUSTICE, "processor", sub="cv.binh"), auth(JUSTICE, "leader", sub="ld.cuong")
    data = act(client, processor, code, {"action": "assign", "version": 1})
    frozen_now(vn(2026, 11, 12, 9))
    data = act(client, leader, code, {"action": "apologize", "version": data["version"],
                                      "reason": "Cần xác minh thêm tại Công an tỉnh",
                                      "new_appointment_at": "2026-11-25T09:00:00+07:00"})
    printed = pdf(client, leader, code, "04")
    text = text_of(printed)
    for expected in (code, "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Kính gửi: Trần Thị Thuỳ Dương",
                     "Cần xác minh thêm tại Công an tỉnh", "09 giờ 00 phút, ngày 25 tháng 11 năm 2026",
                     "Thanh Hóa, ngày 12 tháng 11 năm 2026", "Sở Tư pháp tỉnh Thanh Hóa"):
        assert expected in text, (expected, text)
    check_golden("form-04", printed)

    printed = pdf(client, leader, code, "05")
    text = text_of(printed)
    for expected in (code, "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "Trần Thị Thuỳ Dương", "Phân công xử lý",
                     "cv.binh", "ld.cuong", "09 giờ 00 phút, ngày 4 tháng 11 năm 2026"):
        assert expected in text, (expected, text)
    check_golden("form-05", printed)
    # The same callers as the JSON forms: an officer of another agency may not read it.
    response = client.http.get(f"/v1/dossiers/{code}/forms/05.pdf",
                               headers={**auth("000.00.13.H56", "processor"), **PDF})
    assert response.status_code == 403
    response = client.http.get(f"/v1/dossiers/{code}/forms/05.pdf", headers=PDF)
    assert response.status_code == 401
    response = client.http.get(f"/v1/dossiers/{code}/forms/05.pdf", headers={**leader, "Accept": "application/json"})
    assert response.status_code == 406
    response = client.http.get(f"/v1/dossiers/{code}/forms/09.pdf", headers={**leader, **PDF})
    assert response.status_code == 400 and b"form" in response.body


def test_the_refusal_after_appraisal_and_the_stop_notice(client, auth, frozen_now):
    frozen_now(vn(2026, 11, 5, 9))
    processor, leader = auth(JUSTICE, "processor", sub="cv.binh"), auth(JUSTICE, "leader", sub="ld.cuong")
    code = receive(client, auth, {**CRIMINAL_RECORD, "applicant": APPLICANT})["code"]
    data = act(client, processor, code, {"action": "assign", "version": 1})
    data = act(client, processor, code, {"action": "complete_step", "version": data["version"]})
    frozen_now(vn(2026, 11, 9, 14))
    act(client, leader, code, {"action": "refuse", "version": data["version"],
                               "reasons": ["Người yêu cầu không thuộc đối tượng được cấp Phiếu lý lịch tư pháp"]})
    printed = pdf(client, leader, code, "appraisal-refusal")
    text = text_of(printed)
    for expected in (code, "THÔNG BÁO TỪ CHỐI GIẢI QUYẾT HỒ SƠ", "Trần Thị Thuỳ Dương",
                     "không thuộc đối tượng được cấp Phiếu lý lịch tư pháp",
                     "14 giờ 00 phút, ngày 9 tháng 11 năm 2026"):
        assert expected in text, (expected, text)
    check_golden("form-appraisal-refusal", printed)

    frozen_now(vn(2026, 11, 10, 9))
    code = receive(client, auth, {**CRIMINAL_RECORD, "applicant": APPLICANT})["code"]
    frozen_now(vn(2026, 11, 10, 15))
    act(client, auth(CENTRE, "desk", sub="tn.lan"), code, {"action": "stop", "version": 1,
                                                           "reason": "Công dân đề nghị dừng để bổ sung giấy tờ"})
    printed = pdf(client, auth(CENTRE, "desk"), code, "stop-notice")
    text = text_of(printed)
    for expected in (code, "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ", "Công dân đề nghị dừng để bổ sung giấy tờ",
                     "15 giờ 00 phút, ngày 10 tháng 11 năm 2026"):
        assert expected in text, (expected, text)
    check_golden("form-stop-notice", printed)
    response = client.http.get(f"/v1/dossiers/{code}/forms/appraisal-refusal.pdf",
                               headers={**auth(CENTRE, "desk"), **PDF})
    assert response.status_code == 404


def test_the_tracking_book_form_06_as_pdf_beside_its_other_formats(client, auth, frozen_now):
    names = ["Lê Thị Ánh Nguyệt", "Phạm Văn Đức", "Đỗ Quang Huy"]
    codes, appointments = [], set()
    for hour, name in zip((8, 9, 10), names, strict=True):
        frozen_now(vn(2026, 11, 23, hour, 15))
        data = receive(client, auth, {**CRIMINAL_RECORD, "applicant": {**APPLICANT, "name": name}})
        codes.append(data["code"])
        day = data["appointment_at"][:10].split("-")
        appointments.add(f"{day[2]}/{day[1]}/{day[0]}")
    assert appointments == {"08/12/2026"}  # 10 working days; Sunday 29/11 and the holiday of 24/11 skipped
    path = f"/v1/units/{CENTRE}/tracking-book?from=2026-11-23&to=2026-11-23"
    response = client.http.get(f"{path}&format=pdf", headers={**auth(CENTRE, "desk"), **PDF})
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/pdf"
    assert "so-theo-doi-ho-so_" in response.headers["Content-Disposition"]
    assert all(f["emb"] == "yes" for f in pdffonts(response.body))
    if os.environ.get("MOTCUA_PRINT_DIR"):
        Path(os.environ["MOTCUA_PRINT_DIR"], "06.pdf").write_bytes(response.body)
    text = text_of(response.body)
    for expected in ("SỔ THEO DÕI HỒ SƠ", "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa", "3 hồ sơ",
                     "23/11/2026", *appointments, *codes, *names):
        assert expected in text, (expected, text)
    check_golden("form-06", response.body)
    # A PDF is binary: asked for without Accept: application/pdf first, it is a 406 naming accept.
    response = client.http.get(f"{path}&format=pdf", headers=auth(CENTRE, "desk"))
    assert response.status_code == 406 and b"accept" in response.body


def test_a_deployment_without_the_printing_library_answers_503_saying_why(client, auth, monkeypatch):
    """A quick deploy (route 1) leaves Typst out (scripts/deploy_quick.py): the form is a 503 with the envelope
    and a reason, never a 500; its JSON is unchanged."""
    import json
    import sys

    from chalicelib.services import printing

    code = receive(client, auth)["code"]
    monkeypatch.setitem(sys.modules, "typst", None)
    monkeypatch.setattr(printing, "_compilers", {})
    response = client.http.get(f"/v1/dossiers/{code}/forms/01.pdf", headers={**auth(CENTRE, "desk"), **PDF})
    assert response.status_code == 503 and response.headers.get("Retry-After")
    error = json.loads(response.body)["error"]
    assert error["code"] == "unavailable" and "not installed in this deployment" in error["message"]


def issue(client, headers, code, accept=PDF):
    return client.http.post(f"/v1/dossiers/{code}/receipt-secret", headers={**headers, **accept}, body=b"")


def printed_secret(response):
    import re

    assert response.status_code == 201, response.body
    assert response.headers["Content-Type"] == "application/pdf"
    assert "giay-tiep-nhan_" in response.headers["Content-Disposition"]
    assert all(f["emb"] == "yes" for f in pdffonts(response.body))
    found = re.search(r"Mã tra cứu bí mật:\s*(\S+)", text_of(response.body))
    assert found, text_of(response.body)
    return found.group(1)


def opens(client, code, secret):
    return post(client, f"/v1/public/dossiers/{code}/files", {}, {"secret": secret})[0]


def test_the_receipt_issued_with_its_secret_printed_and_the_plain_receipt_without(client, auth, frozen_now,
                                                                                 monkeypatch):
    """Only the secret's hash is stored, so the receipt that carries it is printed when the desk issues it
    (POST .../receipt-secret with Accept: application/pdf); a receipt printed again carries none."""
    import json

    from chalicelib.services import applicant_access

    frozen_now(vn(2026, 11, 2, 9, 30))
    desk = auth(CENTRE, "desk", sub="tn.lan")
    code = receive(client, auth, {**CRIMINAL_RECORD, "applicant": APPLICANT})["code"]
    first = printed_secret(issue(client, desk, code))
    assert len(first) >= 22 and opens(client, code, first) == 200
    second_response = issue(client, desk, code)
    second = printed_secret(second_response)
    text = text_of(second_response.body)
    for expected in (code, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "Trần Thị Thuỳ Dương",
                     f"/v1/public/dossiers/{code}", "giữ kín mã này", "đánh giá mức độ hài lòng"):
        assert expected in text, (expected, text)
    assert second != first and opens(client, code, first) == 403 and opens(client, code, second) == 200
    # The plain receipt, printed again, has no secret and no box for one.
    plain = text_of(pdf(client, desk, code, "01"))
    assert "Mã tra cứu bí mật" not in plain and second not in plain
    # The JSON answer is as before; it too revokes the printed one.
    response = issue(client, desk, code, {"Accept": "application/json"})
    assert response.status_code == 201, response.body
    third = json.loads(response.body)["secret"]
    assert opens(client, code, second) == 403 and opens(client, code, third) == 200
    # A PDF asked for with another type first is a 406 naming accept, and the secret in force stays.
    response = client.http.post(f"/v1/dossiers/{code}/receipt-secret?format=pdf",
                                headers={**desk, "Accept": "application/json"}, body=b"")
    assert response.status_code == 406 and b"accept" in response.body
    # Only the desk issues it.
    assert issue(client, auth(JUSTICE, "processor"), code).status_code == 403
    assert opens(client, code, third) == 200
    # The layout of the receipt that carries the secret (a fixed secret, for the picture only).
    monkeypatch.setattr(applicant_access, "new_secret", lambda: "q7Lm2ZxR9vTc4NbWk8HyEa")
    issued = issue(client, desk, code).body
    if os.environ.get("MOTCUA_PRINT_DIR"):
        Path(os.environ["MOTCUA_PRINT_DIR"], "01-issued.pdf").write_bytes(issued)
    check_golden("form-01-issued", issued)


def test_a_dossier_with_no_receipt_gets_no_printed_secret_and_keeps_the_one_in_force(client, auth):
    body = {**CRIMINAL_RECORD, "applicant": APPLICANT,
            "intake": {"decision": "guide", "missing_items": ["Tờ khai có chữ ký"]}}
    status, guided = post(client, "/v1/dossiers", auth(CENTRE, "desk", sub="tn.lan"), body)
    assert status == 201, guided
    code, desk = guided["code"], auth(CENTRE, "desk")
    status, issued = post(client, f"/v1/dossiers/{code}/receipt-secret", desk, {})
    assert status == 201, issued
    response = issue(client, desk, code)
    assert response.status_code == 404 and b"not received" in response.body
    assert opens(client, code, issued["secret"]) == 200  # printed nothing, so revoked nothing
