"""`make run` (scripts/run_local.py): stopping it at any moment stops both children, and a failing scheduled job
is logged and retried while the API stays up. Each run uses its own free ports and data directory."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from scripts import dynamodb_local

ROOT = Path(__file__).resolve().parents[2]


class LocalStack:
    def __init__(self, tmp_path: Path, job_interval: float = 300):
        self.api_port, self.db_port = dynamodb_local.free_port(), dynamodb_local.free_port()
        self.s3_port = dynamodb_local.free_port()
        env = {**os.environ, "MOTCUA_API_PORT": str(self.api_port), "MOTCUA_DYNAMODB_PORT": str(self.db_port),
               "MOTCUA_S3_PORT": str(self.s3_port),
               "MOTCUA_LOCAL_DIR": str(tmp_path / "local"), "MOTCUA_LOCAL_KEY_DIR": str(tmp_path / "keys"),
               "MOTCUA_JOB_INTERVAL": str(job_interval), "PYTHONUNBUFFERED": "1"}
        env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        env.pop("AWS_ENDPOINT_URL_S3", None)
        self.process = subprocess.Popen([sys.executable, "scripts/run_local.py"], cwd=ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.children: dict[str, int] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            found = re.match(r"started (.+) \(pid (\d+)\)", line)
            if found:
                self.children[found.group(1)] = int(found.group(2))
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in self.lines.get(timeout=0.2):
                    return
            except queue.Empty:
                if self.process.poll() is not None:
                    break
        pytest.fail(f"{text!r} not seen; output: {''.join(self.output)}")

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def exited(self, timeout: float = 40) -> int:
        return self.process.wait(timeout=timeout)

    def leftovers(self) -> list[int]:
        """Every process that is one of our children or serves one of our ports."""
        mine = set(self.children.values())
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().split(")")[-1].split()[0]
            except OSError:
                continue
            if state == "Z":
                continue
            ours = any(str(port).encode() in argv for port in (self.db_port, self.api_port, self.s3_port))
            if int(entry.name) in mine or (ours and int(entry.name) != self.process.pid):
                found.append(int(entry.name))
        return found

    def kill_all(self) -> None:
        """Only if the test failed: never leave anything running."""
        for pid in self.leftovers():
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def stack(tmp_path):
    stacks = []

    def start(**kwargs):
        stacks.append(LocalStack(tmp_path / str(len(stacks)), **kwargs))
        return stacks[-1]

    yield start
    for s in stacks:
        s.kill_all()


def _health(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=5) as response:
        return response.status


def test_sigterm_during_start_up_stops_the_database_already_started(stack):
    s = stack()
    s.wait_for("started DynamoDB Local")
    s.signal(signal.SIGTERM)
    s.exited()
    assert s.children and s.leftovers() == []


def test_sigterm_at_the_very_start_leaves_nothing(stack):
    s = stack()
    time.sleep(0.3)
    s.signal(signal.SIGTERM)
    s.exited()
    assert s.leftovers() == []


def test_sigterm_while_running_stops_both_children(stack):
    s = stack()
    s.wait_for("motcua is running")
    assert set(s.children) == {"the local S3 server", "DynamoDB Local", "the API"} and _health(s.api_port) == 200
    s.signal(signal.SIGTERM)
    assert s.exited() == 0
    assert s.leftovers() == []


def test_a_failing_sweep_is_retried_the_api_stays_up_and_ctrl_c_twice_stops_everything(stack):
    s = stack(job_interval=1)
    s.wait_for("motcua is running")
    import boto3

    ddb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{s.db_port}", region_name="ap-southeast-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    ddb.delete_table(TableName="motcua-local-dossiers")  # every sweep now fails
    s.wait_for("overdue sweep failed (")  # the job's own log line says why, with the request id
    s.wait_for("overdue sweep failed (")  # and the next run fails again: retried, not given up
    assert s.process.poll() is None and _health(s.api_port) == 200
    s.signal(signal.SIGINT)
    time.sleep(0.05)
    s.signal(signal.SIGINT)
    s.exited()
    assert s.leftovers() == []


def test_a_bad_moved_clock_is_refused_before_anything_starts(tmp_path):
    env = {**os.environ, "MOTCUA_API_PORT": str(dynamodb_local.free_port()),
           "MOTCUA_DYNAMODB_PORT": str(dynamodb_local.free_port()), "MOTCUA_LOCAL_DIR": str(tmp_path / "local"),
           "MOTCUA_LOCAL_KEY_DIR": str(tmp_path / "keys"), "CLOCK_START": "tomorrow", "CLOCK_SPEED": "600"}
    result = subprocess.run([sys.executable, "scripts/run_local.py"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "make run: MOTCUA_CLOCK_START='tomorrow': expected an instant like" in result.stderr
    assert not (tmp_path / "local").exists()  # refused before DynamoDB Local was started


def test_make_passes_its_clock_variables_to_the_local_stack():
    """`make run CLOCK_START=... CLOCK_SPEED=...`: make exports command-line variables to the recipe."""
    result = subprocess.run(["make", "-s", "-n", "run", "CLOCK_START=2026-03-16T08:00:00+07:00", "CLOCK_SPEED=600"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "scripts/run_local.py" in result.stdout
    shown = subprocess.run(["make", "-s", "-f", "-", "show", "CLOCK_SPEED=600"], input="show:\n\t@echo $$CLOCK_SPEED\n",
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip() == "600"


def test_a_webhook_sweep_that_hangs_does_not_hold_the_next_one():
    """As schedules invoke their function on AWS whether or not the last run ended: a receiver that hangs holds its
    own run of the webhook sweep, and the next run starts on time and sends the other deliveries."""
    from scripts import run_local

    started: list[float] = []
    release = threading.Event()

    def sweep() -> dict[str, int]:
        started.append(time.monotonic())
        if len(started) == 1:
            release.wait(10)  # the first run hangs on a dead receiver
        return {}

    stop = threading.Event()
    job = run_local._Job("webhook sweep", 0.1, sweep, overlap=True)
    loop = threading.Thread(target=run_local._loop, args=(job, stop))
    loop.start()
    try:
        deadline = time.monotonic() + 5
        while len(started) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(started) >= 3 and started[2] - started[0] < 1  # not waiting for the hung run
    finally:
        release.set()
        stop.set()
        loop.join(5)
    assert not loop.is_alive()


def test_runs_that_may_overlap_are_bounded():
    from scripts import run_local

    running, most = [0], [0]
    lock, release = threading.Lock(), threading.Event()

    def hang() -> dict[str, int]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return {}

    stop = threading.Event()
    loop = threading.Thread(target=run_local._loop, args=(run_local._Job("sweep", 0.02, hang, overlap=True), stop))
    loop.start()
    time.sleep(0.5)
    stop.set()
    release.set()
    loop.join(5)
    assert most[0] == run_local.MAX_OVERLAP
