"""How long the ranking and the inactive units take on a year of counters (docs/performance.md).

Starts its own in-memory DynamoDB Local on a free port, writes the counter items a province of UNITS communes
would have after DAYS days from 2025-01-01 (one `all` item per unit and day, and GROUPS `procedure#<code>` items
beside it, with the monthly roll-ups the statistics consumer adds them to), then times
`services.quality.ranking` for the commune level (also with one read at a time, for the ratio) and `inactive` for
the province, counting the DynamoDB calls and the read capacity units they consumed. The procedure items' figures
do not matter to the ranking (it reads the `all` group), only that they are read.

    .venv/bin/python scripts/bench_ranking.py [units] [days] [groups]
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


def main(units: int = 100, days: int = 365, groups: int = 0) -> dict[str, object]:
    port = dynamodb_local.free_port()
    process = dynamodb_local.start(port)
    try:
        os.environ.update(dynamodb_local.local_environment(port, "motcua-benchrank"))
        return _run(units, days, groups)
    finally:
        dynamodb_local.stop(process)


def _run(units: int, days: int, groups: int) -> dict[str, object]:
    from botocore.client import BaseClient

    from chalicelib import bootstrap
    from chalicelib.adapters.calendar_data import national_settings
    from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
    from chalicelib.adapters.dynamodb.models import StatsModel
    from chalicelib.adapters.dynamodb.tables import create_tables
    from chalicelib.domain import counting
    from chalicelib.domain.catalogue import Unit
    from chalicelib.services import quality
    from chalicelib.services.catalogue import Catalogue

    create_tables()
    repo = CatalogueRepository()
    province = "000.00.00.B99"
    repo.put_unit(Unit(province, "Tỉnh đo", "province"))
    ids = [f"000.{i // 100:02d}.{i % 100:02d}.B99" for i in range(1, units + 1)]
    first = date(2025, 1, 1)
    names = ("all", *(f"procedure#P{k}" for k in range(groups)))
    with StatsModel.batch_write() as batch:
        for n, uid in enumerate(ids):
            repo.put_unit(Unit(uid, f"Xã đo {n}", "commune", province))
            # Some units idle, the others receiving and resolving a few dossiers a day.
            if n % 10 == 0:
                continue
            daily: dict[tuple[str, str], dict[str, int]] = {}
            for d in range(days):
                day = (first + timedelta(days=d)).isoformat()
                for group in names:
                    daily[(counting.month_key(uid, day[:7]), f"{day}#{group}")] = {
                        "received": 4, "received_online": n % 4, "resolved": 4, "early": 3, "on_time": n % 2,
                        "late": 1 - n % 2}
            for (pk, sk), row in {**daily, **counting.all_rollups(daily)}.items():
                batch.save(StatsModel(pk, sk, **{k: v for k, v in row.items() if v}))
            batch.save(StatsModel(f"unit#{uid}", "months", months={pk[-7:] for pk, _ in daily}))
    bootstrap.override(catalogue=Catalogue(repo, national_settings))
    calls: Counter[str] = Counter()
    units_read: list[float] = []
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation: str, params: dict[str, object]) -> object:
        calls[operation] += 1
        if operation in ("Query", "GetItem"):
            params = {**params, "ReturnConsumedCapacity": "TOTAL"}
        result = original(self, operation, params)
        units_read.append(float(result.get("ConsumedCapacity", {}).get("CapacityUnits", 0)))  # type: ignore[attr-defined]
        return result

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    out: dict[str, object] = {"units": units, "days": days, "groups": groups}
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
            ("ranking_part_month", lambda: quality.ranking(bootstrap.deps(), "commune", date(2025, 12, 1),
                                                           date(2025, 12, 15))),
            ("inactive_month", lambda: quality.inactive(bootstrap.deps(), province, date(2025, 12, 1),
                                                        date(2025, 12, 31))),
        ):
            calls.clear()
            units_read.clear()
            start = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - start
            size = len(result.get("ranked", result.get("items", [])))
            out[name] = {"seconds": round(elapsed, 3), "calls": dict(calls), "read_units": round(sum(units_read), 1),
                         "rows": size}
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        bootstrap.override()
    return out


if __name__ == "__main__":
    import json

    args = [int(a) for a in sys.argv[1:4]]
    print(json.dumps(main(*args), indent=2))
