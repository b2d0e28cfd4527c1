"""Outbound webhooks: admins manage subscriptions; the `webhooks` consumer records one delivery per matching
subscription and event, due at once, and (on AWS) puts a message naming it on the delivery queue, whose handler
sends it; the webhook sweep sends what no message brought (services/webhook_delivery.py).

Only an `admin` (a role in the token, as for reading every dossier) manages subscriptions: a webhook receives
every matching event of the province, whichever unit's.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as random_secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..domain import webhooks as rules
from ..domain.clock import iso, parse_iso
from ..domain.dossier import Actor
from ..domain.errors import FieldProblem, Forbidden, InvalidInput, NotFound, StaleVersion
from ..domain.events import DomainEvent

if TYPE_CHECKING:
    from .deps import Deps

ADMIN = "admin"
DEFAULT_GRACE_HOURS = 24
MAX_SECRETS = 3  # the new one and at most two still in their grace period


def require_admin(actor: Actor) -> None:
    if ADMIN not in actor.roles:
        raise Forbidden("managing webhooks needs the admin role")


def new_secret() -> str:
    return rules.SECRET_PREFIX + base64.b64encode(random_secrets.token_bytes(rules.SECRET_BYTES)).decode()


def active_secrets(secrets: list[dict[str, Any]], now: datetime) -> list[str]:
    """The secrets deliveries are signed with now: the newest first, then those still in their grace period."""
    live = [s for s in secrets if s.get("expires_at") is None or parse_iso(s["expires_at"]) > now]
    return [s["secret"] for s in sorted(live, key=lambda s: s["created_at"], reverse=True)]


def view(data: dict[str, Any], secrets: list[dict[str, Any]], version: int, now: datetime) -> dict[str, Any]:
    """A subscription as the API shows it: never a secret, only when each was made and until when it signs."""
    live = [s for s in secrets if s.get("expires_at") is None or parse_iso(s["expires_at"]) > now]
    return {
        "id": data["id"], "url": data["url"], "description": data.get("description", ""),
        "event_types": list(data["event_types"]), "unit": data.get("unit"), "active": bool(data["active"]),
        "include_history": bool(data.get("include_history")),
        "disabled_reason": data.get("disabled_reason"), "disabled_at": data.get("disabled_at"),
        "created_at": data["created_at"], "created_by": data["created_by"], "updated_at": data["updated_at"],
        "version": version,
        "secrets": [{"created_at": s["created_at"], "expires_at": s.get("expires_at")}
                    for s in sorted(live, key=lambda s: s["created_at"], reverse=True)],
    }


def create(deps: Deps, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    require_admin(actor)
    now = deps.now()
    data = {"id": f"wh_{uuid.uuid4().hex}", "created_at": iso(now), "created_by": actor.subject,
            "updated_at": iso(now), "disabled_reason": None, "disabled_at": None}
    data.update(_settings(deps, body, {"active": True, "description": "", "unit": None, "include_history": False}))
    secret = {"secret": new_secret(), "created_at": iso(now), "expires_at": None}
    deps.webhooks.store.create(data, [secret])
    return {**view(data, [secret], 1, now), "secret": secret["secret"]}


def get(deps: Deps, actor: Actor, webhook_id: str) -> dict[str, Any]:
    require_admin(actor)
    data, secrets, version = _load(deps, webhook_id)
    return view(data, secrets, version, deps.now())


def list_page(deps: Deps, actor: Actor, limit: int, cursor: str | None) -> dict[str, Any]:
    require_admin(actor)
    now = deps.now()
    items, next_cursor = deps.webhooks.store.page(limit, cursor)
    return {"items": [view(i, i.pop("_secrets"), i.pop("version"), now) for i in items], "next_cursor": next_cursor}


def update(deps: Deps, actor: Actor, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change what was given (the rest stays); `version` must be the one read. Re-activating a subscription a
    410 disabled clears why it was disabled."""
    require_admin(actor)
    data, secrets, version = _load(deps, webhook_id)
    _check_version(body, version)
    changed = {**data, **_settings(deps, body, data), "updated_at": iso(deps.now())}
    if body.get("active") is True:
        changed.update(disabled_reason=None, disabled_at=None)
    new_version = deps.webhooks.store.update(changed, secrets, version)
    return view(changed, secrets, new_version, deps.now())


def delete(deps: Deps, actor: Actor, webhook_id: str) -> dict[str, Any]:
    """Remove the subscription; its deliveries stay listed until they expire, and pending ones fail."""
    require_admin(actor)
    if not deps.webhooks.store.delete(webhook_id):
        raise NotFound(f"no webhook {webhook_id}")
    return {"id": webhook_id, "deleted": True}


