"""The safety sweep per platform: each push source's own cadence and clock
(`PushSource.sweep_interval_s`, `PushSource.swept_at`), the fallbacks unchanged
(`shared.push.selection.choose`, no database: health and coverage are given)."""

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.config import Settings
from shared.monitor.state import DueChannel, PollState, StatusSnapshot
from shared.platforms.registry import spec, specs
from shared.push.selection import choose, sweep_interval

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
PUSHING = {"twitch", "youtube", "kick"}


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {"push_sweep_interval_s": 600, "youtube_push_sweep_interval_s": 1800}
    return Settings(**(base | values))


def due(platform: str, *, polled: datetime, live: bool = False, **poll: Any) -> DueChannel:
    return DueChannel(
        id=uuid.uuid4(),
        platform=platform,
        platform_channel_id=f"{platform}-{uuid.uuid4().hex[:10]}",
        interval_s=60,
        poll=PollState(last_polled_at=polled, **poll),
        status=StatusSnapshot(is_live=True, platform_stream_id="s") if live else None,
    )


def polled_by_the_fetcher(channel: DueChannel, now: datetime) -> DueChannel:
    """What a poll leaves behind: the poll time, and the feed's when it was read."""
    read = channel.discover is not False and channel.platform == "youtube"
    poll = replace(
        channel.poll,
        last_polled_at=now,
        feed_checked_at=now if read else channel.poll.feed_checked_at,
    )
    return replace(channel, poll=poll, discover=None)


def run(
    channels: list[DueChannel], minutes: int, config: Settings, covered: set[uuid.UUID]
) -> tuple[list[list[DueChannel]], dict[uuid.UUID, list[int]]]:
    """`minutes` cycles; per cycle what was polled, and per channel the minutes it was swept."""
    state = {c.id: c for c in channels}
    cycles: list[list[DueChannel]] = []
    swept: dict[uuid.UUID, list[int]] = {c.id: [] for c in channels}
    for minute in range(minutes):
        now = NOW + timedelta(minutes=minute)
        got = choose(list(state.values()), covered, PUSHING, now, config)
        cycles.append(got)
        for c in got:
            source = spec(c.platform).push
            assert source is not None
            if c.discover is True or (c.platform != "youtube" and c.status is None):
                swept[c.id].append(minute)
            state[c.id] = polled_by_the_fetcher(c, now)
    return cycles, swept


def test_each_platform_sweeps_at_its_own_interval() -> None:
    config = settings()
    start = NOW - timedelta(minutes=1)
    twitch = [due("twitch", polled=start) for _ in range(20)]
    youtube = [due("youtube", polled=start, feed_checked_at=start) for _ in range(60)]
    channels = twitch + youtube
    cycles, swept = run(channels, 92, config, {c.id for c in channels})
    # Twitch (600 s): 20 channels, 2 a cycle once due (minute 9), each once per 10 minutes.
    for c in twitch:
        times = swept[c.id]
        assert 9 <= times[0] <= 18, times
        assert all(b - a == 10 for a, b in itertools.pairwise(times)), times
    # YouTube (1800 s): 60 feeds, 2 a cycle, each read once per 30 minutes, no sooner.
    for c in youtube:
        times = swept[c.id]
        assert 29 <= times[0] <= 58, times
        assert len(times) >= 2, times
        assert all(b - a == 30 for a, b in itertools.pairwise(times)), times
    youtube_ids = {c.id for c in youtube}
    for got in cycles[:29]:
        assert not youtube_ids & {c.id for c in got}, "no YouTube feed is due before 30 min"
    for got in cycles[31:]:
        assert len(youtube_ids & {c.id for c in got}) == 2


def test_youtube_reads_the_feed_of_a_live_channel_only_in_its_turn() -> None:
    config = settings()
    polled = NOW - timedelta(minutes=1)
    fresh = due("youtube", polled=polled, live=True, feed_checked_at=NOW - timedelta(minutes=5),
                candidate_video_ids=("aaaaaaaaaaa",))  # fmt: skip
    stale = due("youtube", polled=polled, live=True, feed_checked_at=NOW - timedelta(minutes=31),
                candidate_video_ids=("bbbbbbbbbbb",))  # fmt: skip
    got = {c.id: c for c in choose([fresh, stale], {fresh.id, stale.id}, PUSHING, NOW, config)}
    assert set(got) == {fresh.id, stale.id}, "live: polled every cycle for its viewers"
    assert got[fresh.id].discover is False, "its videos are checked, its feed is not read"
    assert got[stale.id].discover is True, "a feed 31 minutes old is the sweep's turn"
    assert got[stale.id].poll.feed_checked_at == stale.poll.feed_checked_at


def test_twitch_at_its_own_interval_whatever_youtube_says() -> None:
    config = settings(youtube_push_sweep_interval_s=7200)
    c = due("twitch", polled=NOW - timedelta(seconds=600))
    assert [x.id for x in choose([c], {c.id}, PUSHING, NOW, config)] == [c.id]
    quicker = settings(push_sweep_interval_s=900)
    assert choose([c], {c.id}, PUSHING, NOW, quicker) == []


def test_fallbacks_are_unchanged() -> None:
    config = settings()
    long_ago = NOW - timedelta(hours=5)
    idle = due("youtube", polled=NOW - timedelta(minutes=1), feed_checked_at=long_ago)
    bare = due("youtube", polled=NOW - timedelta(minutes=1), feed_checked_at=NOW)
    never = due("youtube", polled=NOW - timedelta(minutes=1))
    # Not covered (no subscription, or one pending, failed or revoked): polled as before.
    got = choose([bare], set(), PUSHING, NOW, config)
    assert got == [bare]
    assert got[0].discover is None
    # A feed never read is read as for any channel, covered or not.
    got = choose([never], {never.id}, PUSHING, NOW, config)
    assert got == [never]
    assert got[0].discover is None
    # Push not healthy on the platform (quiet, not configured): every due channel as it is.
    both = [idle, bare]
    assert choose(both, {idle.id, bare.id}, PUSHING - {"youtube"}, NOW, config) == both
    assert choose(both, {idle.id, bare.id}, set(), NOW, config) == both


def test_every_push_source_declares_its_interval() -> None:
    config = settings(push_sweep_interval_s=700, youtube_push_sweep_interval_s=2400)
    found = {
        s.platform.value: sweep_interval(s.platform.value, config).total_seconds()
        for s in specs()
        if s.push is not None
    }
    assert found == {"twitch": 700, "youtube": 2400, "kick": 700}
    assert Settings().youtube_push_sweep_interval_s == 1800
    assert Settings().push_sweep_interval_s == 600
