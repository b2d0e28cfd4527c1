"""`make run`: DynamoDB Local (data kept in .local/dynamodb), tables, demo catalogue, the API on
http://127.0.0.1:8000 and, with the same handlers as on AWS, what Lambda and EventBridge run there: the outbox
table's stream read as Lambda's mapping reads it and handed to `outbox_stream` (which runs the consumers
in-process), the safety net, the deadline and webhook sweeps, the portal sync and the daily digest. Ctrl-C stops
everything it started.

`make run CLOCK_START=2026-03-16T08:00:00+07:00 CLOCK_SPEED=600` (or MOTCUA_CLOCK_START / MOTCUA_CLOCK_SPEED)
runs the API and the jobs on a moved clock: here from that Monday morning, ten minutes per real second, so a
dossier goes due soon and overdue within a minute.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local, local_inbound, local_keys, s3_local  # noqa: E402

API_PORT = int(os.environ.get("MOTCUA_API_PORT", "8000"))
DB_PORT = int(os.environ.get("MOTCUA_DYNAMODB_PORT", "8001"))
S3_PORT = int(os.environ.get("MOTCUA_S3_PORT", "8003"))  # the dossiers' files (docs/documents.md)
FILES_BUCKET = "motcua-local-files"
WEB_PORT = int(os.environ.get("MOTCUA_WEB_PORT", "8002"))  # the public ranking page (web/, docs/web.md)
WEBHOOK_INTERVAL_SECONDS = 1.0  # due webhook deliveries (AWS: every minute); retries wait on the moved clock
JOB_INTERVAL_SECONDS = float(os.environ.get("MOTCUA_JOB_INTERVAL", "60"))  # the sweep (AWS: every 5 minutes)
STREAM_POLL_SECONDS = 0.1  # an idle stream is read again this soon (Lambda's mapping polls about 4 times a second)
SAFETY_NET_INTERVAL_SECONDS = float(os.environ.get("MOTCUA_RELAY_INTERVAL", "60"))  # AWS: every 5 minutes
PORTAL_SYNC_INTERVAL_SECONDS = 5.0  # the national portal sync's worker (AWS: every minute)
DIGEST_HOUR = 7  # Asia/Ho_Chi_Minh, as the daily schedule on AWS
LOCAL_DIR = Path(os.environ.get("MOTCUA_LOCAL_DIR", str(ROOT / ".local")))  # the database files and its log
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def main() -> None:
    if not dynamodb_local.port_is_free(API_PORT):
        raise SystemExit(f"port {API_PORT} is busy: stop whatever serves it, or set MOTCUA_API_PORT")
    if not dynamodb_local.port_is_free(WEB_PORT):
        raise SystemExit(f"port {WEB_PORT} is busy: stop whatever serves it, or set MOTCUA_WEB_PORT")
    # The ranking page calls the API from its own origin: allowed by CORS beside whatever is configured.
    web_origins = f"http://127.0.0.1:{WEB_PORT},http://localhost:{WEB_PORT}"
    configured = os.environ.get("MOTCUA_CORS_ORIGINS", "http://localhost:3000")  # config.py's default
    os.environ["MOTCUA_CORS_ORIGINS"] = ",".join(o for o in (configured, web_origins) if o)
    os.environ.update(dynamodb_local.local_environment(DB_PORT, "motcua-local"))
    os.environ.update(s3_local.local_environment(S3_PORT, FILES_BUCKET))
    os.environ["MOTCUA_AUTH_MODE"] = "local"
    os.environ["MOTCUA_LOCAL_JWKS"] = str(local_keys.ensure_keys())
    # The moved clock shows CLOCK_START from this instant, in every process of the stack (the API, the jobs, the
    # seeding), all of which read the same anchor.
    os.environ["MOTCUA_CLOCK_ANCHOR"] = repr(time.time())
    clock = _clock_settings(os.environ)
    # After the settings are checked: nothing is written under .local for a stack refused at start.
    os.environ.setdefault("MOTCUA_INBOUND_SOURCES", str(local_inbound.ensure_sources()))  # docs/inbound.md
    for signum in STOP_SIGNALS:  # before any child exists: from here on, every stop goes through `finally`
        signal.signal(signum, _stop_requested)
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    fake_portal = _start_fake_portal()
    web = None
    try:
        database = dynamodb_local.start(DB_PORT, db_path=LOCAL_DIR / "dynamodb", log_path=LOCAL_DIR / "dynamodb.log",
                                        started=lambda p: _started(children, p, "DynamoDB Local"))
        files = s3_local.start(S3_PORT, LOCAL_DIR / "s3", FILES_BUCKET, log_path=LOCAL_DIR / "s3.log",
                               started=lambda p: _started(children, p, "the local S3 server"))
        print(f"local S3 (s3rver) on 127.0.0.1:{S3_PORT} (pid {files.pid}), bucket {FILES_BUCKET}, files kept in "
              f"{LOCAL_DIR / 's3'}", flush=True)
        from scripts.seed import load_catalogue

        print(f"DynamoDB Local on 127.0.0.1:{DB_PORT} (pid {database.pid}); catalogue: {load_catalogue()}",
              flush=True)
        with dynamodb_local.signals_held():  # the child is registered before any signal can interrupt
            api = subprocess.Popen(
                [str(Path(sys.executable).parent / "chalice"), "local", "--no-autoreload", "--stage", "local",
                 "--host", "127.0.0.1", "--port", str(API_PORT)],
                cwd=ROOT, env=os.environ.copy(), start_new_session=True,
            )
            _started(children, api, "the API")
        _wait_for_api(api)
        web = _start_web()
        _banner(clock, web.url)
        _run_jobs_until_stopped(api, clock)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
    finally:
        for signum in STOP_SIGNALS:  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        for child in reversed(children):
            dynamodb_local.stop(child)  # the child's whole process group
        if fake_portal is not None:
            fake_portal.stop()
        if web is not None:
            web.stop()
        print("stopped the API, DynamoDB Local and the local S3 server", flush=True)


def _start_web() -> Any:
    """The public ranking page on WEB_PORT, its chart library vendored first (scripts/build_web.py)."""
    from chalicelib.config import load
    from scripts import build_web
    from scripts.web_server import WebServer

    build_web.build()
    levels = load(os.environ).ranking_public_levels
    return WebServer(WEB_PORT, f"http://127.0.0.1:{API_PORT}", levels).start()


def _start_fake_portal() -> Any:
    """Unless MOTCUA_PORTAL_URL names a portal, a fake one on a free loopback port (scripts/fake_portal.py), so
    that dossiers sync: its GET /received lists what it acknowledged. A thread of this process: it stops with it."""
    if os.environ.get("MOTCUA_PORTAL_URL", "").strip():
        return None
    from scripts.fake_portal import FakePortal

    portal = FakePortal().__enter__()
    os.environ["MOTCUA_PORTAL_URL"] = portal.url
    return portal


def _stop_requested(signum: int, frame: object) -> None:
    for other in STOP_SIGNALS:  # the first signal stops everything; later ones must not interrupt that
        signal.signal(other, signal.SIG_IGN)
    raise KeyboardInterrupt


def _started(children: list[subprocess.Popen[bytes]], process: subprocess.Popen[bytes], name: str) -> None:
    children.append(process)
    print(f"started {name} (pid {process.pid})", flush=True)


def _wait_for_api(api: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise SystemExit(f"chalice local exited with code {api.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/v1/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the API did not answer within a minute")


def _clock_settings(env: MutableMapping[str, str]) -> Any:
    """The moved clock from CLOCK_START / CLOCK_SPEED (make's variables) or MOTCUA_CLOCK_START / _SPEED, checked
    like every setting; None on the real clock."""
    for short in ("CLOCK_START", "CLOCK_SPEED"):
        if env.get(short, "").strip():
            env[f"MOTCUA_{short}"] = env[short].strip()  # make run CLOCK_START=...: the most specific wins
    from chalicelib.config import SettingsError, load

    try:
        return load(env).clock
    except SettingsError as exc:
        raise SystemExit(f"make run: {exc}") from exc


def _sweep_interval(clock: Any) -> float:
    """Every 5 minutes of the clock the jobs read, but at least once a second of real time."""
    if "MOTCUA_JOB_INTERVAL" in os.environ or clock is None:
        return JOB_INTERVAL_SECONDS
    return max(1.0, min(JOB_INTERVAL_SECONDS, 300 / clock.speed))


def _banner(clock: Any, web_url: str) -> None:
    if clock is None:
        time_line = "The clock is the real time."
    else:
        now = clock().astimezone(_zone())
        time_line = (f"The clock is MOVED (CLOCK_START/CLOCK_SPEED, local stack only): it started at "
                     f"{clock.start.astimezone(_zone()).isoformat()} and runs {clock.speed:g}x "
                     f"(1 real second = {timedelta(seconds=clock.speed)}); it is now {now.isoformat()}.")
    print(f"""
motcua is running: http://127.0.0.1:{API_PORT}/v1/health   (OpenAPI: /v1/openapi.json)
The public ranking map: {web_url}/   (docs/web.md)
Get a token for an officer, e.g. the desk of the provincial public-service centre:
    make token UNIT=000.00.24.H56 ROLES=desk
    make token UNIT=000.00.11.H56 ROLES=processor,leader SUB=cv.binh
{time_line}
Domain events leave the outbox through its stream as they are written, to the consumers (timers, notifications,
counters, webhooks, portal sync); the safety net runs every {SAFETY_NET_INTERVAL_SECONDS:g} s, the deadline sweep \
every {_sweep_interval(clock):g} s and the digest at {DIGEST_HOUR:02d}:00 of the clock. Ctrl-C stops everything.
Webhook deliveries due are sent every \
{WEBHOOK_INTERVAL_SECONDS:g} s (an admin token, ROLES=admin, manages /v1/webhooks; http:// to 127.0.0.1 is accepted
here only).
The national portal sync pushes every {PORTAL_SYNC_INTERVAL_SECONDS:g} s to {os.environ.get("MOTCUA_PORTAL_URL")}
(a fake one unless MOTCUA_PORTAL_URL is set: GET /received there lists what it took).
""", flush=True)


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class _Job:
    name: str
    interval: float
    run: Callable[[], dict[str, Any]]
    overlap: bool = False  # runs start every interval whether or not the last ended (at most MAX_OVERLAP)
    eager: bool = False  # run again at once after a run that handed something on (a stream with a backlog)


MAX_OVERLAP = 4


def _run_jobs_until_stopped(api: subprocess.Popen[bytes], clock: Any) -> None:
    """Each job in a thread of its own, as each is a function of its own on AWS: a webhook receiver that hangs
    holds up the webhook sweep, never the outbox stream or the sweep of deadlines."""
    from chalice.test import Client

    from app import app
    from chalicelib.bootstrap import deps
    from scripts.local_stream import lambda_handler, outbox_poller

    with Client(app, stage_name="local") as client:
        def scheduled(name: str) -> Callable[[], dict[str, Any]]:
            handler = lambda_handler(app, name)
            event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                    detail={}, resources=[])
            return lambda: handler(event)  # the Lambda handler itself, as EventBridge invokes it

        # The stream first (from now on), then what was written while nothing read it: published at once.
        poller = outbox_poller(lambda_handler(app))
        _run_job("outbox catch-up", lambda: _catch_up(deps()), None)
        jobs = [_Job("outbox stream", STREAM_POLL_SECONDS, poller.poll, eager=True),
                _Job("safety net", SAFETY_NET_INTERVAL_SECONDS, scheduled("event_relay")),
                _Job("overdue sweep", _sweep_interval(clock), scheduled("overdue_sweep")),
                _Job("webhook sweep", WEBHOOK_INTERVAL_SECONDS, scheduled("webhook_sweep"), overlap=True),
                _Job("portal sync", PORTAL_SYNC_INTERVAL_SECONDS, scheduled("portal_sync_push"))]
        stop = threading.Event()
        threads = [threading.Thread(target=_loop, args=(job, stop), name=job.name, daemon=True) for job in jobs]
        for thread in threads:
            thread.start()
        digest = scheduled("deadline_digest")
        digest_day = _digest_day(deps().now())
        try:
            while api.poll() is None:
                today = _digest_day(deps().now())
                if today != digest_day:  # 07:00 of a new day on the clock: the daily digest
                    digest_day = today
                    _run_job("deadline digest", digest, None)
                time.sleep(0.2)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
    raise SystemExit(f"chalice local exited with code {api.returncode}")


def _catch_up(deps: Any) -> dict[str, Any]:
    """What was written while nothing read the stream: not a fault of the stream path, so no warning."""
    from chalicelib.services.relay import relay

    return relay(deps, older_than_seconds=0, budget_seconds=600, announce=False)


def _loop(job: _Job, stop: threading.Event) -> None:
    """Run `job` every `interval` seconds (at once again when it handed records on) until `stop`. A job that may
    overlap starts every `interval` whether or not its last run ended (at most MAX_OVERLAP at once), as a schedule
    invokes its function on AWS: a webhook receiver that hangs holds one run, never the next deliveries."""
    running: list[threading.Thread] = []
    while not stop.is_set():
        if job.overlap:
            running = [t for t in running if t.is_alive()]
            if len(running) < MAX_OVERLAP:
                thread = threading.Thread(target=_run_job, args=(job.name, job.run, job.interval), daemon=True)
                thread.start()
                running.append(thread)
            stop.wait(job.interval)
            continue
        report = _run_job(job.name, job.run, job.interval)
        busy = bool(report and report.get("records"))
        stop.wait(0 if busy and job.eager else job.interval)


def _digest_day(now: datetime) -> str:
    """The day whose digest is due: today from 07:00, yesterday before."""
    return (now.astimezone(_zone()) - timedelta(hours=DIGEST_HOUR)).date().isoformat()


def _run_job(name: str, run: Callable[[], dict[str, Any]], interval: float | None) -> dict[str, Any] | None:
    try:
        report = run()
    except Exception as exc:  # logged by the job itself; like the schedule in AWS, run it next time
        retry = f"next try in {interval:g} s" if interval is not None else "next try tomorrow"
        print(f"{name} failed ({type(exc).__name__}); {retry}", file=sys.stderr, flush=True)
        return None
    done = (report.get("found") or report.get("published") or report.get("woken") or report.get("units")
            or report.get("due") or report.get("pushed") or report.get("left"))
    if done:  # what acted, one line: the rest of the time the jobs stay quiet (the stream's records are many)
        print(f"{name}: {', '.join(f'{k} {v}' for k, v in report.items() if v and k != 'at')}", flush=True)
    return report


if __name__ == "__main__":
    main()
