"""Notifications: the applicant told of the apology (form 04) by email and SMS, every notification recorded once
however often its event is delivered, a failed send recorded and retried, the SES/SNS adapter's calls, the daily
digest. Dossiers in 2022 (see test_deadlines.py)."""

from datetime import datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.adapters.notifiers import AwsNotifier, LocalNotifier, e164, encoded_sender
from chalicelib.bootstrap import deps
from chalicelib.domain.events import DomainEvent
from chalicelib.services import deadlines
from chalicelib.services.consumers import dispatch
from chalicelib.services.notifications import NotificationFailed
from chalicelib.services.ports import Undeliverable
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE

APPLICANT = {**CRIMINAL_RECORD["applicant"], "email": "an.nguyen@example.vn", "phone": "0912345678"}


def pending_events(code: str) -> list[DomainEvent]:
    return [DomainEvent.from_dict(item.event) for item in OutboxModel.query(code, scan_index_forward=True)
            if item.pending]


def deliver_events(code: str) -> list[DomainEvent]:
    """What the relay does for one dossier (its pending events, in order, to the consumers, then marked): the
    other tests' events are left alone."""
    events = pending_events(code)
    for event in events:
        dispatch(deps(), event)
        deps().outbox.mark_published(event)
    return events


def apologise(client, auth, frozen_now, day: int):
    frozen_now(vn(2022, 4, day, 9))
    dossier = receive(client, auth, {**CRIMINAL_RECORD, "applicant": APPLICANT, "competent_unit": JUSTICE})
    frozen_now(vn(2022, 4, day, 10))
    status, answer = post(client, f"/v1/dossiers/{dossier['code']}/actions", auth(JUSTICE, "leader", sub="ld.cuong"),
                          {"action": "apologize", "version": dossier["version"], "reason": "Cần xác minh thêm",
                           "new_appointment_at": "2022-05-10T09:00:00+07:00"})
    assert status == 200, answer
    return dossier["code"]


def test_the_applicant_is_sent_the_apology_by_email_and_sms_once_and_form_04_is_served(auth, frozen_now):
    desk = auth(CENTRE, "desk")
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 4, 4, 9))
        plain = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})
        status, none = get(client, f"/v1/dossiers/{plain['code']}/apology", desk)
        assert status == 404 and "never rescheduled" in none["error"]["message"]
        status, missing = get(client, "/v1/dossiers/000.00.24.H56-220404-9999/apology", desk)
        assert status == 404

        code = apologise(client, auth, frozen_now, 5)
        status, letter = get(client, f"/v1/dossiers/{code}/apology", desk)
        assert status == 200, letter
        assert letter["form"] == "04" and letter["addressee"] == "Nguyễn Văn An"
        assert letter["new_appointment_at"] == "2022-05-10T09:00:00+07:00" and letter["reason"] == "Cần xác minh thêm"
        assert letter["issued_by"]["officer"] == "ld.cuong" and "xin lỗi" in letter["text"]
        status, foreign = get(client, f"/v1/dossiers/{code}/apology", auth("000.00.13.H56", "desk"))
        assert status == 403

        types = [e.type for e in deliver_events(code)]
        assert "dossier.apology_issued" in types and "dossier.appointment_changed" in types
        status, listed = get(client, f"/v1/dossiers/{code}/notifications", desk)
        sent = [(n["template"], n["channel"], n["recipient"], n["recipient_kind"]) for n in listed["items"]]
        # One message per channel: the appointment change that comes with an apology is not sent again.
        assert sorted(sent) == [("apology_issued", "email", "an.nguyen@example.vn", "applicant"),
                                ("apology_issued", "internal", f"desk@{CENTRE}", "desk"),  # form 04 to the desk too
                                ("apology_issued", "sms", "0912345678", "applicant")]
        email = next(n for n in listed["items"] if n["channel"] == "email")
        assert email["subject"] == f"Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}"
        assert "Lý do: Cần xác minh thêm" in email["body"] and "10 tháng 5 năm 2022" in email["body"]
        assert email["status"] == "recorded" and email["attempts"] == 1 and email["at"].endswith("+07:00")
        assert email["event_id"] == f"{code}/{email['event_id'].split('/')[-1]}"

        # The same events delivered again (SQS at least once, a relay killed before marking): nothing new.
        from chalicelib.services import notifications

        for event in pending_events(code) or [e for e in _all_events(code) if e.type == "dossier.apology_issued"]:
            notifications.on_event(deps(), event)
        status, again = get(client, f"/v1/dossiers/{code}/notifications", desk)
        assert [n["id"] for n in again["items"]] == [n["id"] for n in listed["items"]]


