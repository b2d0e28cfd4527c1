"""Inbound messages' outcomes and the rejected messages, on the inbound table (services.ports.InboundStore)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ...services.ports import MessageRecord, MessageSeen
from . import cursors
from .errors import condition_failed
from .models import InboundModel

# A sender retries a message (re-signed, same webhook-id) for up to a few days; its outcome outlives that.
OUTCOME_TTL_SECONDS = 30 * 24 * 3600
REJECTED_TTL_SECONDS = 90 * 24 * 3600  # an admin reviews rejections within a quarter
# Anyone can send a request that fails the signature check: at most this many of those are kept per source and hour
# (a flood costs one small conditional write each and cannot bury the rejections an admin must see).
UNSIGNED_KEPT_PER_HOUR = 100
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
            if condition_failed(exc):
                raise MessageSeen(message.key) from exc
            raise

    def keep_rejected(self, source: str, rejected: dict[str, Any]) -> None:
        if not rejected.get("signed") and not _unsigned_slot(source, str(rejected["at"])[:13]):
            return
        InboundModel(f"rejected#{source}", f"{rejected['at']}#{rejected['id']}", data=rejected,
                     expires=timedelta(seconds=REJECTED_TTL_SECONDS)).save()

    def rejected(self, source: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        listing = cursors.fingerprint("inbound-rejected", source)
        results = InboundModel.query(f"rejected#{source}", scan_index_forward=False, limit=limit,
                                     last_evaluated_key=cursors.decode(cursor, listing, _REJECTED_KEY, "pk"))
        items = [dict(item.data) for item in results]
        return items, cursors.encode(results.last_evaluated_key, listing)


def _unsigned_slot(source: str, hour: str) -> bool:
    """Count one more unsigned rejection of `source` in `hour`; False once UNSIGNED_KEPT_PER_HOUR are kept."""
    from pynamodb.exceptions import UpdateError

    try:
        InboundModel(f"unsigned#{source}", hour, data=None).update(
            actions=[InboundModel.kept.add(1), InboundModel.expires.set(datetime.now(UTC) + timedelta(days=2))],
            condition=InboundModel.kept.does_not_exist() | (InboundModel.kept < UNSIGNED_KEPT_PER_HOUR))
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True
