"""Outbound webhooks, the rules alone: which target URLs are acceptable, which events a subscription wants, the
payload a receiver gets, and when a failed delivery is tried again.

Deliveries follow Standard Webhooks (https://www.standardwebhooks.com): the signing itself is the
`standardwebhooks` package's, in services/webhook_delivery.py.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .clock import iso
from .errors import FieldProblem, InvalidInput
from .events import EVENT_TYPES, DomainEvent
from .special_addresses import special_purpose

PING = "webhook.ping"  # a test delivery an admin asks for; never a domain event
ALL_TYPES = "*"
MAX_URL = 2048
MAX_DESCRIPTION = 500
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # 256-bit HMAC keys (Standard Webhooks: between 24 and 64 bytes)

# Retries: exponential backoff with full jitter (a random wait between the floor and the attempt's cap), for
# RETRY_WINDOW after the delivery was created; one last try lands at the end of the window.
RETRY_WINDOW = timedelta(days=3)
BASE_DELAY_SECONDS = 30.0
MAX_DELAY_SECONDS = 6 * 3600.0
MIN_DELAY_SECONDS = 5.0  # full jitter may draw ~0: never hammer a receiver that just failed
KEPT_ATTEMPTS = 50  # the newest attempts a delivery keeps (their total count is kept apart)

# Host names a public target cannot have: they name this network, not the receiver's.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def check_target(url: Any, local: bool) -> str:
    """The subscription's target URL, or InvalidInput naming `url` and why.

    Deployed stages (`local` false): https only, a public DNS name or a global IP address, no user info, no
    fragment. Host names are resolved again at each delivery and every address checked (adapters/http_sender.py):
    a name that resolves to a private address is refused then. The local stack also accepts http to loopback
    (a receiver on the developer's machine)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise _bad(f"an https URL of at most {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url) or not url.isascii():
        raise _bad("no spaces, control or non-ASCII characters (write an international name in its xn-- form)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _bad(f"not a URL: {exc}") from exc
    # A trailing dot names the same host ("localhost." is localhost): judge the name without it.
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https"):
        raise _bad("https:// is required")
    if "@" in parts.netloc or parts.username is not None:
        raise _bad("no user name or password in the URL: the signature authenticates motcua")
    if parts.fragment:
        raise _bad("no #fragment")
    if not host:
        raise _bad("a host is required")
    if port == 0:
        raise _bad("port 0 is not a port")
    loopback = is_loopback_host(host)
    if scheme == "http" and local and loopback:
        return url
    if scheme != "https":
        raise _bad("https:// is required" + (" (http:// only to a loopback address, in the local stack)"
                                             if local else ""))
    if local and loopback:
        return url
    check_public_host(host)
    return url


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    address = _address(host)
    return address is not None and address.is_loopback


def check_public_host(host: str) -> None:
    """A host a deployed stage may send to: a global IP address or a plain public DNS name."""
    address = _address(host)
    if address is not None:
        reason = special_purpose(address)
        if reason is not None:
            raise _bad(f"{host} is not a public address: {reason}")
        return
    labels = host.split(".")
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or len(labels) < 2:
        raise _bad(f"{host} is not a public host name")
    if not all(_LABEL.match(label) for label in labels):
        raise _bad(f"{host} is not a valid host name")
    if labels[-1].isdigit() or labels[-1].startswith("0x") or all(label.isdigit() for label in labels):
        # 2130706433, 0x7f.1 or 127.1: numeric forms resolvers read as an address
        raise _bad(f"{host} looks like an address in another notation; write a name or a dotted address")


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Not in any IANA special-purpose block (domain/special_addresses.py), nor outside IPv6 global unicast."""
    return special_purpose(address) is None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _bad(reason: str) -> InvalidInput:
    return InvalidInput("invalid webhook target", [FieldProblem("url", reason)])


def check_event_types(types: Any) -> tuple[str, ...]:
    """The event types a subscription wants: known types, or `*` (or nothing) for every type."""
    if types is None:
        return (ALL_TYPES,)
    if not isinstance(types, list) or len(types) > len(EVENT_TYPES) + 1:
        raise InvalidInput("invalid event types", [FieldProblem("event_types", "a list of event types")])
    unknown = [t for t in types if t != ALL_TYPES and t not in EVENT_TYPES]
    if unknown:
        raise InvalidInput("unknown event types", [FieldProblem(
            "event_types", f"unknown: {', '.join(map(str, unknown))[:200]}; expected * or some of "
                           f"{', '.join(EVENT_TYPES)}")])
    if not types or ALL_TYPES in types:
        return (ALL_TYPES,)
    return tuple(sorted(set(types)))


def event_units(event: DomainEvent) -> tuple[str, ...]:
    """The units an event concerns: those of its dossier snapshot (receiving, competent, handling) and any
    unit the event itself names (a step's unit)."""
    snapshot = event.data.get("dossier") or {}
    found = [snapshot.get(k) for k in ("receiving_unit", "competent_unit", "handling_unit")]
    found.append(event.data.get("unit"))
    return tuple(dict.fromkeys(u for u in found if isinstance(u, str) and u))


def wants(types: Iterable[str], unit: str | None, event: DomainEvent,
          is_within: Callable[[str, str], bool]) -> bool:
    """Whether a subscription to `types` in the subtree of `unit` (None: every unit) gets `event`."""
    chosen = set(types)
    if ALL_TYPES not in chosen and event.type not in chosen:
        return False
    return unit is None or any(is_within(u, unit) for u in event_units(event))


def payload(event: DomainEvent) -> dict[str, Any]:
    """What a receiver gets. Standard Webhooks' `type`, `timestamp` and `data`, and what orders the events of
    one dossier: `code` with `seq` (1, 2, 3... per dossier, no gaps) and `version` (the dossier's version after
    the change). `id` (`<code>/<seq>`) is the event's; the `webhook-id` header is the delivery's."""
    return {"id": event.id, "type": event.type, "timestamp": iso(event.at), "occurred_at": iso(event.at),
            "code": event.code, "seq": event.seq, "version": event.version, "data": event.data}


def ping_payload(webhook_id: str, at: datetime) -> dict[str, Any]:
    return {"id": f"ping/{webhook_id}/{iso(at)}", "type": PING, "timestamp": iso(at), "occurred_at": iso(at),
            "code": None, "seq": None, "version": None, "data": {"webhook_id": webhook_id}}


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: `delivered`, `gone` (410: the receiver wants no more) or `retry`."""

    kind: str
    status: int | None
    error: str | None


def judge(status: int | None, error: str | None) -> Outcome:
    if error is None and status is not None and 200 <= status < 300:
        return Outcome("delivered", status, None)
    if error is None and status == 410:
        return Outcome("gone", status, "410 Gone: the receiver asked for no more deliveries")
    return Outcome("retry", status, error or f"HTTP {status}")


def backoff_cap(attempts: int) -> float:
    """The longest wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min ... up to 6 h."""
    return min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** min(max(attempts - 1, 0), 30))


def next_attempt(created: datetime, now: datetime, attempts: int, draw: Callable[[], float]) -> datetime | None:
    """When to try again after `attempts` failed attempts (full jitter: `draw()` in [0, 1)), or None once the
    retry window since `created` is over: the delivery is dead."""
    end = created + RETRY_WINDOW
    if now >= end:
        return None
    wait = max(MIN_DELAY_SECONDS, draw() * backoff_cap(attempts))
    return min(now + timedelta(seconds=wait), end)
