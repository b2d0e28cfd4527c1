"""Settings from the environment, read and validated once per Lambda container.

`settings()` raises `SettingsError` naming the variable when a value is unusable; app.py calls it at import,
so a misconfigured container fails at start with one clear line in the log instead of a 500 later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AUTH_MODES = ("local", "jwks")
# scheme://host[:port], no path: what browsers send in the Origin header.
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_MIN_SECRET_LENGTH = 32

T = TypeVar("T", int, float)


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    table_prefix: str
    auth_mode: str  # "local" (a key file) or "jwks" (a JWKS URL: Cognito or any OIDC issuer)
    local_jwks_path: str
    jwks_url: str
    jwt_issuer: str
    jwt_audience: str  # the app client id: `aud` of ID tokens, `client_id` of Cognito access tokens
    unit_claim: str
    roles_claim: str
    cors_origins: tuple[str, ...]
    max_body_bytes: int
    idempotency_ttl_seconds: int
    cursor_secret: bytes
    db_connect_timeout: float
    db_read_timeout: float
    db_max_retries: int
    retry_after_seconds: int

    def table(self, name: str) -> str:
        return f"{self.table_prefix}-{name}"


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load(os.environ)


def load(env: Mapping[str, str]) -> Settings:
    """Read and check every setting; the first unusable one raises SettingsError."""
    auth_mode = env.get("MOTCUA_AUTH_MODE", "local")
    if auth_mode not in AUTH_MODES:
        raise SettingsError(f"MOTCUA_AUTH_MODE={auth_mode!r}: expected one of {', '.join(AUTH_MODES)}")
    jwks_url = env.get("MOTCUA_JWKS_URL", "")
    if auth_mode == "jwks":
        if not jwks_url.startswith("https://"):
            raise SettingsError("MOTCUA_JWKS_URL: MOTCUA_AUTH_MODE=jwks needs the https:// URL of the issuer's JWKS")
        if not env.get("MOTCUA_JWT_ISSUER", "").startswith("https://"):
            raise SettingsError("MOTCUA_JWT_ISSUER: MOTCUA_AUTH_MODE=jwks needs the issuer (iss), an https:// URL")
        if not env.get("MOTCUA_JWT_AUDIENCE", "").strip():
            raise SettingsError("MOTCUA_JWT_AUDIENCE: MOTCUA_AUTH_MODE=jwks needs the app client id that tokens "
                                "must name (aud of ID tokens, client_id of access tokens)")
    prefix = env.get("MOTCUA_TABLE_PREFIX", "motcua-local")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", prefix):
        raise SettingsError(f"MOTCUA_TABLE_PREFIX={prefix!r}: letters, digits, '_', '-', '.' only")
    return Settings(
        table_prefix=prefix,
        auth_mode=auth_mode,
        local_jwks_path=env.get("MOTCUA_LOCAL_JWKS", str(PROJECT_ROOT / ".local" / "keys" / "jwks.json")),
        jwks_url=jwks_url,
        jwt_issuer=env.get("MOTCUA_JWT_ISSUER", "motcua-local"),
        jwt_audience=env.get("MOTCUA_JWT_AUDIENCE", "motcua"),
        unit_claim=env.get("MOTCUA_UNIT_CLAIM", "unit"),
        roles_claim=env.get("MOTCUA_ROLES_CLAIM", "roles"),
        cors_origins=_origins(env.get("MOTCUA_CORS_ORIGINS", "http://localhost:3000")),
        max_body_bytes=_number(env, "MOTCUA_MAX_BODY_BYTES", int, 256 * 1024, 1024, 6 * 1024 * 1024),
        idempotency_ttl_seconds=_number(env, "MOTCUA_IDEMPOTENCY_TTL", int, 24 * 3600, 60, 30 * 24 * 3600),
        cursor_secret=_cursor_secret(env, auth_mode),
        # Bounded waits on DynamoDB: attempts x read timeout stays well under 10 s, so a request answers 503
        # while the database is unreachable instead of hanging until API Gateway gives up.
        db_connect_timeout=_number(env, "MOTCUA_DB_CONNECT_TIMEOUT", float, 1.0, 0.1, 10.0),
        db_read_timeout=_number(env, "MOTCUA_DB_READ_TIMEOUT", float, 2.0, 0.1, 10.0),
        db_max_retries=_number(env, "MOTCUA_DB_MAX_RETRIES", int, 1, 0, 5),
        retry_after_seconds=_number(env, "MOTCUA_RETRY_AFTER", int, 5, 1, 3600),
    )


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip() for o in raw.split(",") if o.strip())
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise SettingsError(f"MOTCUA_CORS_ORIGINS: {origin!r} is not an origin like https://motcua.example.gov.vn")
    return origins


def _number(env: Mapping[str, str], name: str, kind: Callable[[str], T], default: T, low: T, high: T) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw.strip())
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r}: expected a number") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r}: expected {low} to {high}")
    return value


def _cursor_secret(env: Mapping[str, str], auth_mode: str) -> bytes:
    """The key list cursors are signed with. Every Lambda container must share it, so outside the local
    stack it is required; locally a per-process random key is enough (cursors live for one listing)."""
    secret = env.get("MOTCUA_CURSOR_SECRET", "")
    if secret:
        if len(secret) < _MIN_SECRET_LENGTH:
            raise SettingsError(f"MOTCUA_CURSOR_SECRET: at least {_MIN_SECRET_LENGTH} characters")
        return secret.encode("utf-8")
    if auth_mode != "local" or env.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise SettingsError("MOTCUA_CURSOR_SECRET: required outside the local stack (at least "
                            f"{_MIN_SECRET_LENGTH} random characters, the same for every container of a stage)")
    return os.urandom(32)


def schemas_dir() -> Path:
    """The JSON Schemas. They live in chalicelib/ so that `chalice package` ships them with the code;
    the top-level `schemas` is a link to this folder."""
    return Path(__file__).resolve().parent / "schemas"
