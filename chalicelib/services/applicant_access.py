"""The applicant's access to their own dossier: the dossier code and the receipt secret printed for them on the
receipt (form 01: `issue_receipt`), never the code alone. The one place the applicant's acts check it (the rating,
services/ratings.py; their files, services/documents.py): the secret the desk issued (`issue_secret`) is compared
with its stored SHA-256 in constant time, and a wrong secret and an unknown code answer the same, so that neither can
be probed. The hash lives with the dossier's file records (adapters/dynamodb/files.py), which every deployment has,
with or without a bucket.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..domain.access import check_may_act
from ..domain.documents import secret_hash, secret_matches
from ..domain.dossier import Actor, Dossier
from ..domain.errors import Forbidden, NotFound
from .deps import Deps
from .ports import FileRecords

SECRET_BYTES = 16  # 128 random bits


def applicant_dossier(deps: Deps, code: str, secret: str) -> Dossier:
    """The dossier, read consistently, when `secret` is its receipt secret; Forbidden otherwise (also when no
    secret is stored for it: none issued, or a deployment that issues none)."""
    dossier = deps.dossiers.get(code, consistent=True)
    records = deps.file_records
    stored = records.access_hash(code) if dossier is not None and records is not None else None
    if dossier is None or not secret_matches(secret, stored):
        raise Forbidden("the dossier code and receipt secret do not match")
    return dossier


def issue_secret(deps: Deps, actor: Actor, code: str) -> dict[str, Any]:
    """A new receipt secret for the applicant; the previous one stops working. Only its hash is stored, so the
    secret is answered once: `issue_receipt` prints it on the receipt instead."""
    records = _may_issue(deps, actor, code)
    secret = new_secret()
    _store(deps, records, actor, code, secret)
    return {"code": code, "secret": secret}


def issue_receipt(deps: Deps, actor: Actor, code: str, lookup_url: str) -> tuple[bytes, str]:
    """(PDF, file name) of the receipt (form 01) with a new receipt secret printed on it; the previous one stops
    working. The receipt is printed before the hash is stored: a dossier with no receipt (a 404) or a deployment
    that cannot print (a 503) leaves the secret already issued working."""
    from . import printing

    records = _may_issue(deps, actor, code)
    secret = new_secret()
    printed = printing.dossier_form(deps, actor, code, "01", lookup_url, receipt_secret=secret)
    _store(deps, records, actor, code, secret)
    return printed


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _may_issue(deps: Deps, actor: Actor, code: str) -> FileRecords:
    dossier = deps.dossiers.get(code, consistent=True)
    if dossier is None:
        raise NotFound(f"dossier {code} not found")
    if "desk" not in actor.roles:
        raise Forbidden("issuing the receipt secret needs the desk role")
    check_may_act(actor, dossier, deps.catalogue.tree())
    if deps.file_records is None:
        raise Forbidden("this deployment keeps no receipt secrets")
    return deps.file_records


def _store(deps: Deps, records: FileRecords, actor: Actor, code: str, secret: str) -> None:
    records.set_access_hash(code, secret_hash(secret), deps.now().isoformat(), actor.subject)
