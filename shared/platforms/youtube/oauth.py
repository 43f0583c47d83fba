"""Connecting a YouTube channel: Google's authorization code grant with PKCE.

- `accounts.google.com/o/oauth2/v2/auth?...&access_type=offline&prompt=consent
  &include_granted_scopes=true&code_challenge=...&code_challenge_method=S256`:
  offline access and forced consent, so that Google issues a refresh token every
  time (it issues one only on first consent otherwise);
- `POST oauth2.googleapis.com/token` (authorization_code with `code_verifier`,
  refresh_token; Google keeps the refresh token, it does not rotate it); a dead
  grant is `400 {"error": "invalid_grant"}` (revoked, expired, or an app in
  Testing status whose refresh tokens die after 7 days);
- `POST oauth2.googleapis.com/revoke` (`token`).

Scopes: `yt-analytics.readonly` (the Analytics reports) and `youtube.readonly`
(`channels.list?mine=true`, the ownership check). Google's granular consent
lets people untick a scope; a connection missing either is refused.

Ownership: `channels.list?part=id&mine=true` with the owner's token lists the
channel of the account that consented; it must contain the tracked channel id.
"""

import httpx

from shared.clock import Clock
from shared.config import Settings
from shared.platforms.oauth import OAuthClient, OAuthEndpoints, OwnerAccount, OwnerConnect
from shared.platforms.parsing import parse_batch, string_field
from shared.platforms.registry import Platform
from shared.platforms.retry import RetryPolicy
from shared.platforms.youtube.analytics import reports
from shared.platforms.youtube.client import ChannelList, YouTubeChannel

ANALYTICS_SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
SCOPES = (ANALYTICS_SCOPE, READONLY_SCOPE)


class GoogleOAuth(OAuthClient):
    """Owner tokens for YouTube channels (Google accounts)."""

    def __init__(
        self,
        endpoints: OAuthEndpoints,
        http: httpx.Client,
        *,
        api_url: str,
        policy: RetryPolicy,
        timeout_s: float,
        clock: Clock,
    ) -> None:
        super().__init__(
            Platform.YOUTUBE, endpoints, http, policy=policy, timeout_s=timeout_s, clock=clock
        )
        self.api_url = api_url.rstrip("/")

    def owner(self, access_token: str, *, deadline: float | None) -> OwnerAccount:
        response = self._bearer_get(
            f"{self.api_url}/channels",
            access_token,
            params={"part": "id", "mine": "true"},
            deadline=deadline,
            quota_cost=1,
        )
        _, items = parse_batch(
            ChannelList, "items", YouTubeChannel, string_field("id"), response, self.platform
        )
        malformed = items.unattributed or next(iter(items.failed.values()), None)
        if malformed is not None:
            raise malformed
        ids = [c.id for c in items.valid]
        return OwnerAccount(account_id=ids[0] if ids else "", channel_ids=frozenset(ids))


def provider(
    settings: Settings, http: httpx.Client, policy: RetryPolicy, clock: Clock
) -> GoogleOAuth:
    if not (settings.google_oauth_client_id and settings.google_oauth_client_secret):
        raise ValueError("GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET must be set")
    endpoints = OAuthEndpoints(
        client_id=settings.google_oauth_client_id,
        client_secret=settings.google_oauth_client_secret,
        authorize_url=settings.google_authorize_url,
        token_url=settings.google_token_url,
        revoke_url=settings.google_revoke_url,
        scopes=SCOPES,
        authorize_params={
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
        },
        pkce=True,
    )
    return GoogleOAuth(
        endpoints,
        http,
        api_url=settings.youtube_api_url,
        policy=policy,
        timeout_s=settings.platform_timeout_s,
        clock=clock,
    )


CONNECT = OwnerConnect(
    scopes=SCOPES,
    required_scopes=SCOPES,
    configured=lambda s: bool(s.google_oauth_client_id and s.google_oauth_client_secret),
    provider=provider,
    reports=reports,
)
