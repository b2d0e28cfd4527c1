"""The scheduled jobs, invoked as Lambda would through chalice.test: the sweep and the daily digest."""

import pytest
from chalice.test import Client

from app import app
from chalicelib.bootstrap import deps
from chalicelib.domain.dossier import Actor
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD
from tests.unit.calendars import vn
from tests.units import JUSTICE, QUANG_PHU


def scheduled_event(client):
    return client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                           resources=[])


def test_the_sweep_flags_every_dossier_past_its_watched_instants_and_the_digest_reports_them(frozen_now):
    frozen_now(vn(2021, 1, 4, 9))  # before every other test's dossiers: the sweep finds only these
    desk = Actor("desk.sweep", QUANG_PHU, frozenset({"desk"}))
    body = {**CRIMINAL_RECORD, "competent_unit": JUSTICE}
    codes = [receive_dossier(deps(), desk, body)["code"] for _ in range(2)]
    frozen_now(vn(2021, 1, 25, 9))  # ten working days later was 18 Jan: both are overdue
    with Client(app, stage_name="local") as client:
        report = client.lambda_.invoke("overdue_sweep", scheduled_event(client)).payload
        assert report["found"] >= 2 and report["woken"] >= 2 and report["failed"] == 0
        assert report["at"] == "2021-01-25T02:00:00Z"
        for code in codes:
            assert {"due_soon", "overdue"} <= set(deps().dossiers.get(code, consistent=True).flags)
        again = client.lambda_.invoke("overdue_sweep", scheduled_event(client)).payload
        assert again["woken"] == 0  # nothing left to flag: each flag is recorded once

        frozen_now(vn(2021, 1, 26, 7))
        digest = client.lambda_.invoke("deadline_digest", scheduled_event(client)).payload
        assert digest["units"] >= 1 and digest["overdue"] >= 2 and digest["failed"] == 0
    latest = deps().notifications.for_unit(JUSTICE, 100)  # other tests leave newer ones
    mine = [n for n in latest if n["id"].startswith(f"digest/{JUSTICE}/2021-01-26")]
    assert mine and set(codes) <= set(mine[0]["overdue"])


def test_the_digest_runs_at_seven_in_the_morning_in_vietnam():
    from chalice.app import ScheduledEventConfig

    registrations = {r.name: r.schedule_expression for r in app.event_sources
                     if isinstance(r, ScheduledEventConfig)}
    assert registrations["overdue_sweep"] == "rate(5 minutes)"
    assert registrations["deadline_digest"] == "cron(0 0 * * ? *)"  # 00:00 UTC = 07:00 UTC+7, no DST


@pytest.mark.parametrize(("job", "label"), [("overdue_sweep", "overdue sweep"),
                                            ("deadline_digest", "deadline digest")])
def test_a_failing_job_is_logged_with_its_request_id_and_raised_for_the_schedule_to_retry(caplog, job, label):
    from chalicelib import bootstrap

    class Unreachable:
        def __getattr__(self, name):
            raise ConnectionError("database unreachable")

    bootstrap.override(dossiers=Unreachable(), catalogue=Unreachable())
    try:
        with Client(app, stage_name="local") as client, pytest.raises(ConnectionError):
            client.lambda_.invoke(job, scheduled_event(client))
    finally:
        bootstrap.override()
    records = [r for r in caplog.records if r.getMessage() == f"{label} failed"]
    assert len(records) == 1 and records[0].levelname == "ERROR" and records[0].request_id
