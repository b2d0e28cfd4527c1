"""PynamoDB models: one table per kind of record, on-demand capacity.

Table names and the connection limits (timeouts, retries) come from the settings, read when this module is
imported.
"""

from __future__ import annotations

import base64
import json
import threading
import zlib
from typing import Any

import pynamodb.connection.base
from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from ...config import settings

_PREFIX = settings().table_prefix
_SESSIONS = threading.local()


def _shared_session() -> Any:
    """One botocore session per thread for every model. PynamoDB creates a session per model's connection, and
    each new session parses botocore's service, endpoint and partition data again (~50 ms at cold start per
    model a request touches: docs/performance.md). Sessions stay per thread: botocore client creation is not
    thread-safe, which is why PynamoDB keeps them thread-local."""
    session = getattr(_SESSIONS, "session", None)
    if session is None:
        from botocore.session import get_session

        session = _SESSIONS.session = get_session()
    return session


pynamodb.connection.base.get_session = _shared_session  # the name PynamoDB's Connection.session calls


class _Connection:
    """Bounded waits for every model (PynamoDB reads these from Meta): a database that does not answer
    costs a request (1 + retries) x timeout, then the API answers 503."""

    connect_timeout_seconds = settings().db_connect_timeout
    read_timeout_seconds = settings().db_read_timeout
    max_retry_attempts = settings().db_max_retries


class Utf8JSONAttribute(JSONAttribute):
    """JSON stored as UTF-8 text. PynamoDB's JSONAttribute escapes every non-ASCII character (6 bytes for a
    Vietnamese letter, 12 for an emoji), which made items several times larger than their text."""

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class PackedJSONAttribute(UnicodeAttribute):
    """JSON stored deflated (zlib) and base64-encoded, as text. A dossier's body is ~4 KB of JSON that deflates
    to about a third: written in a transaction it is charged 2 write units per started KB of the whole item at
    every change, and read 1 unit per 4 KB (docs/performance.md, "Cost of a dossier's life"). Text rather than a
    binary attribute, so that an item stays JSON (the bench and import scripts keep items as JSON lines)."""

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")

    def deserialize(self, value: str) -> Any:
        return json.loads(zlib.decompress(base64.b64decode(value)))


# What a list page and its filters need without reading the dossier itself. Each index projects
# these minus its own keys (which every index carries anyway).
_LISTED = ("summary", "status", "procedure_code", "version", "filed_sk", "open_unit", "due_sk")


def shard_of(code: str, shards: int) -> str:
    """A stable shard name for a dossier: spreads a sparse index's writes over `shards` partitions while
    keeping each dossier in one of them (its events stay in order within their shard)."""
    return str(zlib.crc32(code.encode("utf-8")) % shards)


def _listed(*keys: str) -> IncludeProjection:
    return IncludeProjection([a for a in _LISTED if a not in keys])




