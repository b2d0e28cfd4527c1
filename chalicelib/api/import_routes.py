"""Importing an old one-stop system's dossiers in small batches (admins); files go through `make import`."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.access import check_role
from .routing import Call, route

bp = Blueprint(__name__)


@route(bp, "POST", "/v1/imports",
       summary="Import up to 500 dossiers exported by an old system (admin): each row imported, a duplicate or "
               "rejected with its reasons",
       tag="imports", body="import-batch", auth=True, response="ImportResult", errors=(400, 401, 403, 413, 415),
       api_key=True)
def import_batch(call: Call) -> dict[str, Any]:
    from ..services import importer  # on the first import only: other requests never load it

    actor = call.actor()
    check_role(actor, "admin", "importing dossiers")  # before the body: a processor gets 403, not 400 or 413
    return importer.import_batch(deps(), actor, call.body())
