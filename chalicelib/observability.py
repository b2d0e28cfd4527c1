"""Structured logging through Powertools, created on first use so it costs nothing at cold start.

Each request binds its id and the Lambda context here (a plain dict: no import, no cost); every log line
written while it runs carries them, however deep in the code the line is logged. app.py turns Chalice's own
log handler off, so each line is printed once, by Powertools.
"""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

# Per request, and per thread where a local server runs requests side by side.
_bound: ContextVar[dict[str, Any] | None] = ContextVar("motcua_request", default=None)


def bind_request(request_id: str | None, lambda_context: Any) -> str:
    """Start a request's log context; returns its id (API Gateway's, Lambda's, or a new one locally)."""
    rid = request_id or getattr(lambda_context, "aws_request_id", None) or str(uuid.uuid4())
    bound: dict[str, Any] = {"request_id": rid}
    if lambda_context is not None:
        for key, attribute in (("function_name", "function_name"), ("function_memory_size", "memory_limit_in_mb"),
                               ("function_arn", "invoked_function_arn"),
                               ("function_request_id", "aws_request_id")):
            value = getattr(lambda_context, attribute, None)
            if value is not None:
                bound[key] = value
    _bound.set(bound)
    return rid


class _RequestContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_bound.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


@lru_cache(maxsize=1)
def logger() -> Any:
    from aws_lambda_powertools import Logger

    log = Logger(service="motcua")
    log.addFilter(_RequestContext())
    return log


# --- tracing ----------------------------------------------------------------------------------------------------
# Powertools Tracer (X-Ray SDK) only where the function is traced (Lambda sets AWS_XRAY_DAEMON_ADDRESS when
# tracing is Active: infra/observability.yaml) and POWERTOOLS_TRACE_DISABLED is not "true"; created on the first
# invocation, never at import: loading the X-Ray SDK costs 0.2 to 1 s (docs/performance.md), paid once per container
# by its first invocation, and not at all locally or with tracing off.
@lru_cache(maxsize=1)
def tracer() -> Any:
    import os

    if not os.environ.get("AWS_XRAY_DAEMON_ADDRESS") or os.environ.get(
            "POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true"):
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service="motcua")  # patches boto3/botocore: each AWS call is a subsegment


def traced(event: Any, get_response: Any) -> Any:
    """Chalice middleware for every invocation (app.py): one X-Ray subsegment named after what ran."""
    active = tracer()
    if active is None:
        return get_response(event)
    context = getattr(event, "context", None)
    name = (f"{context.get('httpMethod', '')} {context.get('resourcePath', '')}".strip()
            if isinstance(context, dict) else type(event).__name__)
    with active.provider.in_subsegment(f"## {name or 'invocation'}") as subsegment:
        subsegment.put_annotation("service", "motcua")
        return get_response(event)
