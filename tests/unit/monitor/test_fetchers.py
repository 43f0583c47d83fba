"""The monitor's fetchers on fake clients: batching, the cycle's share of stats,
credentials, and YouTube's feed scheduling (no network, no database)."""

import threading
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.crypto import SecretBox
from shared.platforms.base import (
    ChannelStats,
    ChannelTarget,
    LiveBatch,
    LiveObservation,
    StatsBatch,
)
from shared.platforms.batch import BatchFetcher
from shared.platforms.errors import InvalidResponse
from shared.platforms.polling import PollState, PollTarget, QuotaStatus
from shared.platforms.registry import Platform, spec
from shared.platforms.rumble import PairedFetcher
from shared.platforms.youtube import Discovery, FeedEntry, VideoCheck, VideoState, VideoStatus
from shared.platforms.youtube.fetcher import (
    MAX_CANDIDATES,
    YouTubeFetcher,
    _after_check,
    _after_feed,
)
from shared.platforms.youtube.governor import Budget

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def target(platform: Platform, pcid: str, **poll: object) -> PollTarget:
    return PollTarget(
        id=uuid.uuid4(),
        platform=platform.value,
        platform_channel_id=pcid,
        interval_s=60,
        poll=PollState(**poll),  # type: ignore[arg-type]
    )


