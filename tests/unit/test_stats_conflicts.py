"""Counting many dossiers at once: a transaction DynamoDB cancels because another one touched the same counters
(TransactionConflict) is tried again, a bounded number of times; any other failure goes out as it is."""

from __future__ import annotations

import pytest
from pynamodb.connection.base import VerboseClientError
from pynamodb.exceptions import CancellationReason, TransactWriteError

from chalicelib.adapters.dynamodb import stats


def cancelled(*codes: str) -> TransactWriteError:
    """What PynamoDB raises for a cancelled transaction, as DynamoDB answered it."""
    cause = VerboseClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
                               "TransactWriteItems", cancellation_reasons=[CancellationReason(code=c) for c in codes])
    return TransactWriteError("cancelled", cause)


def test_a_conflicting_transaction_is_tried_again(monkeypatch):
    calls = []

    def once(self, event, booking):
        calls.append(1)
        if len(calls) < 3:
            raise cancelled("None", "TransactionConflict")
        return True

    monkeypatch.setattr(stats.StatsRepository, "_apply_once", once)
    monkeypatch.setattr(stats.time, "sleep", lambda s: None)
    assert stats.StatsRepository().apply(object(), object()) is True  # type: ignore[arg-type]
    assert len(calls) == 3


def test_conflicts_are_tried_a_bounded_number_of_times_and_other_failures_not_at_all(monkeypatch):
    calls = []

    def conflict(self, event, booking):
        calls.append(1)
        raise cancelled("TransactionConflict")

    monkeypatch.setattr(stats.StatsRepository, "_apply_once", conflict)
    monkeypatch.setattr(stats.time, "sleep", lambda s: None)
    with pytest.raises(TransactWriteError):
        stats.StatsRepository().apply(object(), object())  # type: ignore[arg-type]
    assert len(calls) == stats.CONFLICT_ATTEMPTS

    calls.clear()

    def validation(self, event, booking):
        calls.append(1)
        raise cancelled("ValidationError")

    monkeypatch.setattr(stats.StatsRepository, "_apply_once", validation)
    with pytest.raises(TransactWriteError):
        stats.StatsRepository().apply(object(), object())  # type: ignore[arg-type]
    assert len(calls) == 1
