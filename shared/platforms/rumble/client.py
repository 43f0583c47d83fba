"""Rumble's Livestream API (beta): one GET per owner key, `<rumble_api_url>?key=KEY`.

A key covers one account (a user or one of its channels) and answers with its
followers, subscribers and livestreams, chat included. Costs: one request per
key for `fetch_live`, `fetch_stats` and `resolve` together, because:

- At most one request per key per 5 seconds (Rumble's refresh guidance). An
  answer is cached for those 5 seconds and a second call within them gets the
  cached answer (and spends no request); after a failure the next request for
  that key waits out the rest of the 5 seconds (never past the deadline).
- The key is a secret: it is never logged, it is held only as a hash in the
  limiter and the cache, and it is scrubbed from every error message.

The answer's models live in `models.py`. A malformed livestream entry fails
the channel's live status (unless another entry shows it live), not its
follower count.
"""

import threading
from collections.abc import Callable, Sequence
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
    StatsBatch,
    chunks,
    each_group,
    log_batch,
)
from shared.platforms.errors import AuthError, DeadlineExceeded, InvalidResponse, PlatformError
from shared.platforms.pacing import KeyInterval
from shared.platforms.parsing import parse_batch
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status
from shared.platforms.rumble.models import Livestream, RumbleData

INTERVAL_S = 5.0


