"""The configured inbound sources (MOTCUA_INBOUND_SOURCES): a JSON file, or an SSM SecureString parameter.

Read on the first inbound message and kept for a few minutes, so a rotated secret reaches every container
without a deploy. A file was already checked when the container started (config.py); a parameter is checked
here: an unusable one answers 503 (the sender retries) and logs which entry is wrong, never its content.
"""

from __future__ import annotations

import json
import threading
import time

from ..config import settings
from ..domain.errors import DomainError
from ..domain.inbound import Source, SourceConfigError, parse_sources
from ..observability import logger

RELOAD_SECONDS = 300.0
_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, Source]]] = {}


def configured_sources() -> dict[str, Source]:
    locator = settings().inbound_sources
    if not locator:
        return {}
    with _lock:
        cached = _cache.get(locator)
        if cached is not None and time.monotonic() - cached[0] < RELOAD_SECONDS:
            return cached[1]
    try:
        sources = parse_sources(json.loads(_read(locator)))
    except (SourceConfigError, ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, SourceConfigError) else "not a JSON document"
        logger().error("inbound sources unusable", extra={"locator": locator, "reason": reason})
        raise DomainError("inbound messages cannot be accepted now; retry later", [], "unavailable") from exc
    with _lock:
        _cache[locator] = (time.monotonic(), sources)
    return sources


def _read(locator: str) -> str:
    if not locator.startswith("ssm:"):
        with open(locator, encoding="utf-8") as handle:
            return handle.read()
    import boto3
    from botocore.config import Config

    s = settings()
    # Bounded like every other dependency: an unreachable SSM is a 503 in seconds, not a hung request.
    config = Config(connect_timeout=s.db_connect_timeout, read_timeout=s.db_read_timeout,
                    retries={"total_max_attempts": 1 + s.db_max_retries, "mode": "standard"})
    from botocore.exceptions import ClientError

    try:
        answer = boto3.client("ssm", config=config).get_parameter(Name=locator[len("ssm:"):], WithDecryption=True)
    except ClientError as exc:  # missing parameter, no permission: the sender's retry may find it fixed
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ThrottlingException", "InternalServerError"):
            raise  # routing answers 503 with Retry-After for these already
        logger().error("inbound sources unreadable", extra={"locator": locator, "reason": code})
        raise DomainError("inbound messages cannot be accepted now; retry later", [], "unavailable") from exc
    return str(answer["Parameter"]["Value"])


def forget() -> None:
    """Drop the kept sources (tests; a container reloads them after RELOAD_SECONDS anyway)."""
    with _lock:
        _cache.clear()
