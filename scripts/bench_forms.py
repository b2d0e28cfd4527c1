"""Figures of the printed forms (docs/forms.md, docs/performance.md): how long each form takes to print as PDF,
the first time in a process (cold: typst imported, the template and its fonts loaded) and warm (the median of
REPEATS prints of distinct dossiers, so Typst's memoisation of an identical input does not flatter the figure);
and the tracking book (form 06) of 5,000 lines. Targets: a form under 300 ms warm, the book under 3 s.

The dossiers are real: received and moved through the use cases on a DynamoDB Local of its own (a free loopback
port, stopped at the end), then printed through `services.printing.dossier_form`, which reads them as the route
does. The book's 5,000 lines are the real lines of a few dossiers (`services.tracking_book`) repeated under
distinct codes, numbers and names: laying them out is what is measured (bench_exports.py measures the reading).
Written to .local/bench.json under "forms".

    TZ=UTC .venv/bin/python scripts/bench_forms.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
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

REPEATS = 10
BOOK_LINES = 5000
WARM_TARGET_MS, BOOK_TARGET_S = 300, 3.0
CENTRE, JUSTICE = "000.00.24.H56", "000.00.11.H56"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 3, 2)
LOOKUP = "https://dichvucong.example.vn/tra-cuu?ma={code}"


def main() -> dict[str, Any]:
    port = dynamodb_local.free_port()
    database = dynamodb_local.start(port)
    try:
        os.environ.update({**dynamodb_local.local_environment(port, bench.PREFIX + "-forms"),
                           "MOTCUA_AUTH_MODE": "local",
                           "MOTCUA_LOCAL_JWKS": str(ROOT / ".local" / "keys" / "jwks.json")})
        bench.silence_service_logs()
        from chalicelib.adapters.dynamodb.tables import create_tables
        from scripts.seed import load_catalogue

        create_tables()
        load_catalogue()
        return measure()
    finally:
        dynamodb_local.stop(database)


def _at(hour: int, minute: int = 0, days: int = 0) -> Callable[[], datetime]:
    at = datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=VN) + timedelta(days=days)
    return lambda: at


def scenario(i: int) -> dict[str, str]:
    """One dossier per form, each with what its form prints: received, guided, refused at the desk, apologised
    for (04, 05), refused after appraisal, stopped. Codes by form name."""
    from chalicelib.bootstrap import deps
    from chalicelib.domain.dossier import Actor
    from chalicelib.services.actions import perform_action
    from chalicelib.services.intake import receive_dossier

    desk = Actor("desk.bench", CENTRE, frozenset({"desk"}))
    processor = Actor("cv.bench", JUSTICE, frozenset({"processor"}))
    leader = Actor("ld.bench", JUSTICE, frozenset({"leader"}))
    applicant = {**bench.INTAKE_BODY["applicant"], "name": f"Trần Thị Thuỳ Dương {i}",  # type: ignore[dict-item]
                 "phone": "0912345678", "address": "12 Lê Lợi, phường Hạc Thành"}
    body = {**bench.INTAKE_BODY, "applicant": applicant,
            "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "kind": "original", "copies": 1},
                          {"name": "Bản sao căn cước", "kind": "certified_copy", "copies": 1}]}

    def at(now: Callable[[], datetime]) -> Any:
        return replace(deps(), now=now)

    def act(actor: Actor, code: str, request: dict[str, Any], now: Callable[[], datetime]) -> dict[str, Any]:
        version = at(now).dossiers.get(code).version  # type: ignore[union-attr]
        return perform_action(at(now), actor, code, {**request, "version": version})

    codes = {"01": receive_dossier(at(_at(8, i)), desk, body)["code"]}
    codes["02"] = receive_dossier(at(_at(8, i)), desk, {**body, "intake": {
        "decision": "guide", "missing_items": ["Bản chụp căn cước công dân", "Tờ khai có chữ ký"]}})["code"]
    codes["03"] = receive_dossier(at(_at(8, i)), desk, {**body, "intake": {
        "decision": "refuse", "reasons": ["Không thuộc thẩm quyền giải quyết"]}})["code"]
    code = receive_dossier(at(_at(9, i)), desk, body)["code"]
    act(processor, code, {"action": "assign"}, _at(10, i))
    act(leader, code, {"action": "apologize", "reason": "Cần xác minh thêm tại Công an tỉnh",
                       "new_appointment_at": "2026-03-20T09:00:00+07:00"}, _at(9, i, days=8))
    codes["04"] = codes["05"] = code
    code = receive_dossier(at(_at(9, i)), desk, body)["code"]
    act(processor, code, {"action": "assign"}, _at(10, i))
    act(processor, code, {"action": "complete_step"}, _at(11, i))
    act(leader, code, {"action": "refuse", "reasons": ["Không đủ điều kiện cấp"]}, _at(9, i, days=2))
    codes["appraisal-refusal"] = code
    code = receive_dossier(at(_at(9, i)), desk, body)["code"]
    act(desk, code, {"action": "stop", "reason": "Công dân đề nghị dừng"}, _at(15, i))
    codes["stop-notice"] = code
    return codes


def measure() -> dict[str, Any]:
    from chalicelib.bootstrap import deps
    from chalicelib.domain.dossier import Actor
    from chalicelib.services import printing, tracking_book

    admin = Actor("admin.bench", CENTRE, frozenset({"admin"}))
    scenarios = [scenario(i) for i in range(REPEATS + 1)]
    out: dict[str, Any] = {"repeats": REPEATS, "forms": {}}
    for form in printing.FORMS:
        times, size = [], 0
        for codes in scenarios:  # the first print of each form is its template's cold start
            started = time.perf_counter()
            pdf, _ = printing.dossier_form(deps(), admin, codes[form], form, LOOKUP)
            times.append(1000 * (time.perf_counter() - started))
            size = len(pdf)
        out["forms"][form] = {"first_ms": round(times[0], 1), "warm_median_ms": round(statistics.median(times[1:]), 1),
                              "warm_max_ms": round(max(times[1:]), 1), "bytes": size}
    book = tracking_book.tracking_book(deps(), admin, CENTRE, DAY, DAY + timedelta(days=10))
    out["book"] = [book_figures(book, BOOK_LINES, run) for run in range(3)]
    out["cold_process_ms"] = cold_process()
    return out


def book_figures(book: dict[str, Any], lines: int, run: int) -> dict[str, Any]:
    """The book grown to `lines` lines, each run with other names (no memoised layout is reused)."""
    from chalicelib.services.printing import tracking_book_pdf

    source = book["rows"]
    rows = []
    for n in range(lines):
        row = json.loads(json.dumps(source[n % len(source)]))
        row.update(number=n + 1, code=f"{CENTRE}-260302-{n + 1:04d}")
        row["applicant"]["name"] = f"Nguyễn Văn Ánh {run}-{n}"
        rows.append(row)
    started = time.perf_counter()
    pdf = tracking_book_pdf({**book, "count": lines, "rows": rows})
    return {"lines": lines, "s": round(time.perf_counter() - started, 2), "bytes": len(pdf)}


COLD = """
import time, sys
started = time.perf_counter()
sys.path.insert(0, {root!r})
from chalicelib.services import printing
data = {{"title": "Phiếu xin lỗi", "code": "000.00.24.H56-260302-0001", "number": None, "place_date": "Thanh Hóa",
        "agency": {{"name": "Sở Tư pháp tỉnh Thanh Hóa", "parent": "Ủy ban nhân dân tỉnh Thanh Hóa"}},
        "signer": None, "view": {{"addressee": "Trần Thị Thuỳ Dương", "paragraphs": ["Xin lỗi Ông/Bà."],
        "signature": "THỦ TRƯỞNG CƠ QUAN"}}}}