class RumbleClient:
    """Rumble Livestream API client (one owner key per channel)."""

    platform = Platform.RUMBLE

    def __init__(
        self,
        http: httpx.Client,
        *,
        api_url: str = "https://rumble.com/-livestream-api/get-data",
        timeout_s: float = 10.0,
        policy: RetryPolicy | None = None,
        clock: Clock = utc_now,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self._url = api_url
        self._policy = policy or RetryPolicy()
        self.clock = clock
        self._interval_s = interval_s
        self._limiter = KeyInterval(self._policy, self.platform, interval_s)
        self._sender = Sender(http, self.platform, self._policy, timeout_s, self._error)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._cache: dict[str, tuple[float, RumbleData, datetime]] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        http_client: httpx.Client | None = None,
        clock: Clock = utc_now,
        **kwargs: Any,
    ) -> "RumbleClient":
        kwargs.setdefault("policy", RetryPolicy.from_settings(settings))
        return cls(
            http_client or httpx.Client(),
            api_url=settings.rumble_api_url,
            timeout_s=settings.platform_timeout_s,
            clock=clock,
            **kwargs,
        )

    def resolve(self, ref: ChannelRef, *, deadline: float | None = None) -> Channel:
        if ref.platform is not Platform.RUMBLE:
            raise ValueError(f"not a Rumble reference: {ref.platform}")
        if ref.secret is None:
            raise AuthError(
                "a Rumble channel is resolved through its owner's API key", platform=self.platform
            )
        data, _ = self.get_data(ref.secret, Cost(), deadline=deadline)
        name = data.account_name
        if name is None:
            # Without a name there is no handle to show and no page to link: refuse
            # rather than store a channel with an empty name and a URL to nothing.
            kind = "channel_name" if data.type == "channel" else "username"
            raise InvalidResponse(
                f"the answer for this {data.type} key has no {kind}, so the channel cannot "
                "be named or linked",
                platform=self.platform,
            )
        if ref.value and ref.value.lower() != name.lower():
            raise AuthError(f"the key belongs to {name!r}", platform=self.platform)
        path = "c" if data.type == "channel" else "user"
        return Channel(
            platform=self.platform,
            platform_channel_id=data.account_id,
            handle=name,
            display_name=name,
            url=f"https://rumble.com/{path}/{name}",
        )

    def fetch_live(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> LiveBatch:
        return self.fetch_live_and_stats(channels, deadline=deadline)[0]

    def fetch_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> StatsBatch:
        live, stats = self.fetch_live_and_stats(channels, deadline=deadline)
        stats.requests = live.requests
        return stats

    def fetch_live_and_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> tuple[LiveBatch, StatsBatch]:
        """Both from the one answer each key gives; requests are counted once, on the live batch."""
        live, stats = LiveBatch(), StatsBatch()

        def record(channel_id: str, data: RumbleData, observed_at: datetime) -> None:
            stats.stats[channel_id] = _stats(channel_id, data, observed_at)
            if data.unreadable_livestreams and not any(s.is_live for s in data.livestreams):
                # The unreadable entry may be the live stream: offline would be a guess.
                live.failures[channel_id] = InvalidResponse(
                    f"{data.unreadable_livestreams} livestream entries could not be read",
                    platform=self.platform,
                )
                return
            live.observations[channel_id] = _observation(channel_id, data, observed_at)

        live.requests = self._each(channels, deadline, record, stats.failures)
        live.failures |= stats.failures
        log_batch(self.platform, "live and stats", len(channels), live)
        return live, stats

    def get_data(
        self, key: SecretStr, cost: Cost, *, deadline: float | None = None
    ) -> tuple[RumbleData, datetime]:
        """The key's answer and when it was observed: cached for 5 s, else one request."""
        secret = key.get_secret_value()
        digest = KeyInterval.digest(secret)
        with self._lock:
            key_lock = self._key_locks.setdefault(digest, threading.Lock())
        # Calls for one key queue here, so the second of two at once gets the cache.
        with key_lock:
            cached = self._cache.get(digest)
            if cached and self._policy.monotonic() - cached[0] < self._interval_s:
                return cached[1], cached[2]
            response = self._sender.send(
                "GET",
                self._url,
                params={"key": secret},
                cost=cost,
                deadline=deadline,
                extra_secrets=(secret,),
                pace=lambda d: self._limiter.before(secret, d),
            )
            # One answer, one channel: an unreadable livestream is about no one else.
            data, streams = parse_batch(
                RumbleData, "livestreams", Livestream, lambda _: None, response, self.platform
            )
            data = data.with_unreadable(streams.malformed)
            entry = (self._policy.monotonic(), data, self.clock())
            with self._lock:
                self._cache.pop(digest, None)
                self._cache[digest] = entry
                self._prune(entry[0])
            return entry[1], entry[2]

    def _each(
        self,
        channels: Sequence[ChannelTarget],
        deadline: float | None,
        record: Callable[[str, RumbleData, datetime], None],
        failures: dict[str, PlatformError],
    ) -> int:
        """`record` each channel's answer; the requests this took."""
        cost, targets = Cost(), {c.platform_channel_id: c for c in channels}

        def one(group: Sequence[str]) -> None:
            key = targets[group[0]].api_key
            if key is None:
                raise AuthError("no Livestream API key for this channel", platform=self.platform)
            data, observed_at = self.get_data(key, cost, deadline=deadline)
            if group[0] not in (data.user_id, data.channel_id):
                raise AuthError("the key belongs to another Rumble account", platform=self.platform)
            record(group[0], data, observed_at)

        # Each channel has its own key: one bad key says nothing about the next.
        each_group(chunks(list(targets), 1), one, failures, fatal=(DeadlineExceeded,))
        return cost.requests

    def _prune(self, now: float) -> None:
        # Oldest first (an answer is re-inserted at the end): stop at the first
        # fresh one, so a cycle over n keys costs O(n), not a scan per request.
        while self._cache:
            digest = next(iter(self._cache))
            if now - self._cache[digest][0] < self._interval_s:
                return
            del self._cache[digest]

    def _error(self, response: httpx.Response) -> PlatformError:
        # Rumble's error bodies are HTML or `{"error": "..."}`; neither adds much.
        message = response.reason_phrase or f"HTTP {response.status_code}"
        return error_for_status(self.platform, response, message, wall_now=self._policy.wall())


def _stats(channel_id: str, data: RumbleData, observed_at: datetime) -> ChannelStats:
    return ChannelStats(
        platform=Platform.RUMBLE,
        platform_channel_id=channel_id,
        followers=data.followers.num_followers,
        subscribers=data.subscribers.num_subscribers if data.subscribers else None,
        observed_at=observed_at,
    )


def _observation(channel_id: str, data: RumbleData, observed_at: datetime) -> LiveObservation:
    live = [s for s in data.livestreams if s.is_live]
    if not live:
        return LiveObservation(
            platform=Platform.RUMBLE,
            platform_channel_id=channel_id,
            is_live=False,
            observed_at=observed_at,
        )
    # The same stream every time, should an account ever run two at once.
    stream = min(live, key=lambda s: (s.created_on, s.id))
    primary = stream.categories.primary if stream.categories else None
    return LiveObservation(
        platform=Platform.RUMBLE,
        platform_channel_id=channel_id,
        is_live=True,
        platform_stream_id=stream.id,
        title=stream.title or None,
        category=(primary.title or primary.slug or None) if primary else None,
        viewer_count=stream.watching_now,
        # `created_on` is when the stream was set up, which may be hours before it
        # went live, and the API has no go-live or scheduled time: no start time, so
        # the monitor estimates it from its own sightings.
        started_at=None,
        observed_at=observed_at,
    )
