"""Per-platform fetchers: a cycle's due channels → batched client calls → outcomes.

Each fetcher owns its platform's `ThreadPoolExecutor` (capped at that
platform's concurrency) and spends as few requests as the platform allows:

- Twitch: one Get Streams per 100 channels; followers (one request each) for
  at most the cycle's share of channels (see `stats_quota`).
- YouTube: channel feeds (quota-free) on a slower staggered cadence, and one
  videos.list per 50 *candidate* videos every cycle — the live, upcoming and
  not yet classified ones; videos known to be uploads or ended broadcasts are
  never checked again. Subscribers: one channels.list per 50 channels.
- Rumble: one request per owner key, which also carries the follower count.
"""

import hashlib
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from pydantic import SecretStr

from shared.crypto import CredentialError, SecretBox
from shared.monitor.state import ChannelOutcome, DueChannel, PlatformUsage, PollState
from shared.monitor.stitching import Observation
from shared.platforms.base import (
    ChannelStats,
    ChannelTarget,
    LiveBatch,
    LiveObservation,
    PlatformClient,
    StatsBatch,
    chunks,
    utc_now,
)
from shared.platforms.errors import PlatformError
from shared.platforms.rumble import RumbleClient
from shared.platforms.youtube import YouTubeClient
from shared.platforms.youtube_videos import VideoState, VideoStatus, observe_channel

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_CANDIDATES = 50  # one videos.list call's worth per channel at most
MAX_SETTLED = 100


def to_observation(live: LiveObservation) -> Observation:
    return Observation(
        observed_at=live.observed_at,
        is_live=live.is_live,
        platform_stream_id=live.platform_stream_id,
        title=live.title,
        category=live.category,
        viewer_count=live.viewer_count,
        started_at=live.started_at,
    )


def _error(exc: PlatformError) -> dict[str, object]:
    return {
        "platform": exc.platform.value if exc.platform else None,
        "status": exc.status,
        "request_id": exc.request_id,
        "error": type(exc).__name__,
        "message": str(exc)[:300],
    }


def _spread_rank(channel: DueChannel) -> str:
    """A stable pseudo-random order, so staggered work spreads evenly over channels."""
    return hashlib.blake2s(channel.id.bytes, digest_size=8).hexdigest()


def most_overdue(
    channels: Sequence[DueChannel],
    last: Callable[[DueChannel], datetime | None],
    now: datetime,
    interval: timedelta,
    share: int,
) -> list[DueChannel]:
    """Channels whose work is due, never-done first, then the longest overdue; at most `share`.

    Capping each cycle at its share of the interval's work spreads, for
    example, an hourly follower count over the hour instead of doing all of
    it in the first cycle and again an hour later.
    """
    due = [c for c in channels if (t := last(c)) is None or now - t >= interval]
    due.sort(key=lambda c: (last(c) is not None, last(c) or now, _spread_rank(c)))
    return due[:share]


# The timer's period (MONITOR_SCHEDULE runs every minute): plans sampling more
# often than this are still checked once a cycle.
CYCLE_S = 60


def stats_quota(channels: Sequence[DueChannel], interval: timedelta) -> int:
    """Per cycle, the share of channels whose periodic work keeps up with `interval`."""
    if not channels:
        return 0
    cycle_s = max(CYCLE_S, min(c.interval_s for c in channels))
    return max(1, math.ceil(len(channels) * cycle_s / interval.total_seconds()))


class _Usage:
    """Collects one cycle's requests, quota units and distinct errors."""

    def __init__(self) -> None:
        self.usage = PlatformUsage()
        self._seen: set[tuple[object, ...]] = set()

    def add(self, batch: LiveBatch | StatsBatch | None, requests: int = 0, units: int = 0) -> None:
        if batch is not None:
            requests += batch.requests
            units += batch.quota_units
            for exc in batch.failures.values():
                self.error(exc)
        self.usage.requests += requests
        self.usage.quota_units += units

    def error(self, exc: PlatformError) -> None:
        # One entry per distinct failure, not one per channel of a failed batch.
        key = (type(exc).__name__, exc.status, str(exc))
        if key not in self._seen and len(self.usage.errors) < 20:
            self._seen.add(key)
            self.usage.errors.append(_error(exc))


