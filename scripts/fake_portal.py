"""A stand-in for the national portal's services: a real HTTP server on 127.0.0.1 that records what it receives.

`make run` starts one (unless MOTCUA_PORTAL_URL names a portal) so that a user sees dossiers sync:
`curl http://127.0.0.1:<port>/received` lists what it acknowledged. Tests drive its faults:
- `fail(n, status)`: the next n requests answer that status (5xx by default) and are not acknowledged;
- `slow(n, seconds)`: the next n requests are answered only after `seconds` (past the client's read timeout,
  the client gives up: not acknowledged, although the server may still log it as received);
- `reorder(batch)`: requests are held until `batch` of them are in flight (or a short wait passes), then
  answered in the reverse order of their arrival: acknowledgements come out of order across dossiers.

`python scripts/fake_portal.py [--port N]` runs one alone.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")
MAX_BODY = 1024 * 1024
REORDER_WAIT_SECONDS = 0.5  # a held batch is released after this even if it never fills


@dataclass
class _Faults:
    fail: int = 0
    fail_status: int = 503
    slow: int = 0
    slow_seconds: float = 0.0
    reorder: int = 0  # batch size; 0: answer at once


@dataclass
class _Held:
    arrived: int
    go: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class FakePortal:
    """Start with `with FakePortal() as portal:`; `portal.url` is the base URL the sync pushes to."""

    def __init__(self, token: str = "", port: int = 0):
        self.token = token
        self.acknowledged: list[dict[str, Any]] = []  # in the order the answers were sent
        self.attempts: list[dict[str, Any]] = []  # every request, acknowledged or not
        self._faults = _Faults()
        self._lock = threading.Lock()
        self._held: list[_Held] = []
        self._arrivals = 0
        self.reordered = 0  # batches of two or more requests answered latest first
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-portal", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakePortal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with self._lock:
            for held in self._held:
                held.go.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- faults ---------------------------------------------------------------------------------------------
    def fail(self, times: int, status: int = 503) -> None:
        with self._lock:
            self._faults.fail, self._faults.fail_status = times, status

    def slow(self, times: int, seconds: float) -> None:
        with self._lock:
            self._faults.slow, self._faults.slow_seconds = times, seconds

    def reorder(self, batch: int) -> None:
        with self._lock:
            self._faults.reorder = batch

    # --- what it saw ----------------------------------------------------------------------------------------
    def by_dossier(self) -> dict[str, list[dict[str, Any]]]:
        """Acknowledged payloads per dossier code, in acknowledgement order."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            for entry in self.acknowledged:
                out.setdefault(entry["body"]["MaHoSo"], []).append(entry)
        return out

    # --- the server's side ----------------------------------------------------------------------------------
    def _decide(self) -> tuple[int | None, float, _Held | None]:
        """For one request: a failure status (or None), a delay, and its place in a held batch."""
        with self._lock:
            self._arrivals += 1
            f = self._faults
            if f.fail > 0:
                f.fail -= 1
                return f.fail_status, 0.0, None
            delay = 0.0
            if f.slow > 0:
                f.slow -= 1
                delay = f.slow_seconds
            held = None
            if f.reorder > 1:
                held = _Held(self._arrivals)
                self._held.append(held)
                if len(self._held) >= f.reorder:
                    self._release_locked()
            return None, delay, held

    def _release_locked(self) -> None:
        """Answer the held batch, latest arrival first, each after the one before it has answered."""
        batch, self._held = sorted(self._held, key=lambda h: -h.arrived), []
        if len(batch) > 1:
            self.reordered += 1
        previous: _Held | None = None
        for held in batch:
            if previous is None:
                held.go.set()
            else:
                threading.Thread(target=_after, args=(previous, held), daemon=True).start()
            previous = held

    def _wait_turn(self, held: _Held) -> None:
        if not held.go.wait(REORDER_WAIT_SECONDS):
            with self._lock:
                if held in self._held:  # the batch never filled: answer what is held
                    self._release_locked()
            held.go.wait(5)


def _after(previous: _Held, held: _Held) -> None:
    previous.done.wait(5)
    held.go.set()


def _handler(portal: FakePortal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet: the portal's record is the log
            return

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/received":
                self._answer(404, {"error_code": 404, "message": "not found"})
                return
            with portal._lock:
                self._answer(200, {"acknowledged": list(portal.acknowledged)})

        def do_POST(self) -> None:
            service = self.path.strip("/").rpartition("/")[2]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(length, MAX_BODY))
            entry = {"service": service, "key": self.headers.get("Idempotency-Key"), "at": time.time()}
            try:
                entry["body"] = json.loads(raw)
            except ValueError:
                self._answer(400, {"error_code": 400, "message": "not JSON"})
                return
            with portal._lock:
                portal.attempts.append(entry)
            if portal.token and self.headers.get("Authorization") != f"Bearer {portal.token}":
                self._answer(401, {"error_code": 401, "message": "bad token"})
                return
            if service not in SERVICES:
                self._answer(404, {"error_code": 404, "message": f"no service {service}"})
                return
            status, delay, held = portal._decide()
            if status is not None:
                self._answer(status, {"error_code": status, "message": "injected failure"})
                return
            if held is not None:
                portal._wait_turn(held)
            if delay:
                time.sleep(delay)
            try:
                if self._client_gone():  # it gave up waiting: what it never heard is not an acknowledgement
                    return
                with portal._lock:
                    portal.acknowledged.append(entry)
                self._answer(200, {"error_code": 0, "message": "OK"})
            finally:
                if held is not None:
                    held.done.set()

        def _client_gone(self) -> bool:
            try:
                self.connection.setblocking(False)
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                finally:
                    self.connection.setblocking(True)
            except BlockingIOError:
                return False
            except OSError:
                return True

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (a slow answer past its read timeout)
                pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    portal = FakePortal(args.token, args.port)
    with portal:
        print(f"fake national portal on {portal.url} (GET {portal.url}/received); Ctrl-C stops it", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
