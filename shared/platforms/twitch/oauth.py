"""Connecting a Twitch account: the authorization code grant at id.twitch.tv.

- `<auth>/authorize?response_type=code&client_id&redirect_uri&scope&state&force_verify=true`
- `POST <auth>/token` (authorization_code, refresh_token; refresh tokens rotate);
  a dead refresh token is `400 {"status": 400, "message": "Invalid refresh token"}`
- `POST <auth>/revoke` (`client_id`, `token`); `400 "Invalid token"` for one already gone
- `GET <auth>/validate` with `Authorization: OAuth <token>`: `{client_id, login,
  scopes, user_id, expires_in}`, 401 once revoked. Twitch requires apps that
  keep user tokens to validate them hourly, so `validate_every_s` is 3600.

Twitch does not support PKCE: the code exchange is bound to this server by
the client secret, and to the browser session by the single-use signed state.

Ownership: the token's `user_id` is the broadcaster id, which is the Twitch
channel id StreamTrack tracks.

Scopes: `channel:bot` (the broadcaster lets StreamTrack's chat bot read chat:
`channel.chat.message` with an app token) and `moderator:read:followers`
(Get Channel Followers with the list, not only the total). EventSub
subscriptions on a broadcaster who authorized this client ID cost 0 against
`max_total_cost`; `stream.online`/`offline` need no scope, chat needs
`channel:bot`.
"""

import httpx
from pydantic import BaseModel, ConfigDict, Field

from shared.clock import Clock
from shared.config import Settings
from shared.platforms.errors import PlatformError
from shared.platforms.oauth import (
    InvalidGrant,
    OAuthClient,
    OAuthEndpoints,
    OAuthErrorBody,
    OwnerAccount,
    OwnerConnect,
    error_body,
)
from shared.platforms.parsing import parse_json
from shared.platforms.registry import Platform
from shared.platforms.retry import RetryPolicy, error_for_status

SCOPES = ("channel:bot", "moderator:read:followers")
EVENTSUB_SCOPES = ("channel:bot",)
_DEAD = (
    "invalid refresh token",
    "invalid token",
    "invalid access token",
    "invalid authorization code",
)


class TwitchValidation(BaseModel):
    """`GET /oauth2/validate`'s answer."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    client_id: str
    login: str = ""
    user_id: str = Field(min_length=1, pattern=r"^[0-9]+$")
    scopes: tuple[str, ...] | None = None
    """null when the token carries none."""
    expires_in: int = Field(ge=0)


class TwitchOAuth(OAuthClient):
    """Owner tokens for Twitch accounts."""

    validate_every_s: int | None = 3600

    def __init__(
        self,
        endpoints: OAuthEndpoints,
        http: httpx.Client,
        *,
        validate_url: str,
        policy: RetryPolicy,
        timeout_s: float,
        clock: Clock,
    ) -> None:
        super().__init__(
            Platform.TWITCH, endpoints, http, policy=policy, timeout_s=timeout_s, clock=clock
        )
        self._validate_url = validate_url

    def owner(self, access_token: str, *, deadline: float | None) -> OwnerAccount:
        response = self._bearer_get(
            self._validate_url,
            access_token,
            deadline=deadline,
            scheme="OAuth",
            classify=self._token_error,
        )
        answer = parse_json(TwitchValidation, response, self.platform)
        if answer.client_id != self.endpoints.client_id:
            # A token issued to another application: never accept it as ours.
            raise InvalidGrant("the token was issued to another client", platform=self.platform)
        return OwnerAccount(
            account_id=answer.user_id,
            channel_ids=frozenset({answer.user_id}),
            scopes=answer.scopes or (),
        )

    def _dead_grant(self, response: httpx.Response, body: OAuthErrorBody) -> bool:
        if body.error == "invalid_grant":
            return True
        text = (body.message or body.error).strip().lower()
        return response.status_code in (400, 401) and text in _DEAD

    def _token_error(self, response: httpx.Response) -> PlatformError:
        body = error_body(response)
        if self._dead_grant(response, body):
            return InvalidGrant(
                body.message or "invalid grant", platform=self.platform, status=response.status_code
            )
        message = body.message or body.error or response.reason_phrase
        return error_for_status(self.platform, response, message, wall_now=self._policy.wall())


def _provider(
    settings: Settings, http: httpx.Client, policy: RetryPolicy, clock: Clock
) -> TwitchOAuth:
    if not (settings.twitch_client_id and settings.twitch_client_secret):
        raise ValueError("TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET must be set")
    base = settings.twitch_auth_url.rstrip("/")
    endpoints = OAuthEndpoints(
        client_id=settings.twitch_client_id,
        client_secret=settings.twitch_client_secret,
        authorize_url=f"{base}/authorize",
        token_url=f"{base}/token",
        revoke_url=f"{base}/revoke",
        scopes=SCOPES,
        authorize_params={"force_verify": "true"},
        pkce=False,
    )
    return TwitchOAuth(
        endpoints,
        http,
        validate_url=f"{base}/validate",
        policy=policy,
        timeout_s=settings.platform_timeout_s,
        clock=clock,
    )


CONNECT = OwnerConnect(
    scopes=SCOPES,
    required_scopes=SCOPES,
    configured=lambda s: bool(s.twitch_client_id and s.twitch_client_secret),
    provider=_provider,
    eventsub_scopes=EVENTSUB_SCOPES,
)
