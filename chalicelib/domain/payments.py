"""A dossier's financial obligation paid: how (the channel) and how much (fees and charges, whole VND).

Decision 766/QĐ-TTg counts, in its online-payment group, the dossiers paid online (3.6: on the national payment
platform of the DVCQG, DuocThanhToanTrucTuyen = 1, or through a ministry's or province's payment gateway, = 2) and
the procedures whose fees had online payment transactions (3.5). The channel is recorded with every confirmation
so those can be counted; a confirmation without one (recorded before the channel was asked for, or by a desk that
did not say) is a payment whose channel is not known, never an online one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .clock import iso, parse_iso
from .errors import FieldProblem, InvalidInput

DVCQG = "dvcqg"  # the national payment platform of the National Public Service Portal
GATEWAY = "gateway"  # a ministry's or the province's own payment gateway
BANK_TRANSFER = "bank_transfer"
CASH = "cash"  # at the desk
CHANNELS = (DVCQG, GATEWAY, BANK_TRANSFER, CASH)
ONLINE = frozenset({DVCQG, GATEWAY})
LABELS = {DVCQG: "Thanh toán trực tuyến qua Cổng Dịch vụ công quốc gia",
          GATEWAY: "Thanh toán trực tuyến qua cổng thanh toán của bộ, tỉnh", BANK_TRANSFER: "Chuyển khoản",
          CASH: "Nộp tiền mặt tại Bộ phận Một cửa"}
MAX_AMOUNT = 1_000_000_000_000  # VND: above any fee or charge, below what a JSON number keeps exactly


def is_online(payment: dict[str, Any] | None) -> bool:
    return bool(payment) and (payment or {}).get("channel") in ONLINE


def confirmed(payload: dict[str, Any], due: int | None, by: str, at: datetime) -> dict[str, Any]:
    """The payment `payload` confirms: `payment_channel`, `amount` (default: the amount requested), and optionally
    its split into `fees` (phí) and `charges` (lệ phí), which must add up to it, and `paid_at`."""
    channel = payload.get("payment_channel")
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput("invalid payment channel", [FieldProblem(
            "payment_channel", f"one of {', '.join(CHANNELS)}")])
    amount = _amount(payload, "amount", due)
    fees, charges = _amount(payload, "fees", None), _amount(payload, "charges", None)
    if amount is None and fees is not None and charges is not None:
        amount = fees + charges
    if amount is not None and fees is not None and charges is not None and fees + charges != amount:
        raise InvalidInput("fees and charges do not add up to the amount", [FieldProblem(
            "amount", f"{amount} VND paid, fees {fees} + charges {charges} = {fees + charges} VND")])
    paid_at = _paid_at(payload.get("paid_at"), at)
    return {"channel": channel, "online": channel in ONLINE, "amount": amount, "fees": fees, "charges": charges,
            "receipt_number": payload.get("receipt_number"), "paid_at": iso(paid_at), "recorded_at": iso(at),
            "recorded_by": by}


def _amount(payload: dict[str, Any], name: str, default: int | None) -> int | None:
    value = payload.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise InvalidInput(f"invalid {name}", [FieldProblem(name, f"whole VND from 0 to {MAX_AMOUNT}")])
    return value


def _paid_at(value: Any, at: datetime) -> datetime:
    if value is None:
        return at
    try:
        if not isinstance(value, str) or "T" not in value:
            raise ValueError(value)
        paid = parse_iso(value)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput("invalid paid_at", [FieldProblem(
            "paid_at", "an ISO 8601 instant with its offset, e.g. 2026-09-10T10:00:00+07:00")]) from exc
    # As the payer's platform stamped it (its clock is not ours): informative, the confirmation's own instant is
    # `recorded_at`, and that is the day the payment is counted on.
    if paid.tzinfo is None:
        raise InvalidInput("invalid paid_at", [FieldProblem("paid_at", "with its offset, e.g. +07:00")])
    return paid
