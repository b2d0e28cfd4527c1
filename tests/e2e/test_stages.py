"""Each deployable Chalice stage is complete on its own: its own tables, a policy naming exactly those tables,
a Lambda timeout under API Gateway's, and auth settings that are either real or visibly unset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.adapters.dynamodb.models import ALL_MODELS
from chalicelib.config import settings
from scripts.table_template import stages

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
API_GATEWAY_TIMEOUT_S = 29  # REST APIs stop waiting for the integration after 29 s


def table_suffixes() -> dict[str, bool]:
    """Table name suffix -> whether the table has global secondary indexes."""
    own = settings().table_prefix + "-"
    return {m.Meta.table_name.removeprefix(own): bool(m._get_schema().get("global_secondary_indexes"))
            for m in ALL_MODELS}


def test_dev_and_prod_are_deployable_and_dev_is_chalices_default():
    # `chalice deploy` with no --stage deploys "dev": it must be a complete stage of its own.
    assert {"dev", "prod"} <= set(stages())
    prefixes = list(stages().values())
    assert len(set(prefixes)) == len(prefixes), "two stages would share tables"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_names_its_own_tables_and_nothing_else(stage):
    config = CONFIG["stages"][stage]
    prefix = config["environment_variables"]["MOTCUA_TABLE_PREFIX"]
    assert prefix == f"motcua-{stage}"
    assert config["autogen_policy"] is False  # Chalice cannot see PynamoDB's calls; the policy file lists them
    policy = json.loads((ROOT / ".chalice" / config["iam_policy_file"]).read_text(encoding="utf-8"))
    resources = {r for s in policy["Statement"] if any(a.startswith("dynamodb:") for a in s["Action"])
                 for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    expected = set()
    for suffix, indexed in table_suffixes().items():
        expected.add(f"arn:aws:dynamodb:*:*:table/{prefix}-{suffix}")
        if indexed:
            expected.add(f"arn:aws:dynamodb:*:*:table/{prefix}-{suffix}/index/*")
    assert resources == expected
    others = [p for s, p in stages().items() if s != stage]
    assert not any(other in json.dumps(policy) for other in others)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_answers_before_api_gateway_gives_up(stage):
    config = CONFIG["stages"][stage]
    timeout = config.get("lambda_timeout", CONFIG.get("lambda_timeout", 60))
    api = config.get("lambda_functions", {}).get("api_handler", {}).get("lambda_timeout", timeout)
    # The stage's default covers the API handler; only functions no HTTP client waits for (scheduled jobs,
    # event consumers) may be given longer in lambda_functions.
    assert timeout < API_GATEWAY_TIMEOUT_S and api < API_GATEWAY_TIMEOUT_S


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_auth_is_configured_or_visibly_unset(stage):
    env = CONFIG["stages"][stage]["environment_variables"]
    assert env["MOTCUA_AUTH_MODE"] == "jwks"  # never the local key file in AWS
    # Empty until the team fills them in: the app then refuses to load (chalice deploy stops, a container would
    # not start) with the variable named. A placeholder that looks like a value would pass that check and fail
    # on the first request instead, far from its cause.
    for name in ("MOTCUA_JWKS_URL", "MOTCUA_JWT_ISSUER"):
        assert env[name] == "" or env[name].startswith("https://"), name
    for name in ("MOTCUA_JWKS_URL", "MOTCUA_JWT_ISSUER", "MOTCUA_JWT_AUDIENCE"):
        assert not any(word in env[name].upper() for word in ("REPLACE", "EXAMPLE", "TODO", "CHANGE")), name
    assert env["MOTCUA_CURSOR_SECRET"] == "", "a secret never lives in the repository"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_event_bus_and_timer_machine_come_from_the_package_not_the_stage(stage):
    env = CONFIG["stages"][stage]["environment_variables"]
    # infra/events.yaml sets them from the resources it creates, on the functions that use them. A literal here
    # would reach every function of the stage (and chalice.test.Client runs of it), pointing them at one bus.
    assert "MOTCUA_EVENT_BUS" not in env and "MOTCUA_TIMER_STATE_MACHINE_ARN" not in env
