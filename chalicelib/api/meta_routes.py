"""Health check and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from .routing import Call, route

bp = Blueprint(__name__)


@route(bp, "GET", "/v1/health", summary="Liveness for load balancers and uptime checks", tag="meta",
       response="Health")
def health(call: Call) -> dict[str, Any]:
    from ..bootstrap import deps
    from ..services.views import local

    return {"status": "ok", "service": "motcua", "time": local(deps().now())}


@route(bp, "GET", "/v1/openapi.json", summary="This document", tag="meta")
def openapi(call: Call) -> dict[str, Any]:
    from .openapi import document

    return document()
