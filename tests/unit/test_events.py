"""Domain events and the deadline watch: the interface storage, timers and notifications code against."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import events as ev
from chalicelib.domain.deadlines import WatchSettings
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.events import EVENT_TYPES, SNAPSHOT_FIELDS, DomainEvent
from chalicelib.domain.lifecycle import Action
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE, JUSTICE

DESK = Actor("desk.lan", CENTRE, frozenset({"desk"}))
PROCESSOR = Actor("cv.binh", JUSTICE, frozenset({"processor"}))
LEADER = Actor("ld.cuong", JUSTICE, frozenset({"leader"}))


def receive(channel="direct", at=None, watch=WatchSettings()):
    return Dossier.receive(
        code=f"{CENTRE}-260316-0001", procedure=procedure("2.001417"), receiving_unit=CENTRE,
        competent_unit=JUSTICE, channel=channel, applicant={"name": "Nguyễn Văn An"}, form={}, documents=[],
        actor=DESK, at=at or vn(2026, 3, 16, 9), calendar=CALENDAR, watch=watch,
    )


def act(dossier, action, actor, at, **payload):
    return dossier.act(Action(action), actor, at, CALENDAR, payload)


def test_an_event_has_a_deterministic_id_and_round_trips():
    event = DomainEvent(ev.OVERDUE, "X-260316-0001", 7, 5, datetime(2026, 3, 30, 2, 0, 1, tzinfo=UTC),
                        {"flag": "overdue"})
    data = event.as_dict()
    assert data == {"id": "X-260316-0001/7", "type": "dossier.overdue", "code": "X-260316-0001", "seq": 7,
                    "version": 5, "at": "2026-03-30T02:00:01Z", "data": {"flag": "overdue"}}
    assert DomainEvent.from_dict(data) == event
    with pytest.raises(ValueError):
        DomainEvent.from_dict({**data, "id": "X-260316-0001/8"})
    with pytest.raises(ValueError):
        DomainEvent("dossier.unknown", "X", 1, 1, event.at, {})


def test_desk_intake_emits_received_and_the_first_step_and_arms_the_watch():
    dossier, _ = receive()
    events = dossier.take_events()
    assert [e.type for e in events] == [ev.STATUS_CHANGED, ev.RECEIVED, ev.STEP_STARTED]
    assert [e.seq for e in events] == [1, 2, 3] and {e.version for e in events} == {1}
    assert dossier.take_events() == [] and dossier.event_count == 3
    snapshot = events[1].data["dossier"]
    assert tuple(snapshot) == SNAPSHOT_FIELDS and snapshot["status"] == "received" and snapshot["national_code"] == 2
    assert snapshot["due_at"] == "2026-03-30T02:00:00Z"  # 10 working days from Mon 16 Mar 09:00
    # Due soon two working days before the due time; overdue the second after it; the step on its own.
    assert dossier.watch == {"due_soon": "2026-03-26T02:00:00Z", "overdue": "2026-03-30T02:00:01Z",
                             "step_overdue:0": "2026-03-26T02:00:01Z"}
    assert dossier.watch_generation == 1
    assert dossier.next_wake == datetime(2026, 3, 26, 2, 0, tzinfo=UTC)  # the warning, a second before the step


def test_every_event_type_is_listed_once():
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES)) == 20


def test_wake_records_each_deadline_once_and_bumps_the_version():
    dossier, _ = receive()
    dossier.take_events()
    assert dossier.wake(vn(2026, 3, 26, 8, 59, 59)) is False
    assert dossier.wake(vn(2026, 3, 26, 9)) is True  # due soon; the step is due at 09:00, late only after it
    assert dossier.version == 2 and set(dossier.flags) == {"due_soon"}
    assert [e.type for e in dossier.take_events()] == [ev.DUE_SOON]
    assert dossier.wake(vn(2026, 3, 26, 9, 0, 1)) is True
    assert dossier.version == 3 and set(dossier.flags) == {"due_soon", "step_overdue:0"}
    [late] = dossier.take_events()
    assert late.type == ev.STEP_OVERDUE and late.version == 3 and late.data["step"]["index"] == 0
    assert dossier.wake(vn(2026, 3, 26, 12)) is False and dossier.version == 3
    assert dossier.next_wake == datetime(2026, 3, 30, 2, 0, 1, tzinfo=UTC)
    assert dossier.wake(vn(2026, 4, 1, 9)) is True  # a sweep catching up records it
    assert [e.type for e in dossier.take_events()] == [ev.OVERDUE]
    assert dossier.flags["overdue"] == "2026-04-01T02:00:00Z" and dossier.next_wake is None
    assert dossier.wake(vn(2026, 4, 2, 9)) is False


def test_the_new_fields_survive_storage_and_old_items_still_load():
    dossier, _ = receive()
    dossier.wake(vn(2026, 3, 27, 10))
    stored = dossier.as_dict()
    again = Dossier.from_dict(stored)
    assert (again.flags, again.watch, again.watch_generation, again.event_count) == (
        dossier.flags, dossier.watch, dossier.watch_generation, dossier.event_count)
    assert again.pending_events == [] and again.next_wake == dossier.next_wake
    old = {k: v for k, v in stored.items() if k not in (
        "flags", "watch", "watch_generation", "event_count", "apology", "rescheduled", "supplement_period")}
    legacy = Dossier.from_dict(old)
    assert legacy.watch == {} and legacy.next_wake is None and legacy.event_count == 0 and not legacy.rescheduled


def test_an_action_emits_with_the_version_it_produced_and_closing_ends_the_watch():
    dossier, _ = receive()
    dossier.take_events()
    act(dossier, "assign", PROCESSOR, vn(2026, 3, 16, 10))
    [changed] = dossier.take_events()
    assert changed.type == ev.STATUS_CHANGED and changed.version == 2 and changed.seq == 4
    assert changed.data["from_status"] == "received" and changed.data["to_status"] == "in_progress"
    assert changed.data["dossier"]["assignee"] == "cv.binh"
    generation = dossier.watch_generation
    act(dossier, "withdraw", DESK, vn(2026, 3, 17, 10), reason="Công dân rút")
    assert [e.type for e in dossier.take_events()] == [ev.STATUS_CHANGED, ev.CLOSED]
    assert dossier.watch == {} and dossier.next_wake is None and dossier.watch_generation == generation + 1
    assert dossier.wake(vn(2026, 5, 1, 9)) is False


def test_an_online_submission_watches_its_intake_deadline():
    dossier, _ = receive(channel="online", at=vn(2026, 3, 16, 16), watch=WatchSettings(intake_working_hours=4))
    assert [e.type for e in dossier.take_events()] == [ev.STATUS_CHANGED, ev.SUBMITTED]
    assert dossier.watch == {"intake_overdue": "2026-03-17T03:00:00Z"}  # 1 h on Monday, 3 h on Tuesday
    act(dossier, "accept", DESK, vn(2026, 3, 17, 9))
    assert "intake_overdue" not in dossier.watch and dossier.watch_generation == 2
    assert dossier.next_wake is not None and dossier.next_wake > vn(2026, 3, 17, 9) + timedelta(days=1)


def test_a_procedures_supplement_period_is_published_checked_and_copied_at_receipt():
    from chalicelib.domain.catalogue import Procedure
    from chalicelib.domain.errors import InvalidInput

    base = procedure("2.001417").as_dict()
    assert base["supplement_period"] == {"amount": 15, "unit": "working_days", "label": "15 ngày làm việc"}
    assert Procedure.from_dict(base).supplement_period == procedure("2.001417").supplement_period
    assert "supplement_period" not in procedure("2.000815").as_dict()  # not set: not watched, shape unchanged
    for bad in ({"amount": -1, "unit": "working_days"}, {"unit": "fortnights"}, "15 days"):
        with pytest.raises(InvalidInput) as refused:
            Procedure.from_dict({**base, "supplement_period": bad})
        assert refused.value.details[0].field == "supplement_period"
    dossier, _ = receive()
    assert dossier.supplement_period is not None and dossier.supplement_period.amount == 15
    assert Dossier.from_dict(dossier.as_dict()).supplement_period == dossier.supplement_period
