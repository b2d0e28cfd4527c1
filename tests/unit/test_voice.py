"""The citizen's voice and payments in the domain: the channel and amounts of a payment, the rating given once after
the result, the request to withdraw, what each adds to the counters and what the Decision 766 index makes of them."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import counting
from chalicelib.domain import events as ev
from chalicelib.domain import quality_index as qi
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import ActionNotAllowed, DomainError, InvalidInput
from chalicelib.domain.lifecycle import Action
from chalicelib.domain.status import Status
from chalicelib.services.reconcile import recount
from tests.unit.calendars import CALENDAR, vn
from tests.unit.dossiers import DESK, LEADER, PROCESSOR, received

PORTAL = "inbound:dvcqg"


def act(dossier: Dossier, action: str, actor: Actor, at: datetime, **payload):
    return dossier.act(Action(action), actor, at, CALENDAR, payload)


def waiting_for_payment(amount: int = 200000) -> Dossier:
    dossier = received()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "request_payment", PROCESSOR, vn(2026, 3, 17, 9), amount=amount)
    dossier.take_events()
    return dossier


def returned() -> Dossier:
    dossier = received()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    act(dossier, "complete_step", PROCESSOR, vn(2026, 3, 17, 10))
    act(dossier, "resolve", LEADER, vn(2026, 3, 18, 10), result={"summary": "Phiếu LLTP số 12"})
    act(dossier, "return_result", DESK, vn(2026, 3, 19, 9))
    dossier.take_events()
    return dossier


# --- payments ------------------------------------------------------------------------------------------------
def test_a_payment_records_its_channel_the_amount_requested_and_its_event():
    dossier = waiting_for_payment()
    entry = act(dossier, "confirm_payment", DESK, vn(2026, 3, 19, 9), receipt_number="BL-1",
                payment_channel="dvcqg", fees=50000, charges=150000)
    payment = dossier.payments[-1]
    assert payment["channel"] == "dvcqg" and payment["online"] is True and payment["amount"] == 200000
    assert (payment["fees"], payment["charges"], payment["recorded_by"]) == (50000, 150000, "desk.lan")
    assert entry.details["payment"] == payment and dossier.status is Status.IN_PROGRESS
    events = [e for e in dossier.take_events() if e.type == ev.PAYMENT_CONFIRMED]
    assert len(events) == 1 and events[0].data["payment"] == payment
    assert Dossier.from_dict(dossier.as_dict()).payments == [payment]


@pytest.mark.parametrize("payload, field", [
    ({"payment_channel": "momo"}, "payment_channel"),
    ({"amount": -1}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": 200000, "fees": 1, "charges": 2}, "amount"),
    ({"paid_at": "2026-03-19"}, "paid_at"),
    ({"paid_at": "2026-03-19T09:00:00"}, "paid_at"),  # no offset
])
def test_a_payment_that_does_not_add_up_or_names_no_known_channel_is_refused_and_changes_nothing(payload, field):
    dossier = waiting_for_payment()
    with pytest.raises(InvalidInput) as refused:
        act(dossier, "confirm_payment", DESK, vn(2026, 3, 19, 9), **payload)
    assert refused.value.details[0].field == field
    assert dossier.status is Status.PAYMENT_REQUESTED and dossier.payments == [] and not dossier.pending_events


def test_a_cash_payment_is_paid_but_not_online_in_the_counters_and_the_recount():
    counted = {}
    for channel in ("cash", "gateway"):
        dossier = waiting_for_payment()
        act(dossier, "confirm_payment", DESK, vn(2026, 3, 19, 9), payment_channel=channel)
        event = next(e for e in dossier.take_events() if e.type == ev.PAYMENT_CONFIRMED)
        row = counting.booking(event).increments[(f"{dossier.competent_unit}#2026-03", "2026-03-19#all")]
        counted[channel] = (row.get("paid"), row.get("paid_online"))
        history = [_line(dossier, "confirm_payment")]
        again = recount(dossier, history)[(f"{dossier.competent_unit}#2026-03", "2026-03-19#all")]
        assert (again.get("paid"), again.get("paid_online")) == counted[channel]
    assert counted == {"cash": (1, None), "gateway": (1, 1)}


def _line(dossier: Dossier, action: str):
    from chalicelib.domain.dossier import HistoryEntry

    details = {"payment": dossier.payments[-1]}
    return HistoryEntry(1, action, action, Status.PAYMENT_REQUESTED, Status.IN_PROGRESS, vn(2026, 3, 19, 9),
                        "desk.lan", dossier.receiving_unit, None, None, None, None, None, details=details)


# --- ratings -------------------------------------------------------------------------------------------------
def test_a_returned_dossier_is_rated_once_with_its_comment_normalised():
    dossier = returned()
    version = dossier.version
    rating = dossier.rate({"level": "dissatisfied", "comment": "  Chờ lâu quá\u0301  "}, "applicant", "applicant",
                          vn(2026, 3, 20, 8))
    assert rating["low"] is True and rating["label"] == "Không hài lòng" and dossier.version == version + 1
    assert rating["comment"] == "Chờ lâu quá\u0301".replace("a\u0301", "á")  # NFC: one precomposed letter
    [event] = dossier.take_events()
    assert event.type == ev.RATED and event.data["rating"] == rating
    with pytest.raises(DomainError) as again:
        dossier.rate({"level": "satisfied"}, "portal", PORTAL, vn(2026, 3, 21, 8))
    assert again.value.code == "already_rated" and dossier.rating == rating


def test_a_rating_before_the_result_or_off_the_scale_is_refused():
    dossier = received()
    with pytest.raises(DomainError) as early:
        dossier.rate({"level": "satisfied"}, "portal", PORTAL, vn(2026, 3, 17, 8))
    assert early.value.code == "action_not_allowed"
    dossier = returned()
    for payload, field in (({"level": 5}, "level"), ({"level": "ok"}, "level"),
                           ({"level": "satisfied", "comment": "x" * 1001}, "comment"),
                           ({"level": "satisfied", "comment": 7}, "comment")):
        with pytest.raises(InvalidInput) as refused:
            dossier.rate(payload, "portal", PORTAL, vn(2026, 3, 20, 8))
        assert refused.value.details[0].field == field
    assert dossier.rating is None and not dossier.pending_events


def test_a_comment_of_1000_letters_with_combining_marks_fits_once_normalised():
    dossier = returned()
    rating = dossier.rate({"level": "satisfied", "comment": "a\u0301" * 1000}, "portal", PORTAL, vn(2026, 3, 20, 8))
    assert rating["comment"] == "á" * 1000


def test_ratings_are_counted_at_the_competent_unit_by_level_and_recounted_from_the_dossier():
    dossier = returned()
    dossier.rate({"level": "very_satisfied"}, "portal", PORTAL, vn(2026, 3, 20, 8))
    [event] = dossier.take_events()
    key = (f"{dossier.competent_unit}#2026-03", "2026-03-20#all")
    assert counting.booking(event).increments[key] == {"rated": 1, "rated_very_satisfied": 1}
    assert recount(dossier, [])[key] == {"rated": 1, "rated_very_satisfied": 1}


# --- withdrawal requested ----------------------------------------------------------------------------------------
def test_a_withdrawal_request_is_recorded_once_and_the_desk_confirms_it_with_withdraw():
    dossier = received()
    request = dossier.request_withdrawal(" Không còn nhu cầu ", "DVC-1", PORTAL, vn(2026, 3, 17, 8))
    assert request["reason"] == "Không còn nhu cầu" and dossier.status is Status.RECEIVED
    assert [e.type for e in dossier.take_events()] == [ev.WITHDRAWAL_REQUESTED]
    with pytest.raises(DomainError):
        dossier.request_withdrawal("again", "DVC-2", PORTAL, vn(2026, 3, 17, 9))
    act(dossier, "withdraw", DESK, vn(2026, 3, 17, 10), reason=request["reason"])
    assert dossier.status is Status.WITHDRAWN and dossier.status.national_code == 7
    with pytest.raises(ActionNotAllowed):
        returned().request_withdrawal("late", "DVC-3", PORTAL, vn(2026, 3, 20, 8))


# --- Decision 766 ------------------------------------------------------------------------------------------------
def test_payment_indicators_are_not_measured_without_a_payment_and_full_at_their_thresholds():
    assert qi.payment_indicators(qi.Payments()) == {"payment_procedures": None, "paid_online": None}
    values = qi.payment_indicators(qi.Payments(paid=10, paid_online=3, procedures_with_fee=4,
                                               procedures_paid_online=1))
    assert values == {"payment_procedures": 0.25, "paid_online": 0.3}
    assert qi.earned("paid_online", 0.3, 6.0) == 6.0 and qi.earned("payment_procedures", 0.25, 2.0) == 1.0


def test_satisfaction_is_one_less_the_late_rate_and_the_dissatisfied_rate_full_at_90_percent():
    figures = qi.Figures(resolved=10, early=10)  # all in time
    assert qi.satisfaction_indicators(figures, 0, 0) == {"satisfaction": None}  # nobody rated
    assert qi.satisfaction_indicators(figures, 10, 1) == {"satisfaction": 0.9}
    late = qi.Figures(resolved=10, early=8, late=2, resolved_late_766=2)
    assert qi.satisfaction_indicators(late, 4, 3) == {"satisfaction": 0.05}
    assert qi.satisfaction_indicators(late, 4, 4) == {"satisfaction": 0.0}  # floored
    assert qi.earned("satisfaction", 0.9, 6.0) == 6.0
    index = qi.index({"satisfaction": 0.9, "paid_online": 0.3}, dict(qi.DEFAULT_POINTS))
    groups = {g["group"]: g for g in index["groups"]}
    assert groups["satisfaction"]["status"] == "partial" and groups["satisfaction"]["earned"] == 6.0
    assert groups["online_payment"]["status"] == "partial" and groups["online_payment"]["measured_points"] == 6.0


def test_every_new_event_is_after_the_dossier_change_that_made_it():
    dossier = returned()
    before = datetime(2026, 3, 20, 1, tzinfo=UTC)
    dossier.rate({"level": "satisfied"}, "applicant", "applicant", before + timedelta(hours=1))
    assert dossier.take_events()[0].version == dossier.version
