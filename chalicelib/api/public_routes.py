"""Public lookup by dossier code (tra cứu hồ sơ): no token, no personal data."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..services import queries, ratings
from .params import DOSSIER_CODE, dossier_code
from .routing import Call, route

bp = Blueprint(__name__)


@route(bp, "GET", "/v1/public/dossiers/{code}", summary="Status, dates and steps of a dossier for its applicant",
       tag="public", response="PublicDossier", errors=(400, 404), path_params={"code": DOSSIER_CODE})
def lookup(call: Call, code: str) -> dict[str, Any]:
    return queries.public_lookup(deps(), dossier_code(code))


@route(bp, "POST", "/v1/public/dossiers/{code}/rating",
       summary="The applicant rates how the dossier was handled, once, after its result is returned (code and "
               "receipt secret)", tag="public", body="public-rating", response="RatingAnswer",
       errors=(400, 403, 409, 415, 422), path_params={"code": DOSSIER_CODE})
def rate(call: Call, code: str) -> dict[str, Any]:
    body = call.body()
    return ratings.rate_as_applicant(deps(), dossier_code(code), body["secret"],
                                     {k: body[k] for k in ("level", "comment") if k in body})
