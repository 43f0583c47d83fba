"""YouTube: the quota-free channel feed finds broadcasts, videos.list says which are live.

Costs (10,000 units per project per Pacific-time day by default; see `quota_day`):
- `discover_candidates`: one feed GET per channel, 0 units.
- `check_videos`: one videos.list per 50 video ids, 1 unit each.
- `fetch_live`: both of the above (every feed entry is checked).
- `fetch_stats`: one channels.list per 50 channels, 1 unit each.
- `resolve`: one channels.list (`id`, `forHandle` or `forUsername`), 1 unit.
Every attempt that reaches the API is billed, retries and rejected calls
included. search.list (100 units) is never used.

The monitor reads feeds on a slow, staggered cadence (`discover_candidates`)
and checks the video ids it already knows every cycle (`check_videos`).
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, SecretStr, ValidationError

from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.platforms.base import (
    Channel,
    ChannelRef,
    ChannelStats,
    ChannelTarget,
    LiveBatch,
    RefKind,
    StatsBatch,
    chunks,
    each_group,
    log_batch,
)
from shared.platforms.errors import (
    AuthError,
    NotFound,
    PlatformError,
    QuotaExhausted,
    RateLimited,
)
from shared.platforms.parsing import Items, invalid, parse_batch, string_field
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status
from shared.platforms.spec import QuotaAccounting
from shared.platforms.youtube.feed import ChannelFeed, Discovery
from shared.platforms.youtube.videos import (
    GoogleModel,
    Video,
    VideoCheck,
    VideoList,
    observe_channel,
    video_status,
)

BATCH = 50
PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA = QuotaAccounting(day_zone=PACIFIC, daily_units=10_000)
"""10,000 units a day by default; the day resets at midnight Pacific time."""
_QUOTA = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_RATE = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_AUTH = frozenset(
    {"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED", "accessNotConfigured"}
    | {"SERVICE_DISABLED", "ipRefererBlocked", "forbidden"}
)


def quota_day(at: datetime) -> date:
    """The quota day `at` falls in: YouTube's quota resets at midnight Pacific time."""
    return QUOTA.day(at)


class Thumbnail(GoogleModel):
    """One size of a thumbnail."""

    url: str


class ChannelSnippet(GoogleModel):
    """The parts of a channel's snippet StreamTrack reads."""

    title: str = ""
    custom_url: str | None = None
    """The channel's `@handle`."""
    thumbnails: dict[str, Thumbnail] = Field(default_factory=dict)


class ChannelStatistics(GoogleModel):
    """A channel's counters (strings on the wire)."""

    subscriber_count: int | None = Field(default=None, ge=0)
    """Rounded by YouTube."""
    hidden_subscriber_count: bool = False


class YouTubeChannel(GoogleModel):
    """A channel resource (`part=snippet,statistics`)."""

    id: str
    snippet: ChannelSnippet = ChannelSnippet()
    statistics: ChannelStatistics = ChannelStatistics()


class ChannelList(GoogleModel):
    """A channels.list answer; `items` is left out when nothing matched. Read with
    `parsing.parse_batch`, so one malformed channel fails only itself."""

    items: list[YouTubeChannel] = Field(default_factory=list)


class ErrorItem(GoogleModel):
    """One entry of `error.errors` (or `error.details`)."""

    reason: str = ""


class ErrorBody(GoogleModel):
    """Google's `error` object."""

    code: int | None = None
    message: str = ""
    errors: list[ErrorItem] = Field(default_factory=list)
    details: list[ErrorItem] = Field(default_factory=list)


class ErrorEnvelope(GoogleModel):
    """Google's error answer, `{"error": {...}}`."""

    error: ErrorBody


