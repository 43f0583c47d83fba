"""Verifying Supabase access tokens: the first step of every user-facing API call.

    AuthError                   a request's credentials cannot be accepted
     ├── MissingToken           no bearer token was sent (401)
     ├── InvalidToken           malformed, bad signature, unaccepted or mismatched alg,
     │                          unknown key, wrong aud/iss/role, missing claims (401)
     ├── ExpiredToken           a genuine token past `exp` plus the leeway (401: refresh it)
     └── AuthUnavailable        the project's JWKS could not be fetched (503: not the client's
          │                     fault, retry later)
          └── AuthNotConfigured SUPABASE_URL unset or SUPABASE_JWT_SECRET too short

Map an error to a response through its `status`; `error_code` is the RFC 6750
`error` of the `WWW-Authenticate` header (None: send the bare challenge).
Messages never contain the token.

The verifying key decides the algorithm, never the token: asymmetric keys (ES256,
RS256, EdDSA) come only from `<SUPABASE_URL>/auth/v1/.well-known/jwks.json`,
each bound to the one algorithm its key type allows; HS256 is accepted only when
the legacy `SUPABASE_JWT_SECRET` is configured, and only with that secret. Keys
named in the token (`jku`, `x5u`, `jwk`, `x5c`) are refused, never fetched.

Everything that can be refused without a key is refused first (the header, a
payload that is not JSON, the claims' rules), so a missing or malformed token
is a 401 even while the JWKS cannot be fetched; only a well-formed token whose
signature cannot be checked right now gets AuthUnavailable (503).
"""

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from math import isfinite
from typing import Any, ClassVar, Final, Literal
from uuid import UUID

import httpx
import jwt
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from shared.config import Settings, get_settings

logger = logging.getLogger(__name__)

AUDIENCE: Final = "authenticated"
USER_ROLE: Final = "authenticated"
MAX_TOKEN_CHARS: Final = 16_384
"""Supabase access tokens are 1-3 KB even with metadata; anything far larger is refused
before decoding."""
UNKNOWN_KID_REFETCH_S: Final = 30.0
"""At most one JWKS refetch for unknown key ids per this many seconds."""

_ASYMMETRIC: Final = frozenset({"ES256", "RS256", "EdDSA"})
_FORBIDDEN_HEADERS: Final = ("jku", "x5u", "jwk", "x5c", "crit", "b64")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_REQUIRED: Final = ("sub", "exp", "role", "aud", "iss")
_ALGORITHM_OF_KEY: Final = {"EC/P-256": "ES256", "RSA": "RS256", "OKP/Ed25519": "EdDSA"}
"""The one algorithm each accepted JWKS key type verifies."""


class AuthError(Exception):
    """A request's credentials cannot be accepted."""

    status: ClassVar[int] = 401
    error_code: ClassVar[str | None] = "invalid_token"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingToken(AuthError):
    """No bearer token came with the request."""

    error_code = None


class InvalidToken(AuthError):
    """The token is malformed, forged, or not a user session of this project."""


class ExpiredToken(AuthError):
    """A genuine token that has expired: the client should refresh its session."""


class AuthUnavailable(AuthError):
    """Tokens cannot be verified right now (JWKS unreachable): retry later."""

    status = 503
    error_code = None


class AuthNotConfigured(AuthUnavailable):
    """Token verification is not configured."""


class AccessClaims(BaseModel):
    """The verified claims of a Supabase user access token."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: UUID
    """The user's id in `auth.users`."""
    role: str
    aud: str | list[str]
    iss: str
    exp: AwareDatetime
    iat: AwareDatetime | None = None
    aal: Literal["aal1", "aal2"] = "aal1"
    """Authenticator assurance level: `aal2` after multi-factor authentication."""
    session_id: UUID | None = None
    email: str | None = None
    is_anonymous: bool = False
    """An anonymous sign-in: a real session, but no verified identity behind it."""
    raw: dict[str, Any]
    """Every claim as signed, for `Database.user(claims)` (`request.jwt.claims`)."""


