"""Secrets named as SSM SecureString parameters (moto's SSM): read with Powertools Parameters, kept for a few
minutes, rotated without a deploy; literal values (the local stack) need no SSM; an unreadable one is a 503."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest

from chalicelib.adapters import secrets
from chalicelib.adapters.dynamodb import cursors
from chalicelib.config import SettingsError, load, settings
from chalicelib.domain.errors import DomainError

NAME = "/motcua-test/cursor-secret"


@pytest.fixture
def ssm(monkeypatch) -> Iterator[object]:
    from moto import mock_aws

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
    secrets.forget()
    with mock_aws():
        import boto3

        yield boto3.client("ssm", region_name="ap-southeast-1")
    secrets.forget()


def test_settings_take_a_parameter_name_or_a_literal_and_refuse_a_bad_name():
    named = load({"MOTCUA_CURSOR_SECRET": f"ssm:{NAME}", "MOTCUA_PORTAL_TOKEN": "ssm:/motcua-test/portal-token"})
    assert named.cursor_secret_parameter == f"ssm:{NAME}" and named.portal.token == "ssm:/motcua-test/portal-token"
    literal = load({"MOTCUA_CURSOR_SECRET": "x" * 40})
    assert literal.cursor_secret == b"x" * 40 and literal.cursor_secret_parameter == ""
    for name in ("MOTCUA_CURSOR_SECRET", "MOTCUA_PORTAL_TOKEN"):
        with pytest.raises(SettingsError, match=f"^{name}"):
            load({name: "ssm:no-slash"})


def test_the_cursor_secret_is_read_from_ssm_kept_and_rotated_without_a_deploy(ssm, monkeypatch):
    ssm.put_parameter(Name=NAME, Type="SecureString", Value="a" * 40)  # type: ignore[attr-defined]
    configured = replace(settings(), cursor_secret=b"", cursor_secret_parameter=f"ssm:{NAME}")
    monkeypatch.setattr(cursors, "settings", lambda: configured)
    listing = cursors.fingerprint("dossiers", "unit")
    cursor = cursors.encode({"code": {"S": "X"}}, listing)
    assert cursors.decode(cursor, listing, ["code"], "code") == {"code": {"S": "X"}}
    ssm.put_parameter(Name=NAME, Type="SecureString", Value="b" * 40, Overwrite=True)  # type: ignore[attr-defined]
    assert cursors.decode(cursor, listing, ["code"], "code") == {"code": {"S": "X"}}  # kept for MAX_AGE_SECONDS
    secrets.forget()  # what MAX_AGE_SECONDS does: the next read sees the rotated secret
    with pytest.raises(DomainError) as caught:
        cursors.decode(cursor, listing, ["code"], "code")
    assert caught.value.details[0].field == "cursor"  # signed with the old secret: list again from the start
    fresh = cursors.encode({"code": {"S": "Y"}}, listing)
    assert cursors.decode(fresh, listing, ["code"], "code") == {"code": {"S": "Y"}}


def test_a_missing_or_too_short_secret_is_a_503_naming_the_setting_never_the_value(ssm, monkeypatch):
    configured = replace(settings(), cursor_secret=b"", cursor_secret_parameter=f"ssm:{NAME}")
    monkeypatch.setattr(cursors, "settings", lambda: configured)
    with pytest.raises(DomainError) as caught:
        cursors.encode({"code": {"S": "X"}}, b"l")
    assert caught.value.code == "unavailable"
    ssm.put_parameter(Name=NAME, Type="SecureString", Value="short")  # type: ignore[attr-defined]
    secrets.forget()
    with pytest.raises(DomainError) as caught:
        cursors.encode({"code": {"S": "X"}}, b"l")
    assert caught.value.code == "unavailable" and "MOTCUA_CURSOR_SECRET" in str(caught.value)
    assert "short" not in str(caught.value)


def test_a_literal_needs_no_ssm():
    assert secrets.resolve("plain-token") == "plain-token"


def test_the_portal_token_is_read_from_ssm_and_a_rotation_reaches_the_worker(ssm):
    from chalicelib.adapters.portal_client import HttpPortalClient
    from chalicelib.config import PortalSettings
    from chalicelib.services.ports import PortalError
    from scripts.fake_portal import FakePortal

    ssm.put_parameter(Name="/motcua-test/portal-token", Type="SecureString", Value="old")  # type: ignore[attr-defined]
    with FakePortal(token="new") as portal:
        client = HttpPortalClient(PortalSettings(base_url=portal.url, token="ssm:/motcua-test/portal-token",
                                                 connect_timeout=1, read_timeout=1))
        with pytest.raises(PortalError, match="HTTP 401"):
            client.send("DongBoHoSoMC", {"MaHoSo": "X"}, "k-1")
        ssm.put_parameter(Name="/motcua-test/portal-token", Type="SecureString", Value="new",  # type: ignore[attr-defined]
                          Overwrite=True)
        secrets.forget()
        client.send("DongBoHoSoMC", {"MaHoSo": "X"}, "k-2")
        assert [e["key"] for e in portal.acknowledged] == ["k-2"]
        ssm.delete_parameter(Name="/motcua-test/portal-token")  # type: ignore[attr-defined]
        secrets.forget()
        with pytest.raises(PortalError, match="cannot be read now"):  # a failed try, retried after the backoff
            client.send("DongBoHoSoMC", {"MaHoSo": "X"}, "k-3")
