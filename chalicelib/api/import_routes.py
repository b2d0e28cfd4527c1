"""Importing an old one-stop system's dossiers in small batches (admins); files go through `make import`."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from .routing import Call, route

bp = Blueprint(__name__)


@route(bp, "POST", "/v1/imports",
       summary="Import up to 500 dossiers exported by an old system (admin): each row imported, a duplicate or "
               "rejected with its reasons",
       tag="imports", body="import-batch", auth=True, response="ImportResult", errors=(400, 401, 403, 413, 415))
def import_batch(call: Call) -> dict[str, Any]:
    from ..services import importer  # on the first import only: other requests never load it

    actor = call.actor()
    return importer.import_batch(deps(), actor, call.body())
