"""The national portal's HTTP services, with bounded waits (connect 2 s, read 5 s by default).

One POST per payload to `<base URL>/<service>` (DongBoHoSoMC or CapNhatTienDoHoSoMC), JSON, with the bearer
token and an `Idempotency-Key` (the event id) so that a payload sent again after a lost answer can be recognised.
Acknowledged means: a 2xx answer whose JSON body, if it has `error_code`, says 0 (the portal's convention).
Anything else raises PortalError; the worker retries. No retry here: the worker's backoff is the only one.

Standard library only (http.client, ssl): the Lambda runtime has no `requests`, and one POST needs nothing more.
http.client follows no redirect and reads no proxy setting from the environment: the portal's address is the
setting. One connection per request (`Connection: close`), so nothing is shared between the worker's threads.
"""

from __future__ import annotations

import http.client
import json
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..services.ports import PortalError
from . import secrets

if TYPE_CHECKING:
    from ..config import PortalSettings

_MAX_ANSWER = 64 * 1024  # what is kept of an answer


class HttpPortalClient:
    """Implements services.ports.PortalClient."""

    def __init__(self, portal: PortalSettings):
        self._portal = portal
        self._tls: ssl.SSLContext | None = None

    def send(self, service: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        if not self._portal.base_url:
            raise PortalError("no portal configured (MOTCUA_PORTAL_URL)")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key,
                   "Connection": "close"}
        try:
            token = secrets.resolve(self._portal.token) if self._portal.token else ""  # ssm:/... or the token
        except secrets.SecretUnavailable as exc:  # SSM unreachable or the parameter missing: retried after backoff
            raise PortalError(f"{service}: {exc}") from exc
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            status, raw = self._post(f"{self._portal.base_url}/{service}", headers, data)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # timeouts and TLS errors are OSErrors
            raise PortalError(f"{service}: {type(exc).__name__}: {str(exc)[:200]}") from exc
        if len(raw) > _MAX_ANSWER:
            raise PortalError(f"{service}: answer larger than {_MAX_ANSWER} bytes")
        if not 200 <= status < 300:
            raise PortalError(f"{service}: HTTP {status}: {raw[:200].decode('utf-8', 'replace')}")
        return _acknowledgement(service, raw)

    def _post(self, url: str, headers: dict[str, str], data: bytes) -> tuple[int, bytes]:
        parts = urlsplit(url)
        connection = self._connection(parts.scheme, parts.hostname or "", parts.port)
        try:
            connection.connect()  # bounded by the connect timeout
            if connection.sock is not None:
                connection.sock.settimeout(self._portal.read_timeout)  # each wait for the answer
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", path, body=data, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.read(_MAX_ANSWER + 1)
        finally:
            connection.close()

    def _connection(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        timeout = self._portal.connect_timeout
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        if scheme == "http":  # the local stack's fake portal only: config.py refuses http elsewhere
            return http.client.HTTPConnection(host, port, timeout=timeout)
        raise ValueError(f"unsupported scheme {scheme!r}")


def _acknowledgement(service: str, raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise PortalError(f"{service}: the answer is not JSON") from exc
    if not isinstance(parsed, dict):
        raise PortalError(f"{service}: the answer is not a JSON object")
    if "error_code" in parsed and parsed["error_code"] not in (0, "0"):
        raise PortalError(f"{service}: refused: error_code {parsed['error_code']!r} "
                          f"{str(parsed.get('message', ''))[:200]}")
    return {k: parsed[k] for k in ("error_code", "message") if k in parsed}
