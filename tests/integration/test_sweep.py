"""The sweep on DynamoDB Local: however many sweeps (and timers) wake the same dossiers at once, each flag is
recorded once, with one event, through the version-checked save; and a sweep reads only the dossiers due.

Dossiers here live in 2020, before every other test's, so the sweeps find only these."""

import threading
from datetime import timedelta

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.bootstrap import deps
from chalicelib.domain.dossier import Actor
from chalicelib.services import deadlines
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE

DESK = Actor("desk.sweep", CENTRE, frozenset({"desk"}))


def events_of(code: str) -> list[str]:
    return [item.event_data["type"] for item in OutboxModel.query(code, consistent_read=True)]


def test_concurrent_sweeps_and_timers_record_each_flag_once_with_one_event():
    bootstrap.override(now=lambda: vn(2020, 6, 1, 9))
    try:
        codes = [receive_dossier(deps(), DESK, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
                 for _ in range(4)]
        # A later one, due after the sweeps' time: they must leave it alone.
        bootstrap.override(now=lambda: vn(2020, 6, 29, 9))
        later = receive_dossier(deps(), DESK, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
        bootstrap.override(now=lambda: vn(2020, 6, 29, 10))  # the first four are 2 weeks past due
        reports: list[dict] = []
        errors: list[BaseException] = []

        def sweep() -> None:
            try:
                reports.append(deadlines.sweep(deps(), limit=50))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def timer(code: str) -> None:
            try:
                deadlines.wake(deps(), code)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        workers = [threading.Thread(target=sweep) for _ in range(3)]
        workers += [threading.Thread(target=timer, args=(code,)) for code in codes]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert not errors, errors
        for code in codes:
            dossier = deps().dossiers.get(code, consistent=True)
            assert set(dossier.flags) == {"due_soon", "overdue", "step_overdue:0"}, dossier.flags
            assert dossier.next_wake is None
            kinds = events_of(code)
            assert kinds.count("dossier.due_soon") == kinds.count("dossier.overdue") == 1
            assert kinds.count("dossier.step_overdue") == 1
        assert sum(r["failed"] for r in reports) == 0
        untouched = deps().dossiers.get(later, consistent=True)
        assert "overdue" not in untouched.flags and untouched.next_wake is not None

        # Nothing is left due: a sweep now finds nothing (the wake index holds only what is watched, unflagged).
        again = deadlines.sweep(deps(), limit=50)
        assert all(code not in deps().dossiers.due_for_wake(vn(2020, 6, 29, 10), 50) for code in codes)
        assert again["woken"] == 0 and again["failed"] == 0
    finally:
        bootstrap.override()


def test_a_sweep_reads_only_what_is_due_and_drains_a_backlog_larger_than_its_page():
    bootstrap.override(now=lambda: vn(2020, 1, 6, 9))  # before the other test's dossiers
    try:
        codes = [receive_dossier(deps(), DESK, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})["code"]
                 for _ in range(7)]
        first = deps().dossiers.get(codes[0], consistent=True)
        earliest = first.next_wake
        assert earliest is not None
        bootstrap.override(now=lambda: earliest - timedelta(seconds=1))
        assert deadlines.sweep(deps(), limit=3)["found"] == 0  # nothing due yet: nothing read but the index
        bootstrap.override(now=lambda: earliest)
        report = deadlines.sweep(deps(), limit=3)  # seven due, three a page: the rounds drain them all
        assert report["woken"] == 7 and report["found"] >= 7 and report["failed"] == 0
        for code in codes:
            assert deps().dossiers.get(code, consistent=True).flags
    finally:
        bootstrap.override()
