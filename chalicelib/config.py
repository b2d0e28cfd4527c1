"""Settings from the environment, read once per Lambda container."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    table_prefix: str
    auth_mode: str  # "local" (a key file) or "jwks" (a JWKS URL: Cognito or any OIDC issuer)
    local_jwks_path: str
    jwks_url: str
    jwt_issuer: str
    jwt_audience: str
    unit_claim: str
    roles_claim: str
    cors_origins: tuple[str, ...]
    max_body_bytes: int
    idempotency_ttl_seconds: int

    def table(self, name: str) -> str:
        return f"{self.table_prefix}-{name}"


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ.get
    return Settings(
        table_prefix=env("MOTCUA_TABLE_PREFIX", "motcua-local"),
        auth_mode=env("MOTCUA_AUTH_MODE", "local"),
        local_jwks_path=env("MOTCUA_LOCAL_JWKS", str(PROJECT_ROOT / ".local" / "keys" / "jwks.json")),
        jwks_url=env("MOTCUA_JWKS_URL", ""),
        jwt_issuer=env("MOTCUA_JWT_ISSUER", "motcua-local"),
        jwt_audience=env("MOTCUA_JWT_AUDIENCE", "motcua"),
        unit_claim=env("MOTCUA_UNIT_CLAIM", "unit"),
        roles_claim=env("MOTCUA_ROLES_CLAIM", "roles"),
        cors_origins=tuple(o.strip() for o in env("MOTCUA_CORS_ORIGINS", "http://localhost:3000").split(",")
                           if o.strip()),
        max_body_bytes=int(env("MOTCUA_MAX_BODY_BYTES", str(256 * 1024))),
        idempotency_ttl_seconds=int(env("MOTCUA_IDEMPOTENCY_TTL", str(24 * 3600))),
    )


def schemas_dir() -> Path:
    """The JSON Schemas. They live in chalicelib/ so that `chalice package` ships them with the code;
    the top-level `schemas` is a link to this folder."""
    return Path(__file__).resolve().parent / "schemas"
