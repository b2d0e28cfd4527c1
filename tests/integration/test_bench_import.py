"""`make bench`'s import section runs (at a tiny size: the figures come from the full run, docs/performance.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_bench_runs_and_reports_rate_and_capacity_per_row():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--import", "30"], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "TZ": "UTC"}, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert (result["rows"], result["imported"]) == (30, 30) and result["rows_per_s"] > 0
    new, again = result["capacity_new"], result["capacity_again"]
    assert new["imported"] == 30 and new["wcu_per_row"] > 2  # a dossier, its history and its events, transacted
    assert again["duplicates"] == 30 and again["wcu_per_row"] == 0 and 0 < again["rcu_per_row"] <= 1
