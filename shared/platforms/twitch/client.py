"""Twitch Helix: app access token, Get Streams, Get Users, Get Channel Followers.

Costs (Helix points; 800 per minute per app token, 1 per request):
- `fetch_live`: one Get Streams per 100 channels (`first=100`), plus a page per
  `pagination.cursor` Twitch sends; offline channels are simply absent.
- `fetch_stats`: one Get Channel Followers per channel (only `total` is read).
- `resolve`: one Get Users; `lookup_users`: one per 100 ids/logins.
- The app token (`twitch_auth`) is fetched once and cached until shortly
  before it expires; a 401 refreshes it once and the request is sent again.

The client is shared by the monitor's threads: the token cache and the
rate-limit pacer are guarded by locks. Answers are read item by item: one
malformed stream fails only its own channel.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.platforms.base import (
    Channel,
    ChannelRef,
    ChannelStats,
    ChannelTarget,
    LiveBatch,
    LiveObservation,
    RefKind,
    StatsBatch,
    chunks,
    each_group,
    log_batch,
)
from shared.platforms.errors import (
    AuthError,
    InvalidResponse,
    NotFound,
    PlatformError,
)
from shared.platforms.pacing import RatePacer
from shared.platforms.parsing import Items, invalid, parse_batch, parse_json, string_field
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status
from shared.platforms.twitch.auth import AppToken, error_message
from shared.platforms.twitch.models import (
    FollowersPage,
    StreamsPage,
    TwitchStream,
    TwitchUser,
    UsersPage,
)

logger = logging.getLogger(__name__)

BATCH = 100
MAX_PAGES = 10
"""A page may hold fewer than `first` streams and still carry a cursor, so cursors are
followed; this only guards against one that never ends."""


@dataclass(slots=True)
class LiveStreams:
    """What Get Streams said about a group of users."""

    streams: dict[str, TwitchStream] = field(default_factory=dict)
    """The live ones, by user id."""
    failed: dict[str, InvalidResponse] = field(default_factory=dict)
    """Users whose stream item was malformed."""
    unattributed: InvalidResponse | None = None
    """A malformed item that names no user: whoever is not listed live is uncertain."""


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
        found = self._users(ids, [ref.value], deadline)
        malformed = found.unattributed or next(iter(found.failed.values()), None)
        if malformed is not None:
            # Which of the answers was the one asked for cannot be told: no guess.
            raise malformed
        users = [_channel(user) for user in found.valid]
        if not users:
            raise NotFound(f"no Twitch user {ref.value!r}", platform=self.platform)
        # Asked as both, the user whose id it is wins over one whose login it is.
        return min(users, key=lambda c: c.platform_channel_id != ref.value)

    def fetch_live(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> LiveBatch:
        cost, batch = Cost(), LiveBatch()
        ids = self._valid_ids(channels, batch.failures)

        def check(chunk: Sequence[str]) -> None:
            found = self._streams(chunk, cost, deadline)
            now = self.clock()
            for user_id in chunk:
                stream = found.streams.get(user_id)
                failure = found.failed.get(user_id)
                if failure is None and stream is None:
                    failure = found.unattributed
                if failure is not None:
                    batch.failures[user_id] = failure
                else:
                    batch.observations[user_id] = _observation(user_id, stream, now)

        each_group(chunks(ids, BATCH), check, batch.failures)
        batch.requests, batch.quota_units = cost.requests, cost.quota_units
        log_batch(self.platform, "live", len(ids), batch)
        return batch

    def fetch_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> StatsBatch:
        cost, batch = Cost(), StatsBatch()
        ids = self._valid_ids(channels, batch.failures)

        def count(one: Sequence[str]) -> None:
            params = [("broadcaster_id", one[0])]
            response = self._get("/channels/followers", params, cost, deadline)
            page = parse_json(FollowersPage, response, self.platform)
            batch.stats[one[0]] = ChannelStats(
                platform=self.platform,
                platform_channel_id=one[0],
                followers=page.total,
                observed_at=self.clock(),
            )

        each_group(chunks(ids, 1), count, batch.failures)
        batch.requests, batch.quota_units = cost.requests, cost.quota_units
        log_batch(self.platform, "stats", len(ids), batch)
        return batch

    # --- Helix calls ----------------------------------------------------------

    def lookup_users(
        self, ids: Sequence[str] = (), logins: Sequence[str] = (), *, deadline: float | None = None
    ) -> list[Channel]:
        """Users by id and/or login, 100 per request; unknown (or malformed) ones are absent."""
        return [_channel(user) for user in self._users(ids, logins, deadline).valid]

    def _users(
        self, ids: Sequence[str], logins: Sequence[str], deadline: float | None
    ) -> Items[TwitchUser]:
        params = [("id", i) for i in dict.fromkeys(ids)]
        params += [("login", name.lower()) for name in dict.fromkeys(logins)]
        cost, found = Cost(), Items[TwitchUser]()
        for chunk in chunks(params, BATCH):
            response = self._get("/users", chunk, cost, deadline)
            _, items = parse_batch(
                UsersPage, "data", TwitchUser, string_field("id"), response, self.platform
            )
            found.valid += items.valid
            found.failed |= items.failed
            found.unattributed = found.unattributed or items.unattributed
        return found

    def _streams(self, user_ids: Sequence[str], cost: Cost, deadline: float | None) -> LiveStreams:
        wanted, found = set(user_ids), LiveStreams()
        params = [("user_id", i) for i in user_ids] + [("first", str(BATCH))]
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            after = [("after", cursor)] if cursor else []
            response = self._get("/streams", params + after, cost, deadline)
            page, items = parse_batch(
                StreamsPage, "data", TwitchStream, string_field("user_id"), response, self.platform
            )
            answered = {s.user_id for s in items.valid} | items.failed.keys()
            if not answered <= wanted:
                # Not a bad item but a wrong answer: nothing in it can be trusted.
                raise invalid(
                    "Get Streams answered for a user that was not asked for",
                    response,
                    self.platform,
                )
            found.streams |= {s.user_id: s for s in items.valid}
            found.failed |= items.failed
            found.unattributed = found.unattributed or items.unattributed
            if not page.data or not page.pagination.cursor or page.pagination.cursor == cursor:
                break
            cursor = page.pagination.cursor
        return found

    def _get(
        self, path: str, params: Sequence[tuple[str, str]], cost: Cost, deadline: float | None
    ) -> httpx.Response:
        return self.call("GET", path, params, cost, deadline=deadline)

    def call(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]],
        cost: Cost,
        *,
        json: Any = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """One Helix request with the app token (refreshed once on 401), e.g. EventSub's."""

        def send(token: str) -> httpx.Response:
            headers = {"Client-Id": self._client_id, "Authorization": f"Bearer {token}"}
            url = f"{self._api_url}{path}"
            extra = {"json": json} if json is not None else {}
            return self._helix.send(
                method, url, params=params, headers=headers, cost=cost, deadline=deadline, **extra
            )

        token = self.token.get(cost, deadline)
        try:
            return send(token)
        except AuthError as exc:
            if exc.status != 401:
                raise
            logger.info("twitch: app token rejected; refreshing once", extra={"platform": "twitch"})
            self.token.drop(token)
        return send(self.token.get(cost, deadline))

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