def _all_events(code: str) -> list[DomainEvent]:
    return [DomainEvent.from_dict(item.event) for item in OutboxModel.query(code, scan_index_forward=True)]


class FlakyNotifier:
    def __init__(self, failures: int) -> None:
        self.failures, self.sent = failures, []

    def send(self, n):
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("SES did not answer")
        self.sent.append(n["id"])
        return "sent"


def test_a_failed_send_is_recorded_and_retried_with_its_event_without_a_second_record(auth, frozen_now):
    with Client(app, stage_name="local") as client:
        code = apologise(client, auth, frozen_now, 6)
    flaky = FlakyNotifier(failures=1)
    bootstrap.override(notifier=flaky, now=lambda: vn(2022, 4, 6, 10, 1))
    try:
        event = next(e for e in pending_events(code) if e.type == "dossier.apology_issued")
        with pytest.raises(NotificationFailed):
            dispatch(deps(), event)  # the claim is given back: the retry runs the consumer again
        records = deps().notifications.for_dossier(code)
        assert sorted((n["channel"], n["status"], n["attempts"]) for n in records) == [
            ("email", "failed", 1), ("internal", "sent", 1), ("sms", "sent", 1)]
        assert "SES did not answer" in next(n for n in records if n["channel"] == "email")["error"]
        assert dispatch(deps(), event) == ["notifications", "statistics", "webhooks", "portal_sync"]
        records = deps().notifications.for_dossier(code)
        assert sorted((n["channel"], n["status"], n["attempts"]) for n in records) == [
            ("email", "sent", 2), ("internal", "sent", 1), ("sms", "sent", 1)]
        assert all("error" not in n for n in records) and len(flaky.sent) == 3  # the SMS was not sent twice
        assert "notifications" not in dispatch(deps(), event)  # applied: a later delivery notifies nobody again
    finally:
        bootstrap.override()