class BatchFetcher:
    """Twitch and Rumble: `fetch_live` and `fetch_stats` on batches of targets."""

    def __init__(
        self,
        client: PlatformClient,
        *,
        concurrency: int,
        live_batch: int,
        stats_batch: int,
        stats_interval: timedelta,
        secrets: SecretBox | None = None,
        paired_stats: bool = False,
        stats_per_request: int = 1,
    ) -> None:
        self.client = client
        self.paired_stats = paired_stats
        self.stats_per_request = stats_per_request  # Twitch followers: one channel each
        self.platform = client.platform.value
        self.concurrency = concurrency
        self.live_batch = live_batch
        self.stats_batch = stats_batch
        self.stats_interval = stats_interval
        self.secrets = secrets

    def _targets(
        self, channels: Sequence[DueChannel], outcomes: dict[UUID, ChannelOutcome]
    ) -> dict[str, tuple[DueChannel, ChannelTarget]]:
        targets = {}
        for channel in channels:
            key: SecretStr | None = None
            if channel.credential is not None:
                try:
                    if self.secrets is None:
                        raise CredentialError("CREDENTIALS_ENCRYPTION_KEY is not set")
                    key = SecretStr(self.secrets.open(channel.credential, channel.id))
                except CredentialError as exc:
                    outcomes[channel.id] = ChannelOutcome(error=f"credential: {exc}")
                    continue
            target = ChannelTarget(platform_channel_id=channel.platform_channel_id, api_key=key)
            targets[channel.platform_channel_id] = (channel, target)
        return targets

    def _live_then_stats(
        self, targets: list[ChannelTarget], with_stats: bool, deadline: float
    ) -> tuple[LiveBatch, StatsBatch | None]:
        if not with_stats:
            return self.client.fetch_live(targets, deadline=deadline), None
        assert isinstance(self.client, RumbleClient)
        return self.client.fetch_live_and_stats(targets, deadline=deadline)

    def fetch(
        self, channels: Sequence[DueChannel], now: datetime, deadline: float
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        outcomes: dict[UUID, ChannelOutcome] = {}
        used = _Usage()
        targets = self._targets(channels, outcomes)
        wanted = [c for c, _ in targets.values()]
        share = stats_quota(wanted, self.stats_interval)
        stats_due = most_overdue(
            wanted, lambda c: c.poll.stats_checked_at, now, self.stats_interval, share
        )
        live_targets = [t for _, t in targets.values()]
        stats_targets = [targets[c.platform_channel_id][1] for c in stats_due]
        used.usage.minimum_requests = math.ceil(len(live_targets) / self.live_batch) + (
            0 if self.paired_stats else math.ceil(len(stats_targets) / self.stats_per_request)
        )
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix=self.platform) as ex:
            if self.paired_stats:
                # One answer carries both (Rumble): take the stats from it when due.
                wants_stats = {t.platform_channel_id for t in stats_targets}
                pairs = [
                    ex.submit(self._live_then_stats, [t], t.platform_channel_id in wants_stats,
                              deadline)
                    for t in live_targets
                ]  # fmt: skip
                answers = [pair.result() for pair in pairs]
                lives = [live for live, _ in answers]
                stats = [found for _, found in answers if found is not None]
            else:
                live_calls = _submit(
                    ex, self.client.fetch_live, chunks(live_targets, self.live_batch), deadline
                )
                stats_calls = _submit(
                    ex, self.client.fetch_stats, chunks(stats_targets, self.stats_batch), deadline
                )
                lives = [call.result() for call in live_calls]
                stats = [call.result() for call in stats_calls]
        for batch in lives:
            used.add(batch)
            for pcid, live in batch.observations.items():
                if pcid in targets:
                    outcomes[targets[pcid][0].id] = ChannelOutcome(observation=to_observation(live))
            for pcid, exc in batch.failures.items():
                if pcid in targets:
                    outcomes[targets[pcid][0].id] = ChannelOutcome(error=str(exc)[:300])
        for stats_batch in stats:
            used.add(stats_batch)
            for pcid, found in stats_batch.stats.items():
                if pcid in targets:
                    _add_stats(outcomes, targets[pcid][0], found)
        return outcomes, used.usage


def _submit(
    ex: ThreadPoolExecutor,
    call: Callable[..., T],
    groups: Iterable[Sequence[ChannelTarget]] | Iterable[Sequence[str]],
    deadline: float,
) -> list[Future[T]]:
    return [ex.submit(call, list(group), deadline=deadline) for group in groups]


def _results(futures: Iterable[Future[T]]) -> Iterable[T]:
    for future in futures:
        yield future.result()


def _add_stats(
    outcomes: dict[UUID, ChannelOutcome], channel: DueChannel, stats: ChannelStats
) -> None:
    outcome = outcomes.setdefault(channel.id, ChannelOutcome())
    outcome.followers = stats.followers
    outcome.subscribers = stats.subscribers
    outcome.stats_at = stats.observed_at
    outcome.poll = replace(outcome.poll or channel.poll, stats_checked_at=stats.observed_at)


