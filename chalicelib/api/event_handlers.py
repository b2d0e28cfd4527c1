"""The functions AWS runs for domain events: the relay, one SQS consumer per queue, the dossier timer's task,
and the webhook delivery queue's function.

On AWS (infra/events.yaml): the relay (every minute) publishes the outbox to the stage's EventBridge bus; a rule
per consumer routes the event types it wants to its own SQS queue (with a dead-letter queue); each queue's
function below hands the events to `consumers.dispatch(only=<consumer>)`. A dossier's Step Functions timer
invokes `deadline_timer`. `chalice local` runs none of these: scripts/run_local.py calls the same services.

Route 1 (`chalice deploy` after infra/tables.yaml and infra/queues.yaml, docs/deploy.md) has no bus: without
MOTCUA_EVENT_BUS the relay runs the consumers in its own process (chalicelib/bootstrap.py: the LocalPublisher), and the
queues, which exist so that Lambda accepts the SQS mappings below, receive nothing. Nor does the webhook delivery
queue there: without MOTCUA_WEBHOOK_QUEUE_URL the webhook sweep sends every delivery.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint

from ..config import settings

bp = Blueprint(__name__)

# Consumer name -> its queue's name suffix; the stage's prefix (MOTCUA_TABLE_PREFIX) comes first, as in
# infra/events.yaml. A new consumer (counters, webhooks, the portal sync) adds a row here and a queue there, then
# runs `make templates` (route 1's infra/queues.yaml and the stage policies follow; tests/e2e/test_route1.py).
QUEUES: dict[str, str] = {"deadline_timers": "deadline-timers", "notifications": "notifications",
                          "statistics": "statistics", "webhooks": "webhooks", "portal_sync": "portal-sync"}
BATCH_SIZE = 10  # a failed event makes its batch come back; dispatch skips the events already applied
# The webhook delivery queue (not a consumer: the code sends to it, services/webhook_delivery.py), and how many
# of its functions run at once: a burst of events never turns into a storm of requests at receivers (nor of
# writes to the deliveries' table); the messages wait in the queue instead.
DELIVERY_QUEUE = "webhook-deliveries"
DELIVERY_CONCURRENCY = 20


def queue_name(consumer: str) -> str:
    return f"{settings().table_prefix}-{QUEUES[consumer]}"


@bp.lambda_function(name="deadline_timer")
def deadline_timer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Task of infra/deadline-timer.asl.json: wake the dossier, answer its next wake or done."""
    from ..bootstrap import deps
    from ..observability import bind_request, logger
    from ..services.timers import timer_step

    bind_request(None, context)
    answer = timer_step(deps(), event)
    logger().info("dossier timer", extra={"job": "deadline_timer", **answer})
    return answer


@bp.schedule("rate(1 minute)", name="event_relay")
def event_relay(event: Any) -> dict[str, int]:
    from ..bootstrap import deps
    from ..observability import bind_request, logger
    from ..services.relay import relay

    bind_request(None, getattr(event, "context", None))
    try:
        report = relay(deps())
    except Exception:
        logger().exception("relay failed", extra={"job": "event_relay"})
        raise
    logger().info("relay", extra={"job": "event_relay", **report})
    return report


def consume(consumer: str, event: Any) -> dict[str, Any]:
    """Dispatch each SQS record (an EventBridge envelope whose `detail` is `DomainEvent.as_dict()`) to one
    consumer. Every record is tried; if any failed, raise after the others, so the batch comes back and only
    the failed events run again (dispatch remembers the applied ones); after the queue's maxReceiveCount a
    record that keeps failing (a malformed one included) goes to the dead-letter queue."""
    from ..bootstrap import deps
    from ..domain.events import DomainEvent
    from ..observability import bind_request, logger
    from ..services.consumers import dispatch

    bind_request(None, getattr(event, "context", None))
    applied, failed = 0, []
    for record in event:
        try:
            envelope = json.loads(record.body)
            domain_event = DomainEvent.from_dict(envelope["detail"])
            if dispatch(deps(), domain_event, only=consumer):
                applied += 1
        except Exception as exc:
            failed.append(str(record.to_dict().get("messageId", "?")))
            logger().exception("event not applied", extra={"consumer": consumer, "error": str(exc)})
    report = {"consumer": consumer, "applied": applied, "failed": len(failed)}
    logger().info("events consumed", extra=report)
    if failed:
        raise RuntimeError(f"{consumer}: {len(failed)} event(s) not applied: {', '.join(failed)}")
    return report


@bp.on_sqs_message(queue=queue_name("deadline_timers"), batch_size=BATCH_SIZE, name="deadline_timers_consumer")
def deadline_timers_consumer(event: Any) -> dict[str, Any]:
    return consume("deadline_timers", event)


@bp.on_sqs_message(queue=queue_name("notifications"), batch_size=BATCH_SIZE, name="notifications_consumer")
def notifications_consumer(event: Any) -> dict[str, Any]:
    return consume("notifications", event)


@bp.on_sqs_message(queue=queue_name("statistics"), batch_size=BATCH_SIZE, name="statistics_consumer")
def statistics_consumer(event: Any) -> dict[str, Any]:
    return consume("statistics", event)


@bp.on_sqs_message(queue=queue_name("webhooks"), batch_size=BATCH_SIZE, name="webhooks_consumer")
def webhooks_consumer(event: Any) -> dict[str, Any]:
    return consume("webhooks", event)


@bp.on_sqs_message(queue=queue_name("portal_sync"), batch_size=BATCH_SIZE, name="portal_sync_consumer")
def portal_sync_consumer(event: Any) -> dict[str, Any]:
    return consume("portal_sync", event)

@bp.on_sqs_message(queue=f"{settings().table_prefix}-{DELIVERY_QUEUE}", batch_size=1, name="webhook_delivery",
                   maximum_concurrency=DELIVERY_CONCURRENCY)
def webhook_delivery(event: Any) -> dict[str, Any]:
    """One message, one attempt (at most ~7 s: a batch of dead receivers would hold the others back). A crash
    (the database unreachable, a malformed message) raises: SQS makes the message visible again, and after
    the queue's maxReceiveCount moves it to the dead-letter queue; the delivery keeps its next attempt, so
    the webhook sweep still sends it."""
    from ..bootstrap import deps
    from ..observability import bind_request, logger
    from ..services.webhook_delivery import handle_message

    bind_request(None, getattr(event, "context", None))
    outcomes: dict[str, int] = {}
    for record in event:
        try:
            outcome = handle_message(deps(), record.body)
        except Exception:
            logger().exception("webhook delivery message failed", extra={"job": "webhook_delivery"})
            raise
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    logger().info("webhook delivery", extra={"job": "webhook_delivery", **outcomes})
    return outcomes
