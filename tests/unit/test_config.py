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
