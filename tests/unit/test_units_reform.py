"""Units abolished by the 2025 reform: validity, successor chains, who answers for their dossiers;
unit calendar overrides refused before they are published."""

import json
from datetime import date
from types import SimpleNamespace

import pytest

from chalicelib.adapters.calendar_data import national_settings
from chalicelib.domain.access import check_may_act, check_may_list, may_read
from chalicelib.domain.catalogue import Unit, UnitTree
from chalicelib.domain.dossier import Actor
from chalicelib.domain.errors import Forbidden, InvalidInput
from tests.unit.demo import ROOT

PROVINCE, DISTRICT, WARD, OTHER_WARD = "000.00.00.T98", "000.10.30.T98", "000.11.30.T98", "000.12.30.T98"
MERGED = "000.13.30.T98"  # a ward that later took over WARD too

TREE = UnitTree([
    Unit(PROVINCE, "Tỉnh", "province"),
    Unit(DISTRICT, "Huyện", "district", PROVINCE, successor=WARD, valid_to=date(2025, 6, 30)),
    Unit(WARD, "Phường", "commune", PROVINCE, successor=MERGED, valid_from=date(2025, 7, 1),
         valid_to=date(2026, 12, 31)),
    Unit(OTHER_WARD, "Xã khác", "commune", PROVINCE, valid_from=date(2025, 7, 1)),
    Unit(MERGED, "Phường mới", "commune", PROVINCE, valid_from=date(2027, 1, 1)),
])


def actor(unit: str, *roles: str) -> Actor:
    return Actor("someone", unit, frozenset(roles or ("processor",)))


def district_dossier() -> SimpleNamespace:
    """What the access rules read of a dossier received and handled by the abolished district."""
    return SimpleNamespace(code="000.10.30.T98-250620-0001", receiving_unit=DISTRICT, handling_unit=DISTRICT,
                           units_involved={DISTRICT})


def test_validity_is_read_written_and_checked():
    unit = Unit.from_dict({"id": DISTRICT, "name": "Huyện", "level": "district", "parent": PROVINCE,
                           "successor": WARD, "valid_to": "2025-06-30"})
    assert unit.valid_to == date(2025, 6, 30) and unit.valid_from is None
    assert unit.as_dict()["valid_to"] == "2025-06-30" and unit.as_dict()["valid_from"] is None
    assert Unit.from_dict(unit.as_dict()) == unit
    assert unit.active_on(date(2025, 6, 30)) and not unit.active_on(date(2025, 7, 1))
    assert TREE.get(MERGED).active_on(date(2027, 1, 1)) and not TREE.get(MERGED).active_on(date(2026, 12, 31))


@pytest.mark.parametrize(("change", "field"), [
    ({"valid_to": "30/06/2025"}, "valid_to"),
    ({"valid_from": "2025-07-02", "valid_to": "2025-07-01"}, "valid_to"),
    ({"successor": DISTRICT}, "successor"),
])
def test_bad_validity_is_refused_naming_the_field(change, field):
    data = {"id": DISTRICT, "name": "Huyện", "level": "district", **change}
    with pytest.raises(InvalidInput) as caught:
        Unit.from_dict(data)
    assert caught.value.details[0].field == field


def test_successor_chains_are_followed_and_checked():
    assert TREE.successors(DISTRICT) == [WARD, MERGED]
    assert TREE.successors(OTHER_WARD) == []
    with pytest.raises(InvalidInput) as caught:
        UnitTree([Unit("A1", "a", "x", successor="B1"), Unit("B1", "b", "x", successor="A1")])
    assert caught.value.details[0].field == "successor"
    with pytest.raises(InvalidInput) as caught:
        UnitTree([Unit("A1", "a", "x", successor="MISSING")])
    assert caught.value.details[0].field == "successor"


def test_successor_officers_read_act_and_list_the_abolished_units_dossiers():
    dossier = district_dossier()
    for who in (actor(WARD), actor(MERGED, "desk")):  # the successor, and the successor's successor
        assert may_read(who, dossier, TREE)
        check_may_act(who, dossier, TREE)
        check_may_list(who, DISTRICT, TREE)


def test_other_units_still_do_not():
    dossier = district_dossier()
    stranger = actor(OTHER_WARD)
    assert not may_read(stranger, dossier, TREE)
    with pytest.raises(Forbidden):
        check_may_act(stranger, dossier, TREE)
    with pytest.raises(Forbidden):
        check_may_list(stranger, DISTRICT, TREE)
    # Succession runs one way: the district's officers do not take over the ward's dossiers.
    with pytest.raises(Forbidden):
        check_may_list(actor(DISTRICT), WARD, TREE)


def test_leaders_above_the_successor_and_admins_keep_their_reach():
    assert may_read(actor(PROVINCE, "leader"), district_dossier(), TREE)
    assert not may_read(actor(PROVINCE, "processor"), district_dossier(), TREE)
    assert may_read(actor(OTHER_WARD, "admin"), district_dossier(), TREE)


def test_the_demo_district_is_abolished_with_its_successor():
    data = json.loads((ROOT / "demo" / "catalogue.json").read_text(encoding="utf-8"))
    tree = UnitTree([Unit.from_dict(u) for u in data["units"]])
    district = tree.get("000.20.30.H56")
    assert district.valid_to == date(2025, 6, 30) and district.successor == "000.21.30.H56"
    assert tree.get("000.21.30.H56").active_on(date(2026, 3, 16))
    tree.check_calendars(national_settings())


@pytest.mark.parametrize(("override", "field"), [
    ({"working_hours": [["07:30", "11:30"], ["13:30", "17:00"]]}, "calendar.hours_per_day"),
    ({"hours_per_day": 7.5}, "calendar.hours_per_day"),
    ({"working_hours": [["13:30", "17:00"], ["07:00", "11:30"]]}, "calendar.working_hours"),
    ({"intake_cutoff": "18:00"}, "calendar.intake_cutoff"),
    ({"days_off": [{"date": "17/03/2026"}]}, "calendar"),
    ({"weekend": [0, 1, 2, 3, 4, 5, 6]}, "calendar.weekend"),
    ({"weekend": [7]}, "calendar.weekend"),
    ({"timezone": "Asia/Hanoi_Typo"}, "calendar.timezone"),
])
def test_a_unit_calendar_that_cannot_be_counted_on_is_refused_naming_unit_and_field(override, field):
    tree = UnitTree([Unit(PROVINCE, "Tỉnh", "province"), Unit(WARD, "Phường", "commune", PROVINCE,
                                                            calendar=override)])
    with pytest.raises(InvalidInput) as caught:
        tree.check_calendars(national_settings())
    problem = caught.value.details[0]
    assert problem.field == field and problem.reason.startswith(WARD)


def test_a_consistent_half_hour_day_is_accepted():
    tree = UnitTree([Unit(PROVINCE, "Tỉnh", "province", calendar={
        "working_hours": [["07:30", "11:30"], ["13:30", "17:00"]], "hours_per_day": 7.5})])
    tree.check_calendars(national_settings())
    assert tree.calendar_for(PROVINCE, national_settings()).hours_per_day == 7.5


def test_seeding_refuses_an_inconsistent_province_calendar_before_writing(tmp_path):
    from scripts.seed import load_catalogue

    data = json.loads((ROOT / "demo" / "catalogue.json").read_text(encoding="utf-8"))
    data["units"][0]["calendar"] = {"working_hours": [["07:30", "11:30"], ["13:30", "17:00"]]}
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_catalogue(path)
    assert caught.value.details[0].field == "calendar.hours_per_day"
    assert "7.5 h" in caught.value.details[0].reason
