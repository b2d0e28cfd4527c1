"""Figures of the files: a desk's tracking book of N dossiers (MOTCUA_BENCH_EXPORT_N, default 2000, at most the
book's cap of 5000) read from DynamoDB Local and laid out as JSON, CSV and XLSX; report 06 of 300 rows as CSV and
XLSX. Each: its time (best of three), its DynamoDB calls and read capacity, its size; the book's peak memory
(Python allocations while it is read and laid out as XLSX, traced on one more run).

Bounded: one DynamoDB Local on a free loopback port, stopped at the end; the N dossiers are received through the
intake use case over a month at the centre. Written to .local/bench.json under "exports" (scripts/bench.py's file)
and recorded in docs/performance.md.

    TZ=UTC .venv/bin/python scripts/bench_exports.py
"""

from __future__ import annotations

import copy
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import bench, dynamodb_local  # noqa: E402

N = min(int(os.environ.get("MOTCUA_BENCH_EXPORT_N", "2000")), 5000)
CENTRE = "000.00.24.H56"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST, LAST = date(2026, 3, 2), date(2026, 3, 31)


def best_of_three(work: Callable[[], Any]) -> tuple[float, Any, dict[str, int], float]:
    """Milliseconds of the fastest of three runs; its result, DynamoDB calls and read capacity units."""
    best, result, calls, rcu = float("inf"), None, {}, 0.0
    for _ in range(3):
        bench.CALLS.clear()
        bench.Capacity.reset()
        bench.Capacity.recording = True
        started = time.perf_counter()
        try:
            out = work()
        finally:
            bench.Capacity.recording = False
        elapsed = 1000 * (time.perf_counter() - started)
        if elapsed < best:
            best, result, calls, rcu = elapsed, out, dict(bench.CALLS), bench.Capacity.read
    return best, result, calls, rcu


def load(n: int) -> None:
    from chalicelib.bootstrap import deps
    from chalicelib.domain.dossier import Actor
    from chalicelib.services.intake import receive_dossier

    desk = Actor("desk.bench", CENTRE, frozenset({"desk"}))
    applicant: dict[str, Any] = dict(bench.INTAKE_BODY["applicant"])  # type: ignore[arg-type]
    applicant.update(phone="0912345678", address="12 Lê Lợi, phường Hạc Thành, tỉnh Thanh Hóa")
    body = {**bench.INTAKE_BODY, "applicant": applicant}
    days = (LAST - FIRST).days
    for i in range(n):
        day = FIRST + timedelta(days=i * days // n)
        at = datetime(day.year, day.month, day.day, 8, tzinfo=VN) + timedelta(seconds=7 * (i % 3000))
        receive_dossier(replace(deps(), now=_fixed(at)), desk, body)


def _fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def measure() -> dict[str, Any]:
    import json

    from chalicelib.bootstrap import deps
    from chalicelib.domain.dossier import Actor
    from chalicelib.services import report06_files, tracking_book, tracking_book_files

    admin = Actor("admin.bench", CENTRE, frozenset({"admin"}))
    read_ms, book, calls, rcu = best_of_three(lambda: tracking_book.tracking_book(deps(), admin, CENTRE, FIRST, LAST))
    out: dict[str, Any] = {"n": book["count"], "read": {"ms": round(read_ms), "calls": calls, "rcu": round(rcu, 1)}}
    import tracemalloc

    tracemalloc.start()  # one more run, untimed: the most memory the book and its XLSX held at once
    tracking_book_files.to_xlsx(tracking_book.tracking_book(deps(), admin, CENTRE, FIRST, LAST))
    out["peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    tracemalloc.stop()
    for name, render in (("json", lambda: json.dumps(book, ensure_ascii=False).encode()),
                         ("csv", lambda: tracking_book_files.to_csv(book).encode()),
                         ("xlsx", lambda: tracking_book_files.to_xlsx(book))):
        ms, content, _, _ = best_of_three(render)
        out[name] = {"ms": round(ms), "bytes": len(content)}
    figures = {"received": {"total": 9, "online": 3, "direct_or_postal": 6, "carried_over": 2},
               "resolved": {"total": 7, "early": 4, "on_time": 2, "late": 1},
               "in_progress": {"total": 4, "within_deadline": 3, "overdue": 1}, "refused": 0, "withdrawn": 1,
               "stopped": 0, "not_accepted": 1, "guided": 1, "supplement_requests": 2, "supplement_violations": 0,
               "apologies": 1, "rescheduled": 1, "on_time_rate": 0.8571}
    report = {"unit": CENTRE, "from": "2026-03-01", "to": "2026-03-31", "group_by": "procedure",
              "rows": [{"key": f"1.{i:06d}", "name": None, **copy.deepcopy(figures)} for i in range(300)],
              "total": figures}
    for name, render in (("report06_csv", lambda: report06_files.to_csv(report, lambda k: k).encode()),
                         ("report06_xlsx", lambda: report06_files.to_xlsx(report, lambda k: k, "Trung tâm"))):
        ms, content, _, _ = best_of_three(render)
        out[name] = {"rows": 300, "ms": round(ms), "bytes": len(content)}
    return out


def main() -> None:
    port = dynamodb_local.free_port()
    database = dynamodb_local.start(port)
    try:
        os.environ.update({**dynamodb_local.local_environment(port, bench.PREFIX), "MOTCUA_AUTH_MODE": "local",
                           "MOTCUA_LOCAL_JWKS": str(ROOT / ".local" / "keys" / "jwks.json")})
        bench.silence_service_logs()
        bench.install_hooks()
        from scripts.seed import load_catalogue

        load_catalogue()
        started = time.perf_counter()
        load(N)
        print(f"loaded {N} dossiers in {time.perf_counter() - started:.0f} s")
        result = measure()
    finally:
        dynamodb_local.stop(database)
    for key, value in result.items():
        print(f"{key:14} {value}")
    bench.save({"exports": result})


if __name__ == "__main__":
    main()
