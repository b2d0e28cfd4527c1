"""`make run`: DynamoDB Local (data kept in .local/dynamodb), tables, demo catalogue, the API on
http://127.0.0.1:8000 and the scheduled jobs. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local, local_keys  # noqa: E402

API_PORT = int(os.environ.get("MOTCUA_API_PORT", "8000"))
DB_PORT = int(os.environ.get("MOTCUA_DYNAMODB_PORT", "8001"))
JOB_INTERVAL_SECONDS = float(os.environ.get("MOTCUA_JOB_INTERVAL", "300"))
LOCAL_DIR = Path(os.environ.get("MOTCUA_LOCAL_DIR", str(ROOT / ".local")))  # the database files and its log
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def main() -> None:
    if not dynamodb_local.port_is_free(API_PORT):
        raise SystemExit(f"port {API_PORT} is busy: stop whatever serves it, or set MOTCUA_API_PORT")
    os.environ.update(dynamodb_local.local_environment(DB_PORT, "motcua-local"))
    os.environ["MOTCUA_AUTH_MODE"] = "local"
    os.environ["MOTCUA_LOCAL_JWKS"] = str(local_keys.ensure_keys())
    for signum in STOP_SIGNALS:  # before any child exists: from here on, every stop goes through `finally`
        signal.signal(signum, _stop_requested)
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    try:
        database = dynamodb_local.start(DB_PORT, db_path=LOCAL_DIR / "dynamodb", log_path=LOCAL_DIR / "dynamodb.log",
                                        started=lambda p: _started(children, p, "DynamoDB Local"))
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
        _banner()
        _run_jobs_until_stopped(api)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
    finally:
        for signum in STOP_SIGNALS:  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        for child in reversed(children):
            dynamodb_local.stop(child)  # the child's whole process group
        print("stopped the API and DynamoDB Local", flush=True)


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


def _banner() -> None:
    print(f"""
motcua is running: http://127.0.0.1:{API_PORT}/v1/health   (OpenAPI: /v1/openapi.json)
Get a token for an officer, e.g. the desk of the provincial public-service centre:
    make token UNIT=000.00.24.H56 ROLES=desk
    make token UNIT=000.00.11.H56 ROLES=processor,leader SUB=cv.binh
The overdue sweep runs every {JOB_INTERVAL_SECONDS:g} s. Ctrl-C stops everything.
""", flush=True)


def _run_jobs_until_stopped(api: subprocess.Popen[bytes]) -> None:
    from chalice.test import Client

    from app import app

    next_run = time.monotonic()
    with Client(app) as client:
        while api.poll() is None:
            if time.monotonic() >= next_run:
                event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                        detail={}, resources=[])
                try:
                    client.lambda_.invoke("overdue_sweep", event)
                except Exception as exc:  # logged by the job itself; like the schedule in AWS, run it next time
                    print(f"overdue sweep failed ({type(exc).__name__}); next try in {JOB_INTERVAL_SECONDS:g} s",
                          file=sys.stderr, flush=True)
                next_run = time.monotonic() + JOB_INTERVAL_SECONDS
            time.sleep(0.5)
    raise SystemExit(f"chalice local exited with code {api.returncode}")


if __name__ == "__main__":
    main()
