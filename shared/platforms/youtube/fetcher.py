"""The monitor's YouTube fetcher: staggered feed discovery plus videos.list over candidates.

Feeds are quota-free but one request per channel, so each channel's feed is
read on a slower cadence (YOUTUBE_FEED_INTERVAL_S, staggered across cycles);
one videos.list per 50 *candidate* videos says which are live: the live,
upcoming and not yet classified ones, chosen by the quota governor
(`governor.py`) when the cycle says what is already spent. Videos known to
be uploads or ended broadcasts are never checked again. Subscribers: one
channels.list per 50 channels, for the cycle's share of them.
"""

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from shared.clock import Clock, utc_now
from shared.platforms.base import ChannelTarget, chunks
from shared.platforms.errors import PlatformError
from shared.platforms.polling import (
    ChannelOutcome,
    PlatformUsage,
    PollState,
    PollTarget,
    QuotaStatus,
    add_stats,
    most_overdue,
    results,
    stats_quota,
    submit_each,
    to_observation,
)
from shared.platforms.spec import FetcherContext
from shared.platforms.youtube.client import BATCH, QUOTA, YouTubeClient
from shared.platforms.youtube.governor import (
    Budget,
    Candidate,
    allowance,
    calls_this_cycle,
    choose,
)
from shared.platforms.youtube.videos import VideoState, VideoStatus, observe_channel

MAX_CANDIDATES = 50  # one videos.list call's worth per channel at most
MAX_SETTLED = 100


