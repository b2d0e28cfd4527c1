"""The Metrics port (services/ports.py): Powertools Metrics in CloudWatch's embedded metric format, or counted in
memory (the local stack, tests).

Each count is one EMF line written at once (`single_metric`): no flush to wire into every Lambda handler, nothing
lost when a function stops after the fact it counts. Powertools loads on the first count, not at cold start.
"""

from __future__ import annotations

import threading
from collections import Counter


class EmfMetrics:
    def __init__(self, namespace: str, stage: str) -> None:
        self._namespace = namespace
        self._dimensions = {"stage": stage}

    def count(self, name: str, value: int = 1) -> None:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=self._namespace,
                           default_dimensions=self._dimensions):
            pass


class RecordedMetrics:
    """Counts kept in this process (`counts`): what the local stack and the tests read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def count(self, name: str, value: int = 1) -> None:
        with self._lock:
            self.counts[name] += value
