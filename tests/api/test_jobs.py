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


def test_a_failing_sweep_is_logged_with_its_request_id_and_raised_for_the_schedule_to_retry(caplog):
    from chalicelib.services import bootstrap

    class Unreachable:
        def __getattr__(self, name):
            raise ConnectionError("database unreachable")

    bootstrap.override(dossiers=Unreachable())
    try:
        with Client(app) as client:
            event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                    detail={}, resources=[])
            try:
                client.lambda_.invoke("overdue_sweep", event)
                raised = False
            except ConnectionError:
                raised = True
    finally:
        bootstrap.override()
    assert raised
    records = [r for r in caplog.records if r.getMessage() == "overdue sweep failed"]
    assert len(records) == 1 and records[0].levelname == "ERROR" and records[0].request_id
