"""Start and stop the local S3-compatible server (npm s3rver, scripts/s3_local.js): objects on disk under a
directory (kept across restarts for `make run`, a temporary one for the tests), SigV4 presigned URLs with their
expiry checked. docs/documents.md says why this server and what it does not check."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from scripts.dynamodb_local import ROOT, port_is_free, signals_held, stop, wait_ready

__all__ = ["local_environment", "start", "stop"]

LOCAL_KEY = "local"  # the stack's fake credentials (scripts/dynamodb_local.local_environment)


def start(port: int, directory: Path, bucket: str, log_path: Path | None = None,
          started: Callable[[subprocess.Popen[bytes]], None] | None = None) -> subprocess.Popen[bytes]:
    """Serve `directory` on 127.0.0.1:`port` with `bucket` created; refuses a busy port."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is missing: the local S3 server (s3rver) runs on Node 18+")
    if not (ROOT / "node_modules" / "s3rver").is_dir():
        raise SystemExit("s3rver is not installed: run `npm ci` (make does it for you)")
    if not port_is_free(port):
        raise SystemExit(f"port {port} is busy: another server would silently take S3 traffic")
    directory.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    with signals_held():
        process = subprocess.Popen([node, str(ROOT / "scripts" / "s3_local.js"), str(directory), str(port), bucket,
                                    LOCAL_KEY], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=ROOT)
        if started is not None:
            started(process)
    wait_ready(port, process, name="the local S3 server")
    return process


def local_environment(port: int, bucket: str) -> dict[str, str]:
    """The variables that point the files adapter (chalicelib/adapters/s3_files.py) at the local server."""
    return {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", "MOTCUA_FILES_BUCKET": bucket}
