"""Publishing domain events to an EventBridge bus: PutEvents, ten entries at most per call.

Each entry: Source "motcua", DetailType the event type (what rules route on), Detail the event's JSON
(`DomainEvent.as_dict`), Time the event's instant. EventBridge answers per entry; a failed entry is reported
to the relay, which does not advance that dossier past it.

An event too large for one entry (EventBridge takes 256 KB; an outbox item may hold up to DynamoDB's 400 KB) would be
refused on every attempt and hold its dossier for ever. It goes out as a claim check instead: its Detail keeps the
event's id, type, code, seq, version and instant, drops `data`, and says `data_in_outbox`; the consumer reads the
whole event from the outbox (`services.consumers.event_of_detail`), where it stays 90 days after publication.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..domain.events import DomainEvent
from ..observability import logger
from ..services.ports import PublishError

SOURCE = "motcua"
MAX_ENTRIES = 10  # PutEvents' limit per call
MAX_REQUEST_BYTES = 256 * 1024  # PutEvents' limit on the entries of one call
# An entry's size counts Source, DetailType, Detail and the bus name; past this, the event goes as a claim check.
INLINE_DETAIL_BYTES = 240 * 1024


class EventBridgePublisher:
    """Implements services.ports.EventPublisher with PutEvents on one bus."""

    keeps_order = False  # EventBridge may deliver the entries of one PutEvents call in any order

    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self._client = client

    def publish(self, events: Sequence[DomainEvent]) -> None:
        failed: list[str] = []
        broken: set[str] = set()  # dossiers with a failed event: their later events wait for the next run
        for chunk in _chunks([(self._entry(e), e) for e in events]):
            todo = [(entry, event) for entry, event in chunk if event.code not in broken]
            failed.extend(event.id for entry, event in chunk if event.code in broken)
            if not todo:
                continue
            for event in self._put(todo):
                failed.append(event.id)
                broken.add(event.code)
        if failed:
            raise PublishError(f"{len(failed)} of {len(events)} events not published to {self.bus_name}", failed)

    def _put(self, todo: list[tuple[dict[str, Any], DomainEvent]]) -> list[DomainEvent]:
        """Send one PutEvents call; answer the events that were not accepted."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client().put_events(Entries=[entry for entry, _ in todo])
        except (BotoCoreError, ClientError) as exc:
            logger().warning("PutEvents failed", extra={"bus": self.bus_name, "error": str(exc),
                                                        "events": [e.id for _, e in todo]})
            return [event for _, event in todo]
        if not answer.get("FailedEntryCount"):
            return []
        rejected = [(event, result) for (_, event), result in zip(todo, answer["Entries"], strict=True)
                    if result.get("ErrorCode")]
        logger().warning("PutEvents rejected entries", extra={"bus": self.bus_name, "rejected": [
            {"event": e.id, "code": r.get("ErrorCode"), "message": r.get("ErrorMessage")} for e, r in rejected]})
        return [event for event, _ in rejected]

    def _entry(self, event: DomainEvent) -> dict[str, Any]:
        detail = json.dumps(event.as_dict(), ensure_ascii=False, separators=(",", ":"))
        if len(detail.encode("utf-8")) > INLINE_DETAIL_BYTES:
            logger().info("event sent as a claim check", extra={"event": event.id, "bytes": len(detail)})
            detail = json.dumps(claim_check(event), ensure_ascii=False, separators=(",", ":"))
        return {"Source": SOURCE, "DetailType": event.type, "EventBusName": self.bus_name, "Time": event.at,
                "Detail": detail}

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Bounded like every outbound call: the relay runs again in a minute; a hung call helps nobody.
            self._client = boto3.client("events", config=Config(
                connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 3, "mode": "standard"}))
        return self._client


def claim_check(event: DomainEvent) -> dict[str, Any]:
    """The Detail of an event too large to travel whole: everything but its data, which the outbox keeps."""
    detail = event.as_dict()
    del detail["data"]
    return {**detail, "data_in_outbox": True}


def _chunks(pairs: list[tuple[dict[str, Any], DomainEvent]]) -> list[list[tuple[dict[str, Any], DomainEvent]]]:
    """Consecutive groups of at most ten entries and 256 KB (EventBridge counts Detail, DetailType, Source and
    the bus name; a margin covers the rest)."""
    chunks: list[list[tuple[dict[str, Any], DomainEvent]]] = []
    size = 0
    for entry, event in pairs:
        entry_size = sum(len(str(entry[k]).encode("utf-8")) for k in ("Source", "DetailType", "Detail",
                                                                      "EventBusName")) + 64
        if not chunks or len(chunks[-1]) >= MAX_ENTRIES or size + entry_size > MAX_REQUEST_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append((entry, event))
        size += entry_size
    return chunks
