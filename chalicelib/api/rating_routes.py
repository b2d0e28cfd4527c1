"""The applicant's voice: the low ratings a unit's leader reads."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.errors import FieldProblem, InvalidInput
from ..services import ratings
from .catalogue_routes import _UNIT_ID, UNIT_ID
from .routing import Call, route

bp = Blueprint(__name__)


@route(bp, "GET", "/v1/units/{id}/low-ratings",
       summary="The unit's dossiers rated dissatisfied by their applicants (once, after the result), latest first: "
               "for the unit's leader or a leader above it",
       tag="catalogue", query="low-ratings-query", auth=True, response="LowRatingPage",
       errors=(400, 401, 403, 404), path_params={"id": UNIT_ID})
def list_low_ratings(call: Call, id: str) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    if len(id) > 35 or not _UNIT_ID.match(id):
        raise InvalidInput("invalid unit id", [FieldProblem("id", "expected a unit id like 000.00.11.H56")])
    return ratings.low_ratings(deps(), actor, id, int(q.get("limit", 50)), q.get("cursor"))
