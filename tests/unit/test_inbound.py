"""Inbound sources, the signature scheme and the settings that name the sources (pure, no database)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from chalicelib.config import SettingsError, load
from chalicelib.domain.catalogue import Unit, UnitTree
from chalicelib.domain.errors import DomainError
from chalicelib.domain.inbound import Source, SourceConfigError, check_type, message_key, parse_sources

# The Standard Webhooks specification's own example (standard-webhooks, libraries' test suites).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def source(**changes: object) -> dict[str, object]:
    return {"id": "vnpay", "kind": "payment_gateway", "secrets": [SECRET], "units": ["000.00.00.H56"], **changes}


def test_the_scheme_is_hmac_sha256_over_id_timestamp_body_with_the_secrets_bytes():
    key = base64.b64decode(SPEC_SECRET.removeprefix("whsec_"))
    by_hand = hmac.new(key, f"{SPEC_ID}.{SPEC_TIMESTAMP}.{SPEC_BODY}".encode(), hashlib.sha256).digest()
    assert f"v1,{base64.b64encode(by_hand).decode()}" == SPEC_SIGNATURE


def test_the_library_signs_the_specifications_vector():
    from standardwebhooks import Webhook

    at = datetime.fromtimestamp(SPEC_TIMESTAMP, UTC)
    assert Webhook(SPEC_SECRET).sign(SPEC_ID, at, SPEC_BODY) == SPEC_SIGNATURE


def test_sources_parse_with_their_kind_scope_and_secrets():
    parsed = parse_sources({"sources": [source(), source(id="dvcqg", kind="national_portal", secrets=[SECRET, SECRET],
                                                      procedures=["2.001417"], name="Cổng DVC quốc gia")]})
    assert set(parsed) == {"vnpay", "dvcqg"}
    assert parsed["dvcqg"].procedures == ("2.001417",) and len(parsed["dvcqg"].secrets) == 2
    assert parsed["vnpay"].types == frozenset({"payment.confirmed"})
    assert SECRET not in repr(parsed["vnpay"]) and SECRET not in str(parsed)


@pytest.mark.parametrize(("entry", "named"), [
    (source(kind="bank"), "sources[0].kind"),
    (source(id="Bad Id"), "sources[0].id"),
    (source(id="rejected"), "sources[0].id"),
    (source(secrets=[]), "sources[0].secrets"),
    (source(secrets=[SECRET, SECRET, SECRET]), "sources[0].secrets"),
    (source(secrets=["not-a-whsec"]), "sources[0].secrets[0]"),
    (source(secrets=["whsec_" + base64.b64encode(b"short").decode()]), "sources[0].secrets[0]"),
    (source(secrets=["whsec_%%%%"]), "sources[0].secrets[0]"),
    (source(units=["thanh hoa"]), "sources[0].units[0]"),
    (source(units=[]), "sources[0].units"),
    (source(procedures=["1612"]), "sources[0].procedures[0]"),
    (source(extra=1), "sources[0]"),
    (source(name=["x"]), "sources[0].name"),
])
def test_a_bad_source_is_refused_naming_the_entry_and_field(entry, named):
    with pytest.raises(SourceConfigError) as caught:
        parse_sources({"sources": [entry]})
    assert str(caught.value).startswith(named)
    assert SECRET.removeprefix("whsec_") not in str(caught.value)


@pytest.mark.parametrize("document", [None, [], {"sources": {}}, {"other": []}])
def test_a_document_that_is_not_a_source_list_is_refused(document):
    with pytest.raises(SourceConfigError):
        parse_sources(document)


def test_an_id_configured_twice_is_refused():
    with pytest.raises(SourceConfigError, match=r"sources\[1\]\.id"):
        parse_sources({"sources": [source(), source()]})


def test_a_source_covers_its_units_subtrees_only():
    tree = UnitTree([Unit("P", "Tỉnh", "province"), Unit("C", "Trung tâm", "centre", parent="P"),
                     Unit("Q", "Xã", "commune", parent="C"), Unit("X", "Tỉnh khác", "province")])
    scoped = Source("s", "provincial_portal", (SECRET,), ("C",))
    assert scoped.covers("C", tree) and scoped.covers("Q", tree)
    assert not scoped.covers("P", tree) and not scoped.covers("X", tree) and not scoped.covers("nowhere", tree)


def test_a_kind_sends_only_its_types():
    gateway = Source("g", "payment_gateway", (SECRET,), ("P",))
    check_type(gateway, "payment.confirmed")
    with pytest.raises(DomainError) as caught:
        check_type(gateway, "dossier.submitted")
    assert caught.value.code == "action_not_allowed" and caught.value.details[0].field == "type"
    assert message_key("g", "msg_1") == "g#msg_1"


def test_final_refusals_answer_with_the_apis_own_status():
    from chalicelib.api.routing import STATUS_BY_CODE
    from chalicelib.services.inbound import FINAL_REFUSALS

    assert {code: STATUS_BY_CODE[code] for code in FINAL_REFUSALS} == FINAL_REFUSALS
    # What a retry may cure is never recorded as the message's answer.
    assert not {"version_conflict", "in_progress", "unavailable", "unauthorized"} & set(FINAL_REFUSALS)


# --- MOTCUA_INBOUND_SOURCES ------------------------------------------------------------------------------------
def test_a_sources_file_is_checked_at_start(tmp_path):
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"sources": [source()]}))
    assert load({"MOTCUA_INBOUND_SOURCES": str(path)}).inbound_sources == str(path)
    assert load({}).inbound_sources == ""
    path.write_text(json.dumps({"sources": [source(kind="bank")]}))
    with pytest.raises(SettingsError, match=r"MOTCUA_INBOUND_SOURCES=.*sources\[0\]\.kind"):
        load({"MOTCUA_INBOUND_SOURCES": str(path)})
    path.write_text("{not json")
    with pytest.raises(SettingsError, match="not a JSON document"):
        load({"MOTCUA_INBOUND_SOURCES": str(path)})
    with pytest.raises(SettingsError, match="cannot read the file"):
        load({"MOTCUA_INBOUND_SOURCES": str(tmp_path / "missing.json")})


def test_an_ssm_parameter_is_named_properly():
    assert load({"MOTCUA_INBOUND_SOURCES": "ssm:/motcua-prod/inbound-sources"}).inbound_sources.startswith("ssm:")
    for bad in ("ssm:", "ssm:motcua", "ssm:/a b"):
        with pytest.raises(SettingsError, match="MOTCUA_INBOUND_SOURCES"):
            load({"MOTCUA_INBOUND_SOURCES": bad})


def test_sources_are_read_from_an_ssm_secure_string_and_a_bad_one_is_a_503(monkeypatch):
    """The AWS way (moto's SSM): read on the first message, kept; an unusable parameter answers 503 and logs why."""
    import os
    from dataclasses import replace

    from moto import mock_aws

    from chalicelib.adapters import inbound_sources
    from chalicelib.config import settings

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
    configured = replace(settings(), inbound_sources="ssm:/motcua-test/inbound-sources")
    monkeypatch.setattr(inbound_sources, "settings", lambda: configured)
    inbound_sources.forget()
    with mock_aws():
        import boto3

        ssm = boto3.client("ssm", region_name="ap-southeast-1")
        ssm.put_parameter(Name="/motcua-test/inbound-sources", Type="SecureString",
                          Value=json.dumps({"sources": [source()]}))
        assert set(inbound_sources.configured_sources()) == {"vnpay"}
        ssm.put_parameter(Name="/motcua-test/inbound-sources", Type="SecureString", Overwrite=True,
                          Value=json.dumps({"sources": [source(kind="bank")]}))
        assert set(inbound_sources.configured_sources()) == {"vnpay"}  # kept for RELOAD_SECONDS
        inbound_sources.forget()
        with pytest.raises(DomainError) as caught:
            inbound_sources.configured_sources()
        assert caught.value.code == "unavailable"
        ssm.delete_parameter(Name="/motcua-test/inbound-sources")  # gone (or no permission): a 503, not a 500
        inbound_sources.forget()
        with pytest.raises(DomainError) as caught:
            inbound_sources.configured_sources()
        assert caught.value.code == "unavailable"
    inbound_sources.forget()
