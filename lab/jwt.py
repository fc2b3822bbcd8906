# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PS256 tokens for the lab: one RSA key per lab state, its JWKS, and a minting helper.

TokenSmith (a lab service) is given this key and serves its JWKS, which every lab service checks; it signs
PS256, so the lab does too.

The key lives in ``<state>/jwt/signing-key.pem``; its ``kid`` is the RFC 7638 thumbprint
of the public key, so tokens and the JWKS always agree. Usage::

    python -m lab.jwt mint [--expired] [--audience X] [--lifetime SECONDS]
    python -m lab.jwt jwks
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "https://lab.openchami.local"
AUDIENCE = "smd"
AUDIENCES = ("smd", "hsm", "bss", "boot-service", "cloud-init", "metadata-service", "power-control")
SUBJECT = "lab-admin"
SCOPES = ["smd.read", "smd.write", "bss.read", "bss.write", "cloud-init.read", "cloud-init.write", "pcs.read", "pcs.write"]
SESSION_MAX = 86400  # TokenSmith refuses session_exp more than 24 h after iat
LONG_LIFETIME = 30 * 24 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def key_path(state_dir: Path | str) -> Path:
    """Where the lab's signing key is kept."""
    return Path(state_dir) / "jwt" / "signing-key.pem"


def load_key(state_dir: Path | str) -> rsa.RSAPrivateKey:
    """The lab's RSA signing key, created on first use."""
    path = key_path(state_dir)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(tmp, path)
    return key


def public_jwk(key: rsa.RSAPrivateKey) -> dict:
    """The public half of ``key`` as a JWK with its thumbprint as ``kid``."""
    numbers = key.public_key().public_numbers()
    core = {"e": _int_b64(numbers.e), "kty": "RSA", "n": _int_b64(numbers.n)}
    kid = _b64(hashlib.sha256(json.dumps(core, separators=(",", ":"), sort_keys=True).encode()).digest())
    return dict(core, kid=kid, alg="PS256", use="sig")


def jwks(state_dir: Path | str) -> dict:
    """The JWKS document the lab serves."""
    return {"keys": [public_jwk(load_key(state_dir))]}


def write_pkcs1(state_dir: Path | str, path: Path) -> None:
    """The lab key in PKCS#1 PEM (the form TokenSmith reads), written to ``path`` (mode 0600)."""
    pem = load_key(state_dir).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def sign(key: rsa.RSAPrivateKey, claims: dict, kid: str | None = None, alg: str = "PS256") -> str:
    """A compact JWS of ``claims`` signed with ``key`` (PS256 as TokenSmith signs; RS256 on request)."""
    header = {"alg": alg, "typ": "JWT", "kid": kid if kid is not None else public_jwk(key)["kid"]}
    signing_input = _b64(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        _b64(json.dumps(claims, separators=(",", ":")).encode())
    pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
    signature = key.sign(signing_input.encode("ascii"), pad, hashes.SHA256())
    return signing_input + "." + _b64(signature)


def claims_for(audience: str | list | None = None, lifetime: int = 3600, expired: bool = False,
               subject: str = SUBJECT, issuer: str = ISSUER, extra: dict | None = None) -> dict:
    """Standard lab claims; ``expired`` gives a token that expired an hour ago."""
    now = int(time.time())
    if expired:
        issued, expires = now - 7200, now - 3600
    else:
        issued, expires = now - 30, now + lifetime
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": list(AUDIENCES) if audience is None else audience,
        "iat": issued,
        "nbf": issued,
        "exp": expires,
        "jti": str(uuid.uuid4()),
        # TokenSmith (SMD -auth-backend tokensmith) parses scope as a list and requires these NIST claims.
        "scope": list(SCOPES),
        "auth_level": "IAL2",
        "auth_factors": 2,
        "auth_methods": ["password", "totp"],
        "session_id": str(uuid.uuid4()),
        "session_exp": issued + SESSION_MAX,
        "auth_events": ["login"],
        "name": "Lab Administrator",
        "email": "lab-admin@lab.openchami.local",
        "groups": ["admin"],
        "roles": ["admin"],
    }
    claims.update(extra or {})
    return claims


def mint(state_dir: Path | str, audience: str | list | None = None, lifetime: int = 3600,
         expired: bool = False, extra: dict | None = None, foreign_key: bool = False) -> str:
    """A token signed with the lab key (or, with ``foreign_key``, a throw-away key under the lab's kid)."""
    key = load_key(state_dir)
    kid = public_jwk(key)["kid"]
    if foreign_key:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return sign(key, claims_for(audience, lifetime, expired, extra=extra), kid=kid)


def decode_unverified(token: str) -> tuple[dict, dict]:
    """(header, claims) of ``token`` without checking anything (for tests and debugging)."""
    parts = token.split(".")

    def part(index: int) -> dict:
        raw = parts[index] + "=" * (-len(parts[index]) % 4)
        return json.loads(base64.urlsafe_b64decode(raw))
    return part(0), part(1)


def main(argv: list[str] | None = None) -> int:
    """Command line: mint a token or print the JWKS."""
    parser = argparse.ArgumentParser(prog="python -m lab.jwt", description=__doc__.splitlines()[0])
    parser.add_argument("--state", default=os.environ.get("LAB_STATE") or str(Path(__file__).resolve().parent.parent / "lab-state"))
    sub = parser.add_subparsers(dest="command", required=True)
    mint_p = sub.add_parser("mint", help="print a signed token")
    mint_p.add_argument("--audience", action="append", help="audience (repeatable; default: all lab services)")
    mint_p.add_argument("--lifetime", type=int, default=3600)
    mint_p.add_argument("--expired", action="store_true")
    sub.add_parser("jwks", help="print the JWKS")
    args = parser.parse_args(argv)
    if args.command == "jwks":
        json.dump(jwks(args.state), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        audience = args.audience[0] if args.audience and len(args.audience) == 1 else args.audience
        sys.stdout.write(mint(args.state, audience, args.lifetime, args.expired) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def still_fresh(state_dir: Path | str, token: str, margin: int = 12 * 3600) -> bool:
    """Whether ``token`` was signed with the lab's current key and has ``margin`` seconds left before its
    session ends (TokenSmith refuses a token past ``session_exp``, 24 h after it was issued)."""
    try:
        header, payload = [json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
                           for part in token.strip().split(".")[:2]]
    except (ValueError, TypeError):
        return False
    jwk = public_jwk(load_key(state_dir))
    if header.get("kid") != jwk["kid"] or header.get("alg") != jwk["alg"]:
        return False
    ends = min(payload.get("exp") or 0, payload.get("session_exp") or 0)
    return ends - time.time() > margin
