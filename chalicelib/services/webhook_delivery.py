"""Delivering webhooks: each attempt bounded and recorded, retried with backoff and full jitter for 3 days.

A pending delivery carries its next attempt (`next_at`, in the sparse `due` index of its table): that is the
truth about when it is tried, whatever carries it there.
- On AWS (route 2) the delivery queue does (SQS `webhook-deliveries`, with its dead-letter queue): the consumer
  and the admin's redeliveries put a message naming the delivery and its attempt count; `handle_message` (the
  `webhook_delivery` function) runs `attempt`, which after a retryable failure sends the next message with
  DelaySeconds = min(wait, 900). SQS delays 15 minutes at most and retries run for 3 days, so a message that
  arrives before `next_at` is sent again for the rest of the wait (capped at 900 s): a 6-hour wait is 24 hops.
  A message for an attempt already made (a duplicate, or one the sweep overtook) is dropped, so duplicates die
  at the next attempt. A handler that crashes leaves its message to SQS's retries, then to the dead-letter queue.
- `sweep` (the `webhook_sweep` schedule, every minute; the local job runner locally) attempts what is due. With
  a queue it takes only deliveries overdue by SWEEP_GRACE_SECONDS: those whose message was lost (never sent,
  or dead-lettered). Without one (locally, route 1) it sends every delivery, as soon as it is due.
No request, relay or consumer ever waits on a receiver.

An attempt first claims the delivery (its next attempt moved LEASE_SECONDS ahead, on condition nobody else did),
then sends, then records the result on condition the claim still holds: overlapping sweeps, queue messages or a
redelivery never make two attempts of one. A worker that dies after claiming leaves the delivery due again when
its lease ends.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..domain import webhooks as rules
from ..domain.clock import iso, parse_iso
from ..domain.dossier import Actor
from ..domain.errors import FieldProblem, InvalidInput, NotFound
from ..observability import logger
from . import metrics, webhooks

if TYPE_CHECKING:
    from .deps import Deps

LEASE_SECONDS = 60  # well beyond one attempt (connect 2 s + answer 5 s)
SWEEP_LIMIT = 100  # per shard and run; the next run takes the rest
SWEEP_WORKERS = 16  # receivers tried at once: a run of dead receivers costs ~(due / 16) x 7 s
SWEEP_BUDGET_SECONDS = 80.0  # no attempt starts later (the function has 120 s: .chalice/config.json)
REDELIVER_LIMIT = 500  # failed deliveries one redeliver-all call resets
# With a delivery queue, the sweep leaves a delivery to its message this long past its next attempt: SQS delays
# to the second and Lambda polls continuously, so a message this late was lost.
SWEEP_GRACE_SECONDS = 300
MAX_QUEUE_DELAY = 900  # SQS's limit on DelaySeconds


def sign(delivery_id: str, at: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    """Standard Webhooks headers: one `v1,<base64 HMAC-SHA256>` per secret in use, space separated."""
    from standardwebhooks.webhooks import Webhook

    # The package reads the instant as UTC whatever its zone says (it replaces tzinfo): give it UTC.
    utc = at.astimezone(UTC)
    signatures = [Webhook(secret).sign(delivery_id, utc, body) for secret in secrets]
    return {"webhook-id": delivery_id, "webhook-timestamp": str(int(utc.timestamp())),
            "webhook-signature": " ".join(signatures), "content-type": "application/json",
            "user-agent": "motcua-webhooks/1"}


def attempt(deps: Deps, delivery_id: str) -> str:
    """Try a pending, due delivery once; answer what happened: delivered, retry, failed, gone, or skipped
    (not pending, not due, or taken by another worker). After a retry, with a delivery queue, the message of the
    next attempt is sent."""
    store = deps.webhooks.store
    delivery = store.delivery(delivery_id)
    now = deps.now()
    if delivery is None or delivery["status"] != "pending" or parse_iso(delivery["next_at"]) > now:
        return "skipped"
    subscription = store.get(delivery["webhook_id"])
    if subscription is None or not subscription[0].get("active"):
        reason = "the subscription was deleted" if subscription is None else (
            f"the subscription is disabled: {subscription[0].get('disabled_reason') or 'by an admin'}")
        _finish(deps, delivery, now, "failed", reason, {"next_at": delivery["next_at"]})
        return "failed"
    data, secrets, _ = subscription
    claimed = {**delivery, "next_at": iso(now + timedelta(seconds=LEASE_SECONDS))}
    if not store.save_delivery(claimed, {"status": "pending", "attempt_count": delivery["attempt_count"],
                                         "next_at": delivery["next_at"]}):
        return "skipped"
    body = json.dumps(delivery["payload"], ensure_ascii=False, separators=(",", ":"))
    headers = sign(delivery_id, now, body, webhooks.active_secrets(secrets, now))
    result = deps.webhooks.sender.post(data["url"], headers, body.encode("utf-8"))
    outcome = rules.judge(result.status, result.error)
    record = {"at": iso(now), "status": result.status, "error": outcome.error, "duration_ms": result.duration_ms}
    done = {**claimed, "attempt_count": delivery["attempt_count"] + 1, "last_error": outcome.error,
            "attempts": [*delivery.get("attempts", []), record][-rules.KEPT_ATTEMPTS:]}
    held = {"status": "pending", "attempt_count": delivery["attempt_count"], "next_at": claimed["next_at"]}
    if outcome.kind == "delivered":
        _finish(deps, done, now, "delivered", None, held)
        return "delivered"
    if outcome.kind == "gone":
        _disable(deps, data["id"], f"the receiver answered 410 Gone to delivery {delivery_id}", now)
        _finish(deps, done, now, "failed", outcome.error, held)
        return "gone"
    later = rules.next_attempt(parse_iso(delivery["window_start"]), now, done["attempt_count"],
                               deps.webhooks.draw)
    if later is None:
        _finish(deps, done, now, "failed", f"gave up after {rules.RETRY_WINDOW.days} days: {outcome.error}", held)
        return "failed"
    if store.save_delivery({**done, "next_at": iso(later), "updated_at": iso(now)}, held):
        webhooks.enqueue(deps, [(delivery_id, done["attempt_count"], _delay(later, now))])
    return "retry"


def _delay(at: datetime, now: datetime) -> int:
    """Seconds from `now` to `at`, rounded up (never early), capped at what SQS delays."""
    return max(0, min(MAX_QUEUE_DELAY, math.ceil((at - now).total_seconds())))


def handle_message(deps: Deps, body: str) -> str:
    """One delivery queue message: attempt the delivery it names if due, else send it again for the rest of the
    wait (at most 900 s). Answers dropped (no such pending delivery, or the attempt it was for was made),
    requeued, or `attempt`'s outcome. A malformed message raises: SQS retries it, then dead-letters it."""
    try:
        message = json.loads(body)
        delivery_id, attempt_count = message["delivery"], message["attempt"]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a webhook delivery message: {body[:200]!r}") from exc
    if not isinstance(delivery_id, str) or not isinstance(attempt_count, int) or isinstance(attempt_count, bool):
        raise ValueError(f"not a webhook delivery message: {body[:200]!r}")
    delivery = deps.webhooks.store.delivery(delivery_id)
    if delivery is None or delivery["status"] != "pending" or delivery["attempt_count"] != attempt_count:
        return "dropped"
    now = deps.now()
    next_at = parse_iso(delivery["next_at"])
    if next_at > now:
        webhooks.enqueue(deps, [(delivery_id, attempt_count, _delay(next_at, now))])
        return "requeued"
    return attempt(deps, delivery_id)


