"""Generate an old system's export from the demo catalogue (deterministic: the same seed gives the same file).

    python scripts/make_import_sample.py OUT.csv|OUT.ndjson [--rows 3000] [--seed 8] [--bad 0.03]

Dossiers received from 2024 to the switch-over, most resolved and returned (early, on time, some late), some
withdrawn, stopped, refused or not accepted, a few still open; those of the district abolished on 1 Jul 2025 under
its old code (the import maps it to its successor). With `--bad` > 0, that share of rows is spoilt in several ways
(unknown procedure, bad dates, an illegal history, times out of order, an unknown unit) and a few rows are repeated
(duplicates). demo/import/ holds the files this wrote with the defaults; `make bench` writes 100,000 rows with --bad 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
VN = ZoneInfo("Asia/Ho_Chi_Minh")
DISTRICT, SUCCESSOR = "000.20.30.H56", "000.21.30.H56"  # abolished 30 Jun 2025 (demo/catalogue.json)
COLUMNS = ("code", "procedure_code", "unit_code", "competent_unit_code", "channel", "applicant_name",
           "applicant_id_number", "applicant_phone", "applicant_email", "received_at", "due_at", "finished_at",
           "history")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ")
MIDDLE = ("Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Hải")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Sơn", "Trang")
BAD_KINDS = ("unknown_procedure", "bad_date", "illegal_history", "out_of_order", "unknown_unit", "missing_name")


def procedures() -> list[dict[str, Any]]:
    catalogue = json.loads((ROOT / "demo" / "catalogue.json").read_text(encoding="utf-8"))
    return list(catalogue["procedures"])


def working_days_after(start: datetime, days: float) -> datetime:
    """The old system's due time: `days` working days later, weekends skipped (its own calendar, not ours)."""
    moment, left = start, days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


def office_hours(moment: datetime) -> datetime:
    """The next instant an officer could have recorded: 07:00-17:00 on a weekday."""
    local = moment.astimezone(VN)
    if local.hour >= 17:
        local = datetime.combine(local.date() + timedelta(days=1), time(7, local.minute), VN)
    elif local.hour < 7:
        local = local.replace(hour=7)
    while local.weekday() >= 5:
        local += timedelta(days=1)
    return local


