"""One verification path: keys from a JWKS URL (as Cognito publishes them) or from a local JWKS file."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from chalicelib.adapters.tokens import InvalidToken, JwksFileKeys, JwksUrlKeys, TokenVerifier
from scripts import local_keys


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    key_dir = tmp_path_factory.mktemp("keys")
    return key_dir, local_keys.ensure_keys(key_dir)


@pytest.fixture(scope="module")
def jwks_url(keys):
    body = keys[1].read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            """Keep the test output free of access-log lines."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


def cognito_style_token(key_dir, **claims):
    private = (key_dir / "private.pem").read_bytes()
    now = int(time.time())
    base = {"sub": "cv.binh", "custom:unit": "000.00.11.H56", "cognito:groups": ["processor", "leader"],
            "iss": "https://issuer.example", "aud": "client-1", "iat": now, "exp": now + 300}
    return jwt.encode({**base, **claims}, private, algorithm="RS256", headers={"kid": local_keys.KID})


def test_jwks_url_and_file_verify_the_same_token(keys, jwks_url):
    key_dir, jwks_path = keys
    token = cognito_style_token(key_dir)
    for source in (JwksUrlKeys(jwks_url), JwksFileKeys(jwks_path)):
        verifier = TokenVerifier(source, "https://issuer.example", "client-1", "custom:unit", "cognito:groups")
        actor = verifier.verify(token)
        assert (actor.subject, actor.unit, actor.roles) == ("cv.binh", "000.00.11.H56",
                                                            frozenset({"processor", "leader"}))


@pytest.mark.parametrize("claims", [{"exp": 1}, {"aud": "other"}, {"iss": "https://evil"}, {"custom:unit": None}])
def test_expired_foreign_or_incomplete_tokens_are_refused(keys, jwks_url, claims):
    key_dir, _ = keys
    verifier = TokenVerifier(JwksUrlKeys(jwks_url), "https://issuer.example", "client-1", "custom:unit",
                             "cognito:groups")
    with pytest.raises(InvalidToken):
        verifier.verify(cognito_style_token(key_dir, **claims))


def test_a_token_signed_by_another_key_is_refused(keys, tmp_path):
    other_dir = tmp_path / "other"
    local_keys.ensure_keys(other_dir)
    verifier = TokenVerifier(JwksFileKeys(keys[1]), "https://issuer.example", "client-1", "custom:unit",
                             "cognito:groups")
    with pytest.raises(InvalidToken):
        verifier.verify(cognito_style_token(other_dir))
    assert json.loads(keys[1].read_text())["keys"][0]["kid"] == local_keys.KID


def _verifier(keys):
    return TokenVerifier(JwksFileKeys(keys[1]), "https://issuer.example", "client-1", "custom:unit",
                         "cognito:groups")


@pytest.mark.parametrize(("claims", "named"), [
    ({"cognito:groups": 7}, "cognito:groups"),
    ({"cognito:groups": {"admin": True}}, "cognito:groups"),
    ({"cognito:groups": ["desk", 3]}, "cognito:groups"),
    ({"cognito:groups": ["desk", ["admin"]]}, "cognito:groups"),
    ({"cognito:groups": ["A\ud800"]}, "cognito:groups"),
    ({"custom:unit": 56}, "custom:unit"),
    ({"custom:unit": ["000.00.11.H56"]}, "custom:unit"),
    ({"custom:unit": "x" * 3000}, "custom:unit"),
    ({"sub": 12}, "sub"),
    ({"sub": {"id": "x"}}, "sub"),
    ({"sub": "A\ud800"}, "sub"),
    ({"name": ["An"]}, "name"),
])
def test_claims_of_the_wrong_type_are_refused_naming_the_claim(keys, claims, named):
    with pytest.raises(InvalidToken, match=f"claim {named}"):
        _verifier(keys).verify(cognito_style_token(keys[0], **claims))


def test_an_object_of_roles_never_becomes_role_names(keys):
    with pytest.raises(InvalidToken):
        _verifier(keys).verify(cognito_style_token(keys[0], **{"cognito:groups": {"admin": True}}))


def test_roles_may_be_one_comma_or_space_separated_string(keys):
    actor = _verifier(keys).verify(cognito_style_token(keys[0], **{"cognito:groups": "desk, processor leader"}))
    assert actor.roles == frozenset({"desk", "processor", "leader"})


def access_token(key_dir, **claims):
    """A Cognito access token: the client in client_id, no aud."""
    private = (key_dir / "private.pem").read_bytes()
    now = int(time.time())
    base = {"sub": "cv.binh", "custom:unit": "000.00.11.H56", "cognito:groups": ["processor"], "token_use": "access",
            "client_id": "client-1", "iss": "https://issuer.example", "iat": now, "exp": now + 300}
    return jwt.encode({**base, **claims}, private, algorithm="RS256", headers={"kid": local_keys.KID})


def test_cognito_id_and_access_tokens_are_both_accepted_for_the_configured_client(keys):
    verifier = _verifier(keys)
    id_token = cognito_style_token(keys[0], token_use="id")
    assert verifier.verify(id_token).unit == verifier.verify(access_token(keys[0])).unit == "000.00.11.H56"


@pytest.mark.parametrize(("token", "named"), [
    (lambda d: access_token(d, client_id="other-client"), "client_id"),
    (lambda d: access_token(d, client_id=None, aud="client-1"), "client_id"),  # access tokens name it client_id
    (lambda d: cognito_style_token(d, token_use="id", aud="other-client"), "aud"),
    (lambda d: cognito_style_token(d, token_use="refresh"), "token_use"),
])
def test_the_client_id_is_checked_for_either_kind_and_the_error_says_what_is_expected(keys, token, named):
    with pytest.raises(InvalidToken) as error:
        _verifier(keys).verify(token(keys[0]))
    message = str(error.value)
    assert f"claim {named}" in message
    assert "ID token (token_use id) with aud client-1" in message and "client_id client-1" in message


def test_an_unreachable_jwks_url_is_unavailable_not_an_invalid_token(keys):
    import socket

    from chalicelib.adapters.tokens import KeysUnavailable

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks.json"
        verifier = TokenVerifier(JwksUrlKeys(url, timeout_seconds=0.5), "https://issuer.example", "client-1",
                                 "custom:unit", "cognito:groups")
        started = time.monotonic()
        with pytest.raises(KeysUnavailable):
            verifier.verify(cognito_style_token(keys[0]))
        assert time.monotonic() - started < 5
