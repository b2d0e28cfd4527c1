"""The national portal's HTTP services, with bounded waits (connect 2 s, read 5 s by default).

One POST per payload to `<base URL>/<service>` (DongBoHoSoMC or CapNhatTienDoHoSoMC), JSON, with the bearer
token and an `Idempotency-Key` (the event id) so that a payload sent again after a lost answer can be recognised.
Acknowledged means: a 2xx answer whose JSON body, if it has `error_code`, says 0 (the portal's convention).
Anything else raises PortalError; the worker retries. No retry here: the worker's backoff is the only one.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from ..services.ports import PortalError

if TYPE_CHECKING:
    from ..config import PortalSettings

_SESSIONS = threading.local()  # a requests.Session per worker thread: sessions are not shared across threads
_MAX_ANSWER = 64 * 1024  # what is kept of an answer


class HttpPortalClient:
    """Implements services.ports.PortalClient."""

    def __init__(self, portal: PortalSettings):
        self._portal = portal

    def send(self, service: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        import requests

        if not self._portal.base_url:
            raise PortalError("no portal configured (MOTCUA_PORTAL_URL)")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
        if self._portal.token:
            headers["Authorization"] = f"Bearer {self._portal.token}"
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            answer = _session().post(f"{self._portal.base_url}/{service}", data=data, headers=headers,
                                     timeout=(self._portal.connect_timeout, self._portal.read_timeout),
                                     allow_redirects=False, stream=True)
            try:
                raw = answer.raw.read(_MAX_ANSWER + 1, decode_content=True)
            finally:
                answer.close()
        except requests.RequestException as exc:
            raise PortalError(f"{service}: {type(exc).__name__}: {str(exc)[:200]}") from exc
        if len(raw) > _MAX_ANSWER:
            raise PortalError(f"{service}: answer larger than {_MAX_ANSWER} bytes")
        if not 200 <= answer.status_code < 300:
            raise PortalError(f"{service}: HTTP {answer.status_code}: {raw[:200].decode('utf-8', 'replace')}")
        return _acknowledgement(service, raw)


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


def _session() -> Any:
    session = getattr(_SESSIONS, "session", None)
    if session is None:
        import requests

        session = _SESSIONS.session = requests.Session()
        session.trust_env = False  # no proxy or netrc from the environment: the portal's address is the setting
    return session
