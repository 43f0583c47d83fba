"""Twitch Helix: app access token, Get Streams, Get Users, Get Channel Followers.

Costs (Helix points; 800 per minute per app token, 1 per request):
- `fetch_live`: one Get Streams per 100 channels (`first=100`), plus a page per
  `pagination.cursor` Twitch sends; offline channels are simply absent.
- `fetch_stats`: one Get Channel Followers per channel (only `total` is read).
- `resolve`: one Get Users; `lookup_users`: one per 100 ids/logins.
- The app token (`twitch_auth`) is fetched once and cached until shortly
  before it expires; a 401 refreshes it once and the request is sent again.

The client is shared by the monitor's threads: the token cache and the
rate-limit pacer are guarded by locks.
"""

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from shared.config import Settings
from shared.platforms.base import (
    Channel,
    ChannelRef,
    ChannelStats,
    ChannelTarget,
    Clock,
    LiveBatch,
    LiveObservation,
    Platform,
    RefKind,
    StatsBatch,
    UtcDatetime,
    chunks,
    each_group,
    log_batch,
    utc_now,
)
from shared.platforms.errors import AuthError, InvalidResponse, NotFound, PlatformError
from shared.platforms.pacing import RatePacer
from shared.platforms.retry import RetryPolicy, Sender, Usage, error_for_status, parse_json
from shared.platforms.twitch_auth import AppToken, error_message

logger = logging.getLogger(__name__)

BATCH = 100
MAX_PAGES = 10
"""A page may hold fewer than `first` streams and still carry a cursor, so cursors are
followed; this only guards against one that never ends."""


class _Model(BaseModel):
    # Only the fields StreamTrack reads: the rest of Twitch's answer may change freely.
    model_config = ConfigDict(extra="ignore", frozen=True)


class TwitchStream(_Model):
    """One live stream from Get Streams."""

    id: str
    user_id: str
    user_login: str
    user_name: str
    game_name: str = ""
    """Empty when the broadcaster set no category."""
    type: str
    """`live`; an empty string when Twitch had an error."""
    title: str
    viewer_count: int = Field(ge=0)
    started_at: UtcDatetime


class Pagination(_Model):
    """Helix's pagination object; empty on the last page."""

    cursor: str | None = None


class StreamsPage(_Model):
    """A Get Streams answer."""

    data: list[TwitchStream]
    pagination: Pagination = Pagination()


class TwitchUser(_Model):
    """One user from Get Users."""

    id: str
    login: str
    display_name: str
    profile_image_url: str = ""


class UsersPage(_Model):
    """A Get Users answer."""

    data: list[TwitchUser]


class FollowersPage(_Model):
    """A Get Channel Followers answer; with an app token only `total` is filled."""

    total: int = Field(ge=0)


