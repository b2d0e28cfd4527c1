import pytest

from chalicelib.domain.catalogue import Procedure, Unit, UnitTree
from chalicelib.domain.codes import dossier_code, is_agency_id, is_dossier_code
from chalicelib.domain.errors import InvalidInput
from tests.unit.demo import procedure


def test_dossier_codes_follow_circular_01_2018():
    from datetime import date

    assert dossier_code("000.00.24.H56", date(2024, 3, 15), 1) == "000.00.24.H56-240315-0001"
    assert dossier_code("000.00.24.H56", date(2024, 3, 15), 12345) == "000.00.24.H56-240315-12345"
    assert is_dossier_code("000.00.24.H56-240315-0001")
    assert not is_dossier_code("000.00.24.h56-240315-0001")
    assert not is_dossier_code("000.00.24.H56-2403-0001")


def test_agency_identifiers_follow_decision_20_2020():
    assert is_agency_id("000.00.24.H56")
    assert not is_agency_id("000..24.H56")
    assert not is_agency_id("A" * 36)


def test_step_budgets_must_fit_the_limit():
    data = procedure("1.004227").as_dict()
    data["steps"][0]["budget"] = {"amount": 10, "unit": "working_days"}
    with pytest.raises(InvalidInput) as error:
        Procedure.from_dict(data)
    assert any(p.field == "steps" for p in error.value.details)


def test_steps_count_on_the_procedure_clock():
    data = procedure("1.009994").as_dict()
    data["steps"][0]["budget"] = {"amount": 2, "unit": "working_days"}
    with pytest.raises(InvalidInput):
        Procedure.from_dict(data)


def test_unit_tree_of_any_depth_with_successors():
    tree = UnitTree([
        Unit("H56", "Tỉnh", "province"), Unit("D1.H56", "Huyện", "district", "H56", successor="C1.H56"),
        Unit("C1.H56", "Xã", "commune", "D1.H56"), Unit("V1.H56", "Thôn", "village", "C1.H56"),
    ])
    assert tree.ancestors("V1.H56") == ["C1.H56", "D1.H56", "H56"]
    assert set(tree.subtree("D1.H56")) == {"D1.H56", "C1.H56", "V1.H56"}
    assert tree.is_within("V1.H56", "H56") and not tree.is_within("H56", "V1.H56")


def test_unit_cycles_and_unknown_parents_are_refused():
    with pytest.raises(InvalidInput):
        UnitTree([Unit("A", "a", "x", "B"), Unit("B", "b", "x", "A")])
    with pytest.raises(InvalidInput):
        UnitTree([Unit("A", "a", "x", "MISSING")])
