"""Report 06 over one year and over three: the items read and the time (docs/performance.md, `make bench-years`).

Starts its own in-memory DynamoDB Local on a free port and writes the counters a province of UNITS units would
have after four years (2023-2026): one `all` item per unit and day and GROUPS-1 `procedure#<code>` items beside
it, with the monthly and yearly roll-ups the statistics consumer adds them to (`counting.all_rollups`). Then times
report 06 of the province (group_by unit) for Decree 09/2019's year 2026 (15/12/2025 - 14/12/2026) and for the
three years 15/12/2023 - 14/12/2026 (p50 of RUNS runs), counting the DynamoDB calls, the items they returned and
the read capacity they consumed, and checks each report's total against the sums of the daily items.

    .venv/bin/python scripts/bench_report06_years.py [units] [groups] [runs]

Prints JSON; the last key, `ratio_3y_to_1y`, is the three-year report's items read and time over the one-year's.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import dynamodb_local  # noqa: E402

FIRST, LAST = date(2023, 1, 1), date(2026, 12, 31)
PERIODS = {"1_year": (date(2025, 12, 15), date(2026, 12, 14)), "3_years": (date(2023, 12, 15), date(2026, 12, 14))}
PROVINCE = "000.00.00.Y99"


def main(units: int = 20, groups: int = 2, runs: int = 5) -> dict[str, Any]:
    port = dynamodb_local.free_port()
    process = dynamodb_local.start(port)
    try:
        os.environ.update(dynamodb_local.local_environment(port, "motcua-benchyears"))
        return _run(units, groups, runs)
    finally:
        dynamodb_local.stop(process)


def _run(units: int, groups: int, runs: int) -> dict[str, Any]:
    from botocore.client import BaseClient

    from chalicelib import bootstrap
    from chalicelib.adapters.calendar_data import national_settings
    from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
    from chalicelib.adapters.dynamodb.tables import create_tables
    from chalicelib.domain.catalogue import Unit
    from chalicelib.services import reports
    from chalicelib.services.catalogue import Catalogue

    create_tables()
    repo = CatalogueRepository()
    repo.put_unit(Unit(PROVINCE, "Tỉnh đo nhiều năm", "province"))
    ids = [f"000.{i // 100:02d}.{i % 100:02d}.Y99" for i in range(1, units + 1)]
    for n, uid in enumerate(ids):
        repo.put_unit(Unit(uid, f"Xã đo {n}", "commune", PROVINCE))
    started = time.perf_counter()
    received = _write(ids, groups)
    written_seconds = time.perf_counter() - started
    bootstrap.override(catalogue=Catalogue(repo, national_settings))
    calls: Counter[str] = Counter()
    read = {"items": 0, "units": 0.0}
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[operation] += 1
        if operation in ("Query", "GetItem"):
            params = {**params, "ReturnConsumedCapacity": "TOTAL"}
        result = original(self, operation, params)
        read["items"] += int(result.get("Count", 1 if "Item" in result else 0))
        read["units"] += float(result.get("ConsumedCapacity", {}).get("CapacityUnits", 0))
        return result

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    out: dict[str, Any] = {"units": units, "groups": groups, "days": (LAST - FIRST).days + 1, "runs": runs,
                           "counters_written_seconds": round(written_seconds, 1)}
    try:
        for name, (from_day, to_day) in PERIODS.items():
            times = []
            for _ in range(runs):
                calls.clear()
                read.update(items=0, units=0.0)
                start = time.perf_counter()
                report = reports.report06(bootstrap.deps(), PROVINCE, from_day, to_day, "unit")
                times.append(time.perf_counter() - start)
            expected = sum(n for day, n in received.items() if from_day <= day <= to_day)
            got = report["total"]["received"]["total"]
            if got != expected:
                raise SystemExit(f"{name}: report 06 says {got} received, the daily items {expected}")
            out[name] = {"from": from_day.isoformat(), "to": to_day.isoformat(),
                         "p50_seconds": round(statistics.median(times), 3), "calls": dict(calls),
                         "items_read": read["items"], "read_units": round(read["units"], 1), "received": got}
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        bootstrap.override()
    one, three = out["1_year"], out["3_years"]
    out["ratio_3y_to_1y"] = {"items_read": round(three["items_read"] / one["items_read"], 2),
                             "p50_seconds": round(three["p50_seconds"] / one["p50_seconds"], 2)}
    return out


def _write(ids: list[str], groups: int) -> dict[date, int]:
    """Every unit's daily items of the four years with their roll-ups; answers the `received` of each day."""
    from chalicelib.adapters.dynamodb.models import StatsModel
    from chalicelib.domain import counting

    names = ("all", *(f"procedure#P{k}" for k in range(groups - 1)))
    received: dict[date, int] = {}
    with StatsModel.batch_write() as batch:
        for n, uid in enumerate(ids):
            daily: dict[tuple[str, str], dict[str, int]] = {}
            day = FIRST
            while day <= LAST:
                iso = day.isoformat()
                row = {"received": 2 + (n + day.day) % 3, "resolved": 2, "early": 1, "on_time": 1,
                       "open": (n + day.day) % 3}
                received[day] = received.get(day, 0) + row["received"]
                for group in names:
                    daily[(counting.month_key(uid, iso[:7]), f"{iso}#{group}")] = dict(row)
                day += timedelta(days=1)
            for (pk, sk), row in {**daily, **counting.all_rollups(daily)}.items():
                batch.save(StatsModel(pk, sk, **{k: v for k, v in row.items() if v}))
            batch.save(StatsModel(f"unit#{uid}", "months", months={pk[-7:] for pk, _ in daily}))
    return received


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    print(json.dumps(main(*args), indent=2))
