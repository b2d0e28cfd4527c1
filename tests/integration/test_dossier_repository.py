"""The repository against DynamoDB Local: codes, transactions, version checks, every list index."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.adapters.dynamodb.dossiers import DossierRepository
from chalicelib.adapters.dynamodb.models import DossierModel, HistoryModel
from chalicelib.domain.codes import dossier_code
from chalicelib.domain.dossier import Actor, Dossier
from chalicelib.domain.errors import InvalidInput, StaleVersion
from chalicelib.domain.lifecycle import Action
from chalicelib.domain.status import Status
from chalicelib.services.ports import DossierQuery
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure

REPO = DossierRepository()
DESK = Actor("desk.test", "TEST.REPO", frozenset({"desk"}))
PROCESSOR = Actor("cv.test", "000.00.11.H56", frozenset({"processor"}))


def new_dossier(unit: str, at, code_seq: int, procedure_code: str = "2.001417", channel: str = "direct") -> Dossier:
    actor = Actor("desk.test", unit, frozenset({"desk"}))
    dossier, entry = Dossier.receive(
        code=dossier_code(unit, at.date(), code_seq), procedure=procedure(procedure_code), receiving_unit=unit,
        competent_unit="000.00.11.H56", channel=channel, applicant={"name": "Trần Thị Bích"}, form={},
        documents=[], actor=actor, at=at, calendar=CALENDAR)
    REPO.add(dossier, entry)
    return dossier


def test_sequences_are_unique_under_concurrency():
    name = "dossier#TEST.SEQ#260316"
    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(lambda _: REPO.next_sequence(name), range(50)))
    assert sorted(numbers) == list(range(1, 51))


def test_add_then_get_is_one_item_with_its_first_history_line():
    dossier = new_dossier("TEST.GET", vn(2026, 3, 16, 9), 1)
    loaded = REPO.get(dossier.code)
    assert loaded is not None and loaded.as_dict() == dossier.as_dict()
    assert [h.seq for h in REPO.history(dossier.code)] == [1]


def test_a_code_is_never_written_twice():
    dossier = new_dossier("TEST.DUP", vn(2026, 3, 16, 9), 1)
    with pytest.raises(StaleVersion):
        new_dossier("TEST.DUP", vn(2026, 3, 16, 9), 1)
    assert REPO.get(dossier.code).version == 1


def test_save_checks_the_version_and_writes_dossier_and_history_together():
    dossier = new_dossier("TEST.SAVE", vn(2026, 3, 16, 9), 1)
    stale = REPO.get(dossier.code)
    entry = dossier.act(Action.ASSIGN, PROCESSOR, vn(2026, 3, 16, 10), CALENDAR, {})
    REPO.save(dossier, entry, expected_version=1)
    entry2 = stale.act(Action.ASSIGN, PROCESSOR, vn(2026, 3, 16, 11), CALENDAR, {})
    with pytest.raises(StaleVersion):
        REPO.save(stale, entry2, expected_version=1)
    # Nothing half-written: still two history lines and version 2.
    assert [h.action for h in REPO.history(dossier.code)] == ["receive", "assign"]
    assert REPO.get(dossier.code, consistent=True).version == 2


def test_list_by_unit_status_procedure_date_and_overdue_uses_indexes():
    unit = "TEST.LIST"
    a = new_dossier(unit, vn(2026, 3, 2, 9), 1)  # due 16 Mar: overdue on 20 Mar
    b = new_dossier(unit, vn(2026, 3, 16, 9), 2, procedure_code="2.001417")
    c = new_dossier(unit, vn(2026, 3, 17, 9), 3, procedure_code="2.001417", channel="online")
    now = vn(2026, 3, 20, 9)

    def codes(**filters):
        items, cursor = REPO.search(DossierQuery(unit=unit, view="received", **filters), now)
        return {i["code"] for i in items}

    assert codes() == {a.code, b.code, c.code}
    assert codes(status=Status.SUBMITTED) == {c.code}
    assert codes(status=Status.RECEIVED) == {a.code, b.code}
    assert codes(procedure="2.001417") == {a.code, b.code, c.code}
    assert codes(procedure="1.004873") == set()
    assert codes(filed_from=vn(2026, 3, 16, 0), filed_to=vn(2026, 3, 17, 0)) == {b.code}
    assert codes(overdue=True) == {a.code}
    assert codes(overdue=False) == {b.code}
    assert codes(overdue=True, status=Status.RECEIVED, filed_from=vn(2026, 3, 1, 0)) == {a.code}


def test_handling_view_lists_by_the_unit_of_the_current_step():
    unit = "TEST.HANDLING"
    d = new_dossier(unit, vn(2026, 3, 2, 9), 1)
    now = vn(2026, 3, 20, 9)

    def codes(**filters):
        # Other tests file dossiers at the same unit: look at the day this one was filed.
        day = {"filed_from": vn(2026, 3, 2, 0), "filed_to": vn(2026, 3, 3, 0), "limit": 100}
        items, _ = REPO.search(DossierQuery(unit=d.handling_unit, **day, **filters), now)
        return {i["code"] for i in items}

    assert d.handling_unit == "000.00.11.H56"
    assert d.code in codes() and d.code in codes(status=Status.RECEIVED) and d.code in codes(overdue=True)
    assert d.code in codes(procedure="2.001417") and d.code not in codes(overdue=False)
    items, _ = REPO.search(DossierQuery(unit=unit), now)
    assert items == []  # not at the receiving desk any more


def test_pagination_with_an_opaque_cursor_visits_every_dossier_once():
    unit = "TEST.PAGE"
    made = {new_dossier(unit, vn(2026, 3, 16, 8) + timedelta(minutes=i), i + 1).code for i in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        query = DossierQuery(unit=unit, view="received", limit=3, cursor=cursor)
        items, cursor = REPO.search(query, vn(2026, 3, 16, 12))
        seen += [i["code"] for i in items]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 7
    assert seen == sorted(seen, reverse=True)  # newest first


def test_bad_cursor_is_a_named_input_error():
    with pytest.raises(InvalidInput) as error:
        REPO.search(DossierQuery(unit="TEST.PAGE", cursor="bm90LWEtY3Vyc29y"), vn(2026, 3, 16, 12))
    assert error.value.details[0].field == "cursor"


def test_closed_dossiers_leave_the_sparse_open_index():
    dossier = new_dossier("TEST.SPARSE", vn(2026, 3, 16, 9), 1)
    assert DossierModel.get(dossier.code).open_unit == dossier.handling_unit
    entry = dossier.act(Action.WITHDRAW, Actor("d", "TEST.SPARSE", frozenset({"desk"})), vn(2026, 3, 16, 10),
                        CALENDAR, {"reason": "Công dân rút"})
    REPO.save(dossier, entry, 1)
    item = DossierModel.get(dossier.code)
    assert item.open_unit is None and item.due_sk is None
    assert HistoryModel.count(dossier.code) == 2


def test_a_claimed_idempotency_key_never_writes_a_second_dossier():
    from chalicelib.adapters.dynamodb.models import IdempotencyModel
    from chalicelib.adapters.idempotency import IdempotencyConflict

    at = vn(2026, 3, 16, 9)
    first, first_entry = Dossier.receive(
        code=dossier_code("TEST.CLAIM", at.date(), 1), procedure=procedure("2.001417"), receiving_unit="TEST.CLAIM",
        competent_unit="000.00.11.H56", channel="direct", applicant={"name": "Lê Văn C"}, form={}, documents=[],
        actor=DESK, at=at, calendar=CALENDAR)
    second, second_entry = Dossier.receive(
        code=dossier_code("TEST.CLAIM", at.date(), 2), procedure=procedure("2.001417"), receiving_unit="TEST.CLAIM",
        competent_unit="000.00.11.H56", channel="direct", applicant={"name": "Lê Văn C"}, form={}, documents=[],
        actor=DESK, at=at, calendar=CALENDAR)
    claim = ("intake#test-claim-1", "hash-1")
    REPO.add(first, first_entry, claim=claim)
    with pytest.raises(IdempotencyConflict):
        REPO.add(second, second_entry, claim=claim)
    assert REPO.get(second.code) is None and REPO.history(second.code) == []  # nothing half-written
    assert IdempotencyModel.get(claim[0]).code == first.code


def test_the_dossier_is_stored_packed_and_an_item_written_before_packing_still_reads():
    from chalicelib.adapters.dynamodb.dossiers import _to_model, item_size

    dossier = new_dossier("TEST.PACK", vn(2026, 3, 16, 9), 1)
    raw = DossierModel._get_connection().get_item(dossier.code, consistent_read=True)["Item"]
    assert "body" not in raw and "packed" in raw
    item = DossierModel.get(dossier.code, consistent_read=True)
    plain = _to_model(dossier)
    plain.body, plain.packed = dossier.as_dict(), None
    assert item_size(item) < item_size(plain) - 1024  # the point of packing: fewer KB per write and read
    # An item as written before packing (plain `body`): read by get and get_many alike.
    old = new_dossier("TEST.PACK", vn(2026, 3, 16, 9), 2)
    legacy = _to_model(old)
    legacy.body, legacy.packed = old.as_dict(), None
    legacy.save()
    assert REPO.get(old.code).as_dict() == old.as_dict()
    assert {d.code: d.as_dict() for d in REPO.get_many([old.code, dossier.code])} == {
        old.code: old.as_dict(), dossier.code: dossier.as_dict()}
