"""Inbound messages' outcomes and the rejected messages, on the inbound table (services.ports.InboundStore)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ...services.ports import MessageRecord, MessageSeen
from . import cursors
from .models import InboundModel

# A sender retries a message (re-signed, same webhook-id) for up to a few days; its outcome outlives that.
OUTCOME_TTL_SECONDS = 30 * 24 * 3600
REJECTED_TTL_SECONDS = 90 * 24 * 3600  # an admin reviews rejections within a quarter
_OUTCOME_SK = "outcome"
_REJECTED_KEY = ("pk", "sk")


def outcome_item(message: MessageRecord) -> InboundModel:
    """The item recording `message`, to put only if absent (alone, or in its dossier's transaction)."""
    return InboundModel(f"message#{message.key}", _OUTCOME_SK, body_hash=message.body_hash, status=message.status,
                        data=message.answer, expires=timedelta(seconds=OUTCOME_TTL_SECONDS))


class InboundRepository:
    def outcome(self, key: str) -> MessageRecord | None:
        try:
            item = InboundModel.get(f"message#{key}", _OUTCOME_SK, consistent_read=True)
        except InboundModel.DoesNotExist:
            return None
        return MessageRecord(key, item.body_hash or "", int(item.status or 0), dict(item.data or {}))

    def record(self, message: MessageRecord) -> None:
        from pynamodb.exceptions import PutError

        try:
            outcome_item(message).save(condition=InboundModel.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise MessageSeen(message.key) from exc
            raise

    def keep_rejected(self, source: str, rejected: dict[str, Any]) -> None:
        InboundModel(f"rejected#{source}", f"{rejected['at']}#{rejected['id']}", data=rejected,
                     expires=timedelta(seconds=REJECTED_TTL_SECONDS)).save()

    def rejected(self, source: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        listing = cursors.fingerprint("inbound-rejected", source)
        results = InboundModel.query(f"rejected#{source}", scan_index_forward=False, limit=limit,
                                     last_evaluated_key=cursors.decode(cursor, listing, _REJECTED_KEY, "pk"))
        items = [dict(item.data) for item in results]
        return items, cursors.encode(results.last_evaluated_key, listing)
