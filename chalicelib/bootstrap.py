"""The composition root: wires adapters to the use cases' ports once per container; tests replace pieces with
`override`. It sits above the services and the adapters (cosmicpython's bootstrap): nothing below imports it
but the entrypoints (chalicelib/api, scripts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from .domain.deadlines import WatchSettings
from .services.catalogue import Catalogue
from .services.deps import Deps, utc_now
from .services.ports import (
    EventPublisher,
    FileFetcher,
    FileRecords,
    FileStorage,
    InboundStore,
    Metrics,
    NotificationStore,
    OutboxStore,
    PortalClient,
    ProcessedEvents,
    StatsStore,
    SyncStore,
    TimerScheduler,
    WebhookPorts,
)

if TYPE_CHECKING:  # the JWT library loads on the first authenticated request, not at cold start
    from .adapters.tokens import TokenVerifier
    from .domain.inbound import Source
    from .services.notifications import Notifier


# Events: the outbox written with each dossier, the bus the relay publishes to, what consumers applied.
def _outbox() -> OutboxStore:
    from .adapters.dynamodb.outbox import OutboxRepository

    return OutboxRepository()


def _publisher() -> EventPublisher:
    """EventBridge when MOTCUA_EVENT_BUS names a bus (AWS); else the consumers run in-process (local)."""
    import os

    bus = os.environ.get("MOTCUA_EVENT_BUS", "").strip()
    if bus:
        from .adapters.eventbridge import EventBridgePublisher

        return EventBridgePublisher(bus)
    from .adapters.local_bus import LocalPublisher
    from .services import consumers

    # One lane per consumer, as each has its own queue on AWS: they run at once and fail alone.
    return LocalPublisher(lambda event, only: consumers.dispatch(deps(), event, only=only),
                          lanes=lambda: [c.name for c in consumers.registry()])


def _processed() -> ProcessedEvents:
    from .adapters.dynamodb.processed import ProcessedRepository

    return ProcessedRepository()


def _stats() -> StatsStore:
    from .adapters.dynamodb.stats import StatsRepository

    return StatsRepository()


def _timers() -> TimerScheduler:
    """Step Functions when MOTCUA_TIMER_STATE_MACHINE_ARN names the timer state machine (AWS); else none: the
    local sweep wakes dossiers."""
    import os

    from .adapters.stepfunctions import LocalTimers, StepFunctionsTimers

    arn = os.environ.get("MOTCUA_TIMER_STATE_MACHINE_ARN", "").strip()  # checked at start by config.settings()
    return StepFunctionsTimers(arn) if arn else LocalTimers()


def _notifications() -> NotificationStore:
    from .adapters.dynamodb.notifications import NotificationRepository

    return NotificationRepository()


# Inbound messages (services/inbound.py): their outcomes and rejections, and the configured sources.
def _inbound() -> InboundStore:
    from .adapters.dynamodb.inbound import InboundRepository

    return InboundRepository()


def _inbound_sources() -> dict[str, Source]:
    from .adapters.inbound_sources import configured_sources

    return configured_sources()
def _sync() -> SyncStore:
    from .adapters.dynamodb.sync import SyncRepository

    return SyncRepository()


def _portal() -> PortalClient:
    from .adapters.portal_client import HttpPortalClient
    from .config import settings

    return HttpPortalClient(settings().portal)


# Notifications (services/notifications.py), deadline settings and the clock: from config.settings().
def _notifier() -> Notifier:
    from .adapters.notifiers import AwsNotifier, LocalNotifier
    from .config import settings

    s = settings()
    return AwsNotifier(s.email_sender, s.sms_enabled) if s.notifier == "aws" else LocalNotifier()


def _watch() -> WatchSettings:
    from .config import settings

    s = settings()
    return WatchSettings(s.due_soon_hours, s.intake_deadline_hours)


def _clock() -> Callable[[], datetime]:
    """The real time; in the local stack only, the moved clock of MOTCUA_CLOCK_START / MOTCUA_CLOCK_SPEED."""
    from .config import settings

    return settings().clock or utc_now


def _webhooks() -> WebhookPorts:
    """Targets must be public https (checked again at each delivery) except in the local stack."""
    import random

    from .adapters.dynamodb.webhooks import WebhookRepository
    from .adapters.http_sender import HttpSender
    from .config import settings

    local = settings().webhooks_local
    queue = None
    if settings().webhook_queue_url:  # AWS (route 2): the delivery queue; else the sweep alone sends
        from .adapters.sqs_queue import SqsDeliveryQueue

        queue = SqsDeliveryQueue(settings().webhook_queue_url)
    return WebhookPorts(WebhookRepository(), HttpSender(public_only=not local), local, random.random, queue)


def _metrics() -> Metrics:
    """CloudWatch (EMF) in Lambda; counted in memory elsewhere (the local stack, tests)."""
    import os

    from .adapters.metrics import EmfMetrics, RecordedMetrics
    from .config import settings
    from .services.metrics import NAMESPACE

    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return EmfMetrics(NAMESPACE, settings().table_prefix)
    return RecordedMetrics()


def _files() -> tuple[FileStorage | None, FileRecords | None]:
    """The dossier-files table (every deployment has it: it also keeps the receipt secrets' hashes), and S3 when
    MOTCUA_FILES_BUCKET names a bucket; else no storage (503 on the file routes)."""
    from .adapters.dynamodb.files import FileRepository
    from .config import settings

    f = settings().files
    if not f.bucket:
        return None, FileRepository()
    from .adapters.s3_files import S3FileStorage

    return S3FileStorage(f.bucket, f.connect_timeout, f.read_timeout, f.max_retries), FileRepository()


@lru_cache(maxsize=1)
def _default() -> Deps:
    from .adapters.calendar_data import national_settings
    from .adapters.dynamodb.catalogue import CatalogueRepository
    from .adapters.dynamodb.dossiers import DossierRepository

    files, file_records = _files()
    return Deps(DossierRepository(), Catalogue(CatalogueRepository(), national_settings), _verifier,
                timers=_timers(), outbox=_outbox(), publisher=_publisher(), processed=_processed(),
                notifications=_notifications(), notifier=_notifier(), stats=_stats(), inbound=_inbound(),
                inbound_sources=_inbound_sources, webhooks=_webhooks(), sync=_sync(), portal=_portal(),
                now=_clock(), watch=_watch(), metrics=_metrics(), files=files, file_records=file_records,
                fetcher=_fetcher())


def _fetcher() -> FileFetcher:
    from .adapters.http_fetch import HttpFetcher
    from .config import settings

    return HttpFetcher(public_only=not settings().webhooks_local)


@lru_cache(maxsize=1)
def _verifier() -> TokenVerifier:
    from .adapters.tokens import JwksFileKeys, JwksUrlKeys, TokenVerifier
    from .config import settings

    s = settings()
    # The JWKS fetch is bounded like every other outbound call: an unreachable issuer is a 503, not a hang.
    keys = (JwksUrlKeys(s.jwks_url, s.db_connect_timeout + s.db_read_timeout) if s.auth_mode == "jwks"
            else JwksFileKeys(s.local_jwks_path))
    return TokenVerifier(keys, s.jwt_issuer, s.jwt_audience, s.unit_claim, s.roles_claim)


_override: Deps | None = None


def deps() -> Deps:
    return _override or _default()


def override(**changes: object) -> None:
    """Replace some dependencies (tests); `override()` with nothing restores the defaults."""
    global _override
    _override = replace(_default(), **changes) if changes else None  # type: ignore[arg-type]
