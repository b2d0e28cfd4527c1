"""One GET of a file a portal references (services.ports.FileFetcher): the same guarded connection as a webhook
POST (adapters/http_sender.py: the host resolved here and every address checked in deployed stages, no redirect,
each wait bounded and a watchdog over the whole exchange), and the body read no further than the cap."""

from __future__ import annotations

import http.client
import ssl

from ..services.ports import FetchFailed
from .http_sender import CONNECT_TIMEOUT, Blocked, HttpSender

FETCH_SECONDS = 20.0  # the whole exchange, from connected to the last byte: a file of the configured maximum


class HttpFetcher(HttpSender):
    def __init__(self, public_only: bool, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = FETCH_SECONDS) -> None:
        super().__init__(public_only, connect_timeout, read_timeout)

    def fetch(self, url: str, max_bytes: int, seconds: float | None = None) -> bytes:
        """The body (at most `max_bytes` + 1 bytes: one more says it is larger), within `seconds` (the read
        timeout by default) once connected; FetchFailed with the reason."""
        limit = min(seconds, self._read_timeout) if seconds is not None else self._read_timeout
        try:
            return self._get(url, max_bytes, limit)
        except Blocked as exc:
            raise FetchFailed(f"blocked: {exc}") from None
        except TimeoutError:
            raise FetchFailed(f"timeout: not fetched within {limit:g} s") from None
        except ssl.SSLError as exc:
            raise FetchFailed(f"TLS: {exc.reason or exc}"[:300]) from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchFailed(f"{type(exc).__name__}: {exc}"[:300]) from None

    def _get(self, url: str, max_bytes: int, limit: float) -> bytes:
        def body(response: http.client.HTTPResponse) -> bytes:
            if response.status != 200:
                raise FetchFailed(f"answered HTTP {response.status}")
            return response.read(max_bytes + 1)

        return self._exchange("GET", url, {}, None, limit, body)
