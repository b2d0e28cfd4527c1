"""The portal sync's settings (checked at start, naming the variable) and what counts as an acknowledgement."""

import pytest

from chalicelib.adapters.portal_client import _acknowledgement
from chalicelib.config import SettingsError, load
from chalicelib.services.ports import PortalError


def test_defaults_are_bounded_and_nothing_is_pushed_without_a_url():
    portal = load({}).portal
    assert (portal.base_url, portal.connect_timeout, portal.read_timeout) == ("", 2.0, 5.0)
    assert (portal.concurrency, portal.failing_after, portal.backoff_base, portal.backoff_cap) == (8, 5, 5.0, 900.0)


@pytest.mark.parametrize(("env", "named"), [
    ({"MOTCUA_PORTAL_URL": "http://dichvucong.gov.vn/api"}, "MOTCUA_PORTAL_URL"),  # plain http off loopback
    ({"MOTCUA_PORTAL_URL": "ftp://dichvucong.gov.vn"}, "MOTCUA_PORTAL_URL"),
    ({"MOTCUA_PORTAL_URL": "https://a b"}, "MOTCUA_PORTAL_URL"),
    ({"MOTCUA_PORTAL_URL": "https://user:pw@dichvucong.gov.vn"}, "MOTCUA_PORTAL_URL"),
    ({"MOTCUA_PORTAL_URL": "http://127.0.0.1:8002", "AWS_LAMBDA_FUNCTION_NAME": "f",
      "MOTCUA_CURSOR_SECRET": "x" * 32}, "MOTCUA_PORTAL_URL"),  # loopback only in the local stack
    ({"MOTCUA_PORTAL_READ_TIMEOUT": "0"}, "MOTCUA_PORTAL_READ_TIMEOUT"),
    ({"MOTCUA_PORTAL_CONNECT_TIMEOUT": "60"}, "MOTCUA_PORTAL_CONNECT_TIMEOUT"),
    ({"MOTCUA_PORTAL_CONCURRENCY": "1000"}, "MOTCUA_PORTAL_CONCURRENCY"),
    ({"MOTCUA_PORTAL_FAILING_AFTER": "x"}, "MOTCUA_PORTAL_FAILING_AFTER"),
])
def test_unusable_settings_are_refused_by_name(env, named):
    with pytest.raises(SettingsError, match=named):
        load(env)


def test_an_https_portal_and_a_local_fake_are_accepted():
    assert load({"MOTCUA_PORTAL_URL": "https://dichvucong.gov.vn/api/"}).portal.base_url == \
        "https://dichvucong.gov.vn/api"
    assert load({"MOTCUA_PORTAL_URL": "http://127.0.0.1:8002"}).portal.base_url == "http://127.0.0.1:8002"


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b'{"error_code": 1, "message": "MaTTHC sai"}',
                                 b'{"error_code": "E01"}'])
def test_an_answer_that_is_not_an_acknowledgement_raises(raw):
    with pytest.raises(PortalError):
        _acknowledgement("DongBoHoSoMC", raw)


def test_an_acknowledgement_keeps_only_the_portal_code_and_message():
    assert _acknowledgement("X", b'{"error_code": 0, "message": "OK", "data": {"x": 1}}') == \
        {"error_code": 0, "message": "OK"}
    assert _acknowledgement("X", b"") == {}
