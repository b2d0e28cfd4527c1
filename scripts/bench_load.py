"""`make bench ONLY=load`: the local stack under 20 clients for 5 minutes, then `make reconcile` over the period.

    TZ=UTC .venv/bin/python scripts/bench_load.py [--seconds 300] [--clients 20]

Starts the whole local stack as `make run` does (scripts/run_local.py as a child process: DynamoDB Local, the API
under `chalice local`, the outbox stream and every consumer, the safety net, the sweeps, the portal sync against
its fake portal), on free loopback ports and with its data in a directory of its own (on /dev/shm when there is
one). Then `--clients` threads, each living dossiers over HTTP one after the other until `--seconds` have
passed: the desk's intake (with an Idempotency-Key), the public lookup of its code, assign, complete_step,
resolve, return_result, the public lookup again (one life before, not counted; the clients started over
RAMP_SECONDS, as chalice local listens with a backlog of 5 connections). Reported per operation (intake,
transition, lookup): count, p50/p95/max latency and errors (a transport failure or an answer other than 2xx), and
the throughput.

When the load stops, report 06's counters of the run's days are recomputed from the dossiers
(scripts/reconcile_stats.py, what `make reconcile` runs), again every few seconds while the pipeline finishes
what it was given, for at most DRAIN_SECONDS: clean, or the differences. Finally the stack is stopped by its PID
(SIGTERM: run_local stops its own children) and its directory removed.

Exits 1 when the reconcile is not clean. Results go to .local/bench.json under "load"; figures are recorded in
docs/performance.md, "Local load".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local, local_keys  # noqa: E402

CENTRE, JUSTICE = "000.00.24.H56", "000.00.11.H56"
REQUEST_TIMEOUT_SECONDS = 30.0
START_TIMEOUT_SECONDS = 180.0  # DynamoDB Local, the catalogue, chalice local: slow on a loaded machine
DRAIN_SECONDS = 900.0  # the in-process consumers catch up after the load on a 2-core machine
RECONCILE_EVERY_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 60.0
RAMP_SECONDS = 5.0  # the clients start spread over this
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class Stack:
    """scripts/run_local.py in a child process (its own session), on free ports, its data in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.api_port, self.db_port, self.web_port = (dynamodb_local.free_port() for _ in range(3))
        self.log = (directory / "run_local.log").open("wb")
        env = {k: v for k, v in os.environ.items()
               if k not in ("AWS_ENDPOINT_URL_DYNAMODB", "MOTCUA_TABLE_PREFIX", "MOTCUA_PORTAL_URL")}
        env.update({"MOTCUA_API_PORT": str(self.api_port), "MOTCUA_DYNAMODB_PORT": str(self.db_port),
                    "MOTCUA_WEB_PORT": str(self.web_port), "MOTCUA_LOCAL_DIR": str(directory),
                    "POWERTOOLS_LOG_LEVEL": "WARNING", "TZ": "UTC"})
        self.env = env
        self.process = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run_local.py")], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        print(f"local stack: run_local.py pid {self.process.pid}, API 127.0.0.1:{self.api_port}, DynamoDB Local "
              f"127.0.0.1:{self.db_port}", flush=True)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/v1"

    def wait_ready(self) -> None:
        """Until the banner is printed (the API answers and the jobs are about to start), bounded."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"run_local.py exited with {self.process.returncode}:\n{self.tail()}")
            if b"motcua is running" in (self.directory / "run_local.log").read_bytes():
                time.sleep(2)  # the jobs' threads start right after the banner
                return
            time.sleep(0.5)
        raise RuntimeError(f"the local stack did not start within {START_TIMEOUT_SECONDS:g} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = (self.directory / "run_local.log").read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to run_local.py (it stops the API and DynamoDB Local it started), then wait; SIGKILL to its
        process group if it does not end in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                print(f"run_local.py (pid {self.process.pid}) did not stop; killing its process group",
                      file=sys.stderr)
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: defaultdict[str, list[float]] = defaultdict(list)
        self.errors: defaultdict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.lives = 0

    def add(self, op: str, seconds: float) -> None:
        with self.lock:
            self.latency[op].append(seconds)

    def error(self, op: str, what: str) -> None:
        with self.lock:
            self.errors[op] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{op}: {what}")


class Failed(Exception):
    pass


def call(results: Results, op: str, method: str, url: str, token: str | None = None,
         body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **(headers or {}),
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        results.error(op, f"{exc.code} {exc.read()[:200]!r}")
        raise Failed(op) from exc
    except (OSError, ValueError) as exc:
        results.error(op, f"{type(exc).__name__}: {exc}")
        raise Failed(op) from exc
    results.add(op, time.perf_counter() - started)
    return dict(answer)


def client(api: str, tokens: dict[str, str], until: float, results: Results, once: bool = False) -> None:
    """Dossiers lived one after the other until `until` (a life under way when it comes is finished); one
    only when `once`."""
    from scripts.bench_events import BODY

    steps = [("officer", {"action": "assign"}), ("officer", {"action": "complete_step", "note": "bench"}),
             ("leader", {"action": "resolve", "result": {"summary": "Phiếu LLTP số 1234/STP"}}),
             ("desk", {"action": "return_result"})]
    while once or time.perf_counter() < until:
        once = False
        try:
            dossier = call(results, "intake", "POST", f"{api}/dossiers", tokens["desk"], BODY,
                           {"Idempotency-Key": f"load-{uuid.uuid4()}"})
            code = dossier["code"]
            call(results, "lookup", "GET", f"{api}/public/dossiers/{code}")
            for who, action in steps:
                dossier = call(results, "transition", "POST", f"{api}/dossiers/{code}/actions", tokens[who],
                               {**action, "version": dossier["version"]})
            call(results, "lookup", "GET", f"{api}/public/dossiers/{code}")
            with results.lock:
                results.lives += 1
        except Failed:
            time.sleep(0.5)  # that dossier is left where it is; the next life starts


def percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(values)
    cut = statistics.quantiles(ordered, n=20, method="inclusive") if len(ordered) > 1 else [ordered[0]] * 19
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(cut[18] * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


def reconcile(stack: Stack, first: datetime, last: datetime) -> tuple[bool, str, float]:
    """scripts/reconcile_stats.py over the run's local days, until clean or DRAIN_SECONDS; (clean, its last
    output, seconds waited)."""
    days = [first.astimezone(ZONE).date().isoformat(), last.astimezone(ZONE).date().isoformat()]
    env = {k: v for k, v in stack.env.items() if k not in ("MOTCUA_TABLE_PREFIX",)}
    started = time.monotonic()
    while True:
        out = subprocess.run([sys.executable, str(ROOT / "scripts" / "reconcile_stats.py"), *days], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=600)
        text = (out.stdout + out.stderr).strip()
        waited = time.monotonic() - started
        if out.returncode == 0 or waited >= DRAIN_SECONDS:
            return out.returncode == 0, text, waited
        time.sleep(RECONCILE_EVERY_SECONDS)


def run(seconds: float, clients: int) -> dict[str, Any]:
    shm = Path("/dev/shm")
    directory = Path(tempfile.mkdtemp(prefix="motcua-load-", dir=shm if shm.is_dir() and os.access(shm, os.W_OK)
                                      else None))
    stack: Stack | None = None
    try:
        stack = Stack(directory)
        stack.wait_ready()
        local_keys.ensure_keys()
        tokens = {"desk": local_keys.make_token(CENTRE, ["desk"], "tn.lan"),
                  "officer": local_keys.make_token(JUSTICE, ["processor"], "cv.binh"),
                  "leader": local_keys.make_token(JUSTICE, ["leader"], "ld.cuong")}
        first = datetime.now(ZONE)
        # One life first, not counted: the API's first requests load the token verifier, the schemas, the
        # catalogue (a cold container's work, which the cold-start figures measure).
        client(stack.api, tokens, 0.0, Results(), once=True)
        results = Results()
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(stack.api, tokens, started + seconds, results), daemon=True)
                   for _ in range(clients)]
        for thread in threads:  # ramped: chalice local's listen backlog is 5 connections
            thread.start()
            time.sleep(RAMP_SECONDS / clients)
        for thread in threads:
            thread.join(timeout=seconds + 10 * REQUEST_TIMEOUT_SECONDS)
        elapsed = time.perf_counter() - started
        last = datetime.now(ZONE)
        clean, output, waited = reconcile(stack, first, last)
        ops = {op: {**percentiles(values), "errors": results.errors.get(op, 0)}
               for op, values in sorted(results.latency.items())}
        for op, count in results.errors.items():
            ops.setdefault(op, {**percentiles([]), "errors": count})
        requests = sum(len(v) for v in results.latency.values()) + sum(results.errors.values())
        return {"seconds": round(elapsed, 1), "clients": clients, "lives": results.lives, "operations": ops,
                "requests_per_s": round(requests / elapsed, 1), "errors": sum(results.errors.values()),
                "error_samples": results.samples, "reconcile": {"clean": clean, "seconds_after_load": round(waited, 1),
                                                               "output": output.splitlines()[-20:]}}
    finally:
        if stack is not None:
            stack.stop()
        shutil.rmtree(directory, ignore_errors=True)


def report(result: dict[str, Any]) -> None:
    print(f"\nLocal load: {result['clients']} clients for {result['seconds']} s, {result['lives']} dossiers lived "
          f"to the end, {result['requests_per_s']} requests/s, {result['errors']} errors")
    for op, figures in result["operations"].items():
        print(f"  {op:<11} n={figures['n']:<6} p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  "
              f"max {figures['max_ms']} ms  errors {figures['errors']}")
    for sample in result["error_samples"]:
        print(f"    e.g. {sample}")
    rec = result["reconcile"]
    print(f"reconcile over the run's days: {'clean' if rec['clean'] else 'NOT clean'} "
          f"({rec['seconds_after_load']:.0f} s after the load stopped)")
    for line in rec["output"][-5:]:
        print(f"    {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long the clients run (default 300)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    args = parser.parse_args()
    result = run(args.seconds, args.clients)
    report(result)
    from scripts.bench import save

    save({"load": result})
    return 0 if result["reconcile"]["clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
