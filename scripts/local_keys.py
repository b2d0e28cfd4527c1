"""A local signing key (as a JWKS) and tokens signed with it, for the local stack and tests.

    python scripts/local_keys.py token --unit 000.00.24.H56 --roles desk,processor [--sub name]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY_DIR = Path(os.environ.get("MOTCUA_LOCAL_KEY_DIR", ROOT / ".local" / "keys"))
KID = "motcua-local-1"
ISSUER = "motcua-local"
AUDIENCE = "motcua"


def ensure_keys(key_dir: Path = KEY_DIR) -> Path:
    """Create an RSA key pair once; return the path of the public JWKS."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    private_path, jwks_path = key_dir / "private.pem", key_dir / "jwks.json"
    if private_path.exists() and jwks_path.exists():
        return jwks_path
    key_dir.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    private_path.chmod(0o600)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": KID, "use": "sig", "alg": "RS256"})
    jwks_path.write_text(json.dumps({"keys": [public]}, indent=2))
    return jwks_path


def make_token(unit: str, roles: list[str], subject: str | None = None, hours: float = 12,
               key_dir: Path = KEY_DIR, name: str | None = None) -> str:
    import jwt

    ensure_keys(key_dir)
    now = int(time.time())
    claims = {"sub": subject or f"{roles[0] if roles else 'officer'}@{unit}", "unit": unit, "roles": roles,
              "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + int(hours * 3600)}
    if name:
        claims["name"] = name  # the display name (Cognito's `name` attribute: infra/cognito.yaml)
    private = (key_dir / "private.pem").read_bytes()
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": KID})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token", help="print a bearer token for local use")
    token.add_argument("--unit", required=True)
    token.add_argument("--roles", default="desk")
    token.add_argument("--sub", default=None)
    token.add_argument("--hours", type=float, default=12)
    token.add_argument("--name", default=None, help="the officer's display name (the name claim)")
    sub.add_parser("keys", help="create the local key pair if missing")
    args = parser.parse_args()
    if args.command == "keys":
        print(ensure_keys())
        return
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    print(make_token(args.unit, roles, args.sub, args.hours, name=args.name))


if __name__ == "__main__":
    main()