class TwitchClient:
    """Twitch Helix client (app access token)."""

    platform = Platform.TWITCH

    def __init__(
        self,
        http: httpx.Client,
        *,
        client_id: str,
        client_secret: SecretStr,
        auth_url: str = "https://id.twitch.tv/oauth2",
        api_url: str = "https://api.twitch.tv/helix",
        timeout_s: float = 10.0,
        policy: RetryPolicy | None = None,
        clock: Clock = utc_now,
        pace_below: int = 10,
        token_margin_s: float = 300.0,
    ) -> None:
        self._client_id = client_id
        self._api_url = api_url.rstrip("/")
        self._policy = policy or RetryPolicy()
        self.clock = clock
        self.token = AppToken(
            http,
            client_id=client_id,
            client_secret=client_secret,
            auth_url=auth_url,
            policy=self._policy,
            timeout_s=timeout_s,
            margin_s=token_margin_s,
        )
        self.pacer = RatePacer(self._policy, self.platform, pace_below)
        self._helix = Sender(
            http,
            self.platform,
            self._policy,
            timeout_s,
            self._helix_error,
            before_attempt=self.pacer.before,
            after_response=self.pacer.observe,
            secrets=self.token.secrets,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        http_client: httpx.Client | None = None,
        clock: Clock = utc_now,
        **kwargs: Any,
    ) -> "TwitchClient":
        if not settings.twitch_client_id or settings.twitch_client_secret is None:
            raise ValueError("TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET must be set")
        kwargs.setdefault("policy", RetryPolicy.from_settings(settings))
        return cls(
            http_client or httpx.Client(),
            client_id=settings.twitch_client_id,
            client_secret=settings.twitch_client_secret,
            auth_url=settings.twitch_auth_url,
            api_url=settings.twitch_api_url,
            timeout_s=settings.platform_timeout_s,
            clock=clock,
            **kwargs,
        )

    # --- the Protocol ---------------------------------------------------------

    def resolve(self, ref: ChannelRef, *, deadline: float | None = None) -> Channel:
        if ref.platform is not Platform.TWITCH or ref.kind not in (RefKind.ID, RefKind.LOGIN):
            raise ValueError(f"not a Twitch id or login reference: {ref.kind}")
        # An all-digit value may be a login as well: ask for both in one request.
        ids = [ref.value] if ref.kind is RefKind.ID else []
        users = self.lookup_users(ids, [ref.value], deadline=deadline)
        if not users:
            raise NotFound(f"no Twitch user {ref.value!r}", platform=self.platform)
        # Asked as both, the user whose id it is wins over one whose login it is.
        return min(users, key=lambda c: c.platform_channel_id != ref.value)

    def fetch_live(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> LiveBatch:
        usage, batch = Usage(), LiveBatch()
        ids = self._valid_ids(channels, batch.failures)

        def check(chunk: Sequence[str]) -> None:
            streams = self._streams(chunk, usage, deadline)
            now = self.clock()
            for user_id in chunk:
                batch.observations[user_id] = _observation(user_id, streams.get(user_id), now)

        each_group(chunks(ids, BATCH), check, batch.failures)
        batch.requests, batch.quota_units = usage.requests, usage.quota_units
        log_batch(self.platform, "live", len(ids), batch)
        return batch

    def fetch_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> StatsBatch:
        usage, batch = Usage(), StatsBatch()
        ids = self._valid_ids(channels, batch.failures)

        def count(one: Sequence[str]) -> None:
            params = [("broadcaster_id", one[0])]
            response = self._get("/channels/followers", params, usage, deadline)
            page = parse_json(FollowersPage, response, self.platform)
            batch.stats[one[0]] = ChannelStats(
                platform=self.platform,
                platform_channel_id=one[0],
                followers=page.total,
                observed_at=self.clock(),
            )

        each_group(chunks(ids, 1), count, batch.failures)
        batch.requests, batch.quota_units = usage.requests, usage.quota_units
        log_batch(self.platform, "stats", len(ids), batch)
        return batch

    # --- Helix calls ----------------------------------------------------------

    def lookup_users(
        self, ids: Sequence[str] = (), logins: Sequence[str] = (), *, deadline: float | None = None
    ) -> list[Channel]:
        """Users by id and/or login, 100 per request; unknown ones are simply absent."""
        params = [("id", i) for i in dict.fromkeys(ids)]
        params += [("login", name.lower()) for name in dict.fromkeys(logins)]
        usage, found = Usage(), []
        for chunk in chunks(params, BATCH):
            page = parse_json(UsersPage, self._get("/users", chunk, usage, deadline), self.platform)
            found += [_channel(user) for user in page.data]
        return found

    def _streams(
        self, user_ids: Sequence[str], usage: Usage, deadline: float | None
    ) -> dict[str, TwitchStream]:
        wanted, found = set(user_ids), dict[str, TwitchStream]()
        params = [("user_id", i) for i in user_ids] + [("first", str(BATCH))]
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            after = [("after", cursor)] if cursor else []
            response = self._get("/streams", params + after, usage, deadline)
            page = parse_json(StreamsPage, response, self.platform)
            for stream in page.data:
                if stream.user_id not in wanted:
                    raise InvalidResponse(
                        "Get Streams answered for a user that was not asked for",
                        platform=self.platform,
                        status=response.status_code,
                    )
                found[stream.user_id] = stream
            if not page.data or not page.pagination.cursor or page.pagination.cursor == cursor:
                break
            cursor = page.pagination.cursor
        return found

    def _get(
        self, path: str, params: Sequence[tuple[str, str]], usage: Usage, deadline: float | None
    ) -> httpx.Response:
        def send(token: str) -> httpx.Response:
            headers = {"Client-Id": self._client_id, "Authorization": f"Bearer {token}"}
            url = f"{self._api_url}{path}"
            return self._helix.send(
                "GET", url, params=params, headers=headers, usage=usage, deadline=deadline
            )

        token = self.token.get(usage, deadline)
        try:
            return send(token)
        except AuthError as exc:
            if exc.status != 401:
                raise
            logger.info("twitch: app token rejected; refreshing once", extra={"platform": "twitch"})
            self.token.drop(token)
        return send(self.token.get(usage, deadline))

    def _valid_ids(
        self, channels: Sequence[ChannelTarget], failures: dict[str, PlatformError]
    ) -> list[str]:
        ids = list(dict.fromkeys(c.platform_channel_id for c in channels))
        for bad in (i for i in ids if not i.isdigit()):
            failures[bad] = NotFound(f"{bad!r} is not a Twitch user id", platform=self.platform)
        return [i for i in ids if i.isdigit()]

    def _helix_error(self, response: httpx.Response) -> PlatformError:
        return error_for_status(
            self.platform, response, error_message(response), wall_now=self._policy.wall()
        )


def _observation(user_id: str, stream: TwitchStream | None, now: datetime) -> LiveObservation:
    if stream is None:
        return LiveObservation(
            platform=Platform.TWITCH, platform_channel_id=user_id, is_live=False, observed_at=now
        )
    return LiveObservation(
        platform=Platform.TWITCH,
        platform_channel_id=user_id,
        is_live=True,
        platform_stream_id=stream.id,
        title=stream.title or None,
        category=stream.game_name or None,
        viewer_count=stream.viewer_count,
        started_at=stream.started_at,
        observed_at=now,
    )


def _channel(user: TwitchUser) -> Channel:
    return Channel(
        platform=Platform.TWITCH,
        platform_channel_id=user.id,
        handle=user.login,
        display_name=user.display_name or None,
        url=f"https://www.twitch.tv/{user.login}",
        avatar_url=user.profile_image_url or None,
    )
