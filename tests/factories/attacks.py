"""The JWT attack table: each row a token, the error it must raise and the check
that must catch it (used against the verifier and against the API)."""

import uuid

import jwt

from shared.auth import ExpiredToken, InvalidToken, MissingToken
from tests.factories.jwks import (
    ALG,
    ATTACKER_EC_KEY,
    BAD_SIG,
    EC_JWK_JSON,
    EC_KEY,
    EC_KID,
    ISSUER,
    NOW,
    OTHER_SECRET,
    RSA_KEY,
    RSA_KID,
    RSA_PEM_HEADER,
    RSA_PUBLIC_PEM,
    SECRET,
    attack,
    b64,
    claims,
    es256,
    hs256_forged,
    legacy_api_key,
    rs256,
    segment,
    swap_header,
    swap_payload,
    unsigned,
    with_embedded_jwk,
)

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
