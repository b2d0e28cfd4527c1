"""Procedure versions: published once, kept for the dossiers received under them."""

from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
from chalicelib.domain.catalogue import Procedure
from tests.unit.demo import procedure

REPO = CatalogueRepository()


def test_unchanged_content_keeps_its_version_and_a_change_publishes_the_next():
    base = procedure("2.000635").as_dict()
    test_code = "9.000001"
    first = REPO.publish(Procedure.from_dict({**base, "code": test_code}))
    again = REPO.publish(Procedure.from_dict({**base, "code": test_code}))
    assert again.version == first.version
    changed = REPO.publish(Procedure.from_dict({**base, "code": test_code, "fee": {"amount": 10000}}))
    assert changed.version == first.version + 1
    assert REPO.procedure(test_code).fee == {"amount": 10000}
    assert REPO.procedure(test_code, first.version).fee == base["fee"]
    assert test_code in {p.code for p in REPO.procedures()}


def test_a_form_schema_that_is_not_valid_json_schema_is_refused_when_published():
    import pytest

    from chalicelib.domain.errors import InvalidInput

    base = procedure("2.000635").as_dict()
    broken = {"type": "object", "properties": {"email": {"type": "strng"}}, "required": "email"}
    with pytest.raises(InvalidInput) as error:
        REPO.publish(Procedure.from_dict({**base, "code": "9.000002", "form_schema": broken}))
    assert error.value.details[0].field.startswith("form_schema")
    assert REPO.procedure("9.000002") is None  # nothing published
