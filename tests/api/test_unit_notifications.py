"""A unit's notifications (what its leader, officers and desk were told): GET /v1/units/{id}/notifications, newest
first, one Query per page, a signed cursor, scoped like the unit's dossier list. And undeliverable messages: a
landline given for SMS or an address SES rejects is recorded as undeliverable and never retried, while a transient
failure still is; locally a consumer that keeps failing no longer holds its dossier's later events."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.adapters.local_bus import LocalPublisher
from chalicelib.adapters.notifiers import AwsNotifier
from chalicelib.bootstrap import deps
from chalicelib.domain.events import DomainEvent
from chalicelib.services import consumers
from chalicelib.services.consumers import dispatch
from chalicelib.services.ports import PublishError, Undeliverable
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.unit.calendars import vn
from tests.units import FINANCE, JUSTICE, LAND

UNIT = FINANCE  # a unit no other test receives dossiers at: nothing else is ever told there


def _note(i: int, unit: str = UNIT) -> dict:
    at = datetime(2021, 3, 1, 1, i, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": f"unit-test/{unit}/{i}#internal#leader@{unit}", "at": at, "code": None, "unit": unit,
            "template": "digest", "channel": "internal", "recipient": f"leader@{unit}", "recipient_kind": "leader",
            "subject": f"Tổng hợp {i}", "body": "...", "status": "recorded", "attempts": 1}


def test_a_units_notifications_are_listed_newest_first_page_by_page_for_who_may_list_the_unit(auth):
    for i in range(5):
        deps().notifications.add(_note(i))
    deps().notifications.add(_note(9, LAND))  # another unit's: never listed here
    leader = auth(UNIT, "leader")
    with Client(app, stage_name="local") as client:
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            path = f"/v1/units/{UNIT}/notifications?limit=2" + (f"&cursor={cursor}" if cursor else "")
            status, page = get(client, path, leader)
            assert status == 200, page
            assert page["unit"] == UNIT and len(page["items"]) <= 2
            seen.extend(n["subject"] for n in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"Tổng hợp {i}" for i in (4, 3, 2, 1, 0)]

        status, first = get(client, f"/v1/units/{UNIT}/notifications?limit=2", leader)
        # A cursor is signed for this unit's list: on another unit's list, or edited, it is refused.
        status, other = get(client, f"/v1/units/{LAND}/notifications?cursor={first['next_cursor']}",
                            auth(LAND, "leader"))
        assert status == 400 and other["error"]["details"][0]["field"] == "cursor"
        tampered = first["next_cursor"][:-2] + ("AA" if not first["next_cursor"].endswith("AA") else "BB")
        status, bad = get(client, f"/v1/units/{UNIT}/notifications?cursor={tampered}", leader)
        assert status == 400

        # Scoped like the dossier list: another unit's officer may not read them; a leader above may; admins may.
        assert get(client, f"/v1/units/{UNIT}/notifications", auth(LAND, "leader"))[0] == 403
        assert get(client, f"/v1/units/{UNIT}/notifications", auth("000.00.00.H56", "leader"))[0] == 200
        assert get(client, f"/v1/units/{UNIT}/notifications", auth(LAND, "admin"))[0] == 200
        assert get(client, f"/v1/units/{UNIT}/notifications")[0] == 401
        assert get(client, "/v1/units/000.99.99.H99/notifications", leader)[0] == 404
        status, bad_id = get(client, "/v1/units/not-a-unit/notifications", leader)
        assert status == 400 and bad_id["error"]["details"][0]["field"] == "id"
        status, bad_limit = get(client, f"/v1/units/{UNIT}/notifications?limit=0", leader)
        assert status == 400


def test_the_units_list_is_one_query_on_the_by_unit_index_not_a_scan(monkeypatch):
    from chalicelib.adapters.dynamodb.models import NotificationModel

    def no_scan(*args, **kwargs):
        raise AssertionError("a unit's notifications must not be scanned")

    monkeypatch.setattr(NotificationModel, "scan", no_scan)
    deps().notifications.add(_note(7))
    items, _cursor = deps().notifications.unit_page(UNIT, 100, None)
    assert any(n["subject"] == "Tổng hợp 7" for n in items)


def _apology_events(client, auth, frozen_now, applicant: dict, day: int) -> tuple[str, DomainEvent]:
    frozen_now(vn(2022, 6, day, 9))
    dossier = receive(client, auth, {**CRIMINAL_RECORD, "applicant": applicant, "competent_unit": JUSTICE})
    frozen_now(vn(2022, 6, day, 10))
    status, answer = post(client, f"/v1/dossiers/{dossier['code']}/actions", auth(JUSTICE, "leader"),
                          {"action": "apologize", "version": dossier["version"], "reason": "Cần xác minh thêm",
                           "new_appointment_at": "2022-07-20T09:00:00+07:00"})
    assert status == 200, answer
    events = [DomainEvent.from_dict(i.event) for i in OutboxModel.query(dossier["code"]) if i.pending]
    return dossier["code"], next(e for e in events if e.type == "dossier.apology_issued")


def test_a_landline_for_sms_is_recorded_undeliverable_and_not_retried_while_the_email_goes(auth, frozen_now):
    landline = {**CRIMINAL_RECORD["applicant"], "email": "an.nguyen@example.vn", "phone": "02438123456"}
    with Client(app, stage_name="local") as client:
        code, event = _apology_events(client, auth, frozen_now, landline, 6)
    # Nothing raised: applied.
    assert dispatch(deps(), event) == ["notifications", "statistics", "webhooks", "portal_sync"]
    records = {n["channel"]: n for n in deps().notifications.for_dossier(code)}
    assert records["email"]["status"] == "recorded"
    assert records["sms"]["status"] == "undeliverable" and "not a Vietnamese mobile" in records["sms"]["error"]
    # Applied once: a redelivery does not notify again (the claimed consumer is skipped); the others run again
    # and change nothing.
    assert "notifications" not in dispatch(deps(), event)


class _Refusing(AwsNotifier):
    """The real adapter with stubbed SES/SNS clients answering the errors given."""

    def __init__(self, ses_error: str | None, sns_error: str | None, status: int = 400) -> None:
        super().__init__("motcua@thanhhoa.gov.vn", sms_enabled=True)
        keys = {"region_name": "ap-southeast-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
        self.__dict__.update(_ses=boto3.client("sesv2", **keys), _sns=boto3.client("sns", **keys))
        self.errors, self.status = (ses_error, sns_error), status

    def send(self, n):
        ses_error, sns_error = self.errors
        with Stubber(self._ses) as ses, Stubber(self._sns) as sns:
            if ses_error:
                ses.add_client_error("send_email", ses_error, "refused", self.status)
            else:
                ses.add_response("send_email", {"MessageId": "m-1"})
            if sns_error:
                sns.add_client_error("publish", sns_error, "refused", self.status)
            else:
                sns.add_response("publish", {"MessageId": "s-1"})
            return super().send(n)


@pytest.mark.parametrize("ses_error", ["MessageRejected", "MailFromDomainNotVerifiedException"])
def test_ses_permanent_refusals_are_undeliverable_and_sns_invalid_parameter_too(ses_error):
    notifier = _Refusing(ses_error, "InvalidParameter")
    with pytest.raises(Undeliverable, match=ses_error):
        notifier.send({"channel": "email", "recipient": "x@example.vn", "subject": "s", "body": "b"})
    with pytest.raises(Undeliverable, match="InvalidParameter"):
        notifier.send({"channel": "sms", "recipient": "0912345678", "subject": "s", "body": "b"})


def test_throttling_and_5xx_are_transient_the_event_is_retried_then_sent(auth, frozen_now):
    from botocore.exceptions import ClientError

    from chalicelib.services.notifications import NotificationFailed

    for code, status in (("TooManyRequestsException", 429), ("InternalFailure", 500), ("Throttling", 400)):
        with pytest.raises(ClientError):
            _Refusing(code, None, status).send({"channel": "email", "recipient": "x@example.vn", "subject": "s",
                                                "body": "b"})
    mobile = {**CRIMINAL_RECORD["applicant"], "email": "an.nguyen@example.vn", "phone": "0912345678"}
    with Client(app, stage_name="local") as client:
        code, event = _apology_events(client, auth, frozen_now, mobile, 7)
    bootstrap.override(notifier=_Refusing("TooManyRequestsException", None, 429))
    try:
        with pytest.raises(NotificationFailed):
            dispatch(deps(), event)
        assert {n["channel"]: n["status"] for n in deps().notifications.for_dossier(code)} == {
            "email": "failed", "sms": "sent", "internal": "recorded"}  # form 04 to the desk too
        bootstrap.override(notifier=_Refusing(None, None))
        assert dispatch(deps(), event) == ["notifications", "statistics", "webhooks", "portal_sync"]
        assert {n["channel"]: n["status"] for n in deps().notifications.for_dossier(code)} == {
            "email": "sent", "sms": "sent", "internal": "recorded"}
    finally:
        bootstrap.override()


def test_locally_a_consumer_that_keeps_failing_is_given_up_after_bounded_tries_and_recorded(auth, frozen_now,
                                                                                           monkeypatch):
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 6, 8, 9))
        code = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
    events = [DomainEvent.from_dict(i.event) for i in OutboxModel.query(code, scan_index_forward=True) if i.pending]
    first = events[0]
    calls: list[str] = []

    def broken(deps_, event, only=None):
        calls.append(event.id)
        if event.id == first.id:
            raise RuntimeError("consumer bug")
        return []

    monkeypatch.setattr("chalicelib.services.consumers.dispatch", broken)
    publisher = LocalPublisher(lambda e, only: consumers.dispatch(deps(), e, only=only), max_attempts=3,
                               give_up_after=0)
    for _ in range(2):
        with pytest.raises(PublishError) as failed:
            publisher.publish(events)
        # The dossier's later events wait behind the failing one, in order.
        assert failed.value.failed == {e.id for e in events}
    publisher.publish(events)  # third failure: recorded and skipped; the later events go through
    assert calls[-len(events):] == [e.id for e in events]
    item = OutboxModel.get(first.code, first.seq)
    assert item.failed["attempts"] == 3 and "consumer bug" in item.failed["error"]
    assert all(OutboxModel.get(e.code, e.seq).failed is None for e in events[1:])
    with pytest.raises(PublishError):  # delivered again: its count started over, so it is retried first
        publisher.publish(events)


class _OneDossierOutbox:
    """The outbox of one dossier only (the shared test table holds other tests' pending events)."""

    def __init__(self, events: list[DomainEvent]) -> None:
        self.events, self.published = events, []

    def pending(self, limit: int, written_before: object = None, skip: object = ()) -> list[DomainEvent]:
        return [e for e in self.events if e.id not in self.published][:limit]

    def mark_published(self, event: DomainEvent) -> None:
        self.published.append(event.id)


def test_the_relay_holds_a_dossier_behind_a_failing_event_only_until_it_is_given_up(auth, frozen_now, monkeypatch):
    from chalicelib.services.relay import relay

    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 6, 9, 9))
        code = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
    events = [DomainEvent.from_dict(i.event) for i in OutboxModel.query(code, scan_index_forward=True) if i.pending]
    assert len(events) >= 2
    applied: list[str] = []

    def broken(deps_, event, only=None):
        if event.id == events[0].id:
            raise RuntimeError("consumer bug")
        applied.append(event.id)
        return []

    monkeypatch.setattr("chalicelib.services.consumers.dispatch", broken)
    outbox = _OneDossierOutbox(events)
    publisher = LocalPublisher(lambda e, only: consumers.dispatch(deps(), e, only=only), give_up_after=0)
    bootstrap.override(outbox=outbox, publisher=publisher)
    try:
        for _ in range(4):  # the first four runs: the dossier waits at its failing event
            counts = relay(deps(), older_than_seconds=0)
            assert counts["held"] == 1 and counts["published"] == 0 and applied == []
        # The fifth: given up, recorded, and the dossier's later events go on, in order.
        counts = relay(deps(), older_than_seconds=0)
        assert counts["published"] == len(events) and counts["held"] == 0
        assert applied == [e.id for e in events[1:]] and outbox.published == [e.id for e in events]
        assert OutboxModel.get(code, events[0].seq).failed["attempts"] == 5
    finally:
        bootstrap.override()
