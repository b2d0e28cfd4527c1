"""The applicant's access to their own dossier: the dossier code and the receipt secret printed for them with the
receipt (form 01), never the code alone. The one place the applicant's acts (the rating, services/ratings.py) check
it: the secret is compared with its stored SHA-256 in constant time, and a wrong secret and an unknown code answer
the same, so that neither can be probed.
"""

from __future__ import annotations

import hashlib
import hmac

from ..domain.dossier import Dossier
from ..domain.errors import Forbidden
from .deps import Deps


def applicant_dossier(deps: Deps, code: str, secret: str) -> Dossier:
    """The dossier, read consistently, when `secret` is its receipt secret; Forbidden otherwise (also when no
    secret is stored for it: none issued, or a deployment that issues none)."""
    dossier = deps.dossiers.get(code, consistent=True)
    lookup = deps.receipt_secret_hash
    stored = lookup(code) if dossier is not None and lookup is not None else None
    if dossier is None or not secret_matches(secret, stored):
        raise Forbidden("the dossier code and receipt secret do not match")
    return dossier


def secret_hash(secret: str) -> str:
    """What is stored of a receipt secret: its SHA-256 (the secret is random, at least 128 bits: no salt needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    """Compared in constant time: the answer's timing says nothing of how much of the secret was right."""
    return bool(stored_hash) and hmac.compare_digest(secret_hash(secret), str(stored_hash))
