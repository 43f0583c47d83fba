"""Access-token verification: the JWT attack table, key discovery and `bearer_token`.

Keys are generated here; the project's JWKS is served in Supabase's format
(`/auth/v1/.well-known/jwks.json`) through `httpx.MockTransport`, with a
settable clock, so no test touches the network or sleeps.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from pydantic import SecretStr

from shared.auth import (
    UNKNOWN_KID_REFETCH_S,
    AccessClaims,
    AuthError,
    AuthNotConfigured,
    AuthUnavailable,
    ExpiredToken,
    InvalidToken,
    MissingToken,
    TokenVerifier,
    bearer_token,
)
from shared.config import Settings

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


@pytest.fixture
def env() -> Env:
    return make_env()


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

ATTACKS = [
    # --- algorithm games: the key decides, never the header ------------------------
    attack("alg-none", lambda: unsigned({"alg": "none", "typ": "JWT"}), InvalidToken, ALG),
    attack(
        "alg-None-with-kid", lambda: unsigned({"alg": "None", "kid": EC_KID}), InvalidToken, ALG
    ),
    attack(
        "alg-none-keeping-sig", lambda: swap_header(es256(), {"alg": "none"}), InvalidToken, ALG
    ),
    attack("hs256-rsa-pem-no-secret", lambda: hs256_forged(RSA_PUBLIC_PEM), InvalidToken, "HS256"),
    attack(
        "hs256-rsa-pem-with-secret",
        lambda: hs256_forged(RSA_PUBLIC_PEM, RSA_PEM_HEADER),
        InvalidToken,
        BAD_SIG,
        SECRET,
    ),
    attack(
        "hs256-ec-jwk-with-secret",
        lambda: hs256_forged(EC_JWK_JSON, {"alg": "HS256", "kid": EC_KID}),
        InvalidToken,
        BAD_SIG,
        SECRET,
    ),
    attack(
        "hs256-no-secret-configured", lambda: hs256_forged(SECRET.encode()), InvalidToken, "HS256"
    ),
    attack("hs256-wrong-secret", lambda: hs256_forged(OTHER_SECRET), InvalidToken, BAD_SIG, SECRET),
    attack(
        "es256-with-rsa-kid", lambda: es256(kid=RSA_KID), InvalidToken, "says ES256 .* is RS256"
    ),
    attack("rs256-with-ec-kid", lambda: rs256(kid=EC_KID), InvalidToken, "says RS256 .* is ES256"),
    attack(
        "ps256-not-accepted",
        lambda: jwt.encode(claims(), RSA_KEY, algorithm="PS256", headers={"kid": RSA_KID}),
        InvalidToken,
        ALG,
    ),
    attack(
        "rs512-not-accepted",
        lambda: jwt.encode(claims(), RSA_KEY, algorithm="RS512", headers={"kid": RSA_KID}),
        InvalidToken,
        ALG,
    ),
    attack(
        "no-kid", lambda: jwt.encode(claims(), EC_KEY, algorithm="ES256"), InvalidToken, "no key id"
    ),
    # --- forged or altered -------------------------------------------------------
    attack(
        "tampered-payload",
        lambda: swap_payload(es256(), sub=str(uuid.uuid4())),
        InvalidToken,
        BAD_SIG,
    ),
    attack(
        "tampered-payload-rs256", lambda: swap_payload(rs256(), aal="aal2"), InvalidToken, BAD_SIG
    ),
    attack(
        "tampered-header",
        lambda: swap_header(es256(), {"alg": "ES256", "kid": EC_KID, "typ": "JWT", "x": 1}),
        InvalidToken,
        BAD_SIG,
    ),
    attack("signature-stripped", lambda: es256().rsplit(".", 1)[0] + ".", InvalidToken, BAD_SIG),
    attack(
        "foreign-key-with-project-kid",
        lambda: jwt.encode(claims(), ATTACKER_EC_KEY, algorithm="ES256", headers={"kid": EC_KID}),
        InvalidToken,
        BAD_SIG,
    ),
    attack(
        "jku-header", lambda: es256(jku="https://evil.example/jwks.json"), InvalidToken, "'jku'"
    ),
    attack("x5u-header", lambda: es256(x5u="https://evil.example/cert.pem"), InvalidToken, "'x5u'"),
    attack("embedded-jwk", lambda: with_embedded_jwk("attacker"), InvalidToken, "'jwk'"),
    attack("embedded-jwk-project-kid", lambda: with_embedded_jwk(EC_KID), InvalidToken, "'jwk'"),
    attack("crit-header", lambda: es256(crit=["exp"]), InvalidToken, "critical"),
    # --- time ------------------------------------------------------------------
    attack("expired-beyond-leeway", lambda: es256(claims(exp=NOW - 31)), ExpiredToken, "expired"),
    attack("nbf-in-future", lambda: es256(claims(nbf=NOW + 120)), InvalidToken, "nbf"),
    attack("iat-in-future", lambda: es256(claims(iat=NOW + 120)), InvalidToken, "iat"),
    attack("exp-not-a-number", lambda: es256(claims(exp=str(NOW + 60))), InvalidToken, "'exp'"),
    attack("exp-boolean", lambda: es256(claims(exp=True)), InvalidToken, "'exp'"),
    attack("exp-infinity", lambda: es256(claims(exp=float("inf"))), InvalidToken, "'exp'"),
    attack("exp-nan", lambda: es256(claims(exp=float("nan"))), InvalidToken, "'exp'"),
    # --- not this project, or not a user session -----------------------------------
    attack("wrong-aud", lambda: es256(claims(aud="anon")), InvalidToken, "audience"),
    attack("wrong-aud-list", lambda: es256(claims(aud=["other"])), InvalidToken, "audience"),
    attack(
        "wrong-iss",
        lambda: es256(claims(iss="https://other.supabase.co/auth/v1")),
        InvalidToken,
        "issued",
    ),
    attack("iss-with-slash", lambda: es256(claims(iss=ISSUER + "/")), InvalidToken, "issued"),
    attack("missing-sub", lambda: es256(claims(sub=None)), InvalidToken, "no 'sub'"),
    attack("missing-exp", lambda: es256(claims(exp=None)), InvalidToken, "no 'exp'"),
    attack("missing-role", lambda: es256(claims(role=None)), InvalidToken, "no 'role'"),
    attack("missing-aud", lambda: es256(claims(aud=None)), InvalidToken, "no 'aud'"),
    attack("missing-iss", lambda: es256(claims(iss=None)), InvalidToken, "no 'iss'"),
    attack("sub-not-uuid", lambda: es256(claims(sub="not-a-uuid")), InvalidToken, "sub: .*UUID"),
    attack("sub-not-string", lambda: es256(claims(sub=42)), InvalidToken, "Subject"),
    attack("role-anon", lambda: es256(claims(role="anon")), InvalidToken, "role 'anon'"),
    attack(
        "role-service_role",
        lambda: es256(claims(role="service_role")),
        InvalidToken,
        "'service_role'",
    ),
    attack("aal-unknown", lambda: es256(claims(aal="aal3")), InvalidToken, "aal"),
    attack("legacy-anon-key", lambda: legacy_api_key("anon"), InvalidToken, "no 'sub'", SECRET),
    attack(
        "legacy-service-key",
        lambda: legacy_api_key("service_role"),
        InvalidToken,
        "no 'sub'",
        SECRET,
    ),
    # --- not a token at all ----------------------------------------------------------
    attack("empty", lambda: "", MissingToken, "no access token"),
    attack("two-parts", lambda: "a.b", InvalidToken, "not a JWT"),
    attack("garbage", lambda: "garbage", InvalidToken, "not a JWT"),
    attack("not-base64-json", lambda: "a.b.c", InvalidToken, "header cannot be read"),
    attack("non-base64-characters", lambda: "!!!.@@@.###", InvalidToken, "not a JWT"),
    attack("non-ascii", lambda: "\u00fc.\u00f6.\u00e4", InvalidToken, "not a JWT"),
    attack("five-parts-jwe-like", lambda: es256() + ".x.y", InvalidToken, "not a JWT"),
    attack(
        "header-json-list", lambda: f"{b64(b'[1]')}.{segment(claims())}.", InvalidToken, "header"
    ),
    attack("header-not-json", lambda: f"{b64(b'{')}.{segment(claims())}.", InvalidToken, "header"),
    attack("payload-garbled", lambda: es256().replace(".", ".e30", 1), InvalidToken, "payload"),
    attack(
        "kid-not-string",
        lambda: f"{segment({'alg': 'ES256', 'kid': 7})}.{segment(claims())}.c2ln",
        InvalidToken,
        "Key ID",
    ),
    attack("huge-token", lambda: es256(claims(pad="x" * 20_000)), InvalidToken, "longer than"),
]


@pytest.mark.parametrize(("make_token", "error", "reason", "secret"), ATTACKS)
def test_attack_is_refused(
    make_token: Case, error: type[AuthError], reason: str, secret: str | None
) -> None:
    env = make_env(secret=secret)
    token = make_token()
    with pytest.raises(AuthError, match=reason) as caught:
        env.verifier.verify(token)
    assert type(caught.value) is error
    if len(token) > 16:
        assert token not in str(caught.value)
    assert env.jwks.fetches <= 1  # a refused token never costs an extra JWKS fetch


def test_jku_is_never_fetched(env: Env) -> None:
    with respx.mock(assert_all_called=False) as router:
        evil = router.get("https://evil.example/jwks.json").respond(json={"keys": [EC_JWK]})
        with pytest.raises(InvalidToken, match="jku"):
            env.verifier.verify(es256(jku="https://evil.example/jwks.json"))
    assert not evil.called
    assert env.jwks.fetches == 0


def test_huge_token_is_refused_before_any_key_lookup(env: Env) -> None:
    with pytest.raises(InvalidToken, match="longer than"):
        env.verifier.verify("a" * 1_000_000)
    assert env.jwks.fetches == 0


# --- valid tokens ---------------------------------------------------------------


def test_es256_token_gives_its_claims(env: Env) -> None:
    payload = claims(aal="aal2", amr=[{"method": "totp", "timestamp": NOW}])
    got = env.verifier.verify(es256(payload))
    assert got == AccessClaims(
        sub=uuid.UUID(USER_ID),
        role="authenticated",
        aud="authenticated",
        iss=ISSUER,
        exp=datetime.fromtimestamp(NOW + 3600, UTC),
        iat=datetime.fromtimestamp(NOW, UTC),
        aal="aal2",
        session_id=uuid.UUID(SESSION_ID),
        email="ada@example.com",
        is_anonymous=False,
        raw=payload,
    )
    assert env.jwks.fetches == 1
    assert env.jwks.requests[0].method == "GET"


def test_rs256_and_eddsa_tokens_are_accepted(env: Env) -> None:
    assert env.verifier.verify(rs256()).sub == uuid.UUID(USER_ID)
    token = jwt.encode(claims(), ED_KEY, algorithm="EdDSA", headers={"kid": ED_KID})
    assert env.verifier.verify(token).aal == "aal1"


def test_hs256_is_accepted_with_the_configured_secret() -> None:
    env = make_env(secret=SECRET)
    got = env.verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS256"))
    assert got.sub == uuid.UUID(USER_ID)
    assert env.jwks.fetches == 0  # the secret needs no discovery
    assert env.verifier.verify(es256()).sub == uuid.UUID(USER_ID)  # signing keys still work


def test_optional_claims_default_and_anonymous_users_pass_through(env: Env) -> None:
    payload = claims(aal=None, session_id=None, email=None, iat=None, is_anonymous=True)
    got = env.verifier.verify(es256(payload))
    assert (got.aal, got.session_id, got.email, got.iat) == ("aal1", None, None, None)
    assert got.is_anonymous is True
    assert got.raw == payload


def test_audience_list_containing_authenticated_is_accepted(env: Env) -> None:
    assert env.verifier.verify(es256(claims(aud=["authenticated", "x"]))).aud == [
        "authenticated",
        "x",
    ]


@pytest.mark.parametrize(
    ("changes", "ok"),
    [
        ({"exp": NOW - 29}, True),
        ({"exp": NOW - 30}, False),
        ({"nbf": NOW + 29}, True),
        ({"iat": NOW + 29}, True),
    ],
)
def test_leeway_is_thirty_seconds(env: Env, changes: dict[str, Any], ok: bool) -> None:
    token = es256(claims(**changes))
    if ok:
        env.verifier.verify(token)
    else:
        with pytest.raises(ExpiredToken):
            env.verifier.verify(token)


def test_trailing_slash_of_the_project_url_is_normalised() -> None:
    env = make_env(url=PROJECT + "/")
    assert env.verifier.issuer == ISSUER
    env.verifier.verify(es256())
    assert str(env.jwks.requests[0].url) == JWKS_URL


# --- key discovery --------------------------------------------------------------


def test_jwks_is_cached_then_refetched_after_the_cache_time(env: Env) -> None:
    for _ in range(5):
        env.verifier.verify(es256())
        env.verifier.verify(rs256())
    assert env.jwks.fetches == 1
    env.clock.now += 599
    env.verifier.verify(es256())
    assert env.jwks.fetches == 1
    env.clock.now += 1
    env.verifier.verify(es256())
    assert env.jwks.fetches == 2


def test_unknown_kid_refetches_once_within_the_rate_limit(env: Env) -> None:
    env.verifier.verify(es256())
    assert env.jwks.fetches == 1

    with pytest.raises(InvalidToken, match="not one of the project's keys"):
        env.verifier.verify(es256(kid="random-1"))
    assert env.jwks.fetches == 2  # exactly one refetch

    env.clock.now += UNKNOWN_KID_REFETCH_S - 1
    with pytest.raises(InvalidToken):
        env.verifier.verify(es256(kid="random-2"))
    assert env.jwks.fetches == 2  # rate limited: no refetch

    env.clock.now += 1
    with pytest.raises(InvalidToken):
        env.verifier.verify(es256(kid="random-3"))
    assert env.jwks.fetches == 3


def test_a_flood_of_random_kids_costs_one_fetch(env: Env) -> None:
    env.verifier.verify(es256())
    for _ in range(50):
        with pytest.raises(InvalidToken):
            env.verifier.verify(es256(kid=str(uuid.uuid4())))
    assert env.jwks.fetches == 2


def test_a_rotated_in_key_is_found_by_the_refetch(env: Env) -> None:
    env.verifier.verify(es256())
    new_key = ec.generate_private_key(ec.SECP256R1())
    new_jwk = supabase_jwk(ECAlgorithm.to_jwk(new_key.public_key(), as_dict=True), "new", "ES256")
    env.jwks.keys = [new_jwk, EC_JWK]
    token = jwt.encode(claims(), new_key, algorithm="ES256", headers={"kid": "new"})
    assert env.verifier.verify(token).sub == uuid.UUID(USER_ID)
    assert env.jwks.fetches == 2


def test_a_stale_cache_is_refetched_once_even_for_an_unknown_kid(env: Env) -> None:
    env.verifier.verify(es256())
    env.clock.now += 600
    with pytest.raises(InvalidToken):
        env.verifier.verify(es256(kid="unknown"))
    assert env.jwks.fetches == 2


def test_concurrent_verifications_share_one_fetch(env: Env) -> None:
    env.jwks.delay_s = 0.05
    token = es256()
    results: list[object] = []

    def run() -> None:
        try:
            results.append(env.verifier.verify(token).sub)
        except AuthError as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [uuid.UUID(USER_ID)] * 8
    assert env.jwks.fetches == 1


def test_concurrent_callers_share_one_failed_fetch(env: Env) -> None:
    env.jwks.delay_s = 0.05
    env.jwks.status = 503
    token = es256()
    errors: list[AuthError] = []

    def run() -> None:
        with pytest.raises(AuthUnavailable) as caught:
            env.verifier.verify(token)
        errors.append(caught.value)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 8
    assert env.jwks.fetches == 1  # the waiting callers did not queue up fetches of their own


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param({"status": 500}, id="500"),
        pytest.param({"status": 404}, id="404"),
        pytest.param({"error": httpx.ConnectTimeout("slow")}, id="timeout"),
        pytest.param({"error": httpx.ConnectError("refused")}, id="connect-error"),
        pytest.param({"body": b"<html>maintenance</html>"}, id="not-json"),
        pytest.param({"body": b'{"keys": "nope"}'}, id="not-a-jwks"),
    ],
)
def test_jwks_unreachable_is_auth_unavailable(env: Env, breakage: dict[str, Any]) -> None:
    for name, value in breakage.items():
        setattr(env.jwks, name, value)
    with pytest.raises(AuthUnavailable) as caught:
        env.verifier.verify(es256())
    assert caught.value.status == 503
    assert caught.value.error_code is None
    env.jwks.status, env.jwks.error, env.jwks.body = 200, None, None
    assert env.verifier.verify(es256()).sub == uuid.UUID(USER_ID)  # recovers on the next call


def test_unusable_jwks_entries_are_skipped(env: Env) -> None:
    oct_key = {"kty": "oct", "kid": "oct", "k": b64(SECRET.encode()), "alg": "HS256"}
    mislabelled = {**RSA_JWK, "kid": "mislabelled", "alg": "HS256"}
    private = {
        **ECAlgorithm.to_jwk(ATTACKER_EC_KEY, as_dict=True),
        "kid": "private",
        "alg": "ES256",
    }
    encrypting = {**EC_JWK, "kid": "enc", "use": "enc"}
    odd_ops = {**RSA_JWK, "kid": "odd-ops", "key_ops": 5}
    env.jwks.keys = [oct_key, mislabelled, private, encrypting, odd_ops, {"kty": "EC"}, EC_JWK]
    assert env.verifier.verify(es256()).sub == uuid.UUID(USER_ID)
    with pytest.raises(InvalidToken, match="HS256"):  # a JWKS never supplies an HMAC key
        env.verifier.verify(hs256_forged(SECRET.encode(), {"alg": "HS256", "kid": "oct"}))
    refused = [
        jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "mislabelled"}),
        jwt.encode(claims(), ATTACKER_EC_KEY, algorithm="ES256", headers={"kid": "private"}),
        jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "enc"}),
        jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "odd-ops"}),
    ]
    for token in refused:
        with pytest.raises(InvalidToken, match="not one of the project's keys"):
            env.verifier.verify(token)


# --- construction ---------------------------------------------------------------


def test_from_settings() -> None:
    jwks = FakeJwks([EC_JWK])
    settings = Settings(
        supabase_url=PROJECT,
        supabase_jwt_secret=SecretStr(SECRET),
        supabase_jwks_cache_s=60,
    )
    clock = Clock()
    http = httpx.Client(transport=httpx.MockTransport(jwks))
    verifier = TokenVerifier.from_settings(settings, http=http, clock=clock)
    assert verifier.verify(es256()).role == "authenticated"
    assert verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS256")).email
    clock.now += 60
    verifier.verify(es256())
    assert jwks.fetches == 2
    verifier.close()
    assert not http.is_closed  # the caller's client stays the caller's


def test_from_settings_refuses_to_run_unconfigured() -> None:
    with pytest.raises(AuthNotConfigured, match="SUPABASE_URL"):
        TokenVerifier.from_settings(Settings(supabase_url=None))
    with pytest.raises(AuthNotConfigured, match="SUPABASE_JWT_SECRET"):
        TokenVerifier.from_settings(
            Settings(supabase_url=PROJECT, supabase_jwt_secret=SecretStr("short"))
        )


def test_error_tree() -> None:
    assert issubclass(ExpiredToken, AuthError)
    assert not issubclass(ExpiredToken, InvalidToken)
    assert (MissingToken.status, MissingToken.error_code) == (401, None)
    assert (InvalidToken.status, InvalidToken.error_code) == (401, "invalid_token")
    assert (ExpiredToken.status, ExpiredToken.error_code) == (401, "invalid_token")
    assert issubclass(AuthNotConfigured, AuthUnavailable)
    assert AuthUnavailable.status == 503


# --- bearer_token ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("BEARER abc.def.ghi", "abc.def.ghi"),
        ("  Bearer \t abc.def.ghi  ", "abc.def.ghi"),
        (None, MissingToken),
        ("", MissingToken),
        ("   ", MissingToken),
        ("Bearer", MissingToken),
        ("Bearer   ", MissingToken),
        ("Basic dXNlcjpwYXNz", InvalidToken),
        ("Token abc", InvalidToken),
        ("Bearerabc.def.ghi", InvalidToken),
        ("abc.def.ghi", InvalidToken),
        ("Bearer abc def", InvalidToken),
        ("Bearer abc, Bearer def", InvalidToken),
    ],
)
def test_bearer_token(header: str | None, expected: str | type[AuthError]) -> None:
    if isinstance(expected, str):
        assert bearer_token(header) == expected
    else:
        with pytest.raises(expected) as caught:
            bearer_token(header)
        assert type(caught.value) is expected
        assert "def" not in str(caught.value)
        assert "dXNlcjpwYXNz" not in str(caught.value)


# --- issue 11 item 11: refusing needs no keys ---------------------------------------


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda: "garbage", id="garbage"),
        pytest.param(lambda: "a.b.c", id="three-garbage-parts"),
        pytest.param(
            lambda: f"{segment({'alg': 'ES256', 'kid': EC_KID})}.bm90IGpzb24.c2ln",
            id="payload-not-json",
        ),
        pytest.param(
            lambda: f"{segment({'alg': 'ES256', 'kid': EC_KID})}.{segment([1, 2])}.c2ln",
            id="payload-a-list",
        ),
        pytest.param(lambda: es256(claims(iss="https://other.example/auth/v1")), id="wrong-iss"),
        pytest.param(lambda: es256(claims(exp=NOW - 3600)), id="expired"),
        pytest.param(lambda: es256(claims(role="anon")), id="anon-role"),
    ],
)
def test_a_token_refused_on_sight_needs_no_jwks(env: Env, make_token: Case) -> None:
    env.jwks.error = httpx.ConnectError("refused")  # the keys cannot be had
    with pytest.raises(AuthError) as caught:
        env.verifier.verify(make_token())
    assert caught.value.status == 401
    assert env.jwks.fetches == 0


def test_only_a_well_formed_token_waits_for_the_jwks(env: Env) -> None:
    env.jwks.error = httpx.ConnectError("refused")
    with pytest.raises(AuthUnavailable) as caught:
        env.verifier.verify(es256())
    assert caught.value.status == 503
    assert env.jwks.fetches == 1