class FakeBatchClient:
    """Live for every channel whose id ends in 0; followers = the id's length."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.live_calls: list[list[str]] = []
        self.stats_calls: list[list[str]] = []
        self.paired_calls: list[list[str]] = []
        self.keys: list[str | None] = []
        self.lock = threading.Lock()

    def resolve(self, ref: object, *, deadline: float | None = None) -> object:
        raise NotImplementedError

    def _live(self, channels: Sequence[ChannelTarget]) -> LiveBatch:
        batch = LiveBatch(requests=1)
        for c in channels:
            pcid = c.platform_channel_id
            if pcid.startswith("bad"):
                batch.failures[pcid] = InvalidResponse("malformed", platform=self.platform)
                continue
            batch.observations[pcid] = LiveObservation(
                platform=self.platform,
                platform_channel_id=pcid,
                is_live=pcid.endswith("0"),
                platform_stream_id=f"s-{pcid}" if pcid.endswith("0") else None,
                observed_at=NOW,
            )
        return batch

    def _stats(self, channels: Sequence[ChannelTarget]) -> StatsBatch:
        return StatsBatch(
            stats={
                c.platform_channel_id: ChannelStats(
                    platform=self.platform,
                    platform_channel_id=c.platform_channel_id,
                    followers=len(c.platform_channel_id),
                    observed_at=NOW,
                )
                for c in channels
            },
            requests=len(channels),
        )

    def fetch_live(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> LiveBatch:
        with self.lock:
            self.live_calls.append([c.platform_channel_id for c in channels])
            self.keys += [c.api_key.get_secret_value() if c.api_key else None for c in channels]
        return self._live(channels)

    def fetch_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> StatsBatch:
        with self.lock:
            self.stats_calls.append([c.platform_channel_id for c in channels])
        return self._stats(channels)

    def fetch_live_and_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> tuple[LiveBatch, StatsBatch]:
        with self.lock:
            self.paired_calls.append([c.platform_channel_id for c in channels])
        stats = self._stats(channels)
        stats.requests = 0
        return self._live(channels), stats


def test_live_checks_go_in_the_specs_batches_and_stats_only_for_the_share() -> None:
    client = FakeBatchClient(Platform.TWITCH)
    fetcher = BatchFetcher(client, spec(Platform.TWITCH), concurrency=4, stats_interval=HOUR)
    channels = [target(Platform.TWITCH, str(1000 + i)) for i in range(250)]
    outcomes, usage = fetcher.fetch(channels, NOW, deadline=float("inf"))
    assert sorted(len(c) for c in client.live_calls) == [50, 100, 100]
    share = 5  # 250 channels, a cycle a minute, hourly followers
    assert sum(len(c) for c in client.stats_calls) == share
    assert all(len(c) <= spec(Platform.TWITCH).stats_batch_size for c in client.stats_calls)
    assert usage.minimum_requests == 3 + share
    assert usage.requests == 3 + share
    live = [o for o in outcomes.values() if o.observation and o.observation.is_live]
    assert len(live) == 25
    with_stats = [o for o in outcomes.values() if o.stats_at is not None]
    assert len(with_stats) == share
    assert all(o.poll is not None and o.poll.stats_checked_at == NOW for o in with_stats)


def test_a_failed_channel_is_an_error_outcome_and_the_rest_are_observed() -> None:
    client = FakeBatchClient(Platform.TWITCH)
    fetcher = BatchFetcher(client, spec(Platform.TWITCH), concurrency=2, stats_interval=HOUR)
    bad, good = target(Platform.TWITCH, "bad-1"), target(Platform.TWITCH, "20")
    outcomes, usage = fetcher.fetch([bad, good], NOW, deadline=float("inf"))
    assert outcomes[bad.id].observation is None
    assert "malformed" in (outcomes[bad.id].error or "")
    assert outcomes[good.id].observation is not None
    assert [e["error"] for e in usage.errors] == ["InvalidResponse"]


def test_credentials_are_opened_for_the_client_and_a_missing_box_fails_alone() -> None:
    box = SecretBox(b"k" * 32)
    client = FakeBatchClient(Platform.RUMBLE)
    keyed = target(Platform.RUMBLE, "a10")
    keyed = replace(keyed, credential=box.seal("owner-key-a", keyed.id))
    fetcher = PairedFetcher(
        client,  # type: ignore[arg-type]
        spec(Platform.RUMBLE),
        concurrency=2,
        stats_interval=HOUR,
        secrets=box,
    )
    outcomes, _ = fetcher.fetch([keyed], NOW, deadline=float("inf"))
    assert client.keys == []
    assert client.paired_calls == [["a10"]]
    assert outcomes[keyed.id].observation is not None

    without = PairedFetcher(
        FakeBatchClient(Platform.RUMBLE),  # type: ignore[arg-type]
        spec(Platform.RUMBLE),
        concurrency=2,
        stats_interval=HOUR,
        secrets=None,
    )
    outcomes, _ = without.fetch([keyed], NOW, deadline=float("inf"))
    assert "CREDENTIALS_ENCRYPTION_KEY" in (outcomes[keyed.id].error or "")


def test_paired_stats_ride_on_the_live_request() -> None:
    client = FakeBatchClient(Platform.RUMBLE)
    fetcher = PairedFetcher(
        client,  # type: ignore[arg-type]
        spec(Platform.RUMBLE),
        concurrency=4,
        stats_interval=HOUR,
    )
    recently = NOW - timedelta(minutes=5)
    channels = [target(Platform.RUMBLE, f"r{i}", stats_checked_at=recently) for i in range(119)]
    channels.append(target(Platform.RUMBLE, "r-new"))  # never sampled: due now
    outcomes, usage = fetcher.fetch(channels, NOW, deadline=float("inf"))
    assert client.paired_calls == [["r-new"]]
    assert len(client.live_calls) == 119
    assert usage.minimum_requests == 120 == usage.requests
    assert outcomes[channels[-1].id].followers == len("r-new")


# --- YouTube: feeds on their own cadence, candidates every cycle ----------------------


def test_after_feed_new_entries_become_candidates_and_settled_ones_are_forgotten() -> None:
    poll = PollState(candidate_video_ids=("live1",), settled_video_ids=("old1", "gone1"))
    after = _after_feed(poll, ["new1", "live1", "old1"], NOW)
    assert after.feed_checked_at == NOW
    assert after.candidate_video_ids == ("new1", "live1")
    assert after.settled_video_ids == ("old1",)  # gone1 left the feed
    many = _after_feed(PollState(), [f"v{i:02d}" for i in range(80)], NOW)
    assert len(many.candidate_video_ids) == MAX_CANDIDATES


def status(video: str, state: VideoState) -> VideoStatus:
    return VideoStatus(video_id=video, channel_id="UC1", state=state, observed_at=NOW)


def test_after_check_live_and_upcoming_stay_the_rest_settle() -> None:
    poll = PollState(candidate_video_ids=("a", "b", "c", "d", "e"), settled_video_ids=("z",))
    checked = [
        status("a", VideoState.LIVE),
        status("b", VideoState.UPCOMING),
        status("c", VideoState.ENDED),
        status("d", VideoState.NONE),
    ]
    after = _after_check(poll, checked)
    assert after.candidate_video_ids == ("a", "b", "e")  # e was not checked: kept
    assert after.settled_video_ids == ("c", "d", "z")
    assert after.upcoming_start_at is None  # b has no scheduled time


def test_after_check_keeps_the_earliest_scheduled_start_for_the_governor() -> None:
    soon, later = NOW + timedelta(minutes=20), NOW + timedelta(hours=3)
    poll = PollState(candidate_video_ids=("a", "b", "c"), upcoming_start_at=NOW)
    checked = [
        status("a", VideoState.UPCOMING).model_copy(update={"scheduled_start_at": later}),
        status("b", VideoState.UPCOMING).model_copy(update={"scheduled_start_at": soon}),
        status("c", VideoState.ENDED).model_copy(update={"scheduled_start_at": NOW}),
    ]
    assert _after_check(poll, checked).upcoming_start_at == soon
    # Once nothing upcoming is left, nothing is scheduled.
    assert _after_check(poll, [status("a", VideoState.LIVE)]).upcoming_start_at is None


class FakeYouTube:
    """Feeds list one video per channel; every video is live."""

    platform = Platform.YOUTUBE

    def __init__(self) -> None:
        self.feeds: list[str] = []
        self.checked: list[list[str]] = []

    def discover_candidates(
        self, channel_ids: Sequence[str], *, deadline: float | None = None
    ) -> Discovery:
        self.feeds += channel_ids
        entries = {
            c: [FeedEntry(video_id=f"v-{c}", channel_id=c, title="t", published=NOW)]
            for c in channel_ids
        }
        return Discovery(candidates=entries, requests=len(channel_ids))

    def check_videos(
        self, video_ids: Sequence[str], *, deadline: float | None = None
    ) -> VideoCheck:
        self.checked.append(list(video_ids))
        videos = {
            v: VideoStatus(
                video_id=v,
                channel_id=v.removeprefix("v-"),
                state=VideoState.LIVE,
                started_at=NOW - HOUR,
                observed_at=NOW,
            )
            for v in video_ids
        }
        return VideoCheck(videos=videos, requests=1, quota_units=1)

    def fetch_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> StatsBatch:
        return StatsBatch(requests=1, quota_units=1)


def test_a_bulk_import_reads_its_feeds_over_the_interval_never_read_first() -> None:
    client = FakeYouTube()
    fetcher = YouTubeFetcher(
        client,  # type: ignore[arg-type]
        concurrency=4,
        feed_interval=timedelta(minutes=5),
        stats_interval=HOUR,
        clock=lambda: NOW,
    )
    channels = [target(Platform.YOUTUBE, f"UC{i:03d}") for i in range(100)]
    outcomes, usage = fetcher.fetch(channels, NOW, deadline=float("inf"))
    assert len(client.feeds) == 20  # a fifth of the channels: feeds every five minutes
    read = set(client.feeds)
    for c in channels:
        outcome = outcomes[c.id]
        if c.platform_channel_id in read:
            assert outcome.observation is not None
            assert outcome.observation.is_live
            assert outcome.poll is not None
            assert outcome.poll.candidate_video_ids == (f"v-{c.platform_channel_id}",)
        else:
            assert outcome.pending  # not discovered yet: "offline" would be a guess
    assert [len(batch) for batch in client.checked] == [20]
    assert usage.minimum_requests == 20 + 1 + 1


def test_known_candidates_are_checked_every_cycle_between_feed_reads() -> None:
    client = FakeYouTube()
    fetcher = YouTubeFetcher(
        client,  # type: ignore[arg-type]
        concurrency=2,
        feed_interval=timedelta(minutes=5),
        stats_interval=HOUR,
        clock=lambda: NOW,
    )
    read_a_minute_ago = NOW - timedelta(minutes=1)
    channels = [
        target(
            Platform.YOUTUBE,
            f"UC{i:03d}",
            feed_checked_at=read_a_minute_ago,
            stats_checked_at=read_a_minute_ago,
            candidate_video_ids=(f"v-UC{i:03d}",),
        )
        for i in range(60)
    ]
    outcomes, usage = fetcher.fetch(channels, NOW, deadline=float("inf"))
    assert client.feeds == []  # none due
    assert sorted(len(b) for b in client.checked) == [10, 50]
    assert all(o.observation is not None and o.observation.is_live for o in outcomes.values())
    assert usage.minimum_requests == 2
    assert usage.requests == 2
    assert usage.quota_units == 2


def test_push_decides_the_feeds_of_the_channels_it_covers() -> None:
    client = FakeYouTube()
    fetcher = YouTubeFetcher(
        client,  # type: ignore[arg-type]
        concurrency=2,
        feed_interval=timedelta(minutes=5),
        stats_interval=HOUR,
        clock=lambda: NOW,
    )
    old = NOW - HOUR
    recent = NOW - timedelta(minutes=1)

    def yt(pcid: str, read: datetime, discover: bool | None) -> PollTarget:
        return replace(
            target(Platform.YOUTUBE, pcid, feed_checked_at=read, stats_checked_at=NOW),
            discover=discover,
        )

    channels = [
        yt("UCsweep", recent, True),  # the sweep's turn: read, however recent
        yt("UCskip", old, False),  # WebSub reports its videos: not read, however old
        yt("UCown", old, None),  # not covered: the fetcher's own cadence
        yt("UCfresh", recent, None),
    ]
    outcomes, _ = fetcher.fetch(channels, NOW, deadline=float("inf"))
    assert sorted(client.feeds) == ["UCown", "UCsweep"]
    skipped = outcomes[channels[1].id]
    assert skipped.poll is not None
    assert skipped.poll.feed_checked_at == old, "the sweep's clock is the real read"
    swept = outcomes[channels[0].id]
    assert swept.poll is not None
    assert swept.poll.feed_checked_at == NOW


def _governed_world() -> tuple[FakeYouTube, YouTubeFetcher, list[PollTarget]]:
    client = FakeYouTube()
    fetcher = YouTubeFetcher(
        client,  # type: ignore[arg-type]
        concurrency=2,
        feed_interval=timedelta(minutes=5),
        stats_interval=HOUR,
        clock=lambda: NOW,
        budget=Budget(daily_units=10_000, reserve_units=0, upcoming_interval=timedelta(minutes=15)),
    )
    read = NOW - timedelta(minutes=1)

    def channel(i: int, *, live: bool, polled_ago: timedelta) -> PollTarget:
        return replace(
            target(Platform.YOUTUBE, f"UC{i:03d}", feed_checked_at=read, stats_checked_at=read,
                   candidate_video_ids=(f"v-UC{i:03d}",), last_polled_at=NOW - polled_ago),
            last_live=live,
        )  # fmt: skip

    channels = [
        *(channel(i, live=True, polled_ago=timedelta(minutes=1 + i)) for i in range(60)),
        channel(100, live=False, polled_ago=timedelta(minutes=5)),  # upcoming, checked lately
        channel(101, live=False, polled_ago=timedelta(minutes=20)),  # upcoming, due again
    ]
    return client, fetcher, channels


def test_the_governor_checks_live_channels_first_and_lets_the_rest_wait() -> None:
    client, fetcher, channels = _governed_world()
    # 04:00 Pacific, 1,200 units left for the day's 1,200 remaining cycles: one call.
    quota = QuotaStatus(spent_units=10_000 - 1_200, share=1.0)
    outcomes, usage = fetcher.fetch_governed(channels, NOW, float("inf"), quota)
    assert [len(b) for b in client.checked] == [50]
    checked = {o for b in client.checked for o in b}
    # The 50 longest-waiting live channels; the others wait without a sample.
    assert checked == {f"v-UC{i:03d}" for i in range(10, 60)}
    waiting = [c for c in channels if f"v-{c.platform_channel_id}" not in checked]
    assert all(outcomes[c.id].pending and outcomes[c.id].observation is None for c in waiting)
    assert all(outcomes[c.id].poll is not None for c in waiting)
    # A lengthened interval is recorded on the observation (the hold may cross it).
    slow = next(c for c in channels if c.platform_channel_id == "UC059")
    obs = outcomes[slow.id].observation
    assert obs is not None
    assert obs.interval_s == 60 * 60
    assert usage.live_samples == 50


def test_with_budget_to_spare_upcoming_ones_wait_only_for_their_interval() -> None:
    client, fetcher, channels = _governed_world()
    fetcher.fetch_governed(channels, NOW, float("inf"), QuotaStatus(0, 1.0))
    checked = {o for b in client.checked for o in b}
    assert "v-UC101" in checked
    assert "v-UC100" not in checked  # checked 5 minutes ago: waits for 15
    assert {f"v-UC{i:03d}" for i in range(60)} <= checked


def test_governed_subscriber_counts_go_in_full_calls() -> None:
    _, fetcher, _ = _governed_world()
    hour_ago = NOW - HOUR - timedelta(minutes=1)
    few = [target(Platform.YOUTUBE, f"UC{i:03d}", stats_checked_at=hour_ago) for i in range(30)]
    # 30 overdue by one interval: too few for a full call, they wait (a unit saved).
    assert fetcher._stats_in_full_calls(few, NOW, share=1) == []
    # A second interval late, or never counted, they go.
    late = [replace(c, poll=replace(c.poll, stats_checked_at=NOW - 2 * HOUR)) for c in few]
    assert len(fetcher._stats_in_full_calls(late, NOW, share=1)) == 30
    fresh = [target(Platform.YOUTUBE, f"UN{i:03d}") for i in range(30)]
    assert len(fetcher._stats_in_full_calls(fresh, NOW, share=1)) == 30
    many = [target(Platform.YOUTUBE, f"UC{i:03d}", stats_checked_at=hour_ago) for i in range(120)]
    assert len(fetcher._stats_in_full_calls(many, NOW, share=1)) == 50  # the cycle's share, full


def test_secret_strings_are_never_in_an_outcome() -> None:
    # Guard for the credential path: an opened key reaches the client only.
    box = SecretBox(b"s" * 32)
    client = FakeBatchClient(Platform.RUMBLE)
    keyed = target(Platform.RUMBLE, "k1", stats_checked_at=NOW)
    keyed = replace(keyed, credential=box.seal("top-secret-key", keyed.id))
    fetcher = PairedFetcher(
        client,  # type: ignore[arg-type]
        spec(Platform.RUMBLE),
        concurrency=1,
        stats_interval=HOUR,
        secrets=box,
    )
    outcomes, usage = fetcher.fetch([keyed], NOW, deadline=float("inf"))
    assert client.keys == ["top-secret-key"]
    assert "top-secret-key" not in repr(outcomes) + repr(usage)