class YouTubeFetcher:
    """Staggered feed discovery plus videos.list over candidate videos."""

    def __init__(
        self,
        client: YouTubeClient,
        *,
        concurrency: int,
        feed_interval: timedelta,
        stats_interval: timedelta,
        clock: Clock = utc_now,
        budget: Budget | None = None,
    ) -> None:
        self.client = client
        self.platform = client.platform.value
        self.clock = clock
        self.concurrency = concurrency
        self.feed_interval = feed_interval
        self.stats_interval = stats_interval
        self.budget = budget or Budget(10_000, 500, timedelta(minutes=15))

    @classmethod
    def from_context(cls, ctx: FetcherContext) -> "YouTubeFetcher":
        """The factory the spec's `fetcher` points at."""
        if not isinstance(ctx.client, YouTubeClient):
            raise TypeError("the YouTube fetcher polls with a YouTubeClient")
        return cls(
            ctx.client,
            concurrency=ctx.spec.concurrency(ctx.settings),
            feed_interval=timedelta(seconds=ctx.settings.youtube_feed_interval_s),
            stats_interval=timedelta(seconds=ctx.settings.stats_interval_s),
            clock=ctx.clock or utc_now,
            budget=Budget(
                daily_units=ctx.settings.youtube_daily_quota_units,
                reserve_units=ctx.settings.youtube_quota_reserve_units,
                upcoming_interval=timedelta(seconds=ctx.settings.youtube_upcoming_interval_s),
            ),
        )

    def fetch(
        self, channels: Sequence[PollTarget], now: datetime, deadline: float
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        """Check every candidate (no budget known: the caller governs)."""
        return self._fetch(channels, now, deadline, None)

    def fetch_governed(
        self, channels: Sequence[PollTarget], now: datetime, deadline: float, quota: QuotaStatus
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        """Check the candidates the governor chooses within the cycle's allowance."""
        return self._fetch(channels, now, deadline, quota)

    def _fetch(
        self,
        channels: Sequence[PollTarget],
        now: datetime,
        deadline: float,
        quota: QuotaStatus | None,
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        used = PlatformUsage()
        by_id = {c.platform_channel_id: c for c in channels}
        polls = {c.platform_channel_id: c.poll for c in channels}
        feeds_due = self._feeds_due(channels, now)
        share = stats_quota(channels, self.stats_interval)
        if quota is None:
            stats_due = most_overdue(
                channels, lambda c: c.poll.stats_checked_at, now, self.stats_interval, share
            )
        else:
            stats_due = self._stats_in_full_calls(channels, now, share)
        feed_failed: dict[str, PlatformError] = {}
        fresh: set[str] = set()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix=self.platform) as ex:
            stats = submit_each(
                ex, self.client.fetch_stats,
                chunks([ChannelTarget(platform_channel_id=c.platform_channel_id)
                        for c in stats_due], BATCH),
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
                before = set(polls[pcid].candidate_video_ids)
                polls[pcid] = _after_feed(polls[pcid], entries, now)
                if set(polls[pcid].candidate_video_ids) - before:
                    fresh.add(pcid)
            checked = self._governed(channels, polls, fresh, quota, len(stats_due), now)
            # The chosen channels' candidates, in videos.list batches of 50.
            wanted = list(
                dict.fromkeys(v for pcid in checked for v in polls[pcid].candidate_video_ids)
            )
            used.minimum_requests = (
                len(feeds) + math.ceil(len(wanted) / BATCH) + math.ceil(len(stats_due) / BATCH)
            )
            checks = submit_each(ex, self.client.check_videos, chunks(wanted, BATCH), deadline)
            statuses = {}
            failed_videos: dict[str, PlatformError] = {}
            for check in results(checks):
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
            if mine and pcid not in checked:
                # The governor let this one wait: no sample, no false offline.
                outcomes[channel.id] = ChannelOutcome(pending=True, poll=poll)
                continue
            known = [statuses[v] for v in mine if v in statuses]
            live = observe_channel(pcid, known, observed_at)
            obs = to_observation(live)
            last = channel.poll.last_polled_at
            if last is not None and (observed_at - last).total_seconds() > 1.5 * channel.interval_s:
                # A lengthened interval: recorded, so the sample's hold may cross it.
                obs = replace(obs, interval_s=math.ceil((observed_at - last).total_seconds()))
            used.live_samples += obs.is_live
            outcomes[channel.id] = ChannelOutcome(observation=obs, poll=_after_check(poll, known))
        for stats_batch in results(stats):
            used.add(stats_batch)
            for pcid, found_stats in stats_batch.stats.items():
                if pcid in by_id:
                    add_stats(outcomes, by_id[pcid], found_stats)
        return outcomes, used

    def _feeds_due(self, channels: Sequence[PollTarget], now: datetime) -> list[PollTarget]:
        """The feeds this cycle reads. Push decides for the channels it covers (`discover`:
        the sweep's turn, or skipped because WebSub reports new videos); the rest are read
        every `feed_interval`, never-read feeds first, so one newly added channel is read
        at once, while a bulk import spreads over the feed interval."""
        swept = [c for c in channels if c.discover is True]
        own = [c for c in channels if c.discover is None]
        return swept + most_overdue(
            own,
            lambda c: c.poll.feed_checked_at,
            now,
            self.feed_interval,
            stats_quota(own, self.feed_interval),
        )

    def _stats_in_full_calls(
        self, channels: Sequence[PollTarget], now: datetime, share: int
    ) -> list[PollTarget]:
        """Under a unit budget, subscriber counts go in full calls of 50 (a unit each):
        spreading a few channels over every cycle would spend a call per cycle."""
        overdue = most_overdue(
            channels, lambda c: c.poll.stats_checked_at, now, self.stats_interval, len(channels)
        )
        cap = math.ceil(share / BATCH) * BATCH
        full = min(cap, len(overdue) // BATCH * BATCH)
        if full:
            return overdue[:full]
        oldest = overdue[0].poll.stats_checked_at if overdue else now
        if overdue and (oldest is None or now - oldest >= 2 * self.stats_interval):
            return overdue[:BATCH]  # too few for a full call: once they are a second interval late
        return []

    def _governed(
        self,
        channels: Sequence[PollTarget],
        polls: dict[str, PollState],
        fresh: set[str],
        quota: QuotaStatus | None,
        stats_channels: int,
        now: datetime,
    ) -> set[str]:
        """The channels whose candidates this cycle checks (all of them, ungoverned)."""
        with_candidates = [c for c in channels if polls[c.platform_channel_id].candidate_video_ids]
        if quota is None:
            return {c.platform_channel_id for c in with_candidates}
        units = allowance(self.budget, quota, QUOTA, now) - math.ceil(stats_channels / BATCH)
        weighed = [
            Candidate(
                key=c.platform_channel_id,
                video_ids=polls[c.platform_channel_id].candidate_video_ids,
                last_live=c.last_live,
                new_in_feed=c.platform_channel_id in fresh,
                last_checked_at=c.poll.last_polled_at,
                interval=timedelta(seconds=c.interval_s),
                upcoming_start_at=polls[c.platform_channel_id].upcoming_start_at,
            )
            for c in with_candidates
        ]
        calls = calls_this_cycle(units, QUOTA, now)
        return {c.key for c in choose(weighed, calls, self.budget, now)}


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
    """Live and upcoming videos stay candidates; the rest are settled for good. The
    earliest scheduled start of the upcoming ones is kept for the governor."""
    keep, settle = [], []
    scheduled = [
        s.scheduled_start_at
        for s in statuses
        if s.state is VideoState.UPCOMING and s.scheduled_start_at is not None
    ]
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
        upcoming_start_at=min(scheduled, default=None),
    )
