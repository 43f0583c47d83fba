"""A Supabase project's signing world for token-verifier tests: keys generated
here, the project's JWKS served in Supabase's format through
`httpx.MockTransport`, a settable clock, and ways to forge and alter tokens."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from shared.auth import AuthError, TokenVerifier

PROJECT = "https://abcdefghijklmnop.supabase.co"
ISSUER = f"{PROJECT}/auth/v1"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
NOW = 1_750_000_000
SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
EC_KID = "3a18cfe2-7226-43b0-bbb4-7c5242f2406e"
RSA_KID = "b5e1f1d4-55a3-4e51-9f7f-3d0c2a6a9c11"
ED_KID = "0d2f6f0e-1a0b-4b8a-9a31-0c7f3e9d2b44"
USER_ID = "ef0493c9-3582-425f-a362-aef909588df7"
SESSION_ID = "5b1d0c8e-0f7a-4d8e-9c2b-6a1e3f4d5c6b"

EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()
ATTACKER_EC_KEY = ec.generate_private_key(ec.SECP256R1())


def supabase_jwk(jwk: dict[str, Any], kid: str, alg: str) -> dict[str, Any]:
    """A public key as Supabase's discovery endpoint lists it."""
    return {**jwk, "kid": kid, "alg": alg, "use": "sig", "key_ops": ["verify"], "ext": True}


EC_JWK = supabase_jwk(ECAlgorithm.to_jwk(EC_KEY.public_key(), as_dict=True), EC_KID, "ES256")
RSA_JWK = supabase_jwk(RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True), RSA_KID, "RS256")
ED_JWK = supabase_jwk(OKPAlgorithm.to_jwk(ED_KEY.public_key(), as_dict=True), ED_KID, "EdDSA")
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


class Clock:
    """Epoch seconds that only move when a test moves them."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeJwks:
    """Supabase's JWKS endpoint: counts requests; a test may swap keys or break it."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.requests: list[httpx.Request] = []
        self.status = 200
        self.body: bytes | None = None
        self.error: Exception | None = None
        self.delay_s = 0.0
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        assert str(request.url) == JWKS_URL
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        if self.body is not None:
            return httpx.Response(self.status, content=self.body)
        return httpx.Response(self.status, json={"keys": self.keys})

    @property
    def fetches(self) -> int:
        return len(self.requests)


@dataclass
class Env:
    jwks: FakeJwks
    clock: Clock
    verifier: TokenVerifier


def make_env(*, secret: str | None = None, url: str = PROJECT, cache_s: float = 600) -> Env:
    jwks = FakeJwks([EC_JWK, RSA_JWK, ED_JWK])
    clock = Clock()
    http = httpx.Client(transport=httpx.MockTransport(jwks))
    verifier = TokenVerifier(url, jwt_secret=secret, http=http, cache_s=cache_s, clock=clock)
    return Env(jwks, clock, verifier)


def claims(**changes: Any) -> dict[str, Any]:
    """A Supabase access token payload; a change to None removes the claim."""
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "sub": USER_ID,
        "aud": "authenticated",
        "exp": NOW + 3600,
        "iat": NOW,
        "email": "ada@example.com",
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {"email_verified": True},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": NOW}],
        "session_id": SESSION_ID,
        "is_anonymous": False,
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def es256(payload: dict[str, Any] | None = None, **headers: Any) -> str:
    return jwt.encode(
        payload or claims(), EC_KEY, algorithm="ES256", headers={"kid": EC_KID, **headers}
    )


def rs256(payload: dict[str, Any] | None = None, **headers: Any) -> str:
    return jwt.encode(
        payload or claims(), RSA_KEY, algorithm="RS256", headers={"kid": RSA_KID, **headers}
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def hs256_forged(key: bytes, header: dict[str, Any] | None = None, **changes: Any) -> str:
    """An HS256 token MAC'd by hand (PyJWT refuses public keys as HMAC secrets)."""
    signing_input = (
        f"{segment(header or {'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims(**changes))}"
    )
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def unsigned(header: dict[str, Any]) -> str:
    return f"{segment(header)}.{segment(claims())}."


def swap_payload(token: str, **changes: Any) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{segment(claims(**changes))}.{signature}"


def swap_header(token: str, header: dict[str, Any]) -> str:
    _, payload, signature = token.split(".")
    return f"{segment(header)}.{payload}.{signature}"


def with_embedded_jwk(kid: str) -> str:
    """Signed by the attacker's key, which the header offers as the verifying key."""
    public = ECAlgorithm.to_jwk(ATTACKER_EC_KEY.public_key(), as_dict=True)
    return jwt.encode(
        claims(), ATTACKER_EC_KEY, algorithm="ES256", headers={"kid": kid, "jwk": public}
    )


Case = Callable[[], str]


def attack(
    case_id: str, make: Case, error: type[AuthError], reason: str, secret: str | None = None
) -> Any:
    """One row: the token, the error it must raise, and the check that must catch it."""
    return pytest.param(make, error, reason, secret, id=case_id)


def legacy_api_key(role: str) -> str:
    """The legacy `anon` / `service_role` API keys are JWTs signed with the project secret."""
    payload = {"iss": "supabase", "ref": "abcdefghijklmnop", "role": role, "iat": NOW}
    return jwt.encode({**payload, "exp": NOW + 10**9}, SECRET, algorithm="HS256")


BAD_SIG = "signature does not match"
ALG = "algorithm .* is not accepted"
RSA_PEM_HEADER = {"alg": "HS256", "kid": RSA_KID}
EC_JWK_JSON = json.dumps(EC_JWK).encode()
OTHER_SECRET = b"another-projects-secret-of-enough-length!!"
