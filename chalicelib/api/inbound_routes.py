"""Signed messages from portals and payment gateways, and the admin's list of the rejected ones."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..config import settings
from ..domain.errors import FieldProblem, InvalidInput
from ..domain.inbound import SOURCE_ID
from ..services import inbound
from .routing import Call, route

bp = Blueprint(__name__)

SOURCE = {"type": "string", "maxLength": 63, "pattern": SOURCE_ID.pattern, "example": "dvcqg"}
# The request headers the service reads: the three Standard Webhooks headers and the media type.
_READ = ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type")


@route(bp, "POST", "/v1/inbound/{source}",
       summary="A signed message from a configured source (Standard Webhooks): an online submission or a payment "
               "notice; idempotent by webhook-id",
       tag="inbound", body="inbound-message", response="InboundAnswer", errors=(400, 401, 403, 404, 409, 413, 415, 422),
       path_params={"source": SOURCE}, api_key=True)
def receive_message(call: Call, source: str) -> tuple[int, dict[str, Any]]:
    if not SOURCE_ID.fullmatch(source):
        raise InvalidInput("invalid source", [FieldProblem("source", "lowercase letters, digits and '-'")])
    raw = call.request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    headers = {name: call.header(name) for name in _READ}
    return inbound.receive_message(deps(), source, raw, headers, settings().max_body_bytes)


@route(bp, "GET", "/v1/inbound/rejected", summary="Rejected inbound messages of a source, newest first (admin)",
       tag="inbound", query="inbound-rejected-query", auth=True, response="RejectedInboundPage",
       errors=(400, 401, 403, 404))
def list_rejected_inbound(call: Call) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    if "source" not in q:  # required, checked here: the query schema's typed-parameter test gives one at a time
        raise InvalidInput("name the source", [FieldProblem("source", "is required")])
    return inbound.list_rejected(deps(), actor, q["source"], int(q.get("limit", 50)), q.get("cursor"))
