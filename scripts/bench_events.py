"""`make bench` labels `events` and `import_live`: the event pipeline on DynamoDB Local, end to end.

- events: dossiers received and moved through their life (intake, assign, complete_step, resolve, return_result,
  as the walkthrough does) at a campaign day's rate, a provincial centre's 5,000 intakes in an 8-hour day, and at
  10 times that, each for MOTCUA_BENCH_EVENTS_SECONDS (default 60). The whole pipeline runs as `make run` runs it:
  the outbox's stream read by the local poller and handed to `outbox_stream`, which runs every consumer (timers,
  notifications, counters, webhooks, portal sync), one lane each. Reported: events per second through every
  consumer, the p50/p95 latency from the commit of the event's transaction to each consumer's completion, and the
  backlog left when the load stops (events not yet applied by every consumer).
- import_live: a live intake's latency to its webhook (received by an HTTP server on loopback) while an import of
  MOTCUA_BENCH_IMPORT_LIVE_ROWS (default 10,000) rows runs, beside the same intakes with no import, in one run.

Each part starts its own DynamoDB Local (files on /dev/shm when there is one) and stops it; bounded in time.
Results go to .local/bench.json under "events" and "import_live"; figures are recorded in docs/performance.md.

    python scripts/bench_events.py [events|import_live]   (both when no label is given)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local  # noqa: E402

PREFIX = "motcua-bench"
SECONDS = float(os.environ.get("MOTCUA_BENCH_EVENTS_SECONDS", "60"))
CAMPAIGN_DAY_INTAKES = 5000
WORKING_DAY_SECONDS = 8 * 3600
STEP_GAP_SECONDS = 1.0  # between one dossier's actions: its events follow each other, as officers' clicks do
LIVE_ROWS = int(os.environ.get("MOTCUA_BENCH_IMPORT_LIVE_ROWS", "10000"))
LIVE_INTAKES = int(os.environ.get("MOTCUA_BENCH_IMPORT_LIVE_INTAKES", "30"))
LIVE_EVERY_SECONDS = 2.0
DRAIN_SECONDS = 120.0  # after the load: how long the pipeline may take to finish before the backlog is counted
CENTRE, JUSTICE = "000.00.24.H56", "000.00.11.H56"
BODY = {"procedure_code": "2.001417", "channel": "direct",
        "applicant": {"name": "Nguyễn Văn An", "id_number": "038090001234"},
        "form": {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-02", "form_number": 1, "purpose": "Xin việc"},
        "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 1}]}


class Clocked:
    """When each event was committed (its transaction returned) and when each consumer completed it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.committed: dict[str, float] = {}
        self.completed: dict[tuple[str, str], float] = {}

    def commit(self, params: dict[str, Any]) -> None:
        now = time.perf_counter()
        with self.lock:
            for item in params.get("TransactItems", []):
                put = item.get("Put")
                if put and put["TableName"].endswith("-outbox"):
                    event_id = f"{put['Item']['code']['S']}/{int(put['Item']['seq']['N'])}"
                    self.committed.setdefault(event_id, now)

    def done(self, consumer: str, event_id: str) -> None:
        with self.lock:
            self.completed.setdefault((consumer, event_id), time.perf_counter())


@contextmanager
def database() -> Iterator[None]:
    shm = Path("/dev/shm")
    data = Path(tempfile.mkdtemp(prefix="motcua-events-", dir=shm if shm.is_dir() and os.access(shm, os.W_OK)
                                 else None))
    port = dynamodb_local.free_port()
    process = dynamodb_local.start(port, db_path=data, full_jit=True)
    try:
        os.environ.update({**dynamodb_local.local_environment(port, PREFIX), "MOTCUA_AUTH_MODE": "local",
                           "MOTCUA_LOCAL_JWKS": str(ROOT / ".local" / "keys" / "jwks.json")})
        from scripts.import_dossiers import BATCH_TIMEOUTS

        for name, value in BATCH_TIMEOUTS.items():  # a loaded machine's DynamoDB Local: wait longer than an API would
            os.environ.setdefault(name, value)
        yield
    finally:
        dynamodb_local.stop(process)
        shutil.rmtree(data, ignore_errors=True)


