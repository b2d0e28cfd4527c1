"""Form 04 and the notification texts (Vietnamese), from the dossier and its events."""

from datetime import date

import pytest

from chalicelib.domain import events as ev
from chalicelib.domain.clock import iso
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import NotFound
from chalicelib.domain.lifecycle import Action
from chalicelib.domain.notices import TEMPLATES, apology_letter, context_from_event, local_time, render
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE, JUSTICE

DESK = Actor("desk.lan", CENTRE, frozenset({"desk"}))
PROCESSOR = Actor("cv.binh", JUSTICE, frozenset({"processor"}))
LEADER = Actor("ld.cuong", JUSTICE, frozenset({"leader"}), name="Lê Văn Cường")
NAMES = {JUSTICE: "Sở Tư pháp tỉnh Thanh Hóa", CENTRE: "Trung tâm Phục vụ hành chính công tỉnh"}


def received():
    dossier, _ = Dossier.receive(
        code=f"{CENTRE}-260316-0001", procedure=procedure("2.001417"), receiving_unit=CENTRE, competent_unit=JUSTICE,
        channel="direct", applicant={"name": "Nguyễn Văn An"}, form={}, documents=[], actor=DESK,
        at=vn(2026, 3, 16, 9), calendar=CALENDAR)
    return dossier


def test_form_04_has_its_fields_and_its_letter():
    dossier = received()
    with pytest.raises(NotFound):
        apology_letter(dossier, NAMES[JUSTICE])
    dossier.act(Action.APOLOGIZE, LEADER, vn(2026, 3, 26, 9), CALENDAR,
                {"reason": "Cần xác minh thêm tại Công an tỉnh", "new_appointment_at": iso(vn(2026, 4, 3, 9))})
    letter = apology_letter(dossier, NAMES[JUSTICE])
    assert letter["form"] == "04" and letter["title"] == "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"
    assert letter["previous_appointment_at"] == "2026-03-30T09:00:00+07:00"
    assert letter["new_appointment_at"] == "2026-04-03T09:00:00+07:00"
    assert letter["issued_by"] == {"officer": "ld.cuong", "name": "Lê Văn Cường", "unit": JUSTICE}
    assert letter["timely"] is True and letter["salutation"] == "Kính gửi: Nguyễn Văn An"
    text = letter["text"]
    assert text.startswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    assert "Ngày 16 tháng 3 năm 2026, Sở Tư pháp tỉnh Thanh Hóa tiếp nhận" in text
    assert "Thời hạn trả kết quả giải quyết hồ sơ theo quy định là 09 giờ 00 phút, ngày 30 tháng 3 năm 2026." in text
    assert "Lý do: Cần xác minh thêm tại Công an tỉnh." in text
    assert "vào 09 giờ 00 phút, ngày 3 tháng 4 năm 2026." in text and dossier.code in text


def test_every_deadline_event_renders_from_its_own_data():
    dossier = received()
    dossier.act(Action.ASSIGN, PROCESSOR, vn(2026, 3, 16, 10), CALENDAR, {})
    dossier.take_events()
    dossier.wake(vn(2026, 3, 30, 9, 0, 1))
    events = dossier.take_events()
    assert [e.type for e in events] == [ev.DUE_SOON, ev.STEP_OVERDUE, ev.OVERDUE]  # in the order of their instants
    for event, template in zip(events, ("due_soon", "step_overdue", "overdue"), strict=True):
        context = context_from_event(event, NAMES.__getitem__, procedure_name="Cấp Phiếu lý lịch tư pháp")
        subject, body = render(template, context)
        assert dossier.code in subject and "Cấp Phiếu lý lịch tư pháp" in body
    step_subject, step_body = render("step_overdue", context_from_event(events[1], NAMES.__getitem__, "LLTP"))
    assert "tại Sở Tư pháp tỉnh Thanh Hóa" in step_body and "Cán bộ xử lý: cv.binh" in step_body
    assert "09 giờ 00 phút, ngày 26 tháng 3 năm 2026" in step_body  # the step's own due time, local
    _, overdue = render("overdue", context_from_event(events[2], NAMES.__getitem__, "LLTP"))
    assert "đã quá hạn trả kết quả (09 giờ 00 phút, ngày 30 tháng 3 năm 2026)" in overdue


