"""Owners' OAuth: the authorization code grant against a platform's identity provider.

A platform whose owners can connect their account declares an `OwnerConnect`
in its spec; its `provider` factory builds an `OwnerOAuth` (this module's
`OAuthClient` plus the platform's ownership check). What the rest of the
backend does with it (`shared.connections`): build the authorization URL,
exchange the code, check that the account owns the channel, refresh, validate,
revoke. Requests go through the one retry policy (`retry.Sender`); the
token endpoint's answers are parsed here, at the boundary.

Errors: the platform error tree (`errors.py`), plus

    AuthError
     └── InvalidGrant      the grant is dead: `invalid_grant`, a revoked or expired
                           refresh token, a token the provider no longer accepts.
                           The connection is broken; retrying cannot help.
"""

import base64
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.platforms.errors import AuthError, PlatformError
from shared.platforms.parsing import parse_json
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status

logger = logging.getLogger(__name__)


class InvalidGrant(AuthError):
    """The provider refuses the grant for good: the owner must connect again."""


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token endpoint granted."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OwnerAccount:
    """Who a user token belongs to, as far as channel ownership goes."""

    account_id: str
    """The provider's id of the account (a user id, a channel id)."""
    channel_ids: frozenset[str]
    """The platform channel ids the account owns."""
    scopes: tuple[str, ...] = ()
    """Scopes the provider says the token carries (when it says)."""


class TokenAnswer(BaseModel):
    """A token endpoint's answer (RFC 6749 section 5.1)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: str = Field(min_length=1, pattern=r"^[\x21-\x7e]+$")
    refresh_token: str | None = Field(default=None, min_length=1, pattern=r"^[\x21-\x7e]+$")
    expires_in: int | None = Field(default=None, gt=0)
    scope: tuple[str, ...] = ()
    """RFC 6749 says one space-separated string; some providers send a list."""

    @field_validator("scope", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(value.split())
        return value


class OAuthErrorBody(BaseModel):
    """RFC 6749's `{"error", "error_description"}`, or a `{"status", "message"}` variant."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    error: str = ""
    error_description: str = ""
    message: str = ""


def error_body(response: httpx.Response) -> OAuthErrorBody:
    try:
        return OAuthErrorBody.model_validate_json(response.content)
    except ValidationError:
        return OAuthErrorBody()


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class OAuthEndpoints:
    """One identity provider's endpoints and this server's client there."""

    client_id: str
    client_secret: SecretStr = field(repr=False)
    authorize_url: str
    token_url: str
    revoke_url: str
    scopes: tuple[str, ...]
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    """Extra query parameters of the authorization URL (Google: offline access, consent)."""
    pkce: bool = True
    """Whether the provider takes PKCE (some do not: their code exchange needs the secret)."""


class OwnerOAuth(Protocol):
    """What connecting a platform account needs from the platform package."""

    platform: Platform
    endpoints: OAuthEndpoints
    validate_every_s: int | None
    """How often a token must be validated with the provider (None: never asked)."""

    def authorization_url(self, *, state: str, redirect_uri: str, challenge: str | None) -> str: ...

    def exchange(
        self, code: str, *, redirect_uri: str, verifier: str | None, deadline: float | None
    ) -> TokenSet: ...

    def refresh(self, refresh_token: str, *, deadline: float | None) -> TokenSet: ...

    def revoke(self, token: str, *, deadline: float | None) -> None: ...

    def owner(self, access_token: str, *, deadline: float | None) -> OwnerAccount:
        """The account the token belongs to and the channels it owns (InvalidGrant if refused)."""
        ...


