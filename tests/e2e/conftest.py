"""`chalice local` in its own process group on a free port, against the suite's DynamoDB Local; and the whole
local stack (`make run`: its own DynamoDB Local, the API, the relay, the sweep, the digest) on a moved clock."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts import dynamodb_local

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    port = dynamodb_local.free_port()
    chalice = Path(sys.executable).parent / "chalice"
    process = subprocess.Popen(
        [str(chalice), "local", "--no-autoreload", "--stage", "local", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/v1/health", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chalice local did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        dynamodb_local.stop(process)  # type: ignore[arg-type]


# The walkthrough's moved clock: Monday 16 Mar 2026, 08:00 in Hà Nội, ten minutes per real second.
CLOCK_START, CLOCK_SPEED = "2026-03-16T08:00:00+07:00", "600"


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """scripts/run_local.py as `make run CLOCK_START=... CLOCK_SPEED=...` runs it, on free ports and its own data
    and key directories; answers the API base URL and the key directory tokens must be signed with."""
    with running_stack(tmp_path_factory.mktemp("local-stack"),
                       {"CLOCK_START": CLOCK_START, "CLOCK_SPEED": CLOCK_SPEED}) as stack:
        yield stack


@contextmanager
def running_stack(work: Path, settings: dict[str, str]) -> Iterator[dict[str, str]]:
    """`make run` (scripts/run_local.py) on free ports, with its data and keys under `work` and `settings` added to
    its environment; stopped (SIGTERM, then its process group killed) on exit."""
    api_port, db_port, web_port = dynamodb_local.free_port(), dynamodb_local.free_port(), dynamodb_local.free_port()
    env = {**os.environ, "MOTCUA_API_PORT": str(api_port), "MOTCUA_DYNAMODB_PORT": str(db_port),
           "MOTCUA_WEB_PORT": str(web_port), "MOTCUA_S3_PORT": str(dynamodb_local.free_port()),
           "MOTCUA_LOCAL_DIR": str(work / "local"), "MOTCUA_LOCAL_KEY_DIR": str(work / "keys"),
           "PYTHONUNBUFFERED": "1"}
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "MOTCUA_FILES_BUCKET", "MOTCUA_JOB_INTERVAL",
                 "MOTCUA_LOCAL_JWKS", "MOTCUA_CLOCK_START",
                 "MOTCUA_CLOCK_SPEED", "MOTCUA_CLOCK_ANCHOR", "MOTCUA_TABLE_PREFIX"):
        env.pop(name, None)
    env.update(settings)
    process = subprocess.Popen([sys.executable, "scripts/run_local.py"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        while "motcua is running" not in "".join(output):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("make run did not start:\n" + "".join(output))
            try:
                lines.get(timeout=0.5)
            except queue.Empty:
                pass
        yield {"api": f"http://127.0.0.1:{api_port}", "key_dir": str(work / "keys"), "output": "".join(output),
               "web": f"http://127.0.0.1:{web_port}", "db_port": str(db_port)}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # run_local stops the API and DynamoDB Local itself
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