def test_the_aws_notifier_sends_email_through_ses_and_sms_through_sns_with_bounded_clients():
    notifier = AwsNotifier("Một cửa Thanh Hóa <motcua@thanhhoa.gov.vn>", sms_enabled=True)
    ses = boto3.client("sesv2", region_name="ap-southeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    sns = boto3.client("sns", region_name="ap-southeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    notifier.__dict__.update(_ses=ses, _sns=sns)  # the clients it would create lazily
    n = {"channel": "email", "recipient": "an.nguyen@example.vn", "subject": "Thư xin lỗi", "body": "Kính gửi..."}
    with Stubber(ses) as ses_stub, Stubber(sns) as sns_stub:
        ses_stub.add_response("send_email", {"MessageId": "m-1"}, {
            # SES takes a display name with accents only as an RFC 2047 encoded word.
            "FromEmailAddress": encoded_sender("Một cửa Thanh Hóa <motcua@thanhhoa.gov.vn>"),
            "Destination": {"ToAddresses": ["an.nguyen@example.vn"]},
            "Content": {"Simple": {"Subject": {"Data": "Thư xin lỗi", "Charset": "UTF-8"},
                                   "Body": {"Text": {"Data": "Kính gửi...", "Charset": "UTF-8"}}}}})
        sns_stub.add_response("publish", {"MessageId": "s-1"}, {
            "PhoneNumber": "+84912345678", "Message": "Kính gửi...",
            "MessageAttributes": {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}})
        assert notifier.send(n) == "sent"
        assert notifier.send({**n, "channel": "sms", "recipient": "0912345678"}) == "sent"
        assert notifier.send({**n, "channel": "internal", "recipient": "leader@x"}) == "recorded"
        ses_stub.assert_no_pending_responses()
        sns_stub.assert_no_pending_responses()
    quiet = AwsNotifier("motcua@thanhhoa.gov.vn", sms_enabled=False)
    assert quiet.send({**n, "channel": "sms", "recipient": "0912345678"}) == "recorded"  # no SNS client made
    assert "_sns" not in quiet.__dict__
    assert LocalNotifier().send(n) == "recorded"
    assert (e164("0912 345 678"), e164("+84912345678"), e164("84912345678")) == (
        "+84912345678", "+84912345678", "+84912345678")
    for bad in ("12345", "02438123456", "+842438123456", "+14155550100"):
        with pytest.raises(Undeliverable):
            e164(bad)
    config = AwsNotifier("a@b.vn", True)._client("sns").meta.config
    assert config.connect_timeout == 1.0 and config.read_timeout == 3.0


def test_the_daily_digest_tells_each_unit_its_overdue_and_due_soon_dossiers_once_a_day(auth, frozen_now):
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 5, 16, 9))
        early = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})
        frozen_now(vn(2022, 5, 20, 9))
        later = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})
    # 07:00 the day before `early` is due: it is due within a working day, `later` is not.

    due_early = datetime.fromisoformat(early["due_at"])
    morning = due_early.replace(hour=7, minute=0) - timedelta(days=1)
    bootstrap.override(now=lambda: morning)
    try:
        report = deadlines.digest(deps())
        digest_items = [n for n in deps().notifications.for_unit(JUSTICE, 20) if n["template"] == "digest"]
        assert report["units"] >= 1 and report["failed"] == 0
        today = [n for n in digest_items if morning.date().isoformat() in n["id"]]
        assert len(today) == 1 and today[0]["due_soon"] == [early["code"]]
        assert early["code"] not in today[0]["overdue"] and later["code"] not in today[0]["overdue"]
        assert today[0]["recipient"] == f"leader@{JUSTICE}" and "1 hồ sơ sắp đến hạn" in today[0]["subject"]
        assert early["code"] in today[0]["body"] and later["code"] not in today[0]["body"]
        deadlines.digest(deps())  # a second run the same day does not notify twice
        again = [n for n in deps().notifications.for_unit(JUSTICE, 20) if n["id"] == today[0]["id"]]
        assert len(again) == 1 and again[0]["attempts"] == 1

        next_week = due_early + timedelta(days=3)
        bootstrap.override(now=lambda: next_week.replace(hour=7, minute=0))
        deadlines.digest(deps())
        # That day's digest (other tests run digests on other days: the unit's newest may be theirs).
        day = next_week.date().isoformat()
        latest = next(n for n in deps().notifications.for_unit(JUSTICE, 20) if f"/{day}#" in n["id"])
        assert latest["template"] == "digest" and early["code"] in latest["overdue"]
    finally:
        bootstrap.override()