class OAuthClient:
    """The generic half of `OwnerOAuth`: authorization URL, token endpoint, revocation.

    The platform's subclass says which refusals mean a dead grant
    (`_dead_grant`) and implements `owner`.
    """

    validate_every_s: int | None = None

    def __init__(
        self,
        platform: Platform,
        endpoints: OAuthEndpoints,
        http: httpx.Client,
        *,
        policy: RetryPolicy,
        timeout_s: float,
        clock: Clock = utc_now,
    ) -> None:
        self.platform = platform
        self.endpoints = endpoints
        self.clock = clock
        self._policy = policy
        self._http = http
        self._sender = Sender(
            http, platform, policy, timeout_s, self._token_error, secrets=self._secrets
        )

    def authorization_url(self, *, state: str, redirect_uri: str, challenge: str | None) -> str:
        params = {
            "client_id": self.endpoints.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.endpoints.scopes),
            "state": state,
            **self.endpoints.authorize_params,
        }
        if self.endpoints.pkce:
            if challenge is None:
                raise ValueError("this provider takes PKCE: pass the challenge")
            params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
        return f"{self.endpoints.authorize_url}?{urlencode(params)}"

    def exchange(
        self, code: str, *, redirect_uri: str, verifier: str | None, deadline: float | None
    ) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if self.endpoints.pkce and verifier is not None:
            form["code_verifier"] = verifier
        return self._token(form, deadline, extra_secrets=(code, verifier or ""))

    def refresh(self, refresh_token: str, *, deadline: float | None) -> TokenSet:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        granted = self._token(form, deadline, extra_secrets=(refresh_token,))
        if granted.refresh_token is None:
            # Providers that do not rotate refresh tokens keep the one they issued.
            granted = TokenSet(
                granted.access_token, refresh_token, granted.expires_at, granted.scopes
            )
        return granted

    def revoke(self, token: str, *, deadline: float | None) -> None:
        form = {"client_id": self.endpoints.client_id, "token": token}
        try:
            self._sender.send(
                "POST",
                self.endpoints.revoke_url,
                data=form,
                cost=Cost(),
                deadline=deadline,
                extra_secrets=(token,),
            )
        except InvalidGrant:
            # Already dead at the provider: what revoking wanted.
            logger.info("revoke: token already invalid", extra={"platform": self.platform.value})

    # --- the token endpoint -----------------------------------------------------

    def _token(
        self, form: dict[str, str], deadline: float | None, extra_secrets: Sequence[str]
    ) -> TokenSet:
        form = {
            **form,
            "client_id": self.endpoints.client_id,
            "client_secret": self.endpoints.client_secret.get_secret_value(),
        }
        response = self._sender.send(
            "POST",
            self.endpoints.token_url,
            data=form,
            cost=Cost(),
            deadline=deadline,
            extra_secrets=extra_secrets,
        )
        answer = parse_json(TokenAnswer, response, self.platform)
        expires = None
        if answer.expires_in is not None:
            expires = self.clock() + timedelta(seconds=answer.expires_in)
        return TokenSet(answer.access_token, answer.refresh_token, expires, answer.scope)

    def _token_error(self, response: httpx.Response) -> PlatformError:
        body = error_body(response)
        message = body.error_description or body.message or body.error or response.reason_phrase
        if self._dead_grant(response, body):
            return InvalidGrant(
                message,
                platform=self.platform,
                status=response.status_code,
                request_id=None,
            )
        return error_for_status(
            self.platform, response, message, wall_now=self._policy.wall(), auth_4xx=False
        )

    def _dead_grant(self, response: httpx.Response, body: OAuthErrorBody) -> bool:
        """Whether a refusal means the grant is gone (RFC 6749: `invalid_grant`)."""
        return body.error in ("invalid_grant", "invalid_token")

    def _secrets(self) -> tuple[str, ...]:
        return (self.endpoints.client_secret.get_secret_value(),)

    def _bearer_get(
        self,
        url: str,
        token: str,
        *,
        params: Mapping[str, str] | None = None,
        deadline: float | None,
        scheme: str = "Bearer",
        classify: Callable[[httpx.Response], PlatformError] | None = None,
        cost: Cost | None = None,
        quota_cost: int = 0,
    ) -> httpx.Response:
        """A GET with the owner's token (ownership checks, validation, reports)."""
        sender = Sender(
            self._http,
            self.platform,
            self._policy,
            self._sender.timeout_s,
            classify or self._resource_error,
            secrets=self._secrets,
        )
        return sender.send(
            "GET",
            url,
            params=dict(params or {}),
            headers={"Authorization": f"{scheme} {token}"},
            cost=cost or Cost(),
            deadline=deadline,
            extra_secrets=(token,),
            quota_cost=quota_cost,
        )

    def _resource_error(self, response: httpx.Response) -> PlatformError:
        """A resource server's refusal of the owner's token: 401 means the grant is gone."""
        body = error_body(response)
        message = body.error_description or body.message or body.error or response.reason_phrase
        if response.status_code == 401:
            return InvalidGrant(message, platform=self.platform, status=401)
        return error_for_status(self.platform, response, message, wall_now=self._policy.wall())


@dataclass(frozen=True, slots=True)
class OwnerConnect:
    """A platform's owner connection, as its spec declares it."""

    scopes: tuple[str, ...]
    """What the connection asks for (documented in the README, per platform)."""
    required_scopes: tuple[str, ...]
    """Scopes without which a connection is refused (granular consent may drop some)."""
    configured: Callable[[Settings], bool]
    """Whether this server has the OAuth client the platform needs."""
    provider: Callable[[Settings, httpx.Client, RetryPolicy, Clock], OwnerOAuth]
    eventsub_scopes: tuple[str, ...] | None = None
    """Scopes a connection needs for the platform's push subscriptions to be the
    broadcaster's own (cost 0 against the push budget); None: no such push."""
    reports: "Callable[[Settings, httpx.Client, RetryPolicy, Clock], OwnerReports] | None" = None
    """The owner's analytics reports, for platforms that have them (imported daily)."""


@dataclass(frozen=True, slots=True)
class DailyFigures:
    """One day of a channel's owner report."""

    day: date
    views: int
    estimated_minutes_watched: int
    average_view_duration: int
    """Seconds."""
    subscribers_gained: int
    subscribers_lost: int


@dataclass(frozen=True, slots=True)
class StreamFigures:
    """A live stream's figures in the owner report, over [first_day, last_day]."""

    stream_id: str
    views: int
    estimated_minutes_watched: int
    average_view_duration: int
    average_concurrent_viewers: float | None = None
    peak_concurrent_viewers: int | None = None


class OwnerReports(Protocol):
    """A platform's analytics reports read with the owner's token."""

    day_zone: tzinfo
    """The zone the report's days are in."""

    def daily(
        self, token: str, first: date, last: date, *, cost: Cost, deadline: float | None
    ) -> list[DailyFigures]:
        """The days of [first, last] the platform has figures for (others are absent)."""
        ...

    def streams(
        self,
        token: str,
        stream_ids: Sequence[str],
        first: date,
        last: date,
        *,
        cost: Cost,
        deadline: float | None,
    ) -> list[StreamFigures]:
        """Figures of the given live streams over [first, last]."""
        ...
