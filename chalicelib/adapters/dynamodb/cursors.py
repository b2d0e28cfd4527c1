"""Signed cursors: a page's DynamoDB LastEvaluatedKey, signed together with the listing that produced it.

A cursor cannot be forged, edited, or replayed on another list (another unit, other filters): its MAC covers a
fingerprint of the listing's scope and filters, and its key may name only the attributes that listing's index
uses, each a string.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Collection
from typing import Any

from ...config import settings
from ...domain.errors import FieldProblem, InvalidInput
from ...services.forms import check_json

_MAC_BYTES = 32


def fingerprint(*scope: Any) -> bytes:
    """The listing a cursor belongs to: its name, scope and filters, in a fixed order."""
    return json.dumps(list(scope), separators=(",", ":"), default=str).encode()


def mac(listing: bytes, payload: bytes) -> bytes:
    return hmac.new(_key(), listing + b"\n" + payload, hashlib.sha256).digest()


def _key() -> bytes:
    """The stage's cursor secret: from SSM when MOTCUA_CURSOR_SECRET names a parameter (kept a few minutes, so a
    rotation reaches every container without a deploy; cursors signed before it are then refused, and the client
    lists again from the first page), else the setting's own bytes."""
    s = settings()
    if not s.cursor_secret_parameter:
        return s.cursor_secret
    from ..secrets import SecretUnavailable, resolve

    secret = resolve(s.cursor_secret_parameter).encode("utf-8")
    if len(secret) < 32:  # the same floor config.py sets for a literal secret
        from ...observability import logger

        logger().error("cursor secret too short", extra={"parameter": s.cursor_secret_parameter})
        raise SecretUnavailable("MOTCUA_CURSOR_SECRET")
    return secret


def encode(key: dict[str, Any] | None, listing: bytes) -> str | None:
    if not key:
        return None
    payload = json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(mac(listing, payload) + payload).decode().rstrip("=")


def decode(cursor: str | None, listing: bytes, attributes: Collection[str], required: str) -> dict[str, Any] | None:
    """The LastEvaluatedKey `cursor` carries; InvalidInput naming `cursor` when this API did not sign it for
    this listing, or it names other attributes than `attributes` (which must include `required`)."""
    if not cursor:
        return None
    invalid = InvalidInput("invalid cursor", [FieldProblem("cursor", "not a cursor this API returned for this list "
                                                                     "and these filters")])
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    signature, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(signature) < _MAC_BYTES or not hmac.compare_digest(signature, mac(listing, payload)):
        raise invalid
    try:
        key = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise invalid from exc
    check_json(key, "cursor", max_depth=2)
    if not isinstance(key, dict) or required not in key or not set(key) <= set(attributes) or not all(
            isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values()):
        raise invalid
    return key
