"""The webhook routes' response schemas, merged into the OpenAPI components (api/openapi.py)."""

from __future__ import annotations

from typing import Any

from ..domain.events import EVENT_TYPES
from ..domain.webhooks import ALL_TYPES, PING

JSON = dict[str, Any]


def components() -> JSON:
    from .openapi import (
        BOOLEAN,
        INSTANT,
        INTEGER,
        MAYBE_INSTANT,
        MAYBE_INTEGER,
        MAYBE_STRING,
        STRING,
        _array,
        _obj,
        _ref,
    )

    webhook_props: JSON = {
        "id": STRING, "url": STRING, "description": STRING,
        "event_types": _array({"type": "string", "enum": [ALL_TYPES, *EVENT_TYPES]}, "* : every type"),
        "unit": MAYBE_STRING, "active": BOOLEAN,
        "include_history": {**BOOLEAN, "description": "also the events of imported dossiers (docs/import.md)"},
        "disabled_reason": {**MAYBE_STRING, "description": "why deliveries stopped (a 410 from the receiver)"},
        "disabled_at": MAYBE_INSTANT, "created_at": INSTANT, "created_by": STRING, "updated_at": INSTANT,
        "version": INTEGER,
        "secrets": _array(_obj({"created_at": INSTANT, "expires_at": MAYBE_INSTANT}, ("created_at", "expires_at")),
                          "the secrets deliveries are signed with now, newest first; expires_at: end of a "
                          "rotation's grace period"),
    }
    required = tuple(webhook_props)
    attempt = _obj({"at": INSTANT, "http_status": MAYBE_INTEGER, "error": MAYBE_STRING,
                    "duration_ms": INTEGER}, ("at", "http_status", "error", "duration_ms"))
    delivery = _obj({
        "id": {**STRING, "description": "the webhook-id header, the same on every attempt"},
        "webhook_id": STRING, "event_id": {**STRING, "description": "<dossier code>/<seq>, or a ping's id"},
        "event_type": {"type": "string", "enum": [*EVENT_TYPES, PING]}, "code": MAYBE_STRING,
        "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
        "created_at": INSTANT, "updated_at": INSTANT, "attempt_count": INTEGER,
        "next_attempt_at": MAYBE_INSTANT, "retry_until": INSTANT, "last_error": MAYBE_STRING,
        "attempts": _array(_ref("WebhookAttempt"), "the newest 50 attempts, oldest first")},
        ("id", "webhook_id", "event_id", "event_type", "code", "status", "created_at", "updated_at",
         "attempt_count", "next_attempt_at", "retry_until", "last_error", "attempts"),
        "One event to one subscription, tried until delivered, a 410, or 3 days")
    return {
        "Webhook": _obj(webhook_props, required, "A webhook subscription"),
        "WebhookWithSecret": _obj({**webhook_props, "secret": {
            **STRING, "description": "whsec_<base64>: shown this once; verify deliveries with it"}},
            (*required, "secret")),
        "WebhookPage": _obj({"items": _array(_ref("Webhook")), "next_cursor": MAYBE_STRING},
                            ("items", "next_cursor")),
        "WebhookDeleted": _obj({"id": STRING, "deleted": BOOLEAN}, ("id", "deleted")),
        "WebhookAttempt": attempt,
        "WebhookDelivery": delivery,
        "WebhookDeliveryPage": _obj({"items": _array(_ref("WebhookDelivery")), "next_cursor": MAYBE_STRING},
                                    ("items", "next_cursor")),
        "WebhookRedelivered": _obj({"webhook_id": STRING, "redelivered": INTEGER}, ("webhook_id", "redelivered")),
    }
