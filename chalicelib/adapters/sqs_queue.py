"""The webhook delivery queue on SQS (services.ports.DeliveryQueue): SendMessageBatch, ten messages a call.

Each message body is `{"delivery": <delivery id>, "attempt": <attempt count it is for>}`; its DelaySeconds is
at most 900, SQS's limit. Only the delivery queue is ever sent to (infra/events.yaml, the stage policy grants
sqs:SendMessage on it alone).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..observability import logger

MAX_BATCH = 10  # SendMessageBatch's limit
MAX_DELAY_SECONDS = 900  # SQS's limit on DelaySeconds


def message_body(delivery_id: str, attempt: int) -> str:
    return json.dumps({"delivery": delivery_id, "attempt": attempt}, separators=(",", ":"))


class SqsDeliveryQueue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    def send(self, messages: Sequence[tuple[str, int, int]]) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        sent = 0
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start:start + MAX_BATCH]
            entries = [{"Id": str(n), "MessageBody": message_body(delivery_id, attempt),
                        "DelaySeconds": max(0, min(int(delay), MAX_DELAY_SECONDS))}
                       for n, (delivery_id, attempt, delay) in enumerate(chunk)]
            try:
                answer = self.client().send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                # The deliveries keep their next attempt: the sweep takes those whose message never came.
                logger().warning("webhook deliveries not queued", extra={"error": str(exc), "queued": sent,
                                                                         "left": len(messages) - sent})
                return sent
            failed = answer.get("Failed") or []
            sent += len(chunk) - len(failed)
            if failed:
                logger().warning("webhook deliveries not queued", extra={"left": len(messages) - sent, "failed": [
                    {"delivery": chunk[int(f["Id"])][0], "code": f.get("Code")} for f in failed]})
                return sent
        return sent

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Bounded like every outbound call (an admin's redeliver waits on it): a queue that does not answer
            # costs at most ~6 s, then the sweep takes the delivery.
            self._client = boto3.client("sqs", config=Config(
                connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2, "mode": "standard"}))
        return self._client