def _hooks(clock: Clocked) -> None:
    """Commits seen on every DynamoDB client (the transaction's params, once it returned without error)."""
    from botocore.session import Session

    create_client = Session.create_client
    pending: threading.local = threading.local()

    def client(self: Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made = create_client(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            def before(params: dict[str, Any], **_: Any) -> None:
                pending.params = params

            def after(http_response: Any, **_: Any) -> None:
                if getattr(pending, "params", None) is not None and http_response.status_code == 200:
                    clock.commit(pending.params)
                pending.params = None

            made.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", before)
            made.meta.events.register("after-call.dynamodb.TransactWriteItems", after)
        return made

    Session.create_client = client  # type: ignore[method-assign]


def _timed_consumers(clock: Clocked) -> None:
    """Every consumer of the registry, recording when it completed each event (after `dispatch` ran it)."""
    from chalicelib.services import consumers

    real = consumers.registry()

    def wrap(consumer: consumers.Consumer) -> consumers.Consumer:
        def handle(deps: Any, event: Any) -> None:
            consumer.handle(deps, event)
            clock.done(consumer.name, event.id)

        return replace(consumer, handle=handle)

    wrapped = tuple(wrap(c) for c in real)
    consumers.registry = lambda: wrapped  # type: ignore[assignment]


class Pipeline:
    """The outbox stream read as `make run` reads it, in a thread of its own, until stopped."""

    def __init__(self) -> None:
        from app import app
        from scripts.local_stream import lambda_handler, outbox_poller

        self.poller = outbox_poller(lambda_handler(app))
        self._stop = threading.Event()
        self._running = False
        self._threads = [threading.Thread(target=self._poll, daemon=True)]

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.poller.poll()
            except Exception as exc:  # the bench goes on; the backlog will show it
                print(f"stream poll failed: {exc!r}", file=sys.stderr)
                report = {}
            if not report.get("records"):
                self._stop.wait(0.1)

    def also(self, interval: float, work: Callable[[], Any], overlap: int = 1) -> None:
        """Run `work` every `interval` seconds, up to `overlap` runs at once (as schedules overlap on AWS)."""
        def loop() -> None:
            running: list[threading.Thread] = []
            while not self._stop.is_set():
                running = [t for t in running if t.is_alive()]
                if len(running) < overlap:
                    thread = threading.Thread(target=_quietly, args=(work,), daemon=True)
                    thread.start()
                    running.append(thread)
                self._stop.wait(interval)

        thread = threading.Thread(target=loop, daemon=True)
        self._threads.append(thread)
        if self._running:
            thread.start()

    def __enter__(self) -> Pipeline:
        self._running = True
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def _quietly(work: Callable[[], Any]) -> None:
    try:
        work()
    except Exception as exc:
        print(f"job failed: {exc!r}", file=sys.stderr)


def _setup() -> Any:
    from scripts.bench import silence_service_logs
    from scripts.seed import load_catalogue

    silence_service_logs()
    load_catalogue()
    from chalicelib.bootstrap import deps

    return deps()


def _life(deps: Any, at: float, start: float) -> None:
    """One dossier's life, each action STEP_GAP_SECONDS after the last, from `at` seconds after `start`."""
    from chalicelib.domain.dossier import Actor
    from chalicelib.services.actions import perform_action
    from chalicelib.services.intake import receive_dossier

    desk = Actor("desk.bench", CENTRE, frozenset({"desk"}))
    officer = Actor("cv.bench", JUSTICE, frozenset({"processor"}))
    leader = Actor("ld.bench", JUSTICE, frozenset({"leader"}))
    _sleep_until(start + at)
    code = receive_dossier(deps, desk, BODY)["code"]
    steps = [(officer, {"action": "assign"}), (officer, {"action": "complete_step", "note": "bench"}),
             (leader, {"action": "resolve", "result": {"summary": "bench"}}), (desk, {"action": "return_result"})]
    for version, (actor, action) in enumerate(steps, start=1):
        _sleep_until(start + at + version * STEP_GAP_SECONDS)
        perform_action(deps, actor, code, {**action, "version": version})


def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


def load_run(deps: Any, clock: Clocked, intakes_per_s: float, seconds: float) -> dict[str, Any]:
    """Dossiers started at `intakes_per_s` for `seconds`, each living 5 actions; the pipeline on throughout."""
    count = max(1, round(intakes_per_s * seconds))
    start = time.perf_counter() + 0.5
    with ThreadPoolExecutor(max_workers=min(64, count * 2)) as pool:
        lives = [pool.submit(_life, deps, i / intakes_per_s, start) for i in range(count)]
        errors = [f.exception() for f in lives if f.exception() is not None]
    load_end = time.perf_counter()
    types = {c.name: c.types for c in _registry()}
    expected = {(name, event_id) for event_id in list(clock.committed) for name in types
                if _type_of(event_id) in types[name]}
    deadline = load_end + DRAIN_SECONDS
    while time.perf_counter() < deadline and not expected <= set(clock.completed):
        time.sleep(0.2)
    drained = time.perf_counter()
    missing = expected - set(clock.completed)
    latencies = {name: sorted(clock.completed[(name, e)] - clock.committed[e] for n, e in expected
                              if n == name and (name, e) in clock.completed) for name in types}
    every = sorted(v for values in latencies.values() for v in values)
    last_done = max((clock.completed[k] for k in expected if k in clock.completed), default=load_end)
    return {"intakes_per_s": intakes_per_s, "dossiers": count, "errors": [repr(e) for e in errors[:3]],
            "events": len(clock.committed), "deliveries": len(expected), "backlog_at_load_end": sum(
                1 for k in expected if clock.completed.get(k, float("inf")) > load_end),
            "backlog_after_drain": len(missing), "drain_seconds": drained - load_end,
            "events_per_s": len(clock.committed) / max(1e-9, last_done - start),
            "latency_ms": {name: _percentiles(values) for name, values in {**latencies, "all": every}.items()}}


def _registry() -> Any:
    from chalicelib.services import consumers

    return consumers.registry()


_TYPES: dict[str, str] = {}


def _type_of(event_id: str) -> str:
    """The event's type, read once from its outbox item."""
    if event_id not in _TYPES:
        from chalicelib.adapters.dynamodb.models import OutboxModel

        code, _, seq = event_id.rpartition("/")
        _TYPES[event_id] = str(OutboxModel.get(code, int(seq)).event_data["type"])
    return _TYPES[event_id]


def _percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    cut = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else [values[0]] * 19
    return {"n": len(values), "p50": round(statistics.median(values) * 1000, 1), "p95": round(cut[18] * 1000, 1),
            "max": round(values[-1] * 1000, 1)}


def events_bench() -> dict[str, Any]:
    clock = Clocked()
    runs = []
    with database():
        _hooks(clock)
        deps = _setup()
        _timed_consumers(clock)
        base = CAMPAIGN_DAY_INTAKES / WORKING_DAY_SECONDS
        with Pipeline():
            _life(deps, 0, time.perf_counter())  # warm: catalogue, calendar, connections, the JIT's first pass
            time.sleep(3)
            for factor in (1, 10):
                clock.committed.clear()
                clock.completed.clear()
                runs.append({"factor": factor, **load_run(deps, clock, base * factor, SECONDS)})
    return {"seconds": SECONDS, "campaign_day_intakes": CAMPAIGN_DAY_INTAKES, "runs": runs}


# --- import_live ------------------------------------------------------------------------------------------------
class Receiver(ThreadingHTTPServer):
    """A webhook receiver on loopback: when each dossier.received arrived, by dossier code."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        try:
            code = json.loads(body).get("code")
        except (ValueError, AttributeError):
            code = None
        if code:
            self.server.arrived.setdefault(code, time.perf_counter())  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def import_live_bench(rows: int = LIVE_ROWS) -> dict[str, Any]:
    from chalicelib.domain.dossier import Actor

    with database():
        deps = _setup()
        receiver = Receiver()
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        admin = Actor("admin.bench", CENTRE, frozenset({"admin"}))
        from chalicelib.services import webhooks

        webhooks.create(deps, admin, {"url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                                      "event_types": ["dossier.received"], "description": "bench"})
        from chalicelib.services.webhook_delivery import sweep

        data = Path(tempfile.mkdtemp(prefix="motcua-import-live-"))
        try:
            export = data / "export.csv"
            _generate(export, rows)
            with Pipeline() as pipeline:
                pipeline.also(0.5, lambda: sweep(deps), overlap=4)
                quiet = _live_intakes(deps, receiver, LIVE_INTAKES)
                result = _during_import(deps, receiver, export)
        finally:
            shutil.rmtree(data, ignore_errors=True)
            receiver.shutdown()
    return {"rows": rows, "quiet_ms": _percentiles(quiet), **result,
            "ratio_p95": (result["during_ms"]["p95"] or 0) / (_percentiles(quiet)["p95"] or 1)}


def _generate(path: Path, rows: int) -> None:
    from scripts.make_import_sample import Generator, write

    write(path, Generator(7).rows(rows, 0))


def _live_intakes(deps: Any, receiver: Receiver, n: int, until: Callable[[], bool] = lambda: False) -> list[float]:
    """Up to `n` live intakes, one every LIVE_EVERY_SECONDS (fewer if `until()` turns true); answers each one's
    seconds from the intake's answer to its webhook's arrival (waiting for the stragglers at the end)."""
    from chalicelib.domain.dossier import Actor
    from chalicelib.services.intake import receive_dossier

    desk = Actor("desk.bench", CENTRE, frozenset({"desk"}))
    answered: dict[str, float] = {}
    for _ in range(n):
        code = receive_dossier(deps, desk, BODY)["code"]
        answered[code] = time.perf_counter()
        if until():
            break
        time.sleep(LIVE_EVERY_SECONDS)
    deadline = time.perf_counter() + DRAIN_SECONDS
    while time.perf_counter() < deadline and not set(answered) <= set(receiver.arrived):
        time.sleep(0.1)
    return sorted(receiver.arrived.get(code, deadline) - at for code, at in answered.items())


def _during_import(deps: Any, receiver: Receiver, export: Path) -> dict[str, Any]:
    from scripts.import_dossiers import import_file

    done = threading.Event()
    outcome: dict[str, Any] = {}

    def run_import() -> None:
        started = time.perf_counter()
        tally, _ = import_file(deps, export, "bench", workers=8, chunk=50, progress=False)
        outcome.update(import_seconds=time.perf_counter() - started, imported=tally.imported)
        done.set()

    worker = threading.Thread(target=run_import, daemon=True)
    worker.start()
    time.sleep(2)  # the import under way
    during = _live_intakes(deps, receiver, 10_000, until=done.is_set)
    worker.join(timeout=DRAIN_SECONDS)
    return {**outcome, "during_ms": _percentiles(during), "live_intakes_during": len(during)}


def report(result: dict[str, Any]) -> None:
    if "runs" in result:
        print("\nEvents through every consumer (the outbox stream, local stack)")
        for run in result["runs"]:
            lat = run["latency_ms"]["all"]
            print(f"  {run['factor']:>3}x campaign day: {run['dossiers']} dossiers, {run['events']} events, "
                  f"{run['events_per_s']:.1f} events/s; commit -> consumer done p50 {lat['p50']} ms, p95 "
                  f"{lat['p95']} ms; backlog at load end {run['backlog_at_load_end']}, after drain "
                  f"{run['backlog_after_drain']}")
            for name, values in run["latency_ms"].items():
                if name != "all":
                    print(f"        {name:<16} p50 {values['p50']} ms  p95 {values['p95']} ms  n={values['n']}")
    if "quiet_ms" in result:
        print(f"\nA live intake's webhook while {result['rows']} rows import: p50 {result['during_ms']['p50']} ms, "
              f"p95 {result['during_ms']['p95']} ms (quiet: p50 {result['quiet_ms']['p50']} ms, p95 "
              f"{result['quiet_ms']['p95']} ms); ratio of p95 {result['ratio_p95']:.2f}; the import took "
              f"{result.get('import_seconds', 0):.0f} s")


def main(labels: list[str]) -> None:
    from scripts.bench import save

    for label in labels or ["events", "import_live"]:
        result = events_bench() if label == "events" else import_live_bench()
        report(result)
        save({label: result})


if __name__ == "__main__":
    main(sys.argv[1:])