def _finish(deps: Deps, delivery: dict[str, Any], now: datetime, status: str, error: str | None,
            expected: dict[str, Any]) -> None:
    final = {**delivery, "status": status, "next_at": None, "updated_at": iso(now)}
    if error is not None:
        final["last_error"] = error
    ended = deps.webhooks.store.save_delivery(final, {"status": "pending", **expected})
    if ended and status == "failed":  # once: only the worker whose conditional write ended it counts it
        metrics.count(deps, metrics.WEBHOOK_DELIVERIES_FAILED)


def _disable(deps: Deps, webhook_id: str, reason: str, now: datetime) -> None:
    """The receiver said it wants no more (410): the subscription stops, and says why, until an admin
    re-activates it."""
    from ..domain.errors import StaleVersion

    for _ in range(3):  # an admin's edit in between: read again
        found = deps.webhooks.store.get(webhook_id)
        if found is None or not found[0].get("active"):
            return
        data, secrets, version = found
        try:
            deps.webhooks.store.update({**data, "active": False, "disabled_reason": reason,
                                        "disabled_at": iso(now), "updated_at": iso(now)}, secrets, version)
            logger().warning("webhook disabled", extra={"webhook": webhook_id, "reason": reason})
            return
        except StaleVersion:
            continue


def sweep(deps: Deps, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> dict[str, int]:
    """Attempt every delivery due now, SWEEP_WORKERS receivers at a time, starting none after `budget_seconds`
    (what is left is still due at the next run)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    grace = SWEEP_GRACE_SECONDS if deps.webhooks.queue is not None else 0
    ids = deps.webhooks.store.due(deps.now() - timedelta(seconds=grace), SWEEP_LIMIT)
    stop_at = time.monotonic() + budget_seconds

    def run(delivery_id: str) -> str:
        return attempt(deps, delivery_id) if time.monotonic() < stop_at else "left"

    with ThreadPoolExecutor(max_workers=SWEEP_WORKERS) as pool:
        outcomes = list(pool.map(run, ids))
    counts: dict[str, int] = {"due": len(ids)}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# --- what admins see and do ---------------------------------------------------------------------------------
def delivery_view(d: dict[str, Any]) -> dict[str, Any]:
    return {"id": d["id"], "webhook_id": d["webhook_id"], "event_id": d["event_id"], "event_type": d["event_type"],
            "code": d.get("code"), "status": d["status"], "created_at": d["created_at"],
            "updated_at": d["updated_at"], "attempt_count": d["attempt_count"],
            "next_attempt_at": d.get("next_at") if d["status"] == "pending" else None,
            "retry_until": iso(parse_iso(d["window_start"]) + rules.RETRY_WINDOW),
            "last_error": d.get("last_error"),
            "attempts": [{"at": a["at"], "http_status": a.get("status"), "error": a.get("error"),
                          "duration_ms": a["duration_ms"]} for a in d.get("attempts", [])]}


def list_deliveries(deps: Deps, actor: Actor, webhook_id: str, status: str | None, limit: int,
                    cursor: str | None) -> dict[str, Any]:
    webhooks.require_admin(actor)
    items, next_cursor = deps.webhooks.store.deliveries_page(webhook_id, status, limit, cursor)
    if not items and cursor is None and deps.webhooks.store.get(webhook_id) is None:
        raise NotFound(f"no webhook {webhook_id}")
    return {"items": [delivery_view(d) for d in items], "next_cursor": next_cursor}


def redeliver(deps: Deps, actor: Actor, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    """Send a delivered or failed delivery again, now, with a new 3-day window; its attempts stay listed."""
    webhooks.require_admin(actor)
    delivery = deps.webhooks.store.delivery(delivery_id)
    if delivery is None or delivery["webhook_id"] != webhook_id:
        raise NotFound(f"no delivery {delivery_id} of webhook {webhook_id}")
    if delivery["status"] == "pending":
        raise InvalidInput("already pending", [FieldProblem("delivery_id", "this delivery is still being tried; "
                                                                           "its next attempt is listed")])
    webhooks._load(deps, webhook_id)
    again = _reset(deps, delivery)
    if again is not None:
        webhooks.enqueue(deps, [(delivery_id, again["attempt_count"], 0)])
    return delivery_view(again or delivery)


def redeliver_failed(deps: Deps, actor: Actor, webhook_id: str) -> dict[str, Any]:
    webhooks.require_admin(actor)
    webhooks._load(deps, webhook_id)
    reset: list[tuple[str, int, int]] = []
    for delivery_id in deps.webhooks.store.failed_ids(webhook_id, REDELIVER_LIMIT):
        delivery = deps.webhooks.store.delivery(delivery_id)
        if delivery is not None and delivery["status"] == "failed" and _reset(deps, delivery):
            reset.append((delivery_id, delivery["attempt_count"], 0))
    webhooks.enqueue(deps, reset)
    return {"webhook_id": webhook_id, "redelivered": len(reset)}


def _reset(deps: Deps, delivery: dict[str, Any]) -> dict[str, Any] | None:
    now = iso(deps.now())
    again = {**delivery, "status": "pending", "next_at": now, "window_start": now, "updated_at": now}
    if not deps.webhooks.store.save_delivery(again, {"status": delivery["status"],
                                                     "attempt_count": delivery["attempt_count"]}):
        return None
    return again
