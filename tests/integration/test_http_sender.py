"""The webhook sender against real sockets on loopback: bounded waits, no redirects, capped answers, and only
public addresses outside the local stack."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from chalicelib.adapters.http_sender import HttpSender


def serve(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_run, args=(handle, conn), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    stop.set()
    server.close()


def _run(handle: Callable[[socket.socket], None], conn: socket.socket) -> None:
    try:
        conn.recv(65536)
        handle(conn)
    except OSError:
        pass
    finally:
        conn.close()


@pytest.fixture
def dripping() -> Iterator[str]:
    def handle(conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
            conn.sendall(bytes([byte]))
            time.sleep(0.1)

    yield from serve(handle)


@pytest.fixture
def redirecting() -> Iterator[str]:
    def handle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest\r\nContent-Length: 0\r\n\r\n")

    yield from serve(handle)


@pytest.fixture
def talkative() -> Iterator[str]:
    def handle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")
        for _ in range(2000):
            conn.sendall(b"x" * 5000)

    yield from serve(handle)


def test_a_receiver_dripping_its_answer_is_cut_at_the_read_timeout(dripping):
    started = time.monotonic()
    result = HttpSender(public_only=False, read_timeout=1.0).post(dripping, {}, b"{}")
    assert time.monotonic() - started < 2.0
    assert result.status is None and (result.error or "").startswith("timeout")


def test_redirects_are_not_followed(redirecting):
    result = HttpSender(public_only=False).post(redirecting, {}, b"{}")
    assert result.status == 302 and result.error is None  # a failed attempt to the domain (rules.judge)


def test_a_large_answer_is_read_only_up_to_the_cap(talkative):
    started = time.monotonic()
    result = HttpSender(public_only=False).post(talkative, {}, b"{}")
    assert result.status == 200 and time.monotonic() - started < 3.0


def test_a_refused_connection_is_an_error_not_an_exception():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = HttpSender(public_only=False).post(f"http://127.0.0.1:{port}/x", {}, b"{}")
    assert result.status is None and "refused" in (result.error or "").lower()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "https://localhost:9/x", "http://[::1]:9/x"])
def test_outside_the_local_stack_private_addresses_are_never_connected_to(url):
    result = HttpSender(public_only=True).post(url, {}, b"{}")
    assert result.status is None and (result.error or "").startswith("blocked:")
