"""What Lambda's event source mapping does with the outbox table's stream on AWS, done here against DynamoDB
Local's own Streams API (`make run`, tests): read every shard in order, hand batches of records to the
`outbox_stream` function exactly as Lambda would (the same event shape, through Chalice's handler), and honour
its partial batch response: a shard goes on from the first record the function reported, after a pause, and a
batch that keeps failing is skipped after MAX_RETRIES like a mapping's `MaximumRetryAttempts` (its events stay
pending in the outbox, where the safety net finds them). One poller per process; not for production.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_RETRIES = 10  # infra/events.yaml: the mapping's MaximumRetryAttempts
RETRY_PAUSE_SECONDS = 0.5  # doubled at each failed try of a batch, up to the cap
RETRY_PAUSE_CAP_SECONDS = 10.0
DESCRIBE_EVERY_SECONDS = 5.0  # new shards are looked for this often (and whenever one closes)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class _Shard:
    iterator: str | None = None  # taken just before the first read (see `_read`)
    fresh: bool = True
    failures: int = 0
    retry_at: float = 0.0
    last_sequence: str | None = None  # the last record handed on: a re-read starts after it


@dataclass
class StreamPoller:
    """Polls the stream `stream_arn` with `client` (boto3 `dynamodbstreams`) and calls `handler(event)`."""

    client: Any
    stream_arn: str
    handler: Handler
    start: str = "LATEST"  # LATEST: records written from the poller's creation on; TRIM_HORIZON: all there are
    batch: int = 100  # the mapping's BatchSize (chalicelib/api/event_handlers.py STREAM_BATCH)
    shards: dict[str, _Shard] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)  # closed shards read to their end
    parents: dict[str, str] = field(default_factory=dict)  # shard -> its parent: read only once the parent is done
    described_at: float = 0.0

    def __post_init__(self) -> None:
        self._discover()
        if self.start == "LATEST":
            self._skip_to_end()

    def _skip_to_end(self) -> None:
        """LATEST, done by hand: DynamoDB Local's own LATEST (and TRIM_HORIZON) iterator taken on a shard with no
        record yet fails later with TrimmedDataAccessException, and a record's creation time is whole minutes.
        So each open shard is read to its end now and what it held is passed over (`make run` then publishes
        what was pending before it started, after this: nothing falls between the two)."""
        for shard_id, shard in self.shards.items():
            shard.iterator, shard.fresh = self._iterator(shard_id, None), False
            for _ in range(100_000):  # bounded: 24 hours of a busy stream at the most
                answer = self.client.get_records(ShardIterator=shard.iterator, Limit=1000)
                shard.iterator = answer.get("NextShardIterator")
                if not answer.get("Records") or shard.iterator is None:
                    break
                shard.last_sequence = answer["Records"][-1]["dynamodb"]["SequenceNumber"]

    def poll(self) -> dict[str, int]:
        """One pass over every shard: answers records handed on, and records left to retry."""
        if time.monotonic() - self.described_at >= DESCRIBE_EVERY_SECONDS:
            self._discover()
        handed, left = 0, 0
        for shard_id, shard in list(self.shards.items()):
            parent = self.parents.get(shard_id)
            if shard.retry_at > time.monotonic() or (parent is not None and parent in self.shards):
                continue  # pausing after a failure; or a child whose parent still has records: order first
            try:
                n, failed = self._read(shard_id, shard)
            except Exception as exc:  # this shard pauses; the others go on
                print(f"reading the outbox stream failed ({type(exc).__name__}: {exc})", file=sys.stderr)
                shard.retry_at = time.monotonic() + RETRY_PAUSE_CAP_SECONDS
                continue
            handed += n
            left += failed
        return {"records": handed, "left": left}

    def _discover(self) -> None:
        first = not self.shards and not self.done
        self.described_at = time.monotonic()
        description = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard.get("ParentShardId"):
                self.parents[shard_id] = shard["ParentShardId"]
            if shard_id in self.shards or shard_id in self.done:
                continue
            open_now = "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {})
            # At start, the closed shards are not read when only what comes is wanted (the safety net covers what
            # was written while nothing read); every other shard from its first record.
            if first and not open_now and self.start == "LATEST":
                self.done.add(shard_id)
                continue
            self.shards[shard_id] = _Shard()

    def _iterator(self, shard_id: str, after: str | None) -> str:
        kind = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after else {
            "ShardIteratorType": "TRIM_HORIZON"}
        iterator: str = self.client.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id,
                                                       **kind)["ShardIterator"]
        return iterator

    def _read(self, shard_id: str, shard: _Shard) -> tuple[int, int]:
        if shard.fresh:
            shard.iterator, shard.fresh = self._iterator(shard_id, None), False
        if shard.iterator is None:
            self.shards.pop(shard_id)
            self.done.add(shard_id)
            self.described_at = 0.0  # its children, if any, are looked for at the next pass
            return 0, 0
        try:
            answer = self.client.get_records(ShardIterator=shard.iterator, Limit=self.batch)
        except (self.client.exceptions.ExpiredIteratorException, self.client.exceptions.TrimmedDataAccessException):
            # An iterator too old, or DynamoDB Local's iterator taken on a shard that had no record yet: taken
            # again after the last record handed on.
            shard.iterator = self._iterator(shard_id, shard.last_sequence)
            return 0, 0
        records = answer.get("Records", [])
        if not records:
            shard.iterator = answer.get("NextShardIterator")
            return 0, 0
        try:
            response = self.handler(self._event(records)) or {}
            failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
        except Exception as exc:  # the function crashed: Lambda retries the whole batch, as here
            print(f"outbox_stream failed ({type(exc).__name__}: {exc}); the batch is tried again", file=sys.stderr)
            failed = [records[0]["dynamodb"]["SequenceNumber"]]
        if not failed:
            shard.iterator, shard.failures = answer.get("NextShardIterator"), 0
            shard.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
            return len(records), 0
        shard.failures += 1
        first_failed = min(failed, key=int)
        if shard.failures > MAX_RETRIES:  # as a mapping gives up a batch: on past it, the events stay pending
            shard.iterator, shard.failures = answer.get("NextShardIterator"), 0
            shard.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
            return len(records), len(failed)
        shard.iterator = self.client.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=first_failed)["ShardIterator"]
        shard.retry_at = time.monotonic() + min(RETRY_PAUSE_CAP_SECONDS, RETRY_PAUSE_SECONDS * 2 ** shard.failures)
        return len(records), len(failed)

    def _event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """The records as Lambda hands them to a function (eventSource, eventSourceARN, epoch-second times)."""
        out = []
        for record in records:
            dynamodb = dict(record["dynamodb"])
            created = dynamodb.get("ApproximateCreationDateTime")
            if created is not None and not isinstance(created, int | float):
                dynamodb["ApproximateCreationDateTime"] = created.timestamp()
            out.append({"eventID": record.get("eventID"), "eventName": record.get("eventName"),
                        "eventVersion": record.get("eventVersion", "1.1"), "eventSource": "aws:dynamodb",
                        "awsRegion": record.get("awsRegion", "ddblocal"), "dynamodb": dynamodb,
                        "eventSourceARN": self.stream_arn})
        return {"Records": out}


def lambda_handler(app: Any, name: str = "outbox_stream") -> Handler:
    """The function `name` of the Chalice app, invoked as Lambda invokes it: its handler with the event and a
    context. (Not `chalice.test.Client`, which swaps os.environ around each call and is not for threads.)"""
    from chalice.test import LambdaContext

    handler = app.handler_map[name]

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return dict(handler(event, LambdaContext(name, memory_size=512)) or {})

    return invoke


def outbox_poller(handler: Handler, start: str = "LATEST") -> StreamPoller:
    """The poller of the local outbox table's stream (the endpoint and credentials from the environment)."""
    import os

    import boto3
    from botocore.config import Config

    from chalicelib.adapters.dynamodb.models import OutboxModel
    from chalicelib.adapters.dynamodb.tables import stream_arn

    # The same endpoint as the tables (DynamoDB Local answers both APIs), bounded like every other call.
    client = boto3.client("dynamodbstreams", endpoint_url=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"),
                          config=Config(connect_timeout=1, read_timeout=5, retries={"total_max_attempts": 2}))
    return StreamPoller(client, stream_arn(OutboxModel), handler, start=start)
