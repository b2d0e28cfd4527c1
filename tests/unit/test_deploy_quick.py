"""Route 1 deploys without the printing libraries (over `chalice deploy`'s 50 MB upload): its requirements leave
exactly those out, and a form printed where they are missing is a 503 that says why, never a 500."""

from __future__ import annotations

import json
import sys

import pytest

from chalicelib.domain.errors import Unavailable
from chalicelib.services import printing
from scripts import deploy_quick
from scripts.deploy_quick import without_printing

REQUIREMENTS = """# Runtime dependencies
boto3==1.44.5
aws-lambda-powertools[tracer]==3.37.0
typst==0.15.0
segno==1.6.6
typstools==1.0
"""


def test_the_quick_deploys_requirements_leave_out_the_printing_libraries_only():
    kept = without_printing(REQUIREMENTS, printing.PRINTING_PACKAGES)
    assert kept.splitlines() == ["# Runtime dependencies", "boto3==1.44.5", "aws-lambda-powertools[tracer]==3.37.0",
                                 "typstools==1.0"]
    with open("requirements.txt", encoding="utf-8") as real:  # the project's: both are pinned there today
        names = {line.split("==")[0] for line in real.read().splitlines() if "==" in line}
    assert set(printing.PRINTING_PACKAGES) <= names


@pytest.mark.parametrize("missing", printing.PRINTING_PACKAGES)
def test_printing_without_its_library_is_unavailable_not_a_crash(monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # what a deployment without it sees: ImportError
    printing._compilers.clear()
    with pytest.raises(Unavailable, match="not installed in this deployment"):
        if missing == "typst":
            printing.render("form-01.typ", {})
        else:
            printing.qr_svg("https://example.vn")


def _deployed_api(tmp_path, client, stage="dev"):
    """A REST API with the stage `api` (as Chalice deploys it) and Chalice's record of it under tmp_path."""
    api_id = client.create_rest_api(name="motcua")["id"]
    root = client.get_resources(restApiId=api_id)["items"][0]["id"]
    client.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE",
                      apiKeyRequired=True)
    client.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    client.create_deployment(restApiId=api_id, stageName="api")
    (tmp_path / ".chalice" / "deployed").mkdir(parents=True)
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(
        {"api_gateway_stage": "api", "stages": {stage: {"api_gateway_stage": "api"}}}), encoding="utf-8")
    (tmp_path / ".chalice" / "deployed" / f"{stage}.json").write_text(json.dumps({"schema_version": "2.0",
        "backend": "api", "resources": [{"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api_id,
        "rest_api_url": f"https://{api_id}.execute-api.ap-southeast-1.amazonaws.com/api/"}]}), encoding="utf-8")
    return api_id


@pytest.fixture
def gateway(monkeypatch):
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield deploy_quick.apigateway("ap-southeast-1")


def test_route_1_sets_up_the_integrators_plan_and_a_first_key_once(tmp_path, gateway, capsys):
    """`chalice deploy` marks the integrators' routes api_key_required but makes no plan: deploy_quick makes it on
    the deployed stage, with throttling and quota, and one key in it; run again, it creates nothing more and brings
    the limits up to date. The key's value is printed only when asked."""
    api_id = _deployed_api(tmp_path, gateway)
    assert deploy_quick.deployed_api("dev", tmp_path) == (api_id, "ap-southeast-1")
    limits = deploy_quick.Limits(deploy_quick.RATE, deploy_quick.BURST, deploy_quick.QUOTA)
    assert deploy_quick.set_up_plan("dev", "motcua-dev", limits, "dvcqg", show_key=False, root=tmp_path) == 0
    out = capsys.readouterr().out
    [plan] = gateway.get_usage_plans()["items"]
    assert plan["name"] == "motcua-dev-integrators"
    assert plan["apiStages"] == [{"apiId": api_id, "stage": "api"}]
    assert plan["throttle"] == {"rateLimit": 10.0, "burstLimit": 20}
    assert plan["quota"] == {"limit": 100000, "period": "DAY"}
    [key] = gateway.get_api_keys(includeValues=True)["items"]
    assert key["name"] == "motcua-dev-dvcqg" and key["enabled"]
    assert [k["id"] for k in gateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]
    assert key["id"] in out and "created usage plan" in out and key["value"] not in out

    again = deploy_quick.ensure_integrator_plan(gateway, api_id, "api", "motcua-dev",
                                                deploy_quick.Limits(5.0, 8, 1000), "dvcqg")
    assert again == deploy_quick.Plan(plan["id"], key["id"], ())
    [plan] = gateway.get_usage_plans()["items"]
    assert plan["throttle"] == {"rateLimit": 5.0, "burstLimit": 8} and plan["quota"]["limit"] == 1000
    assert len(gateway.get_api_keys()["items"]) == 1
    assert len(gateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]) == 1

    assert deploy_quick.set_up_plan("dev", "motcua-dev", limits, "dvcqg", show_key=True, root=tmp_path) == 0
    assert f"API key value: {key['value']}" in capsys.readouterr().out


def test_a_redeployed_api_is_added_to_the_existing_plan_and_a_key_revoked_stays_revoked(tmp_path, gateway):
    old = _deployed_api(tmp_path / "old", gateway)
    limits = deploy_quick.Limits(10.0, 20, 100)
    first = deploy_quick.ensure_integrator_plan(gateway, old, "api", "motcua-dev", limits, "dvcqg")
    gateway.update_api_key(apiKey=first.key_id, patchOperations=[
        {"op": "replace", "path": "/enabled", "value": "false"}])
    new = _deployed_api(tmp_path / "new", gateway)
    second = deploy_quick.ensure_integrator_plan(gateway, new, "api", "motcua-dev", limits, "dvcqg")
    assert second.plan_id == first.plan_id and second.key_id == first.key_id
    [plan] = gateway.get_usage_plans()["items"]
    assert {"apiId": new, "stage": "api"} in plan["apiStages"]
    assert gateway.get_api_key(apiKey=first.key_id)["enabled"] is False


def test_a_deploy_without_its_record_says_the_plan_is_not_set_up(tmp_path, gateway, capsys):
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"stages": {"dev": {}}}), encoding="utf-8")
    limits = deploy_quick.Limits(10.0, 20, 100)
    assert deploy_quick.set_up_plan("dev", "motcua-dev", limits, "dvcqg", show_key=False, root=tmp_path) == 1
    assert "usage plan is not set up" in capsys.readouterr().err
