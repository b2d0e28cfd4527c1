"""Bearer-token verification: one code path, keys from a JWKS URL (AWS) or a local JWKS file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol, TypeGuard

import jwt

from ..domain.codes import is_agency_id
from ..domain.dossier import Actor
from ..domain.errors import DomainError, FieldProblem

ALGORITHMS = ["RS256"]


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or signed by a key we do not trust."""


class KeySource(Protocol):
    def signing_key(self, token: str) -> Any: ...


class KeysUnavailable(DomainError):
    """The issuer's keys could not be fetched: the caller may retry (HTTP 503), the token is not at fault."""

    def __init__(self, reason: str) -> None:
        super().__init__("the token issuer's keys could not be fetched; retry shortly",
                         [FieldProblem("authorization", reason)], "unavailable")


class JwksUrlKeys:
    """Keys published by Cognito or any OIDC issuer; PyJWKClient caches them per container."""

    def __init__(self, url: str, timeout_seconds: float = 3):
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=timeout_seconds)

    def signing_key(self, token: str) -> Any:
        try:
            return self._client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable(str(exc)) from exc


class JwksFileKeys:
    """The same JWKS format read from a file: the local stack and the tests."""

    def __init__(self, path: str | Path):
        self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(path).read_text()))

    def signing_key(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if key.key_id == kid:
                return key.key
        raise InvalidToken("unknown signing key")


class TokenVerifier:
    """Checks signature, expiry, issuer and the app client, then every claim the API uses by its type.

    Cognito issues two kinds of token for the same app client: ID tokens (`token_use: id`, the client id in
    `aud`) and access tokens (`token_use: access`, the client id in `client_id`, no `aud`). Both are accepted;
    tokens without `token_use` (other OIDC issuers, the local stack) must carry the client id in `aud`.
    """

    def __init__(self, keys: KeySource, issuer: str, audience: str, unit_claim: str, roles_claim: str):
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._unit_claim = unit_claim
        self._roles_claim = roles_claim

    def verify(self, token: str) -> Actor:
        claims = self._decode(token)
        self._check_client(claims)
        subject = claims.get("sub")
        if not _text(subject) or not subject.strip() or len(subject) > 256:
            raise InvalidToken("claim sub: expected a non-empty string")
        unit = claims.get(self._unit_claim)
        if not isinstance(unit, str) or not is_agency_id(unit):
            raise InvalidToken(f"claim {self._unit_claim}: expected a unit id string like 000.00.24.H56")
        name = claims.get("name", "")
        if not _text(name) or len(name) > 256:
            raise InvalidToken("claim name: expected a string of at most 256 characters")
        return Actor(subject=subject, unit=unit, roles=self._roles(claims), name=name)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                self._keys.signing_key(token),
                algorithms=ALGORITHMS,
                issuer=self._issuer or None,
                # aud is checked below, per token kind; sub by type below, so the error names the claim
                options={"require": ["exp", "sub"], "verify_aud": False, "verify_sub": False},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc
        if not isinstance(claims, dict):
            raise InvalidToken("the token's payload is not a JSON object")
        return claims

    def _check_client(self, claims: dict[str, Any]) -> None:
        if not self._audience:
            return
        expected = (f"an ID token (token_use id) with aud {self._audience} or an access token "
                    f"(token_use access) with client_id {self._audience}")
        token_use = claims.get("token_use")
        if token_use == "access":
            if claims.get("client_id") != self._audience:
                raise InvalidToken(f"claim client_id: expected {expected}")
            return
        if token_use not in (None, "id"):
            raise InvalidToken(f"claim token_use: expected {expected}")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._audience not in audiences:
            raise InvalidToken(f"claim aud: expected {expected}")

    def _roles(self, claims: dict[str, Any]) -> frozenset[str]:
        """A list of strings, or one string of comma/space-separated roles; anything else is refused, so an
        object such as {"admin": true} can never be read as role names."""
        roles = claims.get(self._roles_claim, [])
        if isinstance(roles, str):
            roles = [r for r in roles.replace(",", " ").split() if r]
        if not isinstance(roles, list) or not all(_text(r) and 0 < len(r) <= 64 for r in roles):
            raise InvalidToken(f"claim {self._roles_claim}: expected a list of role names (strings)")
        return frozenset(roles)


def _text(value: Any) -> TypeGuard[str]:
    """A string that can be stored: escaped lone surrogates ("\\ud800") decode to text UTF-8 cannot hold."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
