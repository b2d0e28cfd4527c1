"""The national portal mapping (domain/portal.py): every status to exactly one national code, the two payloads,
what reaches the portal and what does not, and the sync state's transitions."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import events as ev
from chalicelib.domain import portal
from chalicelib.domain.clock import iso
from chalicelib.domain.events import EVENT_TYPES, DomainEvent
from chalicelib.domain.lifecycle import TRANSITIONS, Action
from chalicelib.domain.portal import FAILING, PENDING, SYNCED, SyncState
from chalicelib.domain.status import Status
from tests.unit.calendars import CALENDAR, vn
from tests.unit.dossiers import DESK, LEADER, PROCESSOR, received

# DOMAIN.md "Lifecycle and the national status codes", written out independently of status.py.
NATIONAL = {
    "submitted": 1, "received": 2, "not_accepted": 3, "guided": 3, "in_progress": 4, "supplement_requested": 5,
    "payment_requested": 6, "withdrawn": 7, "stopped": 8, "resolved": 9, "refused": 9, "returned": 10,
}
AT = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


def snapshot(status: str = "received", **changes: object) -> dict[str, object]:
    return {"code": "000.00.24.H56-260316-0001", "procedure_code": "2.001417", "procedure_version": 1,
            "field_code": "G09-TP01", "channel": "direct", "status": status, "national_code": NATIONAL[status],
            "receiving_unit": "000.00.24.H56", "competent_unit": "000.00.11.H56", "handling_unit": "000.00.11.H56",
            "current_step": 0, "assignee": None, "submitted_at": "2026-03-16T02:00:00Z",
            "received_at": "2026-03-16T02:00:00Z", "appointment_at": "2026-03-30T02:00:00Z",
            "due_at": "2026-03-30T02:00:00Z", "resolved_at": None, "outcome": None, "rescheduled": False,
            "supplement_violations": 0, **changes}


def status_changed(to: str, seq: int = 1, source: str | None = None, national: int | None = None) -> DomainEvent:
    return DomainEvent(ev.STATUS_CHANGED, "000.00.24.H56-260316-0001", seq, seq, AT, {
        "officer": "desk.lan", "officer_unit": "000.00.24.H56", "action": "receive", "from_status": source,
        "to_status": to, "national_code": NATIONAL[to] if national is None else national,
        "dossier": snapshot(to)})


def test_the_mapping_covers_every_status_and_each_gets_exactly_its_national_code():
    assert set(NATIONAL) == {s.value for s in Status}
    for status in Status:
        change = portal.change_of(status_changed(status.value))
        if status is Status.GUIDED:  # a walk-in given a guidance slip was never a dossier: nothing to sync
            assert change is None
            continue
        assert change is not None
        assert change["national_code"] == NATIONAL[status.value] == status.national_code
        assert portal.progress_update(change)["TrangThaiHoSo"] == NATIONAL[status.value]
        assert portal.dossier_sync(change, None)["TrangThaiHoSo"] == NATIONAL[status.value]


@pytest.mark.parametrize(("action", "source"), [(a, s) for a, t in TRANSITIONS.items() for s in sorted(t.sources)])
def test_every_status_change_of_the_transition_table_maps_to_its_target_code(action, source):
    transition = TRANSITIONS[action]
    target = transition.target or source  # a resume goes back to the status it paused from (open work)
    if transition.keeps_status:
        target = source
    change = portal.change_of(status_changed(target.value, source=source.value))
    assert change is not None and change["national_code"] == NATIONAL[target.value]


def test_an_event_whose_national_code_disagrees_with_its_status_is_refused():
    with pytest.raises(portal.PortalMappingError, match="national code 9"):
        portal.change_of(status_changed("resolved", national=10))


def test_only_status_changes_and_a_rescheduling_reach_the_portal():
    for kind in EVENT_TYPES:
        if kind == ev.STATUS_CHANGED:
            continue
        data = {"reason": "payment_confirmed", "appointment_at": "2026-04-01T02:00:00Z", "dossier": snapshot()}
        assert portal.change_of(DomainEvent(kind, "X-1", 3, 3, AT, data)) is None, kind  # not a first event
    rescheduled = DomainEvent(ev.APPOINTMENT_CHANGED, "X-1", 4, 4, AT, {
        "officer": "ld.cuong", "officer_unit": "000.00.11.H56", "reason": "apology",
        "previous_appointment_at": "2026-03-30T02:00:00Z", "appointment_at": "2026-04-03T02:00:00Z",
        "dossier": snapshot("in_progress", rescheduled=True, appointment_at="2026-04-03T02:00:00Z")})
    change = portal.change_of(rescheduled)
    assert change is not None and change["national_code"] == 4
    update = portal.progress_update(change)
    assert update["NgayHenTraMoi"] == "20260403090000" and update["NoiDungXuLy"] == portal.RESCHEDULED_NOTE


def test_a_dossier_whose_first_event_is_not_a_status_change_still_reaches_the_portal():
    imported = DomainEvent(ev.RETURNED, "X-1", 1, 1, datetime(2021, 5, 4, 3, tzinfo=UTC),
                           {"officer": "desk.cu", "officer_unit": "000.00.24.H56", "dossier": snapshot("returned")})
    change = portal.change_of(imported)
    assert change is not None and change["national_code"] == 10
    assert portal.dossier_sync(change, {"name": "Lê Thị Hoa"})["ThoiDiem"] == "20210504100000"
    assert portal.change_of(replace(imported, seq=2)) is None


def test_the_dossier_sync_carries_what_the_portal_needs_and_no_contact_details():
    change = portal.change_of(status_changed("received"))
    assert change is not None
    body = portal.dossier_sync(change, {"name": "Nguyễn Văn An", "id_number": "038090001234", "kind": "business",
                                        "phone": "0912345678", "email": "an@example.vn", "address": "12 Lê Lợi"})
    assert body == {
        "MaHoSo": "000.00.24.H56-260316-0001", "MaTTHC": "2.001417", "MaLinhVuc": "G09-TP01",
        "MaDonVi": "000.00.24.H56", "DonViXuLy": "000.00.11.H56", "KenhThucHien": 1, "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": 2, "SoGiayToChuHoSo": "038090001234", "NgayNopHoSo": "20260316090000",
        "NgayTiepNhan": "20260316090000", "NgayHenTra": "20260330090000", "NgayCoKetQua": None,
        "TrangThaiHoSo": 2, "ThoiDiem": "20260316090000", "MaSuKien": "000.00.24.H56-260316-0001/1"}
    assert portal.payload(change, False, None)[0] == portal.DOSSIER_SYNC
    assert portal.payload(change, True, None)[0] == portal.PROGRESS_UPDATE


def test_old_events_keep_their_own_times():
    old = replace(status_changed("returned"), at=datetime(2019, 7, 1, 1, 30, tzinfo=UTC))
    change = portal.change_of(old)
    assert change is not None and portal.progress_update(change)["ThoiDiemXuLy"] == "20190701083000"


def test_a_real_life_reaches_the_portal_as_its_status_changes_and_the_apology():
    dossier = received()
    steps = [
        ("assign", PROCESSOR, vn(2026, 3, 16, 10), {}),
        ("request_payment", PROCESSOR, vn(2026, 3, 17, 9), {"amount": 200000}),
        ("confirm_payment", DESK, vn(2026, 3, 18, 9), {"receipt_number": "BL-0001"}),
        ("apologize", LEADER, vn(2026, 3, 25, 9), {"reason": "Cần xác minh thêm",
                                                   "new_appointment_at": iso(vn(2026, 4, 3, 9))}),
        ("complete_step", PROCESSOR, vn(2026, 3, 31, 10), {}),
        ("resolve", LEADER, vn(2026, 4, 1, 10), {"result": {"summary": "Phiếu LLTP số 1"}}),
        ("return_result", DESK, vn(2026, 4, 2, 10), {}),
    ]
    codes = []
    for action, actor, at, payload in steps:
        dossier.act(Action(action), actor, at, CALENDAR, payload)
        for event in dossier.take_events():
            change = portal.change_of(event)
            if change is not None:
                codes.append((change["national_code"], change["new_appointment_at"] is not None))
    assert codes == [(4, False), (6, False), (4, False), (4, True), (9, False), (10, False)]  # step: no change


def test_backoff_doubles_up_to_its_cap():
    assert [portal.backoff_seconds(n, 5, 60) for n in range(0, 7)] == [0, 5, 10, 20, 40, 60, 60]
    assert portal.backoff_seconds(10_000, 5, 900) == 900


def test_the_sync_state_goes_pending_failing_and_synced():
    now = AT
    state = SyncState("X-1", "U").recorded_one(now).recorded_one(now)
    assert state.status == PENDING and state.recorded == 2 and state.next_at == iso(now)
    state = state.failed(now, "HTTP 503", 5, 60, failing_after=2)
    assert state.status == PENDING and state.next_at == iso(now + timedelta(seconds=5))
    state = state.failed(now, "HTTP 503", 5, 60, failing_after=2)
    assert state.status == FAILING and state.next_at == iso(now + timedelta(seconds=10))
    backing_off = state.recorded_one(now)
    assert backing_off.next_at == state.next_at  # a new change does not cut a backoff short
    state = state.acknowledged(1, now, True, 60)
    assert state.status == PENDING and state.announced and state.pushed == 1 and state.attempts == 0
    assert not state.all_handled
    state = state.acknowledged(2, now, False, 60)
    assert state.all_handled and state.finished(now).status == SYNCED


def test_a_change_recorded_for_a_dossier_already_due_keeps_its_due_time():
    first = SyncState("X-1", "U").recorded_one(AT)
    later = first.recorded_one(AT + timedelta(seconds=40)).recorded_one(AT + timedelta(minutes=3))
    assert later.recorded == 3 and later.next_at == first.next_at == iso(AT)  # due since the first, still first
    waiting = replace(first, next_at=iso(AT + timedelta(seconds=60)))  # e.g. waiting for a gap, no failed push
    assert waiting.recorded_one(AT + timedelta(seconds=10)).next_at == iso(AT + timedelta(seconds=10))


def test_a_gap_is_awaited_then_failing_and_a_recorded_change_brings_the_worker_back():
    now = AT
    state = SyncState("X-1", "U", recorded=1, pending_since=iso(now)).waiting_for_gap(now, 60)
    assert state.gap_since == iso(now) and state.next_at == iso(now + timedelta(seconds=60))
    later = state.waiting_for_gap(now + timedelta(seconds=10), 60)
    assert later.gap_since == iso(now)  # the wait counts from when the gap was first seen
    stuck = state.gap_unresolved(now + timedelta(seconds=60), 900)
    assert stuck.status == FAILING and "X-1/1 is missing" in (stuck.last_error or "")
    assert stuck.recorded_one(now + timedelta(seconds=70)).next_at == iso(now + timedelta(seconds=70))


def test_a_walk_in_given_only_a_guidance_slip_never_reaches_the_portal():
    from chalicelib.domain.dossier import Dossier
    from tests.unit.demo import procedure

    dossier, _ = Dossier.receive(
        code=f"{DESK.unit}-260316-0042", procedure=procedure("2.001417"), receiving_unit=DESK.unit,
        competent_unit=PROCESSOR.unit, channel="direct", applicant={"name": "An"}, form={}, documents=[],
        actor=DESK, at=vn(2026, 3, 16, 9), calendar=CALENDAR,
        decision={"decision": "guide", "missing_items": ["Bản chụp căn cước công dân"]})
    events = dossier.take_events()
    assert events and dossier.status is Status.GUIDED
    assert [portal.change_of(e) for e in events] == [None] * len(events)  # no code 3: it was never a dossier
