"""One webhook POST (services.ports.WebhookSender): bounded, no redirects, the answer's body read capped, and, in
deployed stages, only to public addresses.

The host is resolved here and the connection opened to the address that was checked (TLS still verifies the
certificate for the host name): a name that resolves to a private address, or changes its answer between the
check and the connection (DNS rebinding), never reaches this network's internal services. http.client follows no
redirect by itself, so a 3xx is just a failed attempt.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from ..domain.webhooks import is_public_address
from ..services.ports import SendResult

T = TypeVar("T")
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
MAX_ANSWER_BYTES = 4096  # the receiver's body is read this far, then dropped: an acknowledgement needs none


class Blocked(Exception):
    """The target resolves to an address a deployed stage must not reach."""


class HttpSender:
    def __init__(self, public_only: bool, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, max_answer: int = MAX_ANSWER_BYTES) -> None:
        self._public_only = public_only
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_answer = max_answer

    def post(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        started = time.monotonic()
        try:
            status = self._post(url, headers, body)
        except Blocked as exc:
            return SendResult(None, f"blocked: {exc}", _ms(started))
        except TimeoutError:
            return SendResult(None, "timeout: no answer within "
                                    f"{self._connect_timeout:g} s to connect and {self._read_timeout:g} s to answer",
                              _ms(started))
        except ssl.SSLError as exc:
            return SendResult(None, f"TLS: {exc.reason or exc}"[:300], _ms(started))
        except (OSError, http.client.HTTPException) as exc:
            return SendResult(None, f"{type(exc).__name__}: {exc}"[:300], _ms(started))
        return SendResult(status, None, _ms(started))

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        def status(response: http.client.HTTPResponse) -> int:
            response.read(self._max_answer)
            return response.status

        return self._exchange("POST", url, headers, body, self._read_timeout, status)

    def _exchange(self, method: str, url: str, headers: dict[str, str], body: bytes | None, limit: float,
                  answer: Callable[[http.client.HTTPResponse], T]) -> T:
        """One request over the guarded connection (`_connect`), its answer read by `answer`. Each wait is bounded
        by `limit`; a watchdog bounds them all together, so a host that drips its answer a byte at a time cannot
        hold a worker longer than `limit` after connecting (TimeoutError)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        sock = self._connect(host, port)
        fired = threading.Event()
        watchdog = threading.Timer(limit, _cut, (sock, fired))
        watchdog.daemon = True
        watchdog.start()
        try:
            if https:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            connection = (http.client.HTTPSConnection if https else http.client.HTTPConnection)(host, port)
            connection.sock = sock  # the checked address, already connected: http.client opens nothing itself
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request(method, path, body=body, headers={**headers, "Connection": "close"})
            sock.settimeout(limit)  # each wait for the answer; its size is capped by `answer`
            result = answer(connection.getresponse())
            if fired.is_set():
                raise TimeoutError
            return result
        except (OSError, http.client.HTTPException) as exc:
            if fired.is_set():  # the watchdog closed the connection: say why
                raise TimeoutError from exc
            raise
        finally:
            watchdog.cancel()
            sock.close()

    def _connect(self, host: str, port: int) -> socket.socket:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve {host}: {exc.strerror}") from exc
        addresses = [info[4][0] for info in infos]
        if self._public_only:
            bad = [a for a in addresses if not is_public_address(ipaddress.ip_address(str(a).split("%", 1)[0]))]
            if bad:
                raise Blocked(f"{host} resolves to {bad[0]}, not a public address")
        last: OSError | None = None
        for family, kind, proto, _, address in infos[:3]:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(self._connect_timeout)
            try:
                sock.connect(address)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            sock.settimeout(self._read_timeout)
            return sock
        raise last or OSError(f"no address for {host}")


def _cut(sock: socket.socket, fired: threading.Event) -> None:
    fired.set()
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
