"""Intake retries with the same Idempotency-Key return the first answer (Powertools idempotency)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ..config import settings
from ..domain.errors import DomainError, FieldProblem


class IdempotencyConflict(DomainError):
    """A retried intake that cannot be answered from the stored result (changed body, or still running)."""


@lru_cache(maxsize=1)
def _persistence() -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=settings().table("idempotency"))


def run_once(key: str, payload: dict[str, Any], work: Callable[[], dict[str, Any]], lambda_context: Any) -> dict:
    """Run `work` once per key; a replay returns the stored result, a changed payload is refused."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings().idempotency_ttl_seconds,
    )
    if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
        config.register_lambda_context(lambda_context)

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=config)
    def intake(request: dict[str, Any]) -> dict[str, Any]:
        return work()

    try:
        return intake(request={"key": key, "payload": payload})
    except IdempotencyValidationError as exc:
        raise IdempotencyConflict("this Idempotency-Key was used with a different body",
                                  [FieldProblem("Idempotency-Key", "reused with a different body")],
                                  "idempotency_key_reused") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyConflict("a request with this Idempotency-Key is still being processed",
                                  [FieldProblem("Idempotency-Key", "in progress; retry shortly")],
                                  "in_progress") from exc
