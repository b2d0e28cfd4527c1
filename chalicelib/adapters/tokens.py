"""Bearer-token verification: one code path, keys from a JWKS URL (AWS) or a local JWKS file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import jwt

from ..domain.dossier import Actor

ALGORITHMS = ["RS256"]


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or signed by a key we do not trust."""


class KeySource(Protocol):
    def signing_key(self, token: str) -> Any: ...


class JwksUrlKeys:
    """Keys published by Cognito or any OIDC issuer; PyJWKClient caches them per container."""

    def __init__(self, url: str):
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)

    def signing_key(self, token: str) -> Any:
        return self._client.get_signing_key_from_jwt(token).key


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
    def __init__(self, keys: KeySource, issuer: str, audience: str, unit_claim: str, roles_claim: str):
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._unit_claim = unit_claim
        self._roles_claim = roles_claim

    def verify(self, token: str) -> Actor:
        try:
            claims = jwt.decode(
                token,
                self._keys.signing_key(token),
                algorithms=ALGORITHMS,
                issuer=self._issuer or None,
                audience=self._audience or None,
                options={"require": ["exp", "sub"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc
        unit = claims.get(self._unit_claim)
        roles = claims.get(self._roles_claim) or []
        if isinstance(roles, str):
            roles = [r.strip() for r in roles.replace(" ", ",").split(",") if r.strip()]
        if not isinstance(unit, str) or not unit:
            raise InvalidToken(f"the token has no {self._unit_claim} claim")
        return Actor(subject=str(claims["sub"]), unit=unit, roles=frozenset(map(str, roles)),
                     name=str(claims.get("name", "")))
