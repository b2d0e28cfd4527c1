"""The functions AWS runs for domain events: the outbox stream's publisher and its safety net, one SQS consumer
per queue, the dossier timer's task, and the webhook delivery queue's function.

On AWS (docs/events.md): every event item written to the outbox table comes through the table's stream to
`outbox_stream`, which publishes it at once (route 2: to the stage's EventBridge bus, whose rule per consumer routes
the event types it wants to that consumer's SQS queue, read by its function below; route 1, which has no bus: to
the consumers in its own process). `event_relay` (every 5 minutes) is only the safety net for what the stream path
missed. A dossier's Step Functions timer invokes `deadline_timer`. `chalice local` runs none of these:
scripts/run_local.py reads the local outbox's stream and calls the same handlers.

Without MOTCUA_WEBHOOK_QUEUE_URL (route 1) the webhook sweep sends every delivery.
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


# The outbox stream (docs/events.md): up to STREAM_BATCH records per invocation. Route 2's package adds what Chalice
# cannot declare (infra/events.yaml `OutboxStreamMapping` settings): inserts only, partial batch responses,
# bisecting a failing batch, bounded retries with a dead-letter queue, and several batches per shard at once.
STREAM_BATCH = 100
STREAM_PLACEHOLDER = "arn:aws:dynamodb:ap-southeast-1:000000000000:table/{prefix}-outbox/stream/set-by-deploy"


def outbox_stream_arn() -> str:
    """The stage's MOTCUA_OUTBOX_STREAM_ARN (route 1: the tables stack's output); else a placeholder, which route
    2's package replaces with the table's own stream and which nothing else reads (local runs poll the stream)."""
    return settings().outbox_stream_arn or STREAM_PLACEHOLDER.format(prefix=settings().table_prefix)


@bp.on_dynamodb_record(stream_arn=outbox_stream_arn(), batch_size=STREAM_BATCH, starting_position="TRIM_HORIZON",
                       name="outbox_stream")
def outbox_stream(event: Any) -> dict[str, Any]:
    """Publish the events of a batch of outbox stream records; answer the records left pending as a partial batch
    response (Powertools), so the stream retries from the first of them and nothing after it in its shard is
    lost. Records other than inserts (an event marked published, the TTL's deletions) are not events to send."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from ..bootstrap import deps
    from ..observability import bind_request, logger
    from ..services.relay import publish_written

    bind_request(None, getattr(event, "context", None))
    raw = event.to_dict()
    written: list[tuple[str, Any]] = []
    for record in raw.get("Records", []):
        if record.get("eventName") != "INSERT":
            continue
        try:
            domain_event = deps().outbox.event_of_image(record["dynamodb"].get("NewImage") or {})
        except Exception:  # nothing the code writes; retrying cannot mend it, and it must not block its shard
            logger().exception("an outbox record is not an event; skipped",
                               extra={"sequence": record["dynamodb"].get("SequenceNumber")})
            continue
        if domain_event is not None:
            written.append((record["dynamodb"]["SequenceNumber"], domain_event))
    failed_ids = publish_written(deps(), [e for _, e in written])
    left = {sequence for sequence, e in written if e.id in failed_ids}

    def settled(record: Any) -> None:
        if record.dynamodb.sequence_number in left:
            raise RuntimeError("not published; the stream delivers it again")

    # A batch whose every record failed is answered like any other (not raised): the stream retries from its first
    # record with the mapping's backoff and bounds, and the function's error rate shows only real crashes.
    answer = process_partial_response(event=raw, record_handler=settled,
                                      processor=BatchProcessor(event_type=EventType.DynamoDBStreams,
                                                               raise_on_entire_batch_failure=False),
                                      context=getattr(event, "context", None))
    logger().info("outbox stream", extra={"job": "outbox_stream", "records": len(raw.get("Records", [])),
                                          "events": len(written), "left": len(left)})
    return dict(answer)


@bp.schedule("rate(5 minutes)", name="event_relay")
def event_relay(event: Any) -> dict[str, int]:
    """The safety net (services/relay.py): publishes what the stream path left pending for minutes."""
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
    consumer, each record on its own: a record that fails (a malformed one included) is reported in the partial
    batch response (Powertools' BatchProcessor; route 2's mapping has ReportBatchItemFailures), so only it comes
    back, and after the queue's maxReceiveCount it goes to the dead-letter queue; the others are done. When every
    record failed, Powertools raises and the whole batch comes back."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from ..bootstrap import deps
    from ..observability import bind_request, logger
    from ..services.consumers import dispatch, event_of_detail

    bind_request(None, getattr(event, "context", None))
    applied: list[str] = []

    def apply(record: Any) -> None:
        try:
            domain_event = event_of_detail(deps(), json.loads(record.body)["detail"])
            if dispatch(deps(), domain_event, only=consumer):
                applied.append(domain_event.id)
        except Exception as exc:
            logger().exception("event not applied", extra={"consumer": consumer, "error": str(exc),
                                                           "message": record.message_id})
            raise

    raw = event.to_dict()
    try:
        answer = process_partial_response(event=raw, record_handler=apply,
                                          processor=BatchProcessor(event_type=EventType.SQS),
                                          context=getattr(event, "context", None))
    finally:
        logger().info("events consumed", extra={"consumer": consumer, "applied": len(applied),
                                                "records": len(raw.get("Records", []))})
    return dict(answer)


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
