"""The apology through the API: form 04 in the answer, the new appointment everywhere, refused a second time."""

from chalice.test import Client

from app import app
from tests.api.helpers import get, post, receive
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE


def act(client, code, headers, body):
    return post(client, f"/v1/dossiers/{code}/actions", headers, body)


def test_a_leader_apologises_once_and_the_applicant_sees_the_new_appointment(auth, frozen_now):
    leader = auth(JUSTICE, "leader", sub="ld.cuong")
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2026, 3, 16, 9))
        dossier = receive(client, auth)  # 2.001417, 10 working days: due Mon 30 Mar 09:00
        code = dossier["code"]
        assert dossier["rescheduled"] is False and dossier["apology"] is None
        assert dossier["watch"]["overdue"] == "2026-03-30T09:00:01+07:00"
        frozen_now(vn(2026, 3, 26, 9))
        body = {"action": "apologize", "version": dossier["version"], "reason": "Cần xác minh thêm tại Công an tỉnh",
                "new_appointment_at": "2026-04-03T09:00:00+07:00"}
        status, answer = act(client, code, auth(JUSTICE, "processor", sub="cv.binh"), body)
        assert status == 403, answer
        status, answer = act(client, code, leader, body)
        assert status == 200, answer
        assert answer["appointment_at"] == "2026-04-03T09:00:00+07:00"
        assert answer["due_at"] == "2026-03-30T09:00:00+07:00"  # the law's due time never moves with an apology
        assert answer["rescheduled"] is True and answer["apology"]["timely"] is True
        assert answer["apology"]["previous_appointment_at"] == "2026-03-30T09:00:00+07:00"
        assert answer["watch"]["overdue"] == "2026-03-30T09:00:01+07:00"  # lateness is still judged by law
        letter = answer["apology_letter"]  # form 04, handed to the applicant with the change
        assert letter["form"] == "04" and letter["title"] == "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"
        assert letter["new_appointment_at"] == "2026-04-03T09:00:00+07:00" and letter["addressee"] == "Nguyễn Văn An"
        assert "Lý do: Cần xác minh thêm tại Công an tỉnh." in letter["text"]
        assert answer["appointment_notice"]["appointment_at"] == "2026-04-03T09:00:00+07:00"
        assert answer["history_entry"]["action"] == "apologize"
        assert answer["history_entry"]["details"]["previous_appointment_at"] == "2026-03-30T09:00:00+07:00"

        status, again = act(client, code, leader, {**body, "version": answer["version"],
                                                   "new_appointment_at": "2026-04-10T09:00:00+07:00"})
        assert status == 422, again
        assert again["error"]["details"][0]["field"] == "action" and "once" in again["error"]["message"]

        status, public = get(client, f"/v1/public/dossiers/{code}")
        assert status == 200
        assert public["appointment_at"] == "2026-04-03T09:00:00+07:00" and public["rescheduled"] is True
        assert public["apology"] == {"form": "04", "issued_at": "2026-03-26T09:00:00+07:00",
                                     "previous_appointment_at": "2026-03-30T09:00:00+07:00",
                                     "new_appointment_at": "2026-04-03T09:00:00+07:00"}
        assert [a["appointment_at"] for a in public["appointments"]] == [
            "2026-03-30T09:00:00+07:00", "2026-04-03T09:00:00+07:00"]


def test_a_late_apology_is_recorded_as_late(auth, frozen_now):
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2026, 3, 16, 9))
        dossier = receive(client, auth)
        frozen_now(vn(2026, 3, 30, 8))  # on the due date itself: not 1 day before it, late, but recorded
        status, answer = post(client, f"/v1/dossiers/{dossier['code']}/actions", auth(JUSTICE, "leader"), {
            "action": "apologize", "version": dossier["version"], "reason": "Hệ thống tra cứu gián đoạn",
            "new_appointment_at": "2026-04-06T09:00:00+07:00"})
        assert status == 200, answer
        assert answer["apology"]["timely"] is False and answer["apology_letter"]["timely"] is False
        status, control = get(client, f"/v1/dossiers/{dossier['code']}/history", auth(CENTRE, "desk"))
        assert status == 200 and control["entries"][-1]["action"] == "apologize"
        assert control["header"]["appointment_at"] == "2026-04-06T09:00:00+07:00"


def test_a_bad_apology_names_the_field(auth, frozen_now):
    leader = auth(JUSTICE, "leader")
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2026, 3, 16, 9))
        dossier = receive(client, auth)
        code, version = dossier["code"], dossier["version"]
        for body, field in (
            ({"reason": "x"}, "new_appointment_at"),
            ({"reason": "x", "new_appointment_at": "2026-04-03T09:00:00"}, "new_appointment_at"),
            ({"reason": "x", "new_appointment_at": "2026-03-20T09:00:00+07:00"}, "new_appointment_at"),
            ({"new_appointment_at": "2026-04-03T09:00:00+07:00"}, "reason"),
        ):
            status, answer = act(client, code, leader, {"action": "apologize", "version": version, **body})
            assert status == 400, (body, answer)
            assert field in {d["field"] for d in answer["error"]["details"]}, (body, answer)
        status, desk_try = act(client, code, auth(CENTRE, "desk"), {
            "action": "apologize", "version": version, "reason": "x",
            "new_appointment_at": "2026-04-03T09:00:00+07:00"})
        assert status == 403, desk_try
