"""The optional Cognito stack (infra/cognito.yaml): it lints, its pre token generation trigger puts the unit and
the display name in access tokens, the app client cannot write the unit; and scripts/cognito_officer.py (moto's
Cognito) adds an officer to a unit and its groups, moves it, and refuses a unit the API would refuse."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import cognito_officer

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "cognito.yaml"


def test_the_template_lints_clean():
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def resources() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))["Resources"]


def test_groups_are_the_roles_and_the_client_cannot_write_the_unit():
    r = resources()
    groups = {v["Properties"]["GroupName"] for v in r.values() if v["Type"] == "AWS::Cognito::UserPoolGroup"}
    assert groups == set(cognito_officer.ROLES)
    from chalicelib.domain.catalogue import ROLES

    assert set(ROLES) == groups
    client = r["AppClient"]["Properties"]
    assert "custom:unit" in client["ReadAttributes"] and "custom:unit" not in client["WriteAttributes"]
    assert r["UserPool"]["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert r["UserPool"]["Properties"]["LambdaConfig"]["PreTokenGenerationConfig"]["LambdaVersion"] == "V2_0"


def test_the_trigger_copies_unit_and_name_into_the_access_token():
    namespace: dict[str, Any] = {}
    exec(resources()["PreTokenGeneration"]["Properties"]["Code"]["ZipFile"], namespace)  # noqa: S102
    event = {"request": {"userAttributes": {"custom:unit": "000.00.11.H56", "name": "Nguyễn Văn Bình",
                                            "email": "b@x.vn"}}, "response": {}}
    out = namespace["handler"](event, None)
    assert out["response"]["claimsAndScopeOverrideDetails"] == {"accessTokenGeneration": {"claimsToAddOrOverride": {
        "custom:unit": "000.00.11.H56", "name": "Nguyễn Văn Bình"}}}
    bare = namespace["handler"]({"request": {"userAttributes": {}}, "response": {}}, None)
    assert bare["response"] == {}


@pytest.fixture
def pool(monkeypatch) -> Iterator[tuple[Any, str]]:
    from moto import mock_aws

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
    with mock_aws():
        import boto3

        cognito = boto3.client("cognito-idp", region_name="ap-southeast-1")
        pool_id = cognito.create_user_pool(PoolName="motcua-test-officers", Schema=[
            {"Name": "unit", "AttributeDataType": "String", "Mutable": True}])["UserPool"]["Id"]
        for group in cognito_officer.ROLES:
            cognito.create_group(UserPoolId=pool_id, GroupName=group)
        yield cognito, pool_id


def officer(cognito: Any, pool_id: str, username: str) -> tuple[dict[str, str], set[str]]:
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}, {g["GroupName"] for g in groups}


def test_an_officer_is_added_to_a_unit_and_groups_then_moved(pool, capsys):
    cognito, pool_id = pool
    base = ["--pool-id", pool_id, "--username", "cv.binh", "--email", "binh@stp.gov.vn", "--name", "Nguyễn Văn Bình"]
    assert cognito_officer.main([*base, "--unit", "000.00.11.H56", "--group", "processor", "--group", "leader"],
                                cognito) == 0
    attributes, groups = officer(cognito, pool_id, "cv.binh")
    assert attributes["custom:unit"] == "000.00.11.H56" and attributes["name"] == "Nguyễn Văn Bình"
    assert groups == {"processor", "leader"} and "created" in capsys.readouterr().out
    catalogue = ["--catalogue", str(ROOT / "demo" / "catalogue.json")]
    assert cognito_officer.main([*base, "--unit", "000.00.24.H56", "--group", "desk", "--only", *catalogue],
                                cognito) == 0
    attributes, groups = officer(cognito, pool_id, "cv.binh")
    assert attributes["custom:unit"] == "000.00.24.H56" and groups == {"desk"}
    assert "updated" in capsys.readouterr().out


@pytest.mark.parametrize("unit, reason", [("nonsense", "not a unit identifier"), ("000.99.99.H56", "not in"),
                                          ("000.20.30.H56", "ceased operating")])
def test_a_unit_the_api_would_refuse_is_refused_before_anything_is_written(pool, unit, reason):
    cognito, pool_id = pool
    with pytest.raises(SystemExit, match=reason):
        cognito_officer.main(["--pool-id", pool_id, "--username", "x", "--email", "x@x.vn", "--name", "X",
                              "--unit", unit, "--group", "desk", "--catalogue",
                              str(ROOT / "demo" / "catalogue.json")], cognito)
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []
