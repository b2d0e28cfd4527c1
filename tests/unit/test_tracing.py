"""Powertools Tracer: loaded on the first traced invocation only (never at import, never locally), and then one
X-Ray subsegment per invocation, sent to the daemon address Lambda gives a traced function."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys
from chalice.test import Client
import app
assert "aws_xray_sdk" not in sys.modules, "loaded at import"
with Client(app.app, stage_name="local") as client:
    status = client.http.get("/v1/calendar/due?start=2026-03-16T08:00:00%2B07:00&days=1").status_code
print(status, "aws_xray_sdk" in sys.modules)
"""


def run(env: dict[str, str]) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_XRAY", "_X_AMZN", "LAMBDA_TASK"))}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**base, **env}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_untraced_functions_never_load_the_xray_sdk():
    assert run({}) == "200 False"
    assert run({"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "POWERTOOLS_TRACE_DISABLED": "true"}) == "200 False"


def test_a_traced_invocation_sends_its_subsegment_to_the_daemon():
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(10)
    try:
        port = daemon.getsockname()[1]
        env = {"AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}", "LAMBDA_TASK_ROOT": str(ROOT),
               "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
        assert run(env) == "200 True"
        sent = b""
        while b"## GET /v1/calendar/due" not in sent:
            sent += daemon.recv(65536)
        assert b'"service": "motcua"' in sent or b'"service":"motcua"' in sent
    finally:
        daemon.close()
