"""Secrets kept in SSM Parameter Store (SecureString), read with Powertools Parameters.

A setting names its secret as `ssm:/<parameter name>` (MOTCUA_CURSOR_SECRET, MOTCUA_PORTAL_TOKEN,
MOTCUA_INBOUND_SOURCES): the template and the functions' environment then carry the parameter's name, never its
value. The value is read on first use and kept MAX_AGE_SECONDS per container (Powertools' cache), so a rotated
secret (`aws ssm put-parameter --overwrite`) reaches every container within that time, without a deploy. Any
other value is the secret itself: the local stack and tests need no SSM.

The read is bounded like every other dependency (the DynamoDB timeouts); an unreadable parameter is a 503 (the
caller retries) and an error in the log naming the parameter and the reason, never its value.
"""

from __future__ import annotations

import threading
from typing import Any

from ..domain.errors import DomainError
from ..observability import logger

MAX_AGE_SECONDS = 300
SSM = "ssm:"
_lock = threading.Lock()
_provider: Any = None


class SecretUnavailable(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a setting this request needs ({name}) cannot be read now; retry later", [],
                         "unavailable")


def resolve(setting: str) -> str:
    """The secret a setting holds: read from SSM when it names a parameter (`ssm:/...`), else the value itself."""
    return parameter(setting[len(SSM):]) if setting.startswith(SSM) else setting


def parameter(name: str) -> str:
    """The decrypted value of SecureString parameter `name`, kept MAX_AGE_SECONDS."""
    from aws_lambda_powertools.utilities.parameters import GetParameterError

    try:
        value = _ssm().get(name, max_age=MAX_AGE_SECONDS, decrypt=True)
    except GetParameterError as exc:
        cause = exc.__context__ or exc  # Powertools raises it while handling the SDK's error
        reason = getattr(cause, "response", {}).get("Error", {}).get("Code") or type(cause).__name__
        logger().error("secret unreadable", extra={"parameter": name, "reason": reason})
        raise SecretUnavailable(name) from exc
    return str(value)


def _ssm() -> Any:
    global _provider
    with _lock:
        if _provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider
            from botocore.config import Config

            from ..config import settings

            s = settings()
            _provider = SSMProvider(boto_config=Config(
                connect_timeout=s.db_connect_timeout, read_timeout=s.db_read_timeout,
                retries={"total_max_attempts": 1 + s.db_max_retries, "mode": "standard"}))
        return _provider


def forget() -> None:
    """Drop the kept values and the client (tests; a container re-reads after MAX_AGE_SECONDS anyway)."""
    global _provider
    with _lock:
        if _provider is not None:
            _provider.clear_cache()
        _provider = None
