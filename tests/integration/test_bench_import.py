"""`make bench`'s import section runs (at a tiny size: the figures come from the full run, docs/performance.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_bench_runs_and_reports_rate_capacity_and_the_floor():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_import.py"), "--rows", "60",
                          "--capacity-rows", "20"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TZ": "UTC"}, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert (result["rows"], result["imported"]) == (60, 60) and result["rows_per_s"] > 0
    assert result["floor"]["rows"] == 60 and result["floor"]["rows_per_s"] > 0 and result["share_of_floor"] > 0
    new, again = result["capacity_new"], result["capacity_again"]
    assert new["imported"] == 60 and "outbox" not in " ".join(new["by_target"])  # no event is queued
    assert new["by_target"]["dossiers"] >= 1 and new["by_target"]["stats"] > 0  # the dossier, its guard
    assert again["duplicates"] == 20 and again["wcu_per_row"] == 0 and 0 < again["rcu_per_row"] <= 1.5


def test_dynamodb_local_with_the_optimising_compiler_only_when_asked(tmp_path: Path):
    sys.path.insert(0, str(ROOT))
    from scripts import dynamodb_local

    for full_jit in (False, True):
        port = dynamodb_local.free_port()
        process = dynamodb_local.start(port, db_path=tmp_path / str(full_jit), full_jit=full_jit)
        try:
            command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        finally:
            dynamodb_local.stop(process)
        assert (b"-XX:TieredStopAtLevel=1" in command) is not full_jit
        assert [b"-dbPath", str(tmp_path / str(full_jit)).encode()] == command[command.index(b"-dbPath"):][:2]