def test_written_notices_go_to_the_applicant_and_the_desk_laid_out_as_their_forms(auth, frozen_now):
    desk, processor = auth(CENTRE, "desk"), auth(JUSTICE, "processor", sub="cv.binh")
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2026, 7, 6, 9))
        dossier = receive(client, auth, {**CRIMINAL_RECORD, "applicant": APPLICANT, "competent_unit": JUSTICE})
        code = dossier["code"]
        status, answer = post(client, f"/v1/dossiers/{code}/actions", processor, {
            "action": "request_supplement", "version": 1, "missing_items": ["Bản chụp căn cước công dân"],
            "reason": "Ảnh chụp không đọc được"})
        assert status == 200, answer
        deliver_events(code)  # the notifications consumer sends the act's notice
        status, listed = get(client, f"/v1/dossiers/{code}/notifications", desk)
        form02 = [n for n in listed["items"] if n["template"] == "supplement_request"]
        assert sorted((n["channel"], n["recipient"]) for n in form02) == [
            ("email", "an.nguyen@example.vn"), ("internal", f"desk@{CENTRE}"), ("sms", "0912345678")]
        body = form02[0]["body"]
        assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in body and "1. Bản chụp căn cước công dân" in body
        assert "Lý do: Ảnh chụp không đọc được." in body and "Nghị định số 118/2025/NĐ-CP" in body
        frozen_now(vn(2026, 7, 8, 9))
        post(client, f"/v1/dossiers/{code}/actions", desk, {"action": "receive_supplement", "version": 2})
        frozen_now(vn(2026, 7, 9, 9))
        status, answer = post(client, f"/v1/dossiers/{code}/actions", auth(JUSTICE, "leader"), {
            "action": "stop", "version": 3, "reason": "Công dân đề nghị dừng"})
        assert status == 200, answer
        deliver_events(code)
        status, listed = get(client, f"/v1/dossiers/{code}/notifications", desk)
        stop = next(n for n in listed["items"] if n["template"] == "stop" and n["channel"] == "email")
        assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in stop["body"] and "Công dân đề nghị dừng" in stop["body"]


class Provider(FlakyNotifier):
    """An email/SMS provider: down (`failures` sends fail), counting every call made to it."""

    def __init__(self, failures: int) -> None:
        super().__init__(failures)
        self.calls = 0

    def send(self, n):
        self.calls += 1
        return super().send(n)


def test_the_act_succeeds_while_the_provider_is_down_and_its_notice_is_sent_once_by_the_consumer(auth):
    """Form 02 of a supplement request: the officer's act never calls the provider (down here); the consumer
    does, with its retries: the provider fails twice, then answers; each of the notice's messages (email, SMS and
    the desk's copy) is sent exactly once, and a later delivery of the event sends nothing."""
    down = Provider(failures=10**6)
    bootstrap.override(now=lambda: vn(2026, 7, 13, 9), notifier=down)
    try:
        with Client(app, stage_name="local") as client:
            dossier = receive(client, auth, {**CRIMINAL_RECORD, "applicant": APPLICANT, "competent_unit": JUSTICE})
            code = dossier["code"]
            bootstrap.override(now=lambda: vn(2026, 7, 13, 10), notifier=down)
            status, answer = post(client, f"/v1/dossiers/{code}/actions", auth(JUSTICE, "processor"), {
                "action": "request_supplement", "version": dossier["version"],
                "missing_items": ["Bản chụp căn cước công dân"], "reason": "Ảnh chụp không đọc được"})
            assert status == 200, answer
            assert down.calls == 0  # the act did not wait on the provider, nor fail with it
            event = next(e for e in pending_events(code) if e.type == "dossier.status_changed"
                         and e.data["action"] == "request_supplement")
            flaky = Provider(failures=2)
            bootstrap.override(now=lambda: vn(2026, 7, 13, 10, 1), notifier=flaky)
            with pytest.raises(NotificationFailed):
                dispatch(deps(), event)  # email and SMS fail: the delivery is retried
            assert "notifications" in dispatch(deps(), event)  # the retry: the provider answers
            assert "notifications" not in dispatch(deps(), event)  # delivered again: nothing sent
            notices = [n for n in deps().notifications.for_dossier(code) if n["template"] == "supplement_request"]
            assert sorted((n["channel"], n["status"]) for n in notices) == [
                ("email", "sent"), ("internal", "sent"), ("sms", "sent")]
            assert sorted(flaky.sent) == sorted(n["id"] for n in notices)  # each exactly once
            assert flaky.calls == 5  # 2 failed + 3 sent
    finally:
        bootstrap.override()


def test_a_dossier_received_before_july_2025_cites_decree_61():
    from chalicelib.domain.notices import legal_basis

    assert legal_basis("2025-06-30T09:00:00+07:00").startswith("Nghị định số 61/2018/NĐ-CP")
    assert legal_basis("2025-07-01T08:00:00+07:00") == "Nghị định số 118/2025/NĐ-CP"
