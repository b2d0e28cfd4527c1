"""Intake retries with the same Idempotency-Key answer with the dossier the first attempt created.

Two layers, each small:
- Powertools idempotency locks a key while its intake runs (a concurrent duplicate gets 409), refuses a changed
  body (422) and remembers the dossier code only, never the whole response: the answer to a replay is rebuilt
  from the dossier, so the record stays far under DynamoDB's item limit whatever the dossier holds.
- A claim item ("intake#<hash of the key>" in the same table) is written in the same transaction as the dossier
  itself. Whatever happens to the Powertools record (a failed update, an expired lock, a lost response), a key
  can never create a second dossier: the next attempt finds the claim and answers with that dossier.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..config import settings
from ..domain.errors import DomainError, FieldProblem
from ..observability import logger


class IdempotencyConflict(DomainError):
    """A retried intake that cannot be answered from the stored result (changed body, or still running)."""


def _reused() -> IdempotencyConflict:
    return IdempotencyConflict("this Idempotency-Key was used with a different body",
                               [FieldProblem("Idempotency-Key", "reused with a different body")],
                               "idempotency_key_reused")


@dataclass(frozen=True)
class Claim:
    """What binds an Idempotency-Key to the dossier it created."""

    id: str
    payload_hash: str

    @classmethod
    def of(cls, key: str, payload: dict[str, Any]) -> Claim:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return cls("intake#" + hashlib.sha256(key.encode()).hexdigest(),
                   hashlib.sha256(canonical.encode()).hexdigest())


def claimed_code(claim: Claim) -> str | None:
    """The dossier an earlier attempt with this key created, if any (a changed body is refused)."""
    from .dynamodb.models import IdempotencyModel

    try:
        item = IdempotencyModel.get(claim.id, consistent_read=True)
    except IdempotencyModel.DoesNotExist:
        return None
    if item.payload_hash != claim.payload_hash:
        raise _reused()
    return item.code


@lru_cache(maxsize=1)
def _persistence() -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from botocore.config import Config

    s = settings()
    # The same bounded waits as the PynamoDB models: an unreachable table fails fast (503), never hangs.
    config = Config(connect_timeout=s.db_connect_timeout, read_timeout=s.db_read_timeout,
                    retries={"total_max_attempts": 1 + s.db_max_retries, "mode": "standard"})
    return DynamoDBPersistenceLayer(table_name=settings().table("idempotency"), boto_config=config)


def run_once(key: str, payload: dict[str, Any], work: Callable[[Claim], dict[str, Any]],
             replay: Callable[[str], dict[str, Any]], lambda_context: Any) -> dict[str, Any]:
    """Run `work` once per key and return its answer; a replay returns `replay(code)` for the dossier the key
    created. `work` gets the claim to write in the dossier's own transaction (DossierStore.add's `claim`)."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
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
    claim = Claim.of(key, payload)
    answered: dict[str, Any] = {}

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=config)
    def intake(request: dict[str, Any]) -> dict[str, Any]:
        earlier = claimed_code(claim)
        if earlier is not None:  # created by an attempt whose Powertools record was lost or expired
            return {"code": earlier}
        answered.update(work(claim))
        return {"code": answered["code"]}

    try:
        stored = intake(request={"key": key, "payload": payload})
    except IdempotencyValidationError as exc:
        raise _reused() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyConflict("a request with this Idempotency-Key is still being processed",
                                  [FieldProblem("Idempotency-Key", "in progress; retry shortly")],
                                  "in_progress") from exc
    except IdempotencyPersistenceLayerError:
        if not answered:
            raise
        # The dossier and its claim are stored; only Powertools' record could not be completed. Answer with
        # the dossier: a retry finds the claim and answers with the same one.
        logger().warning("idempotency record not completed", extra={"code": answered["code"]})
        return answered
    return answered or replay(stored["code"])
