"""Move the messages of a stage's dead-letter queues back to the queues they came from (docs/deploy.md, "Dead
letters"), once the cause is fixed. Redelivery is safe: every consumer applies an event once.

    python scripts/redrive.py --prefix motcua-prod                  list the stage's DLQs and what each holds
    python scripts/redrive.py --prefix motcua-prod --move           move every DLQ's messages back
    python scripts/redrive.py --prefix motcua-prod --move --queue motcua-prod-notifications-dlq

Runs with the operator's AWS credentials and region (the usual AWS_PROFILE / AWS_REGION). Each message is sent to
its source queue (the one whose redrive policy names the DLQ) with its body and attributes, then deleted from the
DLQ: a message is never lost, at worst sent twice, which the consumers absorb. `<prefix>-webhook-deliveries-dlq` is
left out unless named: the sweep has sent those deliveries meanwhile (a redriven one is dropped as stale).
Every wait is bounded: at most --max messages per queue, one second's long poll per batch.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

SKIPPED_BY_DEFAULT = "-webhook-deliveries-dlq"
BATCH = 10  # SQS's most per receive, send and delete


def dead_letter_queues(sqs: Any, prefix: str) -> list[str]:
    urls: list[str] = []
    for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix):
        urls += [u for u in page.get("QueueUrls", []) if u.endswith("-dlq")]
    return sorted(urls)


def depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def source_of(sqs: Any, dlq_url: str) -> str:
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
    if len(sources) != 1:
        raise SystemExit(f"{dlq_url}: expected one source queue, found {sources or 'none'}")
    return str(sources[0])


def move(sqs: Any, dlq_url: str, limit: int) -> int:
    """Move up to `limit` messages from `dlq_url` to its source queue; answer how many moved."""
    target, moved = source_of(sqs, dlq_url), 0
    while moved < limit:
        got = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=min(BATCH, limit - moved),
                                  WaitTimeSeconds=1, VisibilityTimeout=60, MessageAttributeNames=["All"])
        messages = got.get("Messages", [])
        if not messages:
            break
        entries = [{"Id": str(i), "MessageBody": m["Body"],
                    **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {})}
                   for i, m in enumerate(messages)]
        sent = sqs.send_message_batch(QueueUrl=target, Entries=entries)
        ok = {entry["Id"] for entry in sent.get("Successful", [])}
        for failure in sent.get("Failed", []):  # left in the DLQ: it shows again after its visibility timeout
            print(f"  not sent: {failure.get('Code')}: {failure.get('Message')}", file=sys.stderr)
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in ok]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
        moved += len(done)
        if len(done) < len(messages):
            break
    return moved


def main(argv: list[str] | None = None, sqs: Any = None) -> int:
    parser = argparse.ArgumentParser(description="List or redrive a stage's SQS dead-letter queues.")
    parser.add_argument("--prefix", required=True, help="the stage's MOTCUA_TABLE_PREFIX, e.g. motcua-prod")
    parser.add_argument("--move", action="store_true", help="move the messages back (default: only list)")
    parser.add_argument("--queue", action="append", default=[], help="only this DLQ (its name; repeatable)")
    parser.add_argument("--max", type=int, default=10_000, help="most messages moved per queue (default 10000)")
    args = parser.parse_args(argv)
    if sqs is None:
        import boto3
        from botocore.config import Config

        sqs = boto3.client("sqs", config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3}))
    queues = dead_letter_queues(sqs, args.prefix)
    if args.queue:
        queues = [u for u in queues if u.rsplit("/", 1)[1] in args.queue]
        missing = set(args.queue) - {u.rsplit("/", 1)[1] for u in queues}
        if missing:
            raise SystemExit(f"no dead-letter queue {', '.join(sorted(missing))} with prefix {args.prefix}")
    if not queues:
        raise SystemExit(f"no dead-letter queue named {args.prefix}...-dlq in this account and region")
    for url in queues:
        name, count = url.rsplit("/", 1)[1], depth(sqs, url)
        if not args.move:
            print(f"{name}: {count} message(s)")
        elif name.endswith(SKIPPED_BY_DEFAULT) and name not in args.queue:
            print(f"{name}: {count} message(s), left (the sweep sent those deliveries; --queue {name} to move)")
        else:
            print(f"{name}: {move(sqs, url, args.max)} of {count} message(s) moved back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
