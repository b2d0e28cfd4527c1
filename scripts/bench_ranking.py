"""How long the ranking and the inactive units take on a year of counters (docs/performance.md).

Starts its own in-memory DynamoDB Local on a free port, writes the counter items a province of UNITS communes
would have after a year (one `all` item per unit and day, as the statistics consumer writes them), then times
`services.quality.ranking` for the commune level (also with one read at a time, for the ratio) and `inactive` for
the province, counting the DynamoDB calls.

    .venv/bin/python scripts/bench_ranking.py [units] [days]
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import dynamodb_local  # noqa: E402


def main(units: int = 100, days: int = 365) -> dict[str, object]:
    port = dynamodb_local.free_port()
    process = dynamodb_local.start(port)
    try:
        os.environ.update(dynamodb_local.local_environment(port, "motcua-benchrank"))
        return _run(units, days)
    finally:
        dynamodb_local.stop(process)


def _run(units: int, days: int) -> dict[str, object]:
    from botocore.client import BaseClient

    from chalicelib.adapters.calendar_data import national_settings
    from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
    from chalicelib.adapters.dynamodb.models import StatsModel
    from chalicelib.adapters.dynamodb.tables import create_tables
    from chalicelib.domain.catalogue import Unit
    from chalicelib.services import bootstrap, quality
    from chalicelib.services.catalogue import Catalogue

    create_tables()
    repo = CatalogueRepository()
    province = "000.00.00.B99"
    repo.put_unit(Unit(province, "Tỉnh đo", "province"))
    ids = [f"000.{i // 100:02d}.{i % 100:02d}.B99" for i in range(1, units + 1)]
    first = date(2025, 1, 1)
    with StatsModel.batch_write() as batch:
        for n, uid in enumerate(ids):
            repo.put_unit(Unit(uid, f"Xã đo {n}", "commune", province))
            months: set[str] = set()
            for d in range(days):
                day = first + timedelta(days=d)
                months.add(day.isoformat()[:7])
                # Some units idle, the others receiving and resolving a few dossiers a day.
                if n % 10 == 0:
                    continue
                batch.save(StatsModel(f"{uid}#{day.isoformat()[:7]}", f"{day.isoformat()}#all", received=4,
                                      received_online=n % 4, resolved=4, early=3, on_time=n % 2, late=1 - n % 2,
                                      open=0, overdue=0))
            if n % 10:
                batch.save(StatsModel(f"unit#{uid}", "months", months=months))
    bootstrap.override(catalogue=Catalogue(repo, national_settings))
    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation: str, params: dict[str, object]) -> object:
        calls[operation] += 1
        return original(self, operation, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    out: dict[str, object] = {"units": units, "days": days}
    try:
        def sequential() -> dict[str, object]:
            parallel, quality.PARALLEL_READS = quality.PARALLEL_READS, 1
            try:
                return quality.ranking(bootstrap.deps(), "commune", first, date(2025, 12, 31))
            finally:
                quality.PARALLEL_READS = parallel

        for name, run in (
            ("ranking_year_one_read_at_a_time", sequential),
            ("ranking_year", lambda: quality.ranking(bootstrap.deps(), "commune", first, date(2025, 12, 31))),
            ("ranking_month", lambda: quality.ranking(bootstrap.deps(), "commune", date(2025, 12, 1),
                                                      date(2025, 12, 31))),
            ("inactive_month", lambda: quality.inactive(bootstrap.deps(), province, date(2025, 12, 1),
                                                        date(2025, 12, 31))),
        ):
            calls.clear()
            start = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - start
            size = len(result.get("ranked", result.get("items", [])))
            out[name] = {"seconds": round(elapsed, 3), "calls": dict(calls), "rows": size}
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        bootstrap.override()
    return out


if __name__ == "__main__":
    import json

    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(main(*args), indent=2))
