"""The applicant's rating of how a dossier was handled (đánh giá mức độ hài lòng), once, after the result.

Decision 766/QĐ-TTg's satisfaction indicator 5.4 is "100% - (late-dossier rate + rate of dossiers with complaints or
dislikes)" (../shared/DECISION-766.md, from the public specification of the national dashboard's formulas): what it
needs of a rating is whether the applicant disliked the handling. The scale is the three levels the one-stop desks
and portals ask (Rất hài lòng / Hài lòng / Không hài lòng); the official text of the scale was not read, so the
levels are kept here, in one place, and docs/statistics.md says so. A dissatisfied rating is a low one: listed for
the leader of the unit that answers for the result (the competent unit, Decree 61/2018 Art 19).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from .clock import iso
from .errors import DomainError, FieldProblem, InvalidInput
from .status import Status

VERY_SATISFIED, SATISFIED, DISSATISFIED = "very_satisfied", "satisfied", "dissatisfied"
LEVELS = (VERY_SATISFIED, SATISFIED, DISSATISFIED)
LABELS = {VERY_SATISFIED: "Rất hài lòng", SATISFIED: "Hài lòng", DISSATISFIED: "Không hài lòng"}
LOW = frozenset({DISSATISFIED})
COMMENT_MAX_CHARS = 1000  # after NFC normalisation: what the leader reads in a list, not a complaint (PAKN)
# Who gave it: the applicant on the public page (public code + the receipt's secret), or a portal for them.
VIA = ("applicant", "portal")


def rating(dossier_status: Status, rated: dict[str, Any] | None, payload: dict[str, Any], via: str, by: str,
           at: datetime) -> dict[str, Any]:
    """The rating `payload` gives (`level`, optional `comment`), refused when the result has not been returned,
    when the dossier is rated already, or when the level is not on the scale."""
    if dossier_status is not Status.RETURNED:
        raise DomainError("the dossier can be rated once its result is returned",
                          [FieldProblem("code", f"status {dossier_status.value}: the result is not returned yet")],
                          "action_not_allowed")
    if rated is not None:
        raise DomainError("the dossier is rated already: a rating is given once",
                          [FieldProblem("code", f"rated {rated.get('level')} at {rated.get('at')}")], "already_rated")
    level = payload.get("level")
    if level not in LEVELS:
        raise InvalidInput("the level is not on the scale", [FieldProblem("level", f"one of {', '.join(LEVELS)}")])
    if via not in VIA:
        raise ValueError(f"unknown rating channel {via!r}")
    return {"level": level, "label": LABELS[str(level)], "low": level in LOW, "comment": comment(payload),
            "via": via, "by": by, "at": iso(at)}


def comment(payload: dict[str, Any]) -> str | None:
    """The comment as Unicode NFC (a Vietnamese letter typed with combining marks and precomposed counts the same),
    trimmed; none when empty. Control characters and unpaired surrogates are refused at the edge (the route's
    text check); here, its length."""
    value = payload.get("comment")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("invalid comment", [FieldProblem("comment", "a string")])
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > COMMENT_MAX_CHARS:
        raise InvalidInput("the comment is too long", [FieldProblem(
            "comment", f"{len(text)} characters, at most {COMMENT_MAX_CHARS}")])
    return text or None