class YouTubeFetcher:
    """YouTube: staggered feed discovery plus videos.list over candidate videos."""

    platform = "youtube"

    def __init__(
        self,
        client: YouTubeClient,
        *,
        concurrency: int,
        feed_interval: timedelta,
        stats_interval: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.client = client
        self.clock = clock
        self.concurrency = concurrency
        self.feed_interval = feed_interval
        self.stats_interval = stats_interval

    def fetch(
        self, channels: Sequence[DueChannel], now: datetime, deadline: float
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        used = _Usage()
        by_id = {c.platform_channel_id: c for c in channels}
        polls = {c.platform_channel_id: c.poll for c in channels}
        # Never-read feeds come first, so one newly added channel is read at
        # once, while a bulk import spreads over the feed interval.
        feeds_due = most_overdue(
            channels,
            lambda c: c.poll.feed_checked_at,
            now,
            self.feed_interval,
            stats_quota(channels, self.feed_interval),
        )
        share = stats_quota(channels, self.stats_interval)
        stats_due = most_overdue(
            channels, lambda c: c.poll.stats_checked_at, now, self.stats_interval, share
        )
        feed_failed: dict[str, PlatformError] = {}
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="youtube") as ex:
            stats = _submit(
                ex, self.client.fetch_stats,
                chunks([ChannelTarget(platform_channel_id=c.platform_channel_id)
                        for c in stats_due], 50),
                deadline,
            )  # fmt: skip
            feeds = {
                c.platform_channel_id: ex.submit(
                    self.client.discover_candidates, [c.platform_channel_id], deadline=deadline
                )
                for c in feeds_due
            }
            for pcid, future in feeds.items():
                found = future.result()
                used.add(None, requests=found.requests)
                if pcid in found.failures:
                    feed_failed[pcid] = found.failures[pcid]
                    used.error(found.failures[pcid])
                    continue
                entries = [e.video_id for e in found.candidates.get(pcid, [])]
                polls[pcid] = _after_feed(polls[pcid], entries, now)
            # Every channel's candidates, in videos.list batches of 50.
            wanted = list(dict.fromkeys(v for p in polls.values() for v in p.candidate_video_ids))
            used.usage.minimum_requests = (
                len(feeds) + math.ceil(len(wanted) / 50) + math.ceil(len(stats_due) / 50)
            )
            checks = _submit(ex, self.client.check_videos, chunks(wanted, 50), deadline)
            statuses = {}
            failed_videos: dict[str, PlatformError] = {}
            for check in _results(checks):
                used.add(None, requests=check.requests, units=check.quota_units)
                statuses.update(check.videos)
                failed_videos.update(check.failures)
                for exc in check.failures.values():
                    used.error(exc)
        outcomes: dict[UUID, ChannelOutcome] = {}
        observed_at = self.clock()
        for pcid, channel in by_id.items():
            poll = polls[pcid]
            mine = poll.candidate_video_ids
            failure = next((failed_videos[v] for v in mine if v in failed_videos), None)
            if failure is None and pcid in feed_failed and not mine:
                failure = feed_failed[pcid]
            if failure is not None:
                outcomes[channel.id] = ChannelOutcome(error=str(failure)[:300], poll=poll)
                continue
            if poll.feed_checked_at is None:
                # Not discovered yet: saying "offline" would be a guess.
                outcomes[channel.id] = ChannelOutcome(pending=True)
                continue
            known = [statuses[v] for v in mine if v in statuses]
            live = observe_channel(pcid, known, observed_at)
            outcomes[channel.id] = ChannelOutcome(
                observation=to_observation(live), poll=_after_check(poll, known)
            )
        for stats_batch in _results(stats):
            used.add(stats_batch)
            for pcid, found_stats in stats_batch.stats.items():
                if pcid in by_id:
                    _add_stats(outcomes, by_id[pcid], found_stats)
        return outcomes, used.usage


def _after_feed(poll: PollState, feed_ids: Sequence[str], now: datetime) -> PollState:
    """New feed entries become candidates; settled ids are kept only while in the feed."""
    settled = set(poll.settled_video_ids)
    known = set(poll.candidate_video_ids)
    fresh = [v for v in feed_ids if v not in settled and v not in known]
    candidates = (*fresh, *poll.candidate_video_ids)[:MAX_CANDIDATES]
    in_feed = set(feed_ids)
    return replace(
        poll,
        feed_checked_at=now,
        candidate_video_ids=candidates,
        settled_video_ids=tuple(v for v in poll.settled_video_ids if v in in_feed),
    )


def _after_check(poll: PollState, statuses: Sequence[VideoStatus]) -> PollState:
    """Live and upcoming videos stay candidates; the rest are settled for good."""
    keep, settle = [], []
    for status in statuses:
        if status.state in (VideoState.LIVE, VideoState.UPCOMING):
            keep.append(status.video_id)
        else:
            settle.append(status.video_id)
    checked = {*keep, *settle}
    unchecked = [v for v in poll.candidate_video_ids if v not in checked]
    return replace(
        poll,
        candidate_video_ids=tuple([*keep, *unchecked][:MAX_CANDIDATES]),
        settled_video_ids=tuple([*settle, *poll.settled_video_ids][:MAX_SETTLED]),
    )