printing.render("form-04.typ", data)
print(round(1000 * (time.perf_counter() - started), 1))
"""


def cold_process() -> list[float]:
    """A fresh Python process that imports the printing module and prints form 04 once (typst imported, fonts
    and template loaded): what a Lambda container's first print adds. Three processes."""
    figures = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", COLD.format(root=str(ROOT))], capture_output=True, text=True,
                              timeout=120, check=True)
        figures.append(float(done.stdout.strip().splitlines()[-1]))
    return figures


def in_child() -> dict[str, Any]:
    """`main` in a fresh process (the models read their table names when imported); answers its JSON."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--forms"], capture_output=True,
                          text=True, timeout=1800, env={**os.environ, "TZ": "UTC"})
    if done.returncode != 0:
        raise RuntimeError(f"forms bench failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report(result: dict[str, Any]) -> None:
    print(f"\nprinted forms (PDF, typst), warm = median of {result['repeats']} distinct dossiers "
          f"(target < {WARM_TARGET_MS} ms):")
    for form, f in result["forms"].items():
        mark = "ok" if f["warm_median_ms"] < WARM_TARGET_MS else "OVER"
        print(f"  {form:18} first {f['first_ms']:7.1f} ms  warm {f['warm_median_ms']:6.1f} ms "
              f"(max {f['warm_max_ms']:6.1f})  {f['bytes'] / 1024:6.1f} KiB  {mark}")
    for b in result["book"]:
        mark = "ok" if b["s"] < BOOK_TARGET_S else "OVER"
        print(f"  tracking book {b['lines']:,} lines: {b['s']:.2f} s, {b['bytes'] / 2**20:.2f} MiB  {mark}")
    print(f"  cold process (import + first form 04): {', '.join(f'{ms:.0f}' for ms in result['cold_process_ms'])} ms")


if __name__ == "__main__":
    figures = main()
    report(figures)
    bench.save({"forms": figures})
