"""The applicant's voice on a dossier: the rating given once after the result (domain/rating.py), the request to
withdraw an online dossier, and the low ratings a unit's leader reads.

Both are the applicant's acts, not an officer's: no status changes and no line of the process control sheet
(form 05) is written. Each is one version-checked write of the dossier with its event (and, from a portal, the
inbound message's outcome) in the same transaction: a second rating racing the first loses on the version, and
is then refused as a second rating.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.access import check_role, covers
from ..domain.dossier import Actor, Dossier
from ..domain.errors import Forbidden, NotFound
from ..observability import logger
from .applicant_access import applicant_dossier
from .deps import Deps
from .ports import MessageRecord
from .views import local, summary_view

Message = Callable[[Dossier], MessageRecord] | None


def rate(deps: Deps, dossier: Dossier, payload: dict[str, Any], via: str, by: str,
         message: Message = None) -> dict[str, Any]:
    """Record the rating on `dossier` (read consistently by the caller, who checked who may rate it)."""
    expected = dossier.version
    rating = dossier.rate(payload, via, by, deps.now())
    deps.dossiers.save(dossier, None, expected, message=message(dossier) if message else None)
    logger().info("dossier rated", extra={"code": dossier.code, "level": rating["level"], "via": via})
    return {"code": dossier.code, "version": dossier.version, "rating": rating_view(rating)}


def rate_as_applicant(deps: Deps, code: str, secret: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The applicant rates their dossier on the public page: the code and the receipt secret (applicant_access)."""
    return rate(deps, applicant_dossier(deps, code, secret), payload, "applicant", "applicant")


def request_withdrawal(deps: Deps, dossier: Dossier, reason: str, reference: str, by: str,
                       message: Message = None) -> dict[str, Any]:
    """Record an online applicant's request to withdraw: the desk confirms it with the withdraw action."""
    expected = dossier.version
    request = dossier.request_withdrawal(reason, reference, by, deps.now())
    deps.dossiers.save(dossier, None, expected, message=message(dossier) if message else None)
    logger().info("withdrawal requested", extra={"code": dossier.code, "by": by})
    return {"code": dossier.code, "version": dossier.version, "withdrawal_request": request}


def low_ratings(deps: Deps, actor: Actor, unit: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The dossiers of `unit` (as the competent unit) rated low, latest first: for its leader, or a leader above."""
    check_role(actor, "leader", "the low ratings of a unit")
    tree = deps.catalogue.tree()
    if tree.get(unit) is None:
        raise NotFound(f"no unit {unit}")
    if not covers(actor, unit, tree):
        raise Forbidden(f"the low ratings of unit {unit} are for its leader or a leader above it")
    items, next_cursor = deps.dossiers.low_ratings(unit, limit, cursor)
    now = deps.now()
    return {"unit": unit, "items": [{**summary_view(item, now), "rating": rating_view(item.get("rating") or {})}
                                    for item in items], "next_cursor": next_cursor}


def rating_view(rating: dict[str, Any]) -> dict[str, Any]:
    return {**rating, "at": local(rating.get("at"))}
