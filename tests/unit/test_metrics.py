"""Business metrics: the embedded metric format line CloudWatch reads (the namespace and dimensions the alarms of
infra/observability.yaml name), and which domain events count as which metric."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.adapters.metrics import EmfMetrics, RecordedMetrics
from chalicelib.domain import events as ev
from chalicelib.domain.events import DomainEvent
from chalicelib.services import metrics


def test_an_emf_count_is_one_line_with_the_stage_and_service_dimensions(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "motcua")
    EmfMetrics(metrics.NAMESPACE, "motcua-prod").count(metrics.DOSSIERS_RECEIVED, 2)
    [line] = capsys.readouterr().out.splitlines()
    blob = json.loads(line)
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "motcua" and directive["Dimensions"] == [["stage", "service"]]
    assert directive["Metrics"] == [{"Name": "DossiersReceived", "Unit": "Count"}]
    assert blob["stage"] == "motcua-prod" and blob["service"] == "motcua" and blob["DossiersReceived"] == [2.0]


def event(kind: str, **data: object) -> DomainEvent:
    return DomainEvent(kind, "X", 1, 1, datetime(2026, 3, 16, tzinfo=UTC), dict(data))


def test_counted_events_are_their_metric_and_others_none():
    assert metrics.of_event(event(ev.RECEIVED)) == metrics.DOSSIERS_RECEIVED
    assert metrics.of_event(event(ev.RESOLVED, outcome="late")) == metrics.DOSSIERS_RESOLVED_LATE
    assert metrics.of_event(event(ev.RESOLVED, outcome="on_time")) is None
    assert metrics.of_event(event(ev.OVERDUE)) == metrics.DOSSIERS_FLAGGED_OVERDUE
    assert metrics.of_event(event(ev.APOLOGY_ISSUED)) == metrics.APOLOGIES
    assert metrics.of_event(event(ev.STEP_STARTED)) is None


def test_a_metric_that_cannot_be_written_never_fails_the_use_case():
    class Broken(RecordedMetrics):
        def count(self, name: str, value: int = 1) -> None:
            raise OSError("stdout closed")

    class D:
        metrics = Broken()

    metrics.count(D(), metrics.APOLOGIES)  # type: ignore[arg-type]
