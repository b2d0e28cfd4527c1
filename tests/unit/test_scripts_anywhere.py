"""The operator's scripts run from any directory, and `make import` / `make reconcile` go to the DynamoDB Local
port the local stack was moved to (MOTCUA_DYNAMODB_PORT)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import dynamodb_local

ROOT = Path(__file__).resolve().parents[2]
HELPFUL = ["import_dossiers", "local_keys", "local_inbound", "make_import_sample", "fake_portal", "redrive",
           "cognito_officer"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "MOTCUA_"))}
    return {**env, "MOTCUA_DB_CONNECT_TIMEOUT": "0.2", "MOTCUA_DB_MAX_RETRIES": "0", **extra}


@pytest.mark.parametrize("script", HELPFUL)
def test_each_script_starts_outside_the_repository(script, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / f"{script}.py"), "--help"], cwd=tmp_path,
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "usage" in result.stdout.lower(), result.stderr
    assert not list(tmp_path.iterdir())  # and writes nothing where it was started


@pytest.mark.parametrize("target", [["reconcile", "FROM=2026-03-01", "TO=2026-03-02"],
                                    ["import", f"FILE={ROOT / 'demo' / 'import' / 'sample-old-system.csv'}"]])
def test_make_import_and_reconcile_follow_a_moved_dynamodb_port(target, tmp_path):
    port = dynamodb_local.free_port()  # nothing listens there: the error names where it went
    result = subprocess.run(["make", "-s", "-C", str(ROOT), *target], cwd=tmp_path,
                            env=clean_env(MOTCUA_DYNAMODB_PORT=str(port)), capture_output=True, text=True,
                            timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and f"127.0.0.1:{port}" in output, output[-2000:]
    assert "KeyError" not in output
