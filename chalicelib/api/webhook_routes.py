"""Outbound webhooks, for admins: subscriptions, their secrets, their deliveries (docs/webhooks.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.errors import FieldProblem, InvalidInput
from ..services import webhook_delivery, webhooks
from .routing import Call, route

bp = Blueprint(__name__)

WEBHOOK_ID = {"type": "string", "pattern": "^wh_[0-9a-f]{32}$", "example": "wh_5f0c8e1b2a4d4c6e8f9a0b1c2d3e4f50"}
DELIVERY_ID = {"type": "string", "pattern": "^msg_[0-9a-f]{32}$", "example": "msg_0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"}
_ADMIN_ERRORS = (400, 401, 403, 404)


@route(bp, "POST", "/v1/webhooks", summary="Subscribe a receiver to domain events; the secret is answered once",
       tag="webhooks", body="webhook-create", auth=True, success=201, response="WebhookWithSecret",
       errors=(400, 401, 403, 413, 415))
def create_webhook(call: Call) -> tuple[int, dict[str, Any]]:
    actor = call.actor()
    return 201, webhooks.create(deps(), actor, call.body())


@route(bp, "GET", "/v1/webhooks", summary="Webhook subscriptions, paginated", tag="webhooks",
       query="webhook-list-query", auth=True, response="WebhookPage", errors=(400, 401, 403))
def list_webhooks(call: Call) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    return webhooks.list_page(deps(), actor, int(q.get("limit", 50)), q.get("cursor"))


@route(bp, "GET", "/v1/webhooks/{id}", summary="One webhook subscription (its secrets' dates, never the secrets)",
       tag="webhooks", auth=True, response="Webhook", errors=_ADMIN_ERRORS, path_params={"id": WEBHOOK_ID})
def get_webhook(call: Call, id: str) -> dict[str, Any]:
    return webhooks.get(deps(), call.actor(), webhooks.check_webhook_id(id))


@route(bp, "PATCH", "/v1/webhooks/{id}", summary="Change a subscription at the version last read; active: true "
       "re-enables one a 410 disabled", tag="webhooks", body="webhook-update", auth=True, response="Webhook",
       errors=(*_ADMIN_ERRORS, 409, 413, 415), path_params={"id": WEBHOOK_ID})
def update_webhook(call: Call, id: str) -> dict[str, Any]:
    actor = call.actor()
    return webhooks.update(deps(), actor, webhooks.check_webhook_id(id), call.body())


@route(bp, "DELETE", "/v1/webhooks/{id}", summary="Delete a subscription (its pending deliveries fail)",
       tag="webhooks", auth=True, response="WebhookDeleted", errors=_ADMIN_ERRORS, path_params={"id": WEBHOOK_ID})
def delete_webhook(call: Call, id: str) -> dict[str, Any]:
    return webhooks.delete(deps(), call.actor(), webhooks.check_webhook_id(id))


@route(bp, "POST", "/v1/webhooks/{id}/rotate-secret", summary="A new secret, answered once; the previous ones "
       "keep signing for grace_hours (both signatures sent)", tag="webhooks", body="webhook-rotate", auth=True,
       response="WebhookWithSecret", errors=(*_ADMIN_ERRORS, 409, 413, 415), path_params={"id": WEBHOOK_ID})
def rotate_webhook_secret(call: Call, id: str) -> dict[str, Any]:
    actor = call.actor()
    return webhooks.rotate(deps(), actor, webhooks.check_webhook_id(id), call.body())


@route(bp, "POST", "/v1/webhooks/{id}/ping", summary="Send a webhook.ping delivery, signed and retried like any "
       "other", tag="webhooks", auth=True, success=202, response="WebhookDelivery", errors=_ADMIN_ERRORS,
       path_params={"id": WEBHOOK_ID})
def ping_webhook(call: Call, id: str) -> tuple[int, dict[str, Any]]:
    return 202, webhooks.ping(deps(), call.actor(), webhooks.check_webhook_id(id))


@route(bp, "GET", "/v1/webhooks/{id}/deliveries", summary="A subscription's deliveries, newest first, with every "
       "attempt (time, HTTP status or error, duration) and the next one", tag="webhooks",
       query="webhook-deliveries-query", auth=True, response="WebhookDeliveryPage", errors=_ADMIN_ERRORS,
       path_params={"id": WEBHOOK_ID})
def list_webhook_deliveries(call: Call, id: str) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    return webhook_delivery.list_deliveries(deps(), actor, webhooks.check_webhook_id(id), q.get("status"),
                                            int(q.get("limit", 50)), q.get("cursor"))


@route(bp, "POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", summary="Send a delivered or failed "
       "delivery again, with a new 3-day retry window", tag="webhooks", auth=True, success=202,
       response="WebhookDelivery", errors=_ADMIN_ERRORS, path_params={"id": WEBHOOK_ID, "delivery_id": DELIVERY_ID})
def redeliver_webhook_delivery(call: Call, id: str, delivery_id: str) -> tuple[int, dict[str, Any]]:
    actor = call.actor()
    return 202, webhook_delivery.redeliver(deps(), actor, webhooks.check_webhook_id(id), _delivery_id(delivery_id))


@route(bp, "POST", "/v1/webhooks/{id}/redeliver-failed", summary="Send every failed delivery of a subscription "
       "again (up to 500 per call)", tag="webhooks", auth=True, success=202, response="WebhookRedelivered",
       errors=_ADMIN_ERRORS, path_params={"id": WEBHOOK_ID})
def redeliver_failed_webhook_deliveries(call: Call, id: str) -> tuple[int, dict[str, Any]]:
    return 202, webhook_delivery.redeliver_failed(deps(), call.actor(), webhooks.check_webhook_id(id))


def _delivery_id(value: str) -> str:
    if not (len(value) == 36 and value.startswith("msg_") and all(c in "0123456789abcdef" for c in value[4:])):
        raise InvalidInput("invalid delivery id", [FieldProblem("delivery_id", "expected msg_ and 32 hex digits")])
    return value
