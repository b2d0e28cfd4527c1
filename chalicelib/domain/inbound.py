"""Signed inbound messages: which systems may send what, for which units (pure rules, no I/O).

A source is a system a province trusts to push messages to `POST /v1/inbound/{source}`: the National Public
Service Portal (DVCQG), a provincial portal, a payment gateway. Each is configuration (docs/inbound.md): an id, a
kind (which decides the message types it may send), one or two Standard Webhooks secrets (two while rotating), and
the units (each with its subtree) and optionally the procedures it may submit for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalogue import UnitTree
from .errors import DomainError, FieldProblem

DOSSIER_SUBMITTED = "dossier.submitted"
PAYMENT_CONFIRMED = "payment.confirmed"
RATING_SUBMITTED = "rating.submitted"
WITHDRAWAL_REQUESTED = "dossier.withdrawal_requested"
SUPPLEMENTED = "dossier.supplemented"  # the applicant's supplement to an online dossier, with its files
MESSAGE_TYPES = (DOSSIER_SUBMITTED, PAYMENT_CONFIRMED, RATING_SUBMITTED, WITHDRAWAL_REQUESTED, SUPPLEMENTED)
# What each kind of system sends. DVCQG takes online submissions and runs the national payment platform
# (Circular 04/2025/TT-VPCP); a provincial portal takes submissions; a payment gateway only reports payments.
KINDS: dict[str, frozenset[str]] = {
    # A portal also carries the applicant's voice: the rating of a returned dossier, the request to withdraw.
    "national_portal": frozenset({DOSSIER_SUBMITTED, PAYMENT_CONFIRMED, RATING_SUBMITTED, WITHDRAWAL_REQUESTED,
                                  SUPPLEMENTED}),
    "provincial_portal": frozenset({DOSSIER_SUBMITTED, RATING_SUBMITTED, WITHDRAWAL_REQUESTED, SUPPLEMENTED}),
    "payment_gateway": frozenset({PAYMENT_CONFIRMED}),
}
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
UNIT_ID = re.compile(r"^[0-9A-Z]+(\.[0-9A-Z]+)*$")
PROCEDURE_CODE = re.compile(r"^[0-9]{1,9}\.[0-9]{5,6}$")
SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24  # Standard Webhooks recommends 24 to 64 random bytes
MAX_SECRET_BYTES = 64
MAX_SECRETS = 2  # the current secret and the next one, while the sender rotates
MAX_SOURCES = 200
RESERVED_IDS = frozenset({"rejected"})  # GET /v1/inbound/rejected is the admin's list
# The sender's message id (webhook-id): it keys the idempotency record, so it is bounded and plain.
MESSAGE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class SourceConfigError(ValueError):
    """The sources document is unusable; the message names the entry and field."""


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    secrets: tuple[str, ...]  # "whsec_<base64>": never logged, stored or answered
    units: tuple[str, ...]  # each unit with its subtree
    procedures: tuple[str, ...] = ()  # empty: every procedure
    name: str = ""

    def __repr__(self) -> str:  # a stray log line of a Source never shows its secrets
        return f"Source(id={self.id!r}, kind={self.kind!r}, units={self.units!r})"

    @property
    def types(self) -> frozenset[str]:
        return KINDS[self.kind]

    def covers(self, unit_id: str, tree: UnitTree) -> bool:
        """Whether the source may act for `unit_id`: one of its units or below one."""
        return any(unit_id == scope or tree.is_within(unit_id, scope) for scope in self.units)


def parse_sources(document: Any) -> dict[str, Source]:
    """The sources of a document `{"sources": [{"id", "kind", "secrets", "units", "procedures"?, "name"?}]}`."""
    if not isinstance(document, Mapping) or not isinstance(document.get("sources"), list):
        raise SourceConfigError('expected {"sources": [...]}')
    entries = document["sources"]
    if len(entries) > MAX_SOURCES:
        raise SourceConfigError(f"at most {MAX_SOURCES} sources")
    sources: dict[str, Source] = {}
    for i, entry in enumerate(entries):
        source = _source(entry, f"sources[{i}]")
        if source.id in sources:
            raise SourceConfigError(f"sources[{i}].id: {source.id!r} is configured twice")
        sources[source.id] = source
    return sources


def _source(entry: Any, where: str) -> Source:
    if not isinstance(entry, Mapping):
        raise SourceConfigError(f"{where}: expected an object")
    unknown = set(entry) - {"id", "kind", "secrets", "units", "procedures", "name"}
    if unknown:
        raise SourceConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    source_id = entry.get("id")
    if not isinstance(source_id, str) or not SOURCE_ID.fullmatch(source_id):
        raise SourceConfigError(f"{where}.id: lowercase letters, digits and '-', 1 to 63 characters")
    if source_id in RESERVED_IDS:
        raise SourceConfigError(f"{where}.id: {source_id!r} names a route of its own (/v1/inbound/{source_id})")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise SourceConfigError(f"{where}.kind: expected one of {', '.join(KINDS)}")
    secrets = _list(entry.get("secrets"), f"{where}.secrets", 1, MAX_SECRETS)
    for j, secret in enumerate(secrets):
        check_secret(secret, f"{where}.secrets[{j}]")
    units = _list(entry.get("units"), f"{where}.units", 1, 100)
    for j, unit in enumerate(units):
        if not (len(unit) <= 35 and UNIT_ID.fullmatch(unit)):
            raise SourceConfigError(f"{where}.units[{j}]: expected a unit id like 000.00.24.H56")
    procedures = _list(entry.get("procedures", []), f"{where}.procedures", 0, 1000)
    for j, code in enumerate(procedures):
        if not PROCEDURE_CODE.fullmatch(code):
            raise SourceConfigError(f"{where}.procedures[{j}]: expected a procedure code like 1.001612")
    name = entry.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise SourceConfigError(f"{where}.name: a text of at most 200 characters")
    return Source(source_id, kind, tuple(secrets), tuple(units), tuple(procedures), name)


def _list(value: Any, where: str, low: int, high: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not low <= len(value) <= high:
        raise SourceConfigError(f"{where}: expected a list of {low} to {high} texts")
    return list(value)


def check_secret(secret: str, where: str) -> None:
    """A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. The message never
    repeats the secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise SourceConfigError(f"{where}: expected whsec_ followed by base64")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SourceConfigError(f"{where}: the part after whsec_ is not base64") from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise SourceConfigError(f"{where}: expected {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes")


def check_type(source: Source, message_type: str) -> None:
    """A source sends only the types its kind allows (a payment gateway never creates dossiers)."""
    if message_type not in source.types:
        raise DomainError(
            f"source {source.id} ({source.kind}) may not send {message_type} messages; it may send "
            f"{', '.join(sorted(source.types))}",
            [FieldProblem("type", f"not allowed for a {source.kind}")], "action_not_allowed")


def message_key(source_id: str, message_id: str) -> str:
    """What a message's outcome is recorded under: the sender's id is unique per sender, not across senders."""
    return f"{source_id}#{message_id}"


def body_hash(raw: bytes) -> str:
    """The body as signed, byte for byte: a resent message is the same bytes (its signature covers them)."""
    return hashlib.sha256(raw).hexdigest()
