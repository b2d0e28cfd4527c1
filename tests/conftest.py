"""One DynamoDB Local for the whole run, started before any test imports the app.

The models read their table names and the endpoint when imported, so the environment is set in
pytest_configure. Unit tests do not touch it; integration, API and e2e tests share it.

Tests drive the app with `chalice.test.Client(app, stage_name="local")`: the client's default stage is `dev`, whose
environment (jwks auth, AWS settings) it would swap into os.environ around every request.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts import dynamodb_local, local_keys, s3_local

_state: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    port = dynamodb_local.free_port()
    _state["ddb"] = dynamodb_local.start(port)
    os.environ.update(dynamodb_local.local_environment(port, "motcua-test"))
    # The local S3 server for the dossiers' files (scripts/s3_local.py), on its own free port and directory.
    s3_dir = Path(tempfile.mkdtemp(prefix="motcua-s3-"))
    _state["s3_dir"] = s3_dir
    s3_port = dynamodb_local.free_port()
    _state["s3"] = s3_local.start(s3_port, s3_dir, "motcua-test-files")
    os.environ.update(s3_local.local_environment(s3_port, "motcua-test-files"))
    key_dir = Path(tempfile.mkdtemp(prefix="motcua-keys-"))
    _state["keys"] = key_dir
    os.environ["MOTCUA_AUTH_MODE"] = "local"
    os.environ["MOTCUA_LOCAL_JWKS"] = str(local_keys.ensure_keys(key_dir))
    os.environ["MOTCUA_CORS_ORIGINS"] = "https://motcua.thanhhoa.gov.vn,http://localhost:3000"
    os.environ.setdefault("TZ", "UTC")

    from scripts.seed import load_catalogue

    load_catalogue()


def pytest_unconfigure(config: pytest.Config) -> None:
    process = _state.pop("ddb", None)
    if process is not None:
        dynamodb_local.stop(process)  # type: ignore[arg-type]
    s3 = _state.pop("s3", None)
    if s3 is not None:
        s3_local.stop(s3)  # type: ignore[arg-type]
    s3_dir = _state.pop("s3_dir", None)
    if s3_dir is not None:
        shutil.rmtree(s3_dir, ignore_errors=True)  # type: ignore[arg-type]
    key_dir = _state.pop("keys", None)
    if key_dir is not None:
        shutil.rmtree(key_dir, ignore_errors=True)  # type: ignore[arg-type]


@pytest.fixture
def token() -> Callable[..., str]:
    def make(unit: str, *roles: str, sub: str | None = None) -> str:
        return local_keys.make_token(unit, list(roles or ("desk",)), sub, key_dir=_state["keys"])  # type: ignore[arg-type]

    return make


@pytest.fixture
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def headers(unit: str, *roles: str, sub: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(unit, *roles, sub=sub)}", "Content-Type": "application/json"}

    return headers


@pytest.fixture
def frozen_now() -> Iterator[Callable[[object], None]]:
    """Set the service clock; restored after the test."""
    from chalicelib import bootstrap

    def set_now(instant: object) -> None:
        bootstrap.override(now=lambda: instant)

    yield set_now
    bootstrap.override()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every botocore call this test makes, by operation; each item a transaction puts counts as
    `put:<table without the stage prefix>` (dossiers, dossier-history, outbox, late-steps ...)."""
    from botocore.client import BaseClient

    seen: Counter[str] = Counter()
    original = BaseClient._make_api_call
    prefix = os.environ["MOTCUA_TABLE_PREFIX"] + "-"

    def counted(self: BaseClient, operation_name: str, params: dict) -> object:
        seen[operation_name] += 1
        if operation_name == "TransactWriteItems":
            seen.update(f"put:{item['Put']['TableName'].removeprefix(prefix)}" for item in params["TransactItems"])
        return original(self, operation_name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return seen
