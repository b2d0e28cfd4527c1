"""Webhook subscriptions and their deliveries (services.ports.WebhookStore), every write conditional."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError
from pynamodb.expressions.condition import Condition

from ...domain.clock import parse_iso
from ...domain.errors import NotFound, StaleVersion
from . import cursors
from .errors import condition_failed
from .models import WebhookDeliveryModel, WebhookModel, shard_of

PARTITION = "webhook"
DUE_SHARDS = 4  # the sparse due index spreads its writes; the sweep reads each shard
_WEBHOOK_KEY = ("pk", "id")
_DELIVERY_KEY = ("id", "webhook_id", "listed_sk")
# Delivered and failed deliveries stay listable this long, then DynamoDB removes them.
KEEP_SECONDS = 30 * 86400


class WebhookRepository:
    # --- subscriptions ---------------------------------------------------------------------------------------
    def create(self, data: dict[str, Any], secrets: list[dict[str, Any]]) -> None:
        item = WebhookModel(PARTITION, data["id"], version=1, data=data, secrets=secrets)
        item.save(condition=WebhookModel.id.does_not_exist())

    def get(self, webhook_id: str) -> tuple[dict[str, Any], list[dict[str, Any]], int] | None:
        try:
            item = WebhookModel.get(PARTITION, webhook_id, consistent_read=True)
        except WebhookModel.DoesNotExist:
            return None
        return dict(item.data), list(item.secrets), int(item.version)

    def update(self, data: dict[str, Any], secrets: list[dict[str, Any]], expected_version: int) -> int:
        """Replace the subscription if it is still at `expected_version`; answer the new version."""
        item = WebhookModel(PARTITION, data["id"], version=expected_version + 1, data=data, secrets=secrets)
        try:
            item.save(condition=WebhookModel.version == expected_version)
        except PutError as exc:
            if not condition_failed(exc):
                raise
            if self.get(data["id"]) is None:
                raise NotFound(f"no webhook {data['id']}") from exc
            raise StaleVersion("the webhook was changed meanwhile; read it again") from exc
        return expected_version + 1

    def delete(self, webhook_id: str) -> bool:
        try:
            WebhookModel(PARTITION, webhook_id).delete(condition=WebhookModel.id.exists())
        except DeleteError as exc:
            if not condition_failed(exc):
                raise
            return False
        return True

    def page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        listing = cursors.fingerprint("webhooks")
        results = WebhookModel.query(PARTITION, limit=limit,
                                     last_evaluated_key=cursors.decode(cursor, listing, _WEBHOOK_KEY, "id"))
        items = [{**item.data, "version": int(item.version), "_secrets": list(item.secrets)} for item in results]
        return items, cursors.encode(results.last_evaluated_key, listing)

    def active(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Every active subscription, for the consumer: one Query of the one partition."""
        return [(dict(item.data), list(item.secrets)) for item in WebhookModel.query(PARTITION)
                if item.data.get("active")]

    # --- deliveries ------------------------------------------------------------------------------------------
    def add_delivery(self, delivery: dict[str, Any]) -> bool:
        """Record a new delivery; False when one with its id exists already (the event was consumed before)."""
        try:
            _delivery_item(delivery).save(condition=WebhookDeliveryModel.id.does_not_exist())
        except PutError as exc:
            if not condition_failed(exc):
                raise
            return False
        return True

    def save_delivery(self, delivery: dict[str, Any], expected: dict[str, Any]) -> bool:
        """Replace a delivery only if its stored `attempt_count`, `status` and `next_at` are still those in
        `expected`: two workers never both record the same attempt, nor a redelivery and an attempt."""
        condition: Condition = WebhookDeliveryModel.id.exists()
        for name in ("attempt_count", "status", "next_at"):
            if name in expected:
                attribute = getattr(WebhookDeliveryModel, name)
                value = expected[name]
                condition &= attribute.does_not_exist() if value is None else attribute == value
        try:
            _delivery_item(delivery).save(condition=condition)
        except PutError as exc:
            if not condition_failed(exc):
                raise
            return False
        return True

    def delivery(self, delivery_id: str) -> dict[str, Any] | None:
        try:
            item = WebhookDeliveryModel.get(delivery_id, consistent_read=True)
        except WebhookDeliveryModel.DoesNotExist:
            return None
        return _delivery_dict(item)

    def deliveries_page(self, webhook_id: str, status: str | None, limit: int,
                        cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A subscription's deliveries, newest first (one Query of its index), optionally of one status."""
        listing = cursors.fingerprint("webhook-deliveries", webhook_id, status)
        results = WebhookDeliveryModel.by_webhook.query(
            webhook_id, scan_index_forward=False, limit=limit,
            filter_condition=(WebhookDeliveryModel.status == status) if status else None,
            last_evaluated_key=cursors.decode(cursor, listing, _DELIVERY_KEY, "id"))
        items = [_delivery_dict(item) for item in results]
        return items, cursors.encode(results.last_evaluated_key, listing)

    def due(self, now: datetime, limit: int) -> list[str]:
        """Ids of pending deliveries whose next attempt is at or before `now`, oldest first (keys only)."""
        bound = f"{_stamp(now)}#~"
        ids: list[str] = []
        for shard in range(DUE_SHARDS):
            for item in WebhookDeliveryModel.due.query(str(shard), WebhookDeliveryModel.due_sk <= bound,
                                                        limit=limit):
                ids.append(item.id)
        return ids[:limit * DUE_SHARDS]

    def failed_ids(self, webhook_id: str, limit: int) -> list[str]:
        return [item.id for item in WebhookDeliveryModel.failed.query(webhook_id, limit=limit)]


def _stamp(instant: datetime) -> str:
    """A sortable UTC instant: the due index compares these as strings."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _delivery_item(d: dict[str, Any]) -> WebhookDeliveryModel:
    pending = d["status"] == "pending" and d.get("next_at")
    terminal = d["status"] in ("delivered", "failed")
    data = {k: v for k, v in d.items() if k not in ("id", "webhook_id", "status", "attempt_count", "next_at",
                                                     "payload")}
    return WebhookDeliveryModel(
        d["id"], webhook_id=d["webhook_id"], listed_sk=f"{d['created_at']}#{d['id']}", status=d["status"],
        attempt_count=d["attempt_count"], next_at=d.get("next_at"),
        due_shard=shard_of(d["id"], DUE_SHARDS) if pending else None,
        due_sk=f"{_stamp(parse_iso(d['next_at']))}#{d['id']}" if pending else None,
        failed_webhook=d["webhook_id"] if d["status"] == "failed" else None,
        data=data, payload=d["payload"],
        expires=datetime.fromtimestamp(parse_iso(d["updated_at"]).timestamp() + KEEP_SECONDS, UTC)
        if terminal else None)


def _delivery_dict(item: WebhookDeliveryModel) -> dict[str, Any]:
    return {**item.data, "id": item.id, "webhook_id": item.webhook_id, "status": item.status,
            "attempt_count": int(item.attempt_count), "next_at": item.next_at, "payload": item.payload}
