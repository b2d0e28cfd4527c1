"""What every use case is given: the ports it talks through (services/ports.py), the clock and the settings it
reads. The composition root (chalicelib/bootstrap.py) fills it with adapters; tests fill it with fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..domain.deadlines import WatchSettings
from .catalogue import Catalogue
from .ports import (
    DossierStore,
    EventPublisher,
    FileFetcher,
    FileRecords,
    FileStorage,
    InboundStore,
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
    from ..adapters.tokens import TokenVerifier
    from ..domain.inbound import Source
    from .notifications import Notifier
    from .ports import Metrics


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Deps:
    dossiers: DossierStore
    catalogue: Catalogue
    verifier: Callable[[], TokenVerifier]
    timers: TimerScheduler  # one timer per dossier watch generation
    outbox: OutboxStore
    publisher: EventPublisher
    processed: ProcessedEvents
    notifications: NotificationStore
    notifier: Notifier
    stats: StatsStore
    inbound: InboundStore
    inbound_sources: Callable[[], dict[str, Source]]  # read on the first message, then kept
    webhooks: WebhookPorts
    sync: SyncStore  # the national portal sync's states and items
    portal: PortalClient  # the national portal's services
    now: Callable[[], datetime] = utc_now
    watch: WatchSettings = WatchSettings()  # due-soon warning and online intake deadline, in working hours
    metrics: Metrics | None = None  # business metrics (services/metrics.py); None: not measured
    # Scans and results (services/documents.py); None: no bucket in this deployment (the file routes answer 503).
    files: FileStorage | None = None
    file_records: FileRecords | None = None
    fetcher: FileFetcher | None = None  # a portal's file references (services/online_files.py); None: refused
