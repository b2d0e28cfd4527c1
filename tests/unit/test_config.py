"""Settings are checked when a container starts: one error naming the variable, never a 500 later."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.config import SettingsError, load

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s" * 32


@pytest.mark.parametrize(("env", "named"), [
    ({"MOTCUA_AUTH_MODE": "cognito"}, "MOTCUA_AUTH_MODE"),
    ({"MOTCUA_AUTH_MODE": "jwks", "MOTCUA_CURSOR_SECRET": SECRET}, "MOTCUA_JWKS_URL"),
    ({"MOTCUA_AUTH_MODE": "jwks", "MOTCUA_JWKS_URL": "http://x/jwks.json", "MOTCUA_CURSOR_SECRET": SECRET},
     "MOTCUA_JWKS_URL"),
    ({"MOTCUA_AUTH_MODE": "jwks", "MOTCUA_JWKS_URL": "https://issuer.example/jwks.json"}, "MOTCUA_JWT_ISSUER"),
    ({"MOTCUA_AUTH_MODE": "jwks", "MOTCUA_JWKS_URL": "https://issuer.example/jwks.json",
      "MOTCUA_JWT_ISSUER": "https://issuer.example", "MOTCUA_JWT_AUDIENCE": " "}, "MOTCUA_JWT_AUDIENCE"),
    ({"MOTCUA_CORS_ORIGINS": "https://ok.example,motcua.gov.vn"}, "MOTCUA_CORS_ORIGINS"),
    ({"MOTCUA_CORS_ORIGINS": "https://ok.example/path"}, "MOTCUA_CORS_ORIGINS"),
    ({"MOTCUA_MAX_BODY_BYTES": "lots"}, "MOTCUA_MAX_BODY_BYTES"),
    ({"MOTCUA_MAX_BODY_BYTES": "-1"}, "MOTCUA_MAX_BODY_BYTES"),
    ({"MOTCUA_IDEMPOTENCY_TTL": "1d"}, "MOTCUA_IDEMPOTENCY_TTL"),
    ({"MOTCUA_DB_READ_TIMEOUT": "forever"}, "MOTCUA_DB_READ_TIMEOUT"),
    ({"MOTCUA_DB_MAX_RETRIES": "50"}, "MOTCUA_DB_MAX_RETRIES"),
    ({"MOTCUA_TABLE_PREFIX": "motcua prod"}, "MOTCUA_TABLE_PREFIX"),
    ({"MOTCUA_CURSOR_SECRET": "short"}, "MOTCUA_CURSOR_SECRET"),
    ({"MOTCUA_AUTH_MODE": "jwks", "MOTCUA_JWKS_URL": "https://issuer.example/jwks.json",
      "MOTCUA_JWT_ISSUER": "https://issuer.example", "MOTCUA_JWT_AUDIENCE": "client-1"}, "MOTCUA_CURSOR_SECRET"),
    ({"AWS_LAMBDA_FUNCTION_NAME": "motcua-dev"}, "MOTCUA_CURSOR_SECRET"),
])
def test_an_unusable_setting_is_named(env, named):
    with pytest.raises(SettingsError) as error:
        load(env)
    assert str(error.value).startswith(named)


def test_defaults_and_a_complete_aws_configuration_load():
    local = load({})
    assert local.auth_mode == "local" and len(local.cursor_secret) == 32 and local.db_read_timeout == 2.0
    # Retries x read timeout stays under the 10 s the API promises before it answers 503.
    assert (1 + local.db_max_retries) * (local.db_connect_timeout + local.db_read_timeout) < 10
    aws = load({"MOTCUA_AUTH_MODE": "jwks", "MOTCUA_JWKS_URL": "https://issuer.example/jwks.json",
                "MOTCUA_JWT_ISSUER": "https://issuer.example", "MOTCUA_JWT_AUDIENCE": "client-1",
                "MOTCUA_CURSOR_SECRET": SECRET, "MOTCUA_CORS_ORIGINS": "https://a.example, http://localhost:3000",
                "MOTCUA_DB_READ_TIMEOUT": "2.5", "AWS_LAMBDA_FUNCTION_NAME": "motcua-prod"})
    assert aws.cursor_secret == SECRET.encode() and aws.db_read_timeout == 2.5
    assert aws.cors_origins == ("https://a.example", "http://localhost:3000")


def test_importing_the_app_with_a_bad_setting_fails_at_start_naming_it():
    env = {**os.environ, "MOTCUA_AUTH_MODE": "jwks", "MOTCUA_JWKS_URL": ""}
    result = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "SettingsError: MOTCUA_JWKS_URL" in result.stderr


AWS = {"MOTCUA_AUTH_MODE": "jwks", "MOTCUA_JWKS_URL": "https://issuer.example/jwks.json",
       "MOTCUA_JWT_ISSUER": "https://issuer.example", "MOTCUA_JWT_AUDIENCE": "client-1",
       "MOTCUA_CURSOR_SECRET": SECRET}


@pytest.mark.parametrize(("env", "named"), [
    ({"MOTCUA_DUE_SOON_HOURS": "a day"}, "MOTCUA_DUE_SOON_HOURS"),
    ({"MOTCUA_DUE_SOON_HOURS": "-1"}, "MOTCUA_DUE_SOON_HOURS"),
    ({"MOTCUA_INTAKE_DEADLINE_HOURS": "9000"}, "MOTCUA_INTAKE_DEADLINE_HOURS"),
    ({"MOTCUA_EVENT_BUS": "motcua bus"}, "MOTCUA_EVENT_BUS"),
    ({"MOTCUA_TIMER_STATE_MACHINE_ARN": "deadline-timer"}, "MOTCUA_TIMER_STATE_MACHINE_ARN"),
    ({"MOTCUA_NOTIFIER": "ses"}, "MOTCUA_NOTIFIER"),
    ({"MOTCUA_NOTIFIER": "aws"}, "MOTCUA_EMAIL_SENDER"),
    ({"MOTCUA_NOTIFIER": "aws", "MOTCUA_EMAIL_SENDER": "motcua"}, "MOTCUA_EMAIL_SENDER"),
    ({"MOTCUA_SMS": "yes"}, "MOTCUA_SMS"),
    ({"MOTCUA_CLOCK_START": "16/03/2026 08:00"}, "MOTCUA_CLOCK_START"),
    ({"MOTCUA_CLOCK_START": "2026-03-16T08:00:00"}, "MOTCUA_CLOCK_START"),  # no offset: which 08:00?
    ({"MOTCUA_CLOCK_START": "1990-03-16T08:00:00+07:00"}, "MOTCUA_CLOCK_START"),
    ({"MOTCUA_CLOCK_SPEED": "fast"}, "MOTCUA_CLOCK_SPEED"),
    ({"MOTCUA_CLOCK_SPEED": "0"}, "MOTCUA_CLOCK_SPEED"),
    # Outside the local stack a moved clock is refused, naming the variable.
    ({**AWS, "MOTCUA_CLOCK_START": "2026-03-16T08:00:00+07:00"}, "MOTCUA_CLOCK_START"),
    ({**AWS, "MOTCUA_CLOCK_SPEED": "60"}, "MOTCUA_CLOCK_SPEED"),
    ({"MOTCUA_CURSOR_SECRET": SECRET, "AWS_LAMBDA_FUNCTION_NAME": "motcua-dev", "MOTCUA_CLOCK_SPEED": "60"},
     "MOTCUA_CLOCK_SPEED"),
])
def test_an_unusable_deadline_notifier_or_clock_setting_is_named(env, named):
    with pytest.raises(SettingsError) as error:
        load(env)
    assert str(error.value).startswith(named)
    if "CLOCK" in named and ("AWS_LAMBDA_FUNCTION_NAME" in env or env.get("MOTCUA_AUTH_MODE") == "jwks"):
        assert "local stack" in str(error.value)


def test_deadline_and_notifier_settings_load_with_their_defaults_and_from_aws_values():
    local = load({})
    assert (local.due_soon_hours, local.intake_deadline_hours) == (16.0, 8.0)  # 2 working days: time to apologise
    assert local.event_bus == local.timer_state_machine_arn == "" and local.clock is None
    assert (local.notifier, local.sms_enabled) == ("local", False)
    aws = load({**AWS, "MOTCUA_DUE_SOON_HOURS": "16", "MOTCUA_INTAKE_DEADLINE_HOURS": "4",
                "MOTCUA_EVENT_BUS": "motcua-prod-events",
                "MOTCUA_TIMER_STATE_MACHINE_ARN": "arn:aws:states:ap-southeast-1:123456789012:stateMachine:timer",
                "MOTCUA_NOTIFIER": "aws", "MOTCUA_EMAIL_SENDER": "Một cửa Thanh Hóa <motcua@thanhhoa.gov.vn>",
                "MOTCUA_SMS": "on"})
    assert (aws.due_soon_hours, aws.intake_deadline_hours) == (16.0, 4.0)
    assert aws.event_bus == "motcua-prod-events" and aws.timer_state_machine_arn.endswith(":timer")
    assert (aws.notifier, aws.sms_enabled) == ("aws", True) and aws.email_sender.endswith("<motcua@thanhhoa.gov.vn>")


def test_the_moved_clock_starts_where_told_and_runs_at_its_speed_from_a_shared_anchor(monkeypatch):
    import time
    from datetime import UTC, datetime

    s = load({"MOTCUA_CLOCK_START": "2026-03-16T08:00:00+07:00", "MOTCUA_CLOCK_SPEED": "600",
              "MOTCUA_CLOCK_ANCHOR": "1000000"})
    assert s.clock is not None
    monkeypatch.setattr(time, "time", lambda: 1000000.0)
    assert s.clock() == datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
    monkeypatch.setattr(time, "time", lambda: 1000006.5)  # 6.5 real seconds at 600x: 65 minutes
    assert s.clock() == datetime(2026, 3, 16, 2, 5, tzinfo=UTC)
    speed_only = load({"MOTCUA_CLOCK_SPEED": "2", "MOTCUA_CLOCK_ANCHOR": "1000000"})
    assert speed_only.clock is not None and speed_only.clock.speed == 2.0


def test_deps_read_the_moved_clock_and_the_watch_settings(monkeypatch):
    from chalicelib import bootstrap, config

    monkeypatch.setenv("MOTCUA_CLOCK_START", "2026-03-16T08:00:00+07:00")
    monkeypatch.setenv("MOTCUA_CLOCK_SPEED", "1")
    monkeypatch.setenv("MOTCUA_DUE_SOON_HOURS", "4")
    config.settings.cache_clear()
    try:
        assert bootstrap._clock()().isoformat().startswith("2026-03-16T01:0")
        assert bootstrap._watch().due_soon_working_hours == 4
    finally:
        config.settings.cache_clear()
