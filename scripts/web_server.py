"""The ranking page (web/) served by `make run`: a static file server on its own loopback port, in a thread of
run_local.py, with /config.js written on the fly so the page calls the local API (docs/web.md).

In production the same files sit in S3 behind CloudFront (infra/web.yaml) with a config.js of their own.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"


def config_js(api: str, public_levels: tuple[str, ...]) -> bytes:
    return (f"window.MOTCUA_API = {json.dumps(api)};\n"
            f"window.MOTCUA_PUBLIC_LEVELS = {json.dumps(list(public_levels))};\n").encode()


class _Handler(SimpleHTTPRequestHandler):
    config = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.split("?", 1)[0] == "/config.js":
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(self.config)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(self.config)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # the stack's output is for the API and the jobs
        return


class WebServer:
    """Serves web/ on 127.0.0.1:`port` until `stop()`."""

    def __init__(self, port: int, api: str, public_levels: tuple[str, ...]):
        handler = type("Handler", (_Handler,), {"config": config_js(api, public_levels)})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(WEB)))
        self._thread = threading.Thread(target=self._server.serve_forever, name="web", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
