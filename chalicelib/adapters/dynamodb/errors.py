"""What a failed DynamoDB write says, read safely whatever its cause.

PynamoDB's `exc.cause_response_code` reads `exc.cause.response`, which botocore's timeouts and connection errors
(ReadTimeoutError, ConnectTimeoutError, EndpointConnectionError) carry as None: the property then raises
AttributeError, and a bounded, retried timeout turns into a crash that hides it. These helpers answer from the
response when there is one and leave the exception to propagate otherwise (the API maps it to 503:
api/routing.py `_unavailable`).
"""

from __future__ import annotations

from typing import Any

CONDITION_FAILED = "ConditionalCheckFailedException"


def response_code(exc: BaseException) -> str | None:
    """The DynamoDB error code of a PynamoDB exception's cause, or None (a timeout, a refused connection)."""
    response = getattr(getattr(exc, "cause", None), "response", None)
    if not isinstance(response, dict):
        return None
    error: Any = response.get("Error")
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def condition_failed(exc: BaseException) -> bool:
    """The write's condition did not hold (ConditionalCheckFailedException); False for a timeout."""
    return response_code(exc) == CONDITION_FAILED


def cancellation_codes(exc: BaseException) -> list[str | None]:
    """A cancelled transaction's reasons, one per item in order (empty for a timeout or another failure)."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return [r.code if r is not None else None for r in reasons]