def bearer_token(authorization_header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value."""
    parts = (authorization_header or "").split()
    if not parts:
        raise MissingToken("send the access token as 'Authorization: Bearer <token>'")
    if parts[0].lower() != "bearer":
        raise InvalidToken("the Authorization header must use the Bearer scheme")
    if len(parts) == 1:
        raise MissingToken("the Authorization header names the Bearer scheme but has no token")
    if len(parts) > 2:
        raise InvalidToken("the Authorization header must carry exactly one bearer token")
    return parts[1]


@dataclass(frozen=True, slots=True)
class _KeySet:
    keys: Mapping[str, jwt.PyJWK]
    fetched_at: float


class _Jwks(BaseModel):
    keys: list[dict[str, Any]]


class TokenVerifier:
    """Verifies Supabase access tokens against the project's keys (thread-safe)."""

    def __init__(
        self,
        supabase_url: str,
        *,
        jwt_secret: str | None = None,
        http: httpx.Client | None = None,
        cache_s: float = 600.0,
        leeway_s: float = 30.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        base = supabase_url.rstrip("/")
        self.issuer = f"{base}/auth/v1"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"
        if jwt_secret is not None and len(jwt_secret.encode()) < 32:
            raise AuthNotConfigured("SUPABASE_JWT_SECRET is shorter than the 32 bytes HS256 needs")
        self._secret = jwt_secret.encode() if jwt_secret is not None else None
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client()
        self._cache_s = cache_s
        self._leeway_s = leeway_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._keyset: _KeySet | None = None
        self._fetch_lock = threading.Lock()
        self._fetches_done = 0
        self._last_failure: AuthUnavailable | None = None
        self._kid_refetch_at: float | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> "TokenVerifier":
        if not settings.supabase_url:
            raise AuthNotConfigured("SUPABASE_URL is not set: access tokens cannot be verified")
        secret = settings.supabase_jwt_secret
        return cls(
            settings.supabase_url,
            jwt_secret=secret.get_secret_value() if secret is not None else None,
            http=http,
            cache_s=settings.supabase_jwks_cache_s,
            clock=clock,
        )

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid user access token; any AuthError otherwise."""
        try:
            return self._verify(token)
        except AuthError as exc:
            if not isinstance(exc, AuthUnavailable):
                logger.debug(
                    "access token refused: %s", exc.message, extra={"error": type(exc).__name__}
                )
            raise

    def _verify(self, token: str) -> AccessClaims:
        if not token:
            raise MissingToken("no access token was given")
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken(f"the token is longer than {MAX_TOKEN_CHARS} characters")
        if not _COMPACT_JWS.fullmatch(token):
            raise InvalidToken("the token is not a JWT (three base64url parts separated by dots)")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token header cannot be read: {_short(exc)}") from None
        self._check_header(header)
        # The claims' rules hold or not whatever the signature says: refuse before
        # looking for keys. They are checked again on the verified payload below.
        self._claims(self._unverified_payload(token))
        key, algorithm = self._key_for(header)
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                options={
                    "verify_signature": True,
                    "verify_exp": False,  # checked below against the injectable clock
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,  # checked below, with clearer messages
                    "verify_iss": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.InvalidSignatureError:
            raise InvalidToken("the token's signature does not match its key") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token cannot be verified: {_short(exc)}") from None
        return self._claims(payload)

    # --- keys -----------------------------------------------------------------

    def _check_header(self, header: dict[str, Any]) -> None:
        """Refuse a header no key could make acceptable (no key is looked up)."""
        for name in _FORBIDDEN_HEADERS:
            if name in header:
                raise InvalidToken(f"the token header carries {name!r}, which is not accepted")
        alg = header.get("alg")
        if alg == "HS256":
            if self._secret is None:
                raise InvalidToken("HS256 tokens are not accepted: this project uses signing keys")
            return
        if alg not in _ASYMMETRIC:
            shown = alg[:20] if isinstance(alg, str) else type(alg).__name__
            raise InvalidToken(f"the token algorithm {shown!r} is not accepted")
        if not header.get("kid"):
            raise InvalidToken("the token header has no key id ('kid')")

    @staticmethod
    def _unverified_payload(token: str) -> dict[str, Any]:
        """The claims as written, unverified: only to refuse early, never to accept."""
        try:
            payload: dict[str, Any] = jwt.decode(
                token, options={"verify_signature": False, "verify_sub": True, "verify_jti": True}
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token's payload cannot be read: {_short(exc)}") from None
        return payload

    def _key_for(self, header: dict[str, Any]) -> tuple[jwt.PyJWK | bytes, str]:
        """The verifying key and the one algorithm it allows (`header` already checked)."""
        alg = header["alg"]
        if alg == "HS256" and self._secret is not None:
            return self._secret, "HS256"
        kid = header["kid"]
        key = self._jwk(kid)
        if key.algorithm_name != alg:
            raise InvalidToken(
                f"the token says {alg} but its key {kid[:64]!r} is {key.algorithm_name}"
            )
        return key, key.algorithm_name

    def _jwk(self, kid: str) -> jwt.PyJWK:
        seen = self._fetches_done
        now = self._clock()
        keyset = self._keyset
        fetched = False
        if keyset is None or not 0 <= now - keyset.fetched_at < self._cache_s:
            keyset, fetched = self._refresh(seen, unknown_kid=False), True
        key = keyset.keys.get(kid)
        if key is None and not fetched:
            last = self._kid_refetch_at
            if last is None or not 0 <= now - last < UNKNOWN_KID_REFETCH_S:
                logger.info("unknown signing key id: refetching the JWKS", extra={"kid": kid[:64]})
                key = self._refresh(seen, unknown_kid=True).keys.get(kid)
        if key is None:
            raise InvalidToken(f"the token's key {kid[:64]!r} is not one of the project's keys")
        return key

    def _refresh(self, seen: int, *, unknown_kid: bool) -> _KeySet:
        """A fresh key set; a fetch that ended while we waited for the lock counts as ours.

        `seen` is the count of finished fetches read before the caller looked at the cache.
        """
        with self._fetch_lock:
            if self._fetches_done != seen:
                if self._last_failure is not None or self._keyset is None:
                    raise AuthUnavailable(
                        self._last_failure.message if self._last_failure else "no JWKS"
                    )
                return self._keyset
            if unknown_kid:
                self._kid_refetch_at = self._clock()
            try:
                self._keyset = self._fetch()
                self._last_failure = None
            except AuthUnavailable as exc:
                self._last_failure = exc
                logger.warning("JWKS fetch failed: %s", exc.message, extra={"url": self.jwks_url})
                raise
            finally:
                # After the key set: a reader that sees the new count also sees the new keys.
                self._fetches_done += 1
            return self._keyset

    def _fetch(self) -> _KeySet:
        try:
            response = self._http.get(self.jwks_url, timeout=self._timeout_s)
        except httpx.HTTPError as exc:
            raise AuthUnavailable(f"the JWKS could not be fetched ({type(exc).__name__})") from None
        if not response.is_success:
            raise AuthUnavailable(f"the JWKS endpoint answered {response.status_code}")
        try:
            jwks = _Jwks.model_validate_json(response.content)
        except ValidationError:
            raise AuthUnavailable(
                "the JWKS endpoint answered something that is not a JWKS"
            ) from None
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in jwks.keys:
            key = _parse_jwk(jwk)
            if key is not None and key.key_id is not None:
                keys.setdefault(key.key_id, key)
        logger.info("JWKS fetched", extra={"url": self.jwks_url, "key_count": len(keys)})
        return _KeySet(keys=keys, fetched_at=self._clock())

    # --- claims ---------------------------------------------------------------

    def _claims(self, payload: dict[str, Any]) -> AccessClaims:
        for name in _REQUIRED:
            if payload.get(name) is None:
                raise InvalidToken(f"the token has no {name!r} claim")
        if payload["iss"] != self.issuer:
            raise InvalidToken(f"the token was not issued by {self.issuer}")
        aud = payload["aud"]
        if not (aud == AUDIENCE or (isinstance(aud, list) and AUDIENCE in aud)):
            raise InvalidToken(f"the token's audience is not {AUDIENCE!r}")
        if (role := payload["role"]) != USER_ROLE:
            shown = str(role)[:40]
            raise InvalidToken(f"role {shown!r} is not a signed-in user's session ({USER_ROLE!r})")
        now = self._clock()
        if _instant(payload, "exp") + self._leeway_s <= now:
            raise ExpiredToken("the access token has expired: refresh the session")
        if "nbf" in payload and _instant(payload, "nbf") - self._leeway_s > now:
            raise InvalidToken("the token is not valid yet (nbf)")
        if "iat" in payload and _instant(payload, "iat") - self._leeway_s > now:
            raise InvalidToken("the token was issued in the future (iat)")
        try:
            return AccessClaims.model_validate({**payload, "raw": payload})
        except ValidationError as exc:
            raise InvalidToken(f"the token's claims are invalid: {_describe(exc)}") from None


def _parse_jwk(jwk: dict[str, Any]) -> jwt.PyJWK | None:
    """A verification key bound to the one algorithm its type allows; None: unusable."""
    kty, crv, kid = jwk.get("kty"), jwk.get("crv"), jwk.get("kid")
    algorithm = _ALGORITHM_OF_KEY.get(f"{kty}/{crv}" if kty != "RSA" else "RSA")
    usable = (
        algorithm is not None
        and isinstance(kid, str)
        and bool(kid)
        and jwk.get("alg", algorithm) == algorithm
        and jwk.get("use", "sig") == "sig"
        and "verify" in _strings(jwk.get("key_ops", ["verify"]))
        and "d" not in jwk  # a private key published by mistake is not trusted either
    )
    if usable:
        try:
            return jwt.PyJWK(jwk, algorithm=algorithm)
        except (jwt.PyJWTError, TypeError, ValueError):
            pass
    logger.warning(
        "JWKS key skipped", extra={"kid": str(kid)[:64], "kty": str(kty)[:10], "alg": algorithm}
    )
    return None


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _instant(payload: Mapping[str, Any], name: str) -> float:
    """A NumericDate claim; JSON's Infinity and NaN (which Python parses) are refused."""
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not isfinite(value):
        raise InvalidToken(f"the token's {name!r} claim is not a number of seconds")
    return float(value)


def _short(exc: Exception) -> str:
    return str(exc)[:200]


def _describe(exc: ValidationError) -> str:
    """The first problem of a validation error, without echoing the claims."""
    errors = exc.errors(include_input=False, include_url=False)
    if not errors:
        return "invalid"
    where = ".".join(str(part) for part in errors[0]["loc"]) or "claims"
    return f"{where}: {errors[0]['msg']}"


@lru_cache(maxsize=1)
def get_token_verifier() -> TokenVerifier:
    """The process-wide verifier (its JWKS cache lives across invocations)."""
    return TokenVerifier.from_settings(get_settings())