def test_the_apology_and_the_new_appointment_render_for_the_applicant():
    dossier = received()
    dossier.take_events()
    dossier.act(Action.APOLOGIZE, LEADER, vn(2026, 3, 26, 9), CALENDAR,
                {"reason": "Cần xác minh thêm", "new_appointment_at": iso(vn(2026, 4, 3, 9))})
    soon, issued, changed = dossier.take_events()  # warned two working days ahead, the leader apologises in time
    assert soon.type == ev.DUE_SOON and issued.data["timely"] is True
    context = {**context_from_event(issued, NAMES.__getitem__, "LLTP"), "applicant_name": "Ông Nguyễn Văn An"}
    subject, body = render("apology_issued", context)
    assert subject == f"Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {dossier.code}"
    assert body.startswith("Kính gửi Ông Nguyễn Văn An. Sở Tư pháp tỉnh Thanh Hóa xin lỗi")
    assert "Ngày hẹn trả kết quả mới: 09 giờ 00 phút, ngày 3 tháng 4 năm 2026." in body
    _, moved = render("appointment_changed", context_from_event(changed, NAMES.__getitem__, "LLTP"))
    assert "từ 09 giờ 00 phút, ngày 30 tháng 3 năm 2026 sang 09 giờ 00 phút, ngày 3 tháng 4 năm 2026" in moved


def test_a_missing_field_or_template_is_refused_by_name():
    with pytest.raises(ValueError, match="needs: due_at"):
        render("overdue", {"code": "X", "procedure_name": "P", "unit_name": "U"})
    with pytest.raises(ValueError, match="unknown notification template"):
        render("birthday", {})
    assert set(TEMPLATES) == {"due_soon", "overdue", "step_overdue", "intake_overdue", "supplement_overdue",
                              "apology_issued", "appointment_changed", "digest"}


def test_the_digest_lists_a_units_dossiers():
    subject, body = render("digest", {
        "unit_name": "Sở Tư pháp", "day": date(2026, 3, 30).isoformat(),
        "overdue": [{"code": "A-1", "procedure_name": "LLTP", "due_at": "2026-03-27T02:00:00Z"}], "due_soon": []})
    assert subject == "[Tổng hợp ngày 30/3/2026] Sở Tư pháp: 1 hồ sơ quá hạn, 0 hồ sơ sắp đến hạn"
    assert "- A-1 (LLTP), hạn 09 giờ 00 phút, ngày 27 tháng 3 năm 2026" in body and "- (không có)" in body
    assert local_time(None) == ""


def test_deadlines_reached_by_an_action_that_pauses_the_clock_still_render():
    """An officer asking for the fee after the due time records the lateness first; the pause leaves no due
    time, so the flag events carry the due times as they stood when the deadlines were reached."""
    from tests.unit.dossiers import PROCESSOR, received

    dossier = received()  # due Mon 30 Mar 2026 09:00, first step due Thu 26 Mar
    dossier.act(Action.ASSIGN, PROCESSOR, vn(2026, 3, 16, 10), CALENDAR, {})
    dossier.take_events()
    dossier.act(Action.REQUEST_PAYMENT, PROCESSOR, vn(2026, 4, 14, 9), CALENDAR, {})
    flags = [e for e in dossier.take_events() if e.type in (ev.DUE_SOON, ev.OVERDUE, ev.STEP_OVERDUE)]
    assert sorted(e.type for e in flags) == sorted([ev.DUE_SOON, ev.OVERDUE, ev.STEP_OVERDUE])
    assert dossier.due_at is None  # paused
    for event in flags:
        template = event.type.removeprefix("dossier.")
        subject, body = render(template, context_from_event(event, lambda unit: unit))
        assert subject and body
    assert {e.type: e.data.get("due_at") for e in flags}[ev.OVERDUE] == "2026-03-30T02:00:00Z"