def rotate(deps: Deps, actor: Actor, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A new secret, answered once; the previous ones keep signing for `grace_hours` (default 24), so every
    delivery meanwhile carries both signatures and the receiver can switch over at its own pace."""
    require_admin(actor)
    data, secrets, version = _load(deps, webhook_id)
    _check_version(body, version)
    now = deps.now()
    grace = int(body.get("grace_hours", DEFAULT_GRACE_HOURS))
    ends = iso(now + timedelta(hours=grace)) or ""
    kept = []
    for s in secrets:
        expires = s.get("expires_at")
        if grace == 0 or (expires is not None and parse_iso(expires) <= now):
            continue  # past its grace period (or none was asked for): it signs no more
        kept.append({**s, "expires_at": ends if expires is None else min(expires, ends)})  # UTC ISO: sortable
    fresh = {"secret": new_secret(), "created_at": iso(now), "expires_at": None}
    kept = sorted(kept, key=lambda s: s["created_at"], reverse=True)[:MAX_SECRETS - 1]
    new_version = deps.webhooks.store.update({**data, "updated_at": iso(now)}, [fresh, *kept], version)
    return {**view(data, [fresh, *kept], new_version, now), "secret": fresh["secret"]}


def _settings(deps: Deps, body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "url" in body or "url" not in current:
        out["url"] = rules.check_target(body.get("url"), deps.webhooks.local)
    if "event_types" in body or "event_types" not in current:
        out["event_types"] = list(rules.check_event_types(body.get("event_types")))
    if "unit" in body:
        unit = body["unit"]
        if unit is not None:
            deps.catalogue.unit(unit, "unit")
        out["unit"] = unit
    if "active" in body:
        out["active"] = bool(body["active"])
    if "description" in body:
        out["description"] = body["description"]
    if "include_history" in body:
        out["include_history"] = bool(body["include_history"])
    kept = ("active", "description", "unit", "include_history")
    return {**{k: v for k, v in current.items() if k in kept and k not in body}, **out}


def _check_version(body: dict[str, Any], version: int) -> None:
    if body.get("version") != version:
        raise StaleVersion(f"the webhook is at version {version}; read it again", version)


def _load(deps: Deps, webhook_id: str) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    found = deps.webhooks.store.get(webhook_id)
    if found is None:
        raise NotFound(f"no webhook {webhook_id}")
    return found


# --- the consumer --------------------------------------------------------------------------------------------
def delivery_id(webhook_id: str, event_id: str) -> str:
    """Deterministic: the same event consumed twice names the same delivery, which is recorded once. It is also
    the `webhook-id` header, the same on every attempt, which receivers use to drop duplicates."""
    return "msg_" + hashlib.sha256(f"{webhook_id}\n{event_id}".encode()).hexdigest()[:32]


def new_delivery(webhook_id: str, ident: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"id": ident, "webhook_id": webhook_id, "event_id": body["id"], "event_type": body["type"],
            "code": body.get("code"), "status": "pending", "attempt_count": 0, "attempts": [],
            "created_at": iso(now), "updated_at": iso(now), "window_start": iso(now),
            "next_at": iso(now), "last_error": None, "payload": body}


def on_event(deps: Deps, event: DomainEvent) -> None:
    """Record a delivery of `event` for each active subscription that wants it, due now. Nothing is
    sent here: the relay (and so intake and every transition) never waits on a receiver."""
    subscriptions = deps.webhooks.store.active()
    if not subscriptions:
        return
    tree = deps.catalogue.tree()
    now = deps.now()
    body = rules.payload(event)
    recorded = []
    for data, _ in subscriptions:
        if rules.wants(data["event_types"], data.get("unit"), event, tree.is_within):
            delivery = new_delivery(data["id"], delivery_id(data["id"], event.id), body, now)
            if deps.webhooks.store.add_delivery(delivery):  # False: recorded by an earlier run of this event
                recorded.append(delivery["id"])
    enqueue(deps, [(ident, 0, 0) for ident in recorded])


def on_imported(deps: Deps, events: list[DomainEvent]) -> int:
    """The events of imported dossiers (services/importer.py), recorded as deliveries only for the subscriptions
    that asked for history (`include_history`): a receiver that wants live events only never gets years of
    them. Deliveries are keyed by subscription and event, so an import run again records nothing twice. Answers
    how many were recorded."""
    subscriptions = [data for data, _ in deps.webhooks.store.active() if data.get("include_history")]
    if not subscriptions or not events:
        return 0
    tree = deps.catalogue.tree()
    now = deps.now()
    recorded = []
    for event in events:
        body = None
        for data in subscriptions:
            if rules.wants(data["event_types"], data.get("unit"), event, tree.is_within):
                body = body or rules.payload(event)
                delivery = new_delivery(data["id"], delivery_id(data["id"], event.id), body, now)
                if deps.webhooks.store.add_delivery(delivery):
                    recorded.append(delivery["id"])
    enqueue(deps, [(ident, 0, 0) for ident in recorded])
    return len(recorded)


def enqueue(deps: Deps, messages: list[tuple[str, int, int]]) -> None:
    """Tell the delivery queue (AWS) about deliveries to attempt: (id, attempt count, delay in seconds). Without
    a queue (locally, route 1) the sweep finds them by their next attempt; a message that could not be sent is
    found the same way (services/webhook_delivery.py)."""
    if deps.webhooks.queue is not None and messages:
        deps.webhooks.queue.send(messages)


def ping(deps: Deps, actor: Actor, webhook_id: str) -> dict[str, Any]:
    """A `webhook.ping` delivery, sent like any other (signed, retried, listed with the rest)."""
    require_admin(actor)
    _load(deps, webhook_id)
    now = deps.now()
    body = rules.ping_payload(webhook_id, now)
    delivery = new_delivery(webhook_id, delivery_id(webhook_id, f"{body['id']}/{uuid.uuid4().hex}"), body, now)
    deps.webhooks.store.add_delivery(delivery)
    enqueue(deps, [(delivery["id"], 0, 0)])
    from .webhook_delivery import delivery_view

    return delivery_view(delivery)


def check_webhook_id(value: str) -> str:
    if not (len(value) == 35 and value.startswith("wh_") and all(c in "0123456789abcdef" for c in value[3:])):
        raise InvalidInput("invalid webhook id", [FieldProblem("id", "expected wh_ and 32 hex digits")])
    return value
