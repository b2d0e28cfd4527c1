"""The statistics consumer counts its business metrics once per event, as it counts report 06 (DynamoDB Local):
a redelivered event moves neither."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from chalicelib.adapters.metrics import RecordedMetrics
from chalicelib.services import statistics
from tests.integration.relay_worker import local_deps
from tests.integration.test_statistics import synthetic


def test_each_counted_event_is_its_metric_once_even_delivered_twice():
    measured = RecordedMetrics()
    deps = local_deps(metrics=measured)
    unit, code = f"TEST.METRICS-{uuid.uuid4().hex[:8]}", f"TEST.METRICS-{uuid.uuid4().hex[:8]}"
    at = datetime(2026, 3, 16, 2, tzinfo=UTC)
    events = [synthetic("dossier.received", code, 1, at, unit),
              synthetic("dossier.overdue", code, 2, at, unit),
              synthetic("dossier.apology_issued", code, 3, at, unit),
              synthetic("dossier.resolved", code, 4, at, unit, outcome="late")]
    for event in events + events:  # the second time: a redelivery past the consumer's claim
        statistics.on_event(deps, event)
    assert measured.counts == {"DossiersReceived": 1, "DossiersFlaggedOverdue": 1, "Apologies": 1,
                               "DossiersResolvedLate": 1}