class ByUnitFiled(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-unit-filed"
        projection = _listed("filed_sk")

    handling_unit = UnicodeAttribute(hash_key=True)
    filed_sk = UnicodeAttribute(range_key=True)


class ByReceivingFiled(GlobalSecondaryIndex):
    """Everything a desk received (its tracking book), wherever the dossier is now."""

    class Meta:
        index_name = "by-receiving-filed"
        projection = _listed("filed_sk")

    receiving_unit = UnicodeAttribute(hash_key=True)
    filed_sk = UnicodeAttribute(range_key=True)


class ByUnitStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-unit-status"
        projection = _listed("filed_sk")

    unit_status = UnicodeAttribute(hash_key=True)
    filed_sk = UnicodeAttribute(range_key=True)


class ByUnitProcedure(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-unit-procedure"
        projection = _listed("filed_sk")

    unit_procedure = UnicodeAttribute(hash_key=True)
    filed_sk = UnicodeAttribute(range_key=True)


class OpenByDue(GlobalSecondaryIndex):
    """Sparse: only dossiers whose clock is running carry open_unit, keyed by due time."""

    class Meta:
        index_name = "open-by-due"
        projection = _listed("open_unit", "due_sk")

    open_unit = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


class WakeByTime(GlobalSecondaryIndex):
    """Sparse: only dossiers with a watched instant not yet flagged carry wake_shard, keyed by that instant.
    The sweep reads the keys of what is due and nothing else."""

    class Meta:
        index_name = "wake-by-time"
        projection = KeysOnlyProjection()

    wake_shard = UnicodeAttribute(hash_key=True)
    wake_sk = UnicodeAttribute(range_key=True)


class LowRatings(GlobalSecondaryIndex):
    """Sparse: only dossiers rated low (domain/rating.py) carry low_rating_unit (the competent unit, whose leader
    reads them), keyed by when they were rated."""

    class Meta:
        index_name = "low-ratings"
        projection = _listed("low_rating_unit", "rated_sk")

    low_rating_unit = UnicodeAttribute(hash_key=True)
    rated_sk = UnicodeAttribute(range_key=True)


class DossierModel(Model):
    class Meta(_Connection):
        table_name = f"{_PREFIX}-dossiers"
        billing_mode = "PAY_PER_REQUEST"

    code = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    status = UnicodeAttribute()
    procedure_code = UnicodeAttribute()
    handling_unit = UnicodeAttribute()
    receiving_unit = UnicodeAttribute()
    unit_status = UnicodeAttribute()
    unit_procedure = UnicodeAttribute()
    filed_sk = UnicodeAttribute()
    open_unit = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    wake_shard = UnicodeAttribute(null=True)
    wake_sk = UnicodeAttribute(null=True)
    summary = Utf8JSONAttribute()
    # The dossier itself: `packed` since 2026-12; `body` (plain JSON) only on items written before, read as well.
    body = Utf8JSONAttribute(null=True)
    packed = PackedJSONAttribute(null=True)
    imported_key = UnicodeAttribute(null=True)  # an imported dossier's row fingerprint (domain/importing.py)
    low_rating_unit = UnicodeAttribute(null=True)
    rated_sk = UnicodeAttribute(null=True)

    by_unit_filed = ByUnitFiled()
    by_receiving_filed = ByReceivingFiled()
    by_unit_status = ByUnitStatus()
    by_unit_procedure = ByUnitProcedure()
    open_by_due = OpenByDue()
    wake_by_time = WakeByTime()
    low_ratings = LowRatings()


class HistoryModel(Model):
    """The process control sheet (form 05): one item per hand-over, never rewritten."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-dossier-history"
        billing_mode = "PAY_PER_REQUEST"

    code = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    entry = Utf8JSONAttribute()


class CatalogueModel(Model):
    """Units, procedure versions and calendars: small, read-mostly, partitioned by kind."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-catalogue"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = Utf8JSONAttribute()


class CounterModel(Model):
    """Atomic counters: the daily dossier sequence of each receiving unit."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-counters"
        billing_mode = "PAY_PER_REQUEST"

    name = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


class IdempotencyModel(Model):
    """The table Powertools idempotency writes to (its default key and TTL attribute), and intake claims."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-idempotency"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    # Intake claims (adapters/idempotency.py) share the table: the dossier an Idempotency-Key created.
    code = UnicodeAttribute(null=True)
    payload_hash = UnicodeAttribute(null=True)


class OutboxPending(GlobalSecondaryIndex):
    """Sparse: only events not yet published carry `pending` (a shard), oldest first within a shard."""

    class Meta:
        index_name = "outbox-pending"
        projection = AllProjection()

    pending = UnicodeAttribute(hash_key=True)
    pending_sk = UnicodeAttribute(range_key=True)


class OutboxModel(Model):
    """Domain events, written in the transaction that changed their dossier. The table's stream carries each new
    item to the `outbox_stream` function, which publishes it (docs/events.md); the relay is the safety net."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-outbox"
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_IMAGE"  # an insert carries the whole event: publishing reads nothing back

    code = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    # The event itself, stored packed (attribute `packed`) since 2026-12: an event's JSON is ~1 KB and deflated
    # under it, and every write of the item, its pending index entry and its marking as published are charged
    # per started KB. Items written before hold it as plain JSON in the attribute `event` (`plain_event`), read
    # as well: `event_data` is whichever the item has.
    event = PackedJSONAttribute(null=True, attr_name="packed")
    plain_event = Utf8JSONAttribute(null=True, attr_name="event")
    pending = UnicodeAttribute(null=True)
    pending_sk = UnicodeAttribute(null=True)  # `<written at>#<code>#<seq>`: the safety net reads the old ones
    published_at = UnicodeAttribute(null=True)
    expires = TTLAttribute(null=True)  # set once published
    # Locally only (adapters/local_bus.py): a consumer that kept failing on this event; it was skipped.
    failed = Utf8JSONAttribute(null=True)

    outbox_pending = OutboxPending()

    @property
    def event_data(self) -> Any:
        return self.event if self.event is not None else self.plain_event


class ProcessedModel(Model):
    """What each consumer applied, keyed `<consumer>#<event id>`: claimed (a lease) then done."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-processed-events"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()  # "claimed" or "done"
    lease_until = NumberAttribute()  # epoch seconds: a claim older than this may be taken over
    expires = TTLAttribute()  # far beyond any redelivery of the event


class LateStepsByOfficer(GlobalSecondaryIndex):
    """Sparse: a late step held by an officer, listed by `<unit>#<officer>` (who the lateness is attributed to)."""

    class Meta:
        index_name = "by-officer"
        projection = AllProjection()

    officer_key = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class LateStepModel(Model):
    """A step flagged overdue (Decree 61/2018 Art 19: the unit and officer at fault are named), keyed by the
    step's unit: written in the transaction that records the flag, never rewritten. It stays listed under that
    unit whatever the dossier does next (moves to another unit, is resolved)."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-late-steps"
        billing_mode = "PAY_PER_REQUEST"

    unit = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # <flagged_at>#<code>#<step index, 3 digits>
    code = UnicodeAttribute()
    index = NumberAttribute()
    name = UnicodeAttribute()
    officer = UnicodeAttribute(null=True)
    officer_key = UnicodeAttribute(null=True)  # <unit>#<officer>, only when an officer held the step
    due_at = UnicodeAttribute(null=True)
    flagged_at = UnicodeAttribute()
    summary = Utf8JSONAttribute()  # the dossier's list summary when the step was flagged

    by_officer = LateStepsByOfficer()


class NotificationsByDossier(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-dossier"
        projection = AllProjection()

    code = UnicodeAttribute(hash_key=True)
    at_sk = UnicodeAttribute(range_key=True)


class NotificationsByUnit(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-unit"
        projection = AllProjection()

    unit = UnicodeAttribute(hash_key=True)
    at_sk = UnicodeAttribute(range_key=True)


class NotificationModel(Model):
    """Every notification sent (or, locally, that would have been sent), listable by dossier and by unit."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-notifications"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    at_sk = UnicodeAttribute()  # <at>#<id>: time order, unique
    code = UnicodeAttribute(null=True)
    unit = UnicodeAttribute(null=True)
    data = Utf8JSONAttribute()

    by_dossier = NotificationsByDossier()
    by_unit = NotificationsByUnit()


class StatsModel(Model):
    """Report 06's daily counters (services/statistics.py): hash `<unit>#<local month>`, range
    `<local date>#all`, `...#field#<code>` or `...#procedure#<code>`. The same table holds a guard item per applied
    event (`event#<id>`, `guard`), each unit's months with counters (`unit#<unit>`, `months`), each unit's monthly
    roll-ups of the same counters (`rollup#<unit>`, `<local month>#<group>`) and what the overdue interval of a
    dossier needs (`dossier#<code>`, `life`: `flagged`, `ended`)."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-stats"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    received = NumberAttribute(null=True)
    received_online = NumberAttribute(null=True)
    received_direct = NumberAttribute(null=True)
    received_postal = NumberAttribute(null=True)
    resolved = NumberAttribute(null=True)
    early = NumberAttribute(null=True)
    on_time = NumberAttribute(null=True)
    late = NumberAttribute(null=True)
    refused = NumberAttribute(null=True)
    withdrawn = NumberAttribute(null=True)
    stopped = NumberAttribute(null=True)
    not_accepted = NumberAttribute(null=True)
    guided = NumberAttribute(null=True)
    supplement_requests = NumberAttribute(null=True)
    supplement_violations = NumberAttribute(null=True)
    apologies = NumberAttribute(null=True)
    rescheduled = NumberAttribute(null=True)
    open = NumberAttribute(null=True)  # a delta: +1 when the clock starts, -1 when it ends
    overdue = NumberAttribute(null=True)  # a delta: +1 on the due date passed, -1 when the dossier ends
    supplement_late = NumberAttribute(null=True)  # Decision 766: first unlawful supplement request
    resolved_supplement_late = NumberAttribute(null=True)
    open_supplement_late = NumberAttribute(null=True)  # a delta, like open
    overdue_supplement_late = NumberAttribute(null=True)  # a delta: open, overdue and supplement-late
    received_for_resolution = NumberAttribute(null=True)  # report 06: received, at the competent unit
    resolved_late_766 = NumberAttribute(null=True)  # Decision 766: the agency's working time over the limit
    # Report 06 as the official form (domain/counting.py): the channel split at the resolving unit; refusals after
    # appraisal and withdrawals / stops after receipt by their timeliness.
    received_for_resolution_online = NumberAttribute(null=True)
    received_for_resolution_direct = NumberAttribute(null=True)
    received_for_resolution_postal = NumberAttribute(null=True)
    refused_early = NumberAttribute(null=True)
    refused_on_time = NumberAttribute(null=True)
    refused_late = NumberAttribute(null=True)
    ended_early = NumberAttribute(null=True)
    ended_on_time = NumberAttribute(null=True)
    ended_late = NumberAttribute(null=True)
    resolved_working_seconds = NumberAttribute(null=True)  # Decision 766 2.2: the agency's time to the results
    # Decision 766's online payment and satisfaction (domain/counting.py): payments confirmed, of them online; ratings
    # given, by level.
    paid = NumberAttribute(null=True)
    paid_online = NumberAttribute(null=True)
    rated = NumberAttribute(null=True)
    rated_very_satisfied = NumberAttribute(null=True)
    rated_satisfied = NumberAttribute(null=True)
    rated_dissatisfied = NumberAttribute(null=True)
    ended_766 = NumberAttribute(null=True)  # Decision 766 2.1: ended without a result (refused, withdrawn, stopped)
    ended_late_766 = NumberAttribute(null=True)  # of them, late for the index
    synced = NumberAttribute(null=True)  # Decision 766 1.4: received that day and known to the national portal
    # Decision 766's digitisation group (domain/counting.py): dossiers scanned, digitised at receipt, reusing, e-result.
    digitised = NumberAttribute(null=True)
    digitised_at_receipt = NumberAttribute(null=True)
    reused = NumberAttribute(null=True)
    e_result = NumberAttribute(null=True)
    months = UnicodeSetAttribute(null=True)  # the `months` item of a unit only: YYYY-MM
    # The `life` item of a dossier only:
    flagged = NumberAttribute(null=True)  # 1: its due time passed while open
    ended = Utf8JSONAttribute(null=True)  # its clock ended: the [pk, sk] items of that day


class InboundModel(Model):
    """Signed inbound messages (services/inbound.py): each message's outcome under `message#<source>#<message id>`
    (sk `outcome`), written once, in the dossier's own transaction when the message changed one; and the rejected
    messages an admin lists, under `rejected#<source>` (sk `<received at>#<id>`), newest last."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-inbound"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body_hash = UnicodeAttribute(null=True)  # an outcome: the sha256 of the body it answered
    status = NumberAttribute(null=True)  # an outcome: the HTTP status answered
    kept = NumberAttribute(null=True)  # `unsigned#<source>`/<hour>: unsigned rejections kept in that hour
    data = Utf8JSONAttribute()  # an outcome: the answer (or error); a rejection: what the admin sees
    expires = TTLAttribute()

class WebhookModel(Model):
    """Outbound webhook subscriptions (services/webhooks.py). One partition holds them all: they are few (one
    per receiving system), and each event's consumer reads them in one Query."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-webhooks"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)  # always "webhook"
    id = UnicodeAttribute(range_key=True)
    version = NumberAttribute()
    data = Utf8JSONAttribute()  # url, event_types, unit, active, description, disabled, times, who
    secrets = Utf8JSONAttribute()  # [{secret, created_at, expires_at}]: never listed, returned once


class DeliveriesByWebhook(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-webhook"
        projection = AllProjection()

    webhook_id = UnicodeAttribute(hash_key=True)
    listed_sk = UnicodeAttribute(range_key=True)


class DeliveriesDue(GlobalSecondaryIndex):
    """Sparse: only pending deliveries carry `due_shard`, keyed by their next attempt: the sweep reads what is
    due and nothing else."""

    class Meta:
        index_name = "due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


class DeliveriesFailed(GlobalSecondaryIndex):
    """Sparse: only failed deliveries carry `failed_webhook` (their subscription): redeliver-all reads them."""

    class Meta:
        index_name = "failed"
        projection = KeysOnlyProjection()

    failed_webhook = UnicodeAttribute(hash_key=True)
    listed_sk = UnicodeAttribute(range_key=True)


class WebhookDeliveryModel(Model):
    """One delivery of one event to one subscription (id derived from both: recording it twice is one
    delivery), with every attempt."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-webhook-deliveries"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    webhook_id = UnicodeAttribute()
    listed_sk = UnicodeAttribute()  # <created_at>#<id>: newest first in a subscription's list
    status = UnicodeAttribute()  # pending, delivered, failed
    attempt_count = NumberAttribute()
    next_at = UnicodeAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)  # <next_at>#<id>
    failed_webhook = UnicodeAttribute(null=True)
    data = Utf8JSONAttribute()  # event id and type, created_at, window end, last error, attempts
    payload = Utf8JSONAttribute()  # exactly what is signed and sent
    expires = TTLAttribute(null=True)  # set once delivered or failed

    by_webhook = DeliveriesByWebhook()
    due = DeliveriesDue()
    failed = DeliveriesFailed()


class SyncDue(GlobalSecondaryIndex):
    """Sparse: a dossier with changes not yet acknowledged by the national portal, by when to try next."""

    class Meta:
        index_name = "sync-due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)  # <next attempt, ISO>#<code>


class SyncPendingByUnit(GlobalSecondaryIndex):
    """Sparse: a dossier not yet synced, under `<unit>#pending` or `<unit>#failing`, oldest first."""

    class Meta:
        index_name = "sync-pending"
        projection = KeysOnlyProjection()

    pending_unit = UnicodeAttribute(hash_key=True)
    pending_sk = UnicodeAttribute(range_key=True)  # <pending since, ISO>#<code>


class SyncModel(Model):
    """The national portal sync (services/portal_sync.py): per dossier (`dossier#<code>`) its state (`state`)
    and one item per event (`item#<seq, 9 digits>`), what to push or a skip; per unit (`unit#<unit>`, `known`)
    how many dossiers it has in the sync."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-portal-sync"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = Utf8JSONAttribute(null=True)  # the state's fields, or the item's change
    rev = NumberAttribute(null=True)  # the state's revision: every write of it is conditioned on the one read
    known = NumberAttribute(null=True)  # the unit's counter
    due_shard = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    pending_unit = UnicodeAttribute(null=True)
    pending_sk = UnicodeAttribute(null=True)

    sync_due = SyncDue()
    sync_pending = SyncPendingByUnit()


class FileModel(Model):
    """A dossier's files (adapters/dynamodb/files.py), all under pk = the dossier's code: `file#<id>` (a pending
    upload, which expires, or a verified file), `access` (the hash of the receipt secret) and
    `download#<at>#<id>` (the download audit: who, when, which file)."""

    class Meta(_Connection):
        table_name = f"{_PREFIX}-dossier-files"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    state = UnicodeAttribute(null=True)  # a file: pending or verified
    data = Utf8JSONAttribute()
    expires = TTLAttribute(null=True)  # a pending upload only


ALL_MODELS: tuple[type[Model], ...] = (DossierModel, HistoryModel, CatalogueModel, CounterModel, IdempotencyModel,
                                       OutboxModel, ProcessedModel, NotificationModel, LateStepModel,
                                       StatsModel, InboundModel, WebhookModel, WebhookDeliveryModel,
                                       SyncModel, FileModel)
# Tables whose items expire (DynamoDB TTL), and the attribute holding the instant: the models' TTLAttribute, and
# the one Powertools writes in its own idempotency records.
TTL_ATTRIBUTES: dict[type[Model], str] = {
    IdempotencyModel: "expiration",
    **{m: ttl.attr_name for m in ALL_MODELS if (ttl := m._ttl_attribute()) is not None},
}