class YouTubeClient:
    """YouTube Data API v3 client (API key) plus the channel feed."""

    platform = Platform.YOUTUBE

    def __init__(
        self,
        http: httpx.Client,
        *,
        api_key: SecretStr,
        api_url: str = "https://www.googleapis.com/youtube/v3",
        feed_url: str = "https://www.youtube.com/feeds/videos.xml",
        timeout_s: float = 10.0,
        policy: RetryPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._key = api_key
        self._api_url = api_url.rstrip("/")
        self._policy = policy or RetryPolicy()
        self.clock = clock
        self._api = Sender(
            http, self.platform, self._policy, timeout_s, self._api_error, secrets=self._secrets
        )
        self.feed = ChannelFeed(http, feed_url, self._policy, timeout_s)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        http_client: httpx.Client | None = None,
        clock: Clock = utc_now,
        **kwargs: Any,
    ) -> "YouTubeClient":
        if settings.youtube_api_key is None:
            raise ValueError("YOUTUBE_API_KEY must be set")
        kwargs.setdefault("policy", RetryPolicy.from_settings(settings))
        return cls(
            http_client or httpx.Client(),
            api_key=settings.youtube_api_key,
            api_url=settings.youtube_api_url,
            feed_url=settings.youtube_feed_url,
            timeout_s=settings.platform_timeout_s,
            clock=clock,
            **kwargs,
        )

    # --- the Protocol ---------------------------------------------------------

    def resolve(self, ref: ChannelRef, *, deadline: float | None = None) -> Channel:
        params = {RefKind.ID: "id", RefKind.HANDLE: "forHandle", RefKind.USERNAME: "forUsername"}
        if ref.platform is not Platform.YOUTUBE or ref.kind not in params:
            raise ValueError(f"not a YouTube id, handle or username reference: {ref.kind}")
        answer = self._channels({params[ref.kind]: ref.value}, Cost(), deadline)
        malformed = answer.unattributed or next(iter(answer.failed.values()), None)
        if malformed is not None:
            raise malformed
        found = answer.valid
        if not found:
            raise NotFound(f"no YouTube channel {ref.value!r}", platform=self.platform)
        snippet = found[0].snippet
        sizes = ("high", "medium", "default")
        avatars = [snippet.thumbnails[s].url for s in sizes if s in snippet.thumbnails]
        return Channel(
            platform=self.platform,
            platform_channel_id=found[0].id,
            handle=snippet.custom_url,
            display_name=snippet.title or None,
            url=f"https://www.youtube.com/channel/{found[0].id}",
            avatar_url=avatars[0] if avatars else None,
        )

    def fetch_live(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> LiveBatch:
        ids = list(dict.fromkeys(c.platform_channel_id for c in channels))
        found = self.discover_candidates(ids, deadline=deadline)
        batch = LiveBatch(failures=dict(found.failures), requests=found.requests)
        wanted = found.video_ids()
        check = self.check_videos([v for vs in wanted.values() for v in vs], deadline=deadline)
        batch.requests += check.requests
        batch.quota_units = check.quota_units
        now = self.clock()
        for channel_id, video_ids in wanted.items():
            failed = [check.failures[v] for v in video_ids if v in check.failures]
            if failed:
                batch.failures[channel_id] = failed[0]
                continue
            statuses = (check.videos[v] for v in video_ids if v in check.videos)
            batch.observations[channel_id] = observe_channel(channel_id, statuses, now)
        log_batch(self.platform, "live", len(ids), batch)
        return batch

    def fetch_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> StatsBatch:
        cost, batch = Cost(), StatsBatch()
        ids = list(dict.fromkeys(c.platform_channel_id for c in channels))

        def count(group: Sequence[str]) -> None:
            params = {"id": ",".join(group), "maxResults": str(BATCH)}
            answer = self._channels(params, cost, deadline)
            found = {c.id: c for c in answer.valid}
            now = self.clock()
            for channel_id in group:
                if (failure := answer.failed.get(channel_id)) is not None:
                    batch.failures[channel_id] = failure
                    continue
                if (channel := found.get(channel_id)) is None:
                    batch.failures[channel_id] = answer.unattributed or NotFound(
                        "no such channel", platform=self.platform
                    )
                    continue
                stats = channel.statistics
                hidden = stats.hidden_subscriber_count
                batch.stats[channel_id] = ChannelStats(
                    platform=self.platform,
                    platform_channel_id=channel_id,
                    subscribers=None if hidden else stats.subscriber_count,
                    observed_at=now,
                )

        each_group(chunks(ids, BATCH), count, batch.failures)
        batch.requests, batch.quota_units = cost.requests, cost.quota_units
        log_batch(self.platform, "stats", len(ids), batch)
        return batch

    # --- the two halves of live checking ----------------------------------------

    def discover_candidates(
        self, channel_ids: Sequence[str], *, deadline: float | None = None
    ) -> Discovery:
        """Every channel's recent feed entries (quota-free; one request per channel)."""
        return self.feed.discover(channel_ids, deadline=deadline)

    def check_videos(
        self, video_ids: Sequence[str], *, deadline: float | None = None
    ) -> VideoCheck:
        """Each video's broadcast state, 50 ids per videos.list call (1 unit each)."""
        cost, check = Cost(), VideoCheck()

        def look(group: Sequence[str]) -> None:
            params = {"part": "snippet,liveStreamingDetails", "id": ",".join(group)}
            response = self._get("/videos", params, cost, deadline)
            _, items = parse_batch(
                VideoList, "items", Video, string_field("id"), response, self.platform
            )
            videos = {v.id: v for v in items.valid}
            if not (videos.keys() | items.failed.keys()) <= set(group):
                # Not a bad item but a wrong answer: nothing in it can be trusted.
                raise invalid(
                    "videos.list answered for a video not asked for", response, self.platform
                )
            now = self.clock()
            for video_id in group:
                video = videos.get(video_id)
                failure = items.failed.get(video_id)
                if failure is None and video is None:
                    failure = items.unattributed
                if failure is not None:
                    check.failures[video_id] = failure
                else:
                    check.videos[video_id] = video_status(video_id, video, now)

        each_group(chunks(list(dict.fromkeys(video_ids)), BATCH), look, check.failures)
        check.requests, check.quota_units = cost.requests, cost.quota_units
        return check

    # --- HTTP -----------------------------------------------------------------

    def _channels(
        self, params: dict[str, str], cost: Cost, deadline: float | None
    ) -> Items[YouTubeChannel]:
        response = self._get("/channels", {"part": "snippet,statistics", **params}, cost, deadline)
        _, items = parse_batch(
            ChannelList, "items", YouTubeChannel, string_field("id"), response, self.platform
        )
        return items

    def _get(
        self, path: str, params: dict[str, str], cost: Cost, deadline: float | None
    ) -> httpx.Response:
        params = {**params, "key": self._key.get_secret_value()}
        return self._api.send(
            "GET",
            f"{self._api_url}{path}",
            params=params,
            cost=cost,
            deadline=deadline,
            quota_cost=1,
        )

    def _secrets(self) -> tuple[str, ...]:
        return (self._key.get_secret_value(),)

    def _api_error(self, response: httpx.Response) -> PlatformError:
        return self.classify_error(response, self._policy)

    @staticmethod
    def classify_error(response: httpx.Response, policy: RetryPolicy) -> PlatformError:
        """A Google API error answer as the error tree's branch (its reasons refine it)."""
        platform = Platform.YOUTUBE
        try:
            body = ErrorEnvelope.model_validate_json(response.content).error
        except ValidationError:
            body = ErrorBody(message=response.reason_phrase)
        reasons = {e.reason for e in (*body.errors, *body.details)}
        message = body.message or response.reason_phrase
        base = error_for_status(platform, response, message, wall_now=policy.wall())
        kwargs: dict[str, Any] = {
            "platform": platform,
            "status": base.status,
            "request_id": base.request_id,
        }
        if reasons & _QUOTA:
            return QuotaExhausted(message, **kwargs)
        if reasons & _RATE:
            retry_after = base.retry_after if isinstance(base, RateLimited) else None
            return RateLimited(message, retry_after=retry_after, **kwargs)
        if reasons & _AUTH or message.startswith("API key not valid"):
            return AuthError(message, **kwargs)
        return base
