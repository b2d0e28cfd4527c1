"""The citizen's voice and payments through the API on DynamoDB Local: payments with their channel, ratings and
withdrawal requests from a portal (signed inbound messages), the low ratings a leader reads, and what Decision 766's
online-payment and satisfaction indicators make of them (a province of its own, T97, counted by the statistics
consumer and recounted from the dossiers)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.calendar_data import national_settings
from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.domain import counting
from chalicelib.domain.catalogue import COMPETENT_UNIT, Procedure, Step, Unit
from chalicelib.domain.dossier import Actor
from chalicelib.domain.events import DomainEvent
from chalicelib.services import ratings, reconcile, statistics
from chalicelib.services.actions import perform_action
from chalicelib.services.catalogue import Catalogue
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.api.test_inbound import GATEWAY, NATIONAL, send, sources, waiting_for_payment  # noqa: F401 (fixture)
from tests.unit.calendars import vn
from tests.unit.demo import procedure
from tests.units import CENTRE, JUSTICE, LAND

PROVINCE, A, B = "000.00.00.T97", "000.00.11.T97", "000.00.12.T97"
CODE = "1.999767"
PERIOD = "from=2026-04-06&to=2026-04-30"


@pytest.fixture
def client():
    with Client(app, stage_name="local") as c:
        yield c


# --- a province of its own: the figures ---------------------------------------------------------------------
def officers(unit: str) -> tuple[Actor, Actor, Actor]:
    return (Actor(f"desk.{unit}", unit, frozenset({"desk"})), Actor(f"cv.{unit}", unit, frozenset({"processor"})),
            Actor(f"ld.{unit}", unit, frozenset({"leader"})))


def _act(code: str, actor: Actor, action: str, at, **extra: Any) -> None:
    d = bootstrap.deps()
    perform_action(replace(d, now=lambda: at), actor, code,
                   {"action": action, "version": d.dossiers.get(code, consistent=True).version, **extra})


def _paid_and_returned(unit: str, channel: str, level: str | None) -> str:
    desk, officer, leader = officers(unit)
    body = {**CRIMINAL_RECORD, "procedure_code": CODE, "competent_unit": unit}
    code = str(receive_dossier(replace(bootstrap.deps(), now=lambda: vn(2026, 4, 6, 9)), desk, body)["code"])
    _act(code, officer, "assign", vn(2026, 4, 6, 10))
    _act(code, officer, "request_payment", vn(2026, 4, 6, 11), amount=200000)
    _act(code, desk, "confirm_payment", vn(2026, 4, 7, 9), payment_channel=channel, receipt_number="BL-1")
    _act(code, officer, "complete_step", vn(2026, 4, 8, 10))
    _act(code, leader, "resolve", vn(2026, 4, 8, 11), result={"summary": "Phiếu LLTP"})
    _act(code, desk, "return_result", vn(2026, 4, 9, 9))
    if level is not None:
        d = bootstrap.deps()
        ratings.rate(replace(d, now=lambda: vn(2026, 4, 10, 9)), d.dossiers.get(code, consistent=True),
                     {"level": level, "comment": "Chờ lâu" if level == "dissatisfied" else None}, "portal",
                     "inbound:dvcqg")
    return code


@pytest.fixture(scope="module")
def province():
    repo = CatalogueRepository()
    for unit in (Unit(PROVINCE, "Tỉnh thử nghiệm tiếng nói công dân", "province"),
                 Unit(A, "Sở A", "department", PROVINCE), Unit(B, "Sở B", "department", PROVINCE)):
        repo.put_unit(unit)
    base = procedure("2.001417")  # offered online in part, a fee of 200,000 VND
    steps = tuple(Step(s.name, COMPETENT_UNIT, s.role, s.budget) for s in base.steps)
    repo.publish(Procedure.from_dict({**base.as_dict(), "code": CODE, "competent_units": [A, B],
                                      "steps": [s.as_dict() for s in steps]}))
    bootstrap.override(catalogue=Catalogue(repo, national_settings))
    try:
        codes = [_paid_and_returned(A, "dvcqg", "very_satisfied"), _paid_and_returned(A, "cash", "dissatisfied"),
                 _paid_and_returned(B, "cash", None)]
        for code in codes:
            for item in OutboxModel.query(code, consistent_read=True):
                event = DomainEvent.from_dict(item.event)
                if event.type in counting.TYPES:
                    statistics.on_event(bootstrap.deps(), event)
        with Client(app, stage_name="local") as c:
            yield c, codes
    finally:
        bootstrap.override()


def test_payments_and_ratings_feed_decision_766_online_payment_and_satisfaction(province, auth):
    client, _ = province
    status, body = get(client, f"/v1/stats/quality?unit={A}&{PERIOD}", auth(A, "leader"))
    assert status == 200, body
    # 3.5: the one procedure offered online with a fee had an online payment; 3.6: one payment of two online;
    # 5.4: all in time, one rating of two dissatisfied: 1 - (0 + 1/2).
    values = body["indicators"]
    assert (values["payment_procedures"], values["paid_online"], values["satisfaction"]) == (1.0, 0.5, 0.5)
    groups = {g["group"]: g for g in body["index"]["groups"]}
    assert groups["online_payment"]["status"] == "partial" and groups["online_payment"]["earned"] == 8.0
    assert groups["satisfaction"]["status"] == "partial" and groups["satisfaction"]["earned"] == round(6 * 0.5 / 0.9, 2)
    # B: a payment at the desk in cash, no rating: 3.5 and 3.6 measured at 0, satisfaction not measured.
    status, body = get(client, f"/v1/stats/quality?unit={B}&{PERIOD}", auth(B, "leader"))
    assert (body["indicators"]["paid_online"], body["indicators"]["payment_procedures"]) == (0.0, 0.0)
    assert body["indicators"]["satisfaction"] is None


def test_the_counters_agree_with_the_dossiers(province):
    _, codes = province
    d = bootstrap.deps()
    counted = reconcile.within(reconcile.recount_all(d, codes), date(2026, 4, 6), date(2026, 4, 30))
    stored = reconcile.stored(d, [A, B], date(2026, 4, 6), date(2026, 4, 30))
    assert reconcile.differences(counted, stored) == []
    paid = sum(row.get("paid", 0) for (pk, sk), row in stored.items() if sk.endswith("#all"))
    rated = sum(row.get("rated_dissatisfied", 0) for (pk, sk), row in stored.items() if sk.endswith("#all"))
    assert (paid, rated) == (3, 1)


def test_the_low_ratings_are_listed_for_the_units_leader_only(province, auth):
    client, codes = province
    status, page = get(client, f"/v1/units/{A}/low-ratings", auth(A, "leader"))
    assert status == 200, page
    assert [i["code"] for i in page["items"]] == [codes[1]]
    assert page["items"][0]["rating"]["level"] == "dissatisfied" and page["items"][0]["rating"]["comment"] == "Chờ lâu"
    assert get(client, f"/v1/units/{A}/low-ratings", auth(PROVINCE, "leader"))[0] == 200  # a leader above
    assert get(client, f"/v1/units/{A}/low-ratings", auth(A, "desk"))[0] == 403
    assert get(client, f"/v1/units/{A}/low-ratings", auth(B, "leader"))[0] == 403
    assert get(client, f"/v1/units/{A}/low-ratings?limit=0", auth(A, "leader"))[0] == 400
    assert get(client, "/v1/units/000.99.99.T97/low-ratings", auth(PROVINCE, "leader"))[0] == 404


# --- from the portal (signed inbound messages) ----------------------------------------------------------------------
def _returned(client: Client, auth, frozen_now) -> str:
    frozen_now(vn(2026, 8, 3, 9))
    code = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
    processor, leader = auth(JUSTICE, "processor", sub="cv.binh"), auth(JUSTICE, "leader", sub="ld.cuong")
    steps = ((processor, {"action": "assign"}), (processor, {"action": "complete_step"}),
             (leader, {"action": "resolve", "result": {"summary": "Phiếu LLTP"}}),
             (auth(CENTRE, "desk"), {"action": "return_result"}))
    for version, (who, body) in enumerate(steps, start=1):
        status, data = post(client, f"/v1/dossiers/{code}/actions", who, {**body, "version": version})
        assert status == 200, data
    return str(code)


def rating(code: str, level: Any, comment: str | None = None) -> dict[str, Any]:
    return {"type": "rating.submitted", "data": {"dossier_code": code, "level": level,
                                                  **({"comment": comment} if comment is not None else {})}}


def test_a_portal_rates_a_returned_dossier_once(client, auth, frozen_now):
    code = _returned(client, auth, frozen_now)
    frozen_now(vn(2026, 8, 10, 9))
    status, answer, _ = send(client, "dvcqg", NATIONAL, rating(code, "dissatisfied", "Cán bộ hướng dẫn chưa rõ"))
    assert status == 200, answer
    assert answer["type"] == "rating.submitted" and answer["status"] == "returned"
    status, dossier = get(client, f"/v1/dossiers/{code}", auth(CENTRE, "desk"))
    assert dossier["rating"]["level"] == "dissatisfied" and dossier["rating"]["via"] == "portal"
    assert dossier["rating"]["at"] == "2026-08-10T09:00:00+07:00"
    status, error, _ = send(client, "dvcqg", NATIONAL, rating(code, "satisfied"))
    assert status == 409 and error["error"]["code"] == "already_rated"
    status, page = get(client, f"/v1/units/{JUSTICE}/low-ratings?limit=100", auth(JUSTICE, "leader"))
    assert code in [i["code"] for i in page["items"]]


def test_a_rating_off_the_scale_too_long_or_before_the_result_is_refused(client, auth, frozen_now):
    frozen_now(vn(2026, 8, 3, 9))
    open_code = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
    status, error, _ = send(client, "dvcqg", NATIONAL, rating(open_code, "satisfied"))
    assert status == 422 and "returned" in error["error"]["message"]
    code = _returned(client, auth, frozen_now)
    status, error, _ = send(client, "dvcqg", NATIONAL, rating(code, 6))
    assert status == 400 and error["error"]["details"][0]["field"] == "data.level"
    status, error, _ = send(client, "dvcqg", NATIONAL, rating(code, "satisfied", "ý" * 1001))
    assert status == 400 and error["error"]["details"][0]["field"] == "comment"
    status, error, _ = send(client, "dvcqg", NATIONAL, rating(code, "satisfied", "\u202eđảo chiều"))
    assert status == 400
    status, error, _ = send(client, "vnpay", GATEWAY, rating(code, "satisfied"))
    assert status == 422  # a payment gateway does not carry ratings
    assert get(client, f"/v1/dossiers/{code}", auth(CENTRE, "desk"))[1]["rating"] is None


def test_a_withdrawal_request_is_recorded_and_the_desk_confirms_it(client, auth, frozen_now):
    frozen_now(vn(2026, 8, 3, 9))
    code = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
    message = {"type": "dossier.withdrawal_requested", "data": {
        "dossier_code": code, "reason": "Không còn nhu cầu", "reference": f"DVC-{uuid.uuid4().hex[:8]}"}}
    status, answer, _ = send(client, "dvcqg", NATIONAL, message)
    assert status == 200 and answer["status"] == "received", answer
    desk = auth(CENTRE, "desk")
    status, dossier = get(client, f"/v1/dossiers/{code}", desk)
    assert dossier["withdrawal_request"]["reason"] == "Không còn nhu cầu" and dossier["status"] == "received"
    status, error, _ = send(client, "dvcqg", NATIONAL, {**message, "data": {**message["data"], "reference": "X-2"}})
    assert status == 422  # asked once
    status, data = post(client, f"/v1/dossiers/{code}/actions", desk,
                        {"action": "withdraw", "version": dossier["version"], "reason": "Không còn nhu cầu"})
    assert status == 200 and data["status"] == "withdrawn" and data["national_code"] == 7
    status, error, _ = send(client, "dvcqg", NATIONAL, {**message, "data": {**message["data"], "dossier_code":
                                                                             f"{LAND}-200101-9999"}})
    assert status == 404


def test_a_payment_notice_records_its_online_channel(client, auth, frozen_now):
    for source, secret, channel in (("vnpay", GATEWAY, "gateway"), ("dvcqg", NATIONAL, "dvcqg")):
        code = waiting_for_payment(client, auth, frozen_now)["code"]
        message = {"type": "payment.confirmed", "data": {
            "dossier_code": code, "amount": 200000, "transaction_reference": f"T{uuid.uuid4().hex[:10]}",
            "paid_at": "2026-07-15T08:55:00+07:00", "fees": 0, "charges": 200000}}
        status, answer, _ = send(client, source, secret, message)
        assert status == 200, answer
        status, dossier = get(client, f"/v1/dossiers/{code}", auth(CENTRE, "desk"))
        [paid] = dossier["payments"]
        assert (paid["channel"], paid["online"], paid["amount"], paid["charges"]) == (channel, True, 200000, 200000)
        assert paid["recorded_by"] == f"inbound:{source}"


# --- on the public page (code and receipt secret) --------------------------------------------------------------------
def test_the_applicant_rates_on_the_public_page_with_the_receipt_secret_once(client, auth, frozen_now):
    code = _returned(client, auth, frozen_now)
    path = f"/v1/public/dossiers/{code}/rating"
    assert post(client, path, {}, {"secret": "x" * 22, "level": "satisfied"})[0] == 403  # no secret issued yet
    # The desk issues the receipt secret (only its hash is kept; no bucket is needed for it).
    status, issued = post(client, f"/v1/dossiers/{code}/receipt-secret", auth(CENTRE, "desk"), {})
    assert status == 201, issued
    secret = issued["secret"]
    wrong = post(client, path, {}, {"secret": "not-the-secret", "level": "satisfied"})
    unknown = post(client, f"/v1/public/dossiers/{LAND}-200101-9999/rating", {},
                   {"secret": secret, "level": "satisfied"})
    assert wrong[0] == unknown[0] == 403 and wrong[1]["error"]["message"] == unknown[1]["error"]["message"]
    status, error = post(client, path, {}, {"secret": secret, "level": "great"})
    assert status == 400 and error["error"]["details"][0]["field"] == "level"
    status, answer = post(client, path, {}, {"secret": secret, "level": "very_satisfied", "comment": "Nhanh gọn"})
    assert status == 200, answer
    assert answer["rating"]["via"] == "applicant" and answer["rating"]["comment"] == "Nhanh gọn"
    status, error = post(client, path, {}, {"secret": secret, "level": "dissatisfied"})
    assert status == 409 and error["error"]["code"] == "already_rated"
    status, dossier = get(client, f"/v1/dossiers/{code}", auth(CENTRE, "desk"))
    assert dossier["rating"]["level"] == "very_satisfied"
