"""Access-token verification: the JWT attack table, key discovery and `bearer_token`.

Keys are generated here; the project's JWKS is served in Supabase's format
(`/auth/v1/.well-known/jwks.json`) through `httpx.MockTransport`, with a
settable clock, so no test touches the network or sleeps.
"""

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
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
from tests.factories.attacks import ATTACKS
from tests.factories.jwks import (
    ATTACKER_EC_KEY,
    EC_JWK,
    EC_KEY,
    EC_KID,
    ED_KEY,
    ED_KID,
    ISSUER,
    JWKS_URL,
    NOW,
    PROJECT,
    RSA_JWK,
    RSA_KEY,
    SECRET,
    SESSION_ID,
    USER_ID,
    Case,
    Clock,
    Env,
    FakeJwks,
    b64,
    claims,
    es256,
    hs256_forged,
    make_env,
    rs256,
    segment,
    supabase_jwk,
)


@pytest.fixture
def env() -> Env:
    return make_env()


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
