"""The storage contract: reading a dossier is one GetItem; intake and a transition are two calls each, their
events riding in the same transaction."""

from collections import Counter

from chalicelib.bootstrap import deps
from chalicelib.domain.dossier import Actor
from chalicelib.services.actions import perform_action
from chalicelib.services.intake import receive_dossier
from chalicelib.services.queries import get_dossier, public_lookup
from tests.api.helpers import CRIMINAL_RECORD
from tests.units import CENTRE, JUSTICE

DESK = Actor("desk.rt", CENTRE, frozenset({"desk"}))
OFFICER = Actor("cv.rt", JUSTICE, frozenset({"processor"}))


def test_round_trips_per_operation(calls):
    code = receive_dossier(deps(), DESK, CRIMINAL_RECORD)["code"]  # warms the catalogue cache
    calls.clear()
    code = receive_dossier(deps(), DESK, CRIMINAL_RECORD)["code"]
    events = calls.pop("put:outbox")
    assert events >= 2  # received, step started...
    assert calls == Counter({"UpdateItem": 1, "TransactWriteItems": 1, "put:dossiers": 1, "put:dossier-history": 1})
    calls.clear()
    perform_action(deps(), OFFICER, code, {"action": "assign", "version": 1})
    assert calls.pop("put:outbox") >= 1  # status changed
    assert calls == Counter({"GetItem": 1, "TransactWriteItems": 1, "put:dossiers": 1, "put:dossier-history": 1})
    calls.clear()
    get_dossier(deps(), DESK, code)
    public_lookup(deps(), code)
    assert calls == Counter({"GetItem": 2})
