"""Each deployable Chalice stage is complete on its own: its own tables, a policy naming exactly those tables,
a Lambda timeout under API Gateway's, and auth settings that are either real or visibly unset."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib.adapters.dynamodb.models import ALL_MODELS
from chalicelib.config import SettingsError, load, settings
from chalicelib.services.deadlines import DIGEST_BUDGET_SECONDS
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
    expected.add(f"arn:aws:dynamodb:*:*:table/{prefix}-outbox/stream/*")  # what route 1's stream mapping reads
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
    # A secret never lives in the repository nor the template: the stage names its SSM SecureString parameter.
    assert env["MOTCUA_CURSOR_SECRET"] == f"ssm:/motcua-{stage}/cursor-secret"
    assert function_env(stage, "portal_sync_push")["MOTCUA_PORTAL_TOKEN"] == f"ssm:/motcua-{stage}/portal-token"
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text(encoding="utf-8"))
    [grant] = [s for s in policy["Statement"] if s["Sid"] == "StageSecrets"]
    assert grant["Action"] == ["ssm:GetParameter"] and grant["Resource"] == [
        f"arn:aws:ssm:*:*:parameter/motcua-{stage}/cursor-secret",
        f"arn:aws:ssm:*:*:parameter/motcua-{stage}/portal-token"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_event_bus_and_timer_machine_come_from_the_package_not_the_stage(stage):
    env = CONFIG["stages"][stage]["environment_variables"]
    # infra/events.yaml sets them from the resources it creates, on the functions that use them. A literal here
    # would reach every function of the stage (and chalice.test.Client runs of it), pointing them at one bus.
    assert "MOTCUA_EVENT_BUS" not in env and "MOTCUA_TIMER_STATE_MACHINE_ARN" not in env


def function_env(stage: str, function: str) -> dict[str, str]:
    """What Chalice gives `function` of `stage`: the stage's variables, then the function's own on top."""
    config = CONFIG["stages"][stage]
    own = config.get("lambda_functions", {}).get(function, {}).get("environment_variables", {})
    return {**CONFIG.get("environment_variables", {}), **config["environment_variables"], **own}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_digest_has_300_s_for_its_240_s_budget(stage):
    functions = CONFIG["stages"][stage]["lambda_functions"]
    # services/deadlines.py starts no unit after DIGEST_BUDGET_SECONDS and defers the rest to the next run; the
    # function must outlive the budget by enough for the units already started.
    assert functions["deadline_digest"]["lambda_timeout"] == 300 >= DIGEST_BUDGET_SECONDS + 60
    assert functions["overdue_sweep"]["lambda_timeout"] == 120


FILLED = {"MOTCUA_JWKS_URL": "https://cognito-idp.ap-southeast-1.amazonaws.com/p/.well-known/jwks.json",
          "MOTCUA_JWT_ISSUER": "https://cognito-idp.ap-southeast-1.amazonaws.com/p",
          "MOTCUA_JWT_AUDIENCE": "client", "MOTCUA_CURSOR_SECRET": "s" * 40}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_notifications_consumer_alone_sends_through_aws(stage):
    env = function_env(stage, "notifications_consumer")
    assert env["MOTCUA_NOTIFIER"] == "aws"
    assert env["MOTCUA_SMS"] == ("on" if stage == "prod" else "off")
    assert env["MOTCUA_EMAIL_SENDER"] == "", "the team fills in its own SES-verified sender"
    # Left empty, the consumer refuses to start, naming the setting; filled in, it sends from it.
    with pytest.raises(SettingsError, match="^MOTCUA_EMAIL_SENDER"):
        load({**env, **FILLED})
    loaded = load({**env, **FILLED, "MOTCUA_EMAIL_SENDER": "Một cửa <motcua@thanhhoa.gov.vn>"})
    assert (loaded.notifier, loaded.sms_enabled) == ("aws", stage == "prod")
    # Every other function, and the stage as a whole, keeps the recording notifier (they never send).
    assert "MOTCUA_NOTIFIER" not in CONFIG["stages"][stage]["environment_variables"]
    for function, settings_ in CONFIG["stages"][stage]["lambda_functions"].items():
        if function != "notifications_consumer":
            assert not {"MOTCUA_NOTIFIER", "MOTCUA_EMAIL_SENDER", "MOTCUA_SMS"} & set(
                settings_.get("environment_variables", {})), function
    assert load({**function_env(stage, "api_handler"), **FILLED}).notifier == "local"


def test_deploy_docs_list_every_setting_config_reads():
    """docs/deploy.md's settings table names exactly the MOTCUA_* variables chalicelib/config.py reads, each with
    a default and a meaning."""
    source = (ROOT / "chalicelib" / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r"""env(?:\.get\(|\[)["'](MOTCUA_[A-Z_]+)["']""", source)) | set(
        re.findall(r"""_(?:number|matching)\(env, ["'](MOTCUA_[A-Z_]+)["']""", source))
    assert {"MOTCUA_TABLE_PREFIX", "MOTCUA_DUE_SOON_HOURS", "MOTCUA_CLOCK_START", "MOTCUA_EVENT_BUS"} <= read
    assert read == set(re.findall(r"\bMOTCUA_[A-Z_]+\b", source)), "a variable config.py names but the scan missed"
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = docs[docs.index("## Settings (environment variables)"):]
    rows = re.findall(r"^\| `(MOTCUA_[A-Z_]+)` \| ([^|]+) \| ([^|]+) \|$", section, re.MULTILINE)
    documented = [name for name, _, _ in rows]
    assert len(documented) == len(set(documented))
    assert set(documented) == read
    assert all(default.strip() and meaning.strip() for _, default, meaning in rows)
    defaults = {name: default.strip() for name, default, _ in rows}
    assert defaults["MOTCUA_DUE_SOON_HOURS"] == "`16`" and defaults["MOTCUA_NOTIFIER"] == "`local`"
