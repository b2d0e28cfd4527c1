"""The scheduled lateness sweep, invoked as Lambda would through chalice.test."""

from chalice.test import Client

from app import app
from chalicelib.domain.dossier import Actor
from chalicelib.services.bootstrap import deps
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD
from tests.unit.calendars import vn
from tests.units import JUSTICE, QUANG_PHU


def test_overdue_sweep_counts_running_clocks_past_due_per_unit(frozen_now):
    frozen_now(vn(2024, 1, 2, 9))  # long before the other tests' dossiers
    desk = Actor("desk.sweep", QUANG_PHU, frozenset({"desk"}))
    body = {**CRIMINAL_RECORD, "competent_unit": JUSTICE}
    codes = [receive_dossier(deps(), desk, body)["code"] for _ in range(2)]
    frozen_now(vn(2024, 1, 20, 9))  # ten working days later is 16 Jan: both are overdue
    with Client(app) as client:
        event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                resources=[])
        response = client.lambda_.invoke("overdue_sweep", event)
    report = response.payload
    assert report["overdue_by_unit"][JUSTICE] >= 2
    assert report["oldest_overdue_by_unit"][JUSTICE] == codes[0]