def limit_days(limit: dict[str, Any]) -> float:
    unit = limit["unit"]
    if unit == "working_hours":
        return 1
    if unit == "same_day":
        return 0.5
    return float(limit["amount"]) if unit == "working_days" else float(limit["amount"]) * 5 / 7


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.procs = procedures()
        self.sequences: dict[tuple[str, date], int] = {}
        self.cutover = datetime(2026, 3, 1, 8, 0, tzinfo=VN)

    def instant(self, moment: datetime) -> str:
        """Half the rows give local times without an offset, half ISO with +07:00: both are documented."""
        local = moment.astimezone(VN)
        return local.strftime("%Y-%m-%d %H:%M") if self.rng.random() < 0.5 else local.isoformat(timespec="seconds")

    def row(self) -> dict[str, Any]:
        rng = self.rng
        proc = rng.choice(self.procs)
        competent = rng.choice(proc["competent_units"])
        day = date(2024, 1, 2) + timedelta(days=rng.randrange(0, 780))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        received = datetime.combine(day, time(7 + rng.randrange(0, 9), rng.randrange(0, 60)), VN)
        unit = competent
        if competent == SUCCESSOR and day < date(2025, 7, 1):
            unit = competent = DISTRICT  # received by the district before the reform: its old code
        self.sequences[(unit, day)] = seq = self.sequences.get((unit, day), 0) + 1
        channel = rng.choices(("direct", "postal", "online"), (5, 1, 4))[0]
        due = working_days_after(received, max(limit_days(proc["limit"]), 0.5))
        if due <= received:
            due = received + timedelta(hours=4)
        history, finished = self.history(channel, received, due)
        received_line = next((h for h in history if h["status"] == "received"), None)
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        return {
            "code": f"{unit}-{day:%y%m%d}-{seq:04d}", "procedure_code": proc["code"], "unit_code": unit,
            "competent_unit_code": competent if len(proc["competent_units"]) > 1 else "", "channel": channel,
            "applicant": {"name": name, "id_number": f"0380{rng.randrange(10**8):08d}",
                          "phone": f"09{rng.randrange(10**8):08d}" if rng.random() < 0.8 else "",
                          "email": f"nguoidan{rng.randrange(10**5)}@example.vn" if rng.random() < 0.3 else ""},
            "received_at": received_line["at"] if received_line else "",
            "due_at": self.instant(due) if received_line else "",
            "finished_at": finished or "",
            "history": history,
        }

    def history(self, channel: str, received: datetime, due: datetime) -> tuple[list[dict[str, str]], str | None]:
        rng = self.rng
        lines: list[dict[str, str]] = []
        at = received

        def add(status: str, note: str = "") -> str:
            stamp = self.instant(at)
            lines.append({"status": status, "at": stamp, **({"note": note} if note else {})})
            return stamp

        def later(low: float, high: float) -> None:
            nonlocal at
            at = office_hours(at + timedelta(hours=rng.uniform(low, high)))

        if channel == "online":
            at = received - timedelta(hours=rng.uniform(1, 20))
            add("submitted")
            at = received
        fate = rng.random()
        if fate < 0.03 and channel != "online":
            return [{"status": "not_accepted", "at": self.instant(at), "note": "Thiếu giấy tờ bắt buộc"}], \
                self.instant(at)
        add("received")
        later(0.5, 6)
        add("in_progress")
        span = (due - received).total_seconds() / 3600
        if rng.random() < 0.1:
            later(1, 8)
            add("supplement_requested", "Bổ sung bản sao giấy tờ")
            later(10, 60)
            add("in_progress")
        if fate < 0.06:
            later(1, 24)
            return lines, add("withdrawn", "Công dân xin rút hồ sơ")
        if fate < 0.08:
            later(1, 24)
            return lines, add("stopped", "Dừng theo yêu cầu")
        if fate > 0.985 and received > self.cutover - timedelta(days=30):
            return lines, None  # still open at the switch-over
        end = received + timedelta(hours=span * rng.uniform(0.2, 1.05))
        at = office_hours(max(end, at + timedelta(minutes=30)))
        finished = add("refused" if fate < 0.11 else "resolved",
                       "Không đủ điều kiện" if fate < 0.11 else "Đã có kết quả")
        later(2, 72)
        add("returned")
        return lines, finished

    def spoil(self, row: dict[str, Any]) -> dict[str, Any]:
        kind = self.rng.choice(BAD_KINDS)
        if kind == "unknown_procedure":
            row["procedure_code"] = "9.999999"
        elif kind == "bad_date":
            row["received_at"] = "2024-13-45 25:00"
        elif kind == "illegal_history":
            row["history"] = [h for h in row["history"] if h["status"] not in ("in_progress", "resolved")]
        elif kind == "out_of_order":
            row["history"] = list(reversed(row["history"]))
        elif kind == "unknown_unit":
            row["unit_code"] = "000.99.99.H56"
        else:
            row["applicant"]["name"] = ""
        return row

    def rows(self, count: int, bad: float) -> Iterator[dict[str, Any]]:
        emitted: list[dict[str, Any]] = []
        for _ in range(count):
            roll = self.rng.random()
            if bad and emitted and roll < bad * 0.3:
                yield json.loads(json.dumps(self.rng.choice(emitted)))  # the same dossier again: a duplicate
                continue
            row = self.row()
            if bad and roll < bad:
                row = self.spoil(row)
            elif len(emitted) < 1000:
                emitted.append(row)
            yield row


def write(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as stream:
        if path.suffix.lower() in (".ndjson", ".jsonl"):
            for row in rows:
                stream.write(json.dumps({k: v for k, v in row.items() if v != ""}, ensure_ascii=False) + "\n")
            return
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for row in rows:
            applicant = row["applicant"]
            writer.writerow([row["code"], row["procedure_code"], row["unit_code"], row["competent_unit_code"],
                             row["channel"], applicant["name"], applicant["id_number"], applicant["phone"],
                             applicant["email"], row["received_at"], row["due_at"], row["finished_at"],
                             json.dumps(row["history"], ensure_ascii=False)])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--bad", type=float, default=0.03, help="share of spoilt rows (0 for none)")
    args = parser.parse_args(argv)
    write(args.out, Generator(args.seed).rows(args.rows, args.bad))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
