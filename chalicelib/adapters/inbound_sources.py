"""The configured inbound sources (MOTCUA_INBOUND_SOURCES): a JSON file, or an SSM SecureString parameter.

Read on the first inbound message and kept for a few minutes (a parameter with Powertools Parameters, as every
secret: adapters/secrets.py), so a rotated secret reaches every container without a deploy. A file was already
checked when the container started (config.py); a parameter is checked here: an unusable one answers 503 (the
sender retries) and logs which entry is wrong, never its content.
"""

from __future__ import annotations

import json
import threading
import time

from ..config import settings
from ..domain.errors import DomainError
from ..domain.inbound import Source, SourceConfigError, parse_sources
from ..observability import logger
from . import secrets

RELOAD_SECONDS = 300.0
_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, Source], str | None]] = {}  # read at, parsed, the parameter's text


def configured_sources() -> dict[str, Source]:
    locator = settings().inbound_sources
    if not locator:
        return {}
    parameter = locator.startswith(secrets.SSM)
    text = _read(locator) if parameter else None  # Powertools keeps it MAX_AGE_SECONDS: rotations show within it
    with _lock:
        cached = _cache.get(locator)
        if cached is not None and (cached[2] == text if parameter else
                                   time.monotonic() - cached[0] < RELOAD_SECONDS):
            return cached[1]
    try:
        sources = parse_sources(json.loads(text if text is not None else _read(locator)))
    except (SourceConfigError, ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, SourceConfigError) else "not a JSON document"
        logger().error("inbound sources unusable", extra={"locator": locator, "reason": reason})
        raise DomainError("inbound messages cannot be accepted now; retry later", [], "unavailable") from exc
    with _lock:
        _cache[locator] = (time.monotonic(), sources, text)
    return sources


def _read(locator: str) -> str:
    if not locator.startswith(secrets.SSM):
        with open(locator, encoding="utf-8") as handle:
            return handle.read()
    try:
        return secrets.resolve(locator)  # Powertools Parameters: bounded, kept, rotatable without a deploy
    except secrets.SecretUnavailable as exc:
        raise DomainError("inbound messages cannot be accepted now; retry later", [], "unavailable") from exc


def forget() -> None:
    """Drop the kept sources (tests; a container reloads them after RELOAD_SECONDS anyway)."""
    with _lock:
        _cache.clear()
    secrets.forget()
