"""The rules that spread periodic work over cycles (`most_overdue`, `stats_quota`),
without a database or a platform."""

import math
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.platforms.polling import (
    CYCLE_S,
    PollState,
    PollTarget,
    most_overdue,
    stats_quota,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def channel(checked: datetime | None = None, interval_s: int = 60) -> PollTarget:
    return PollTarget(
        id=uuid.uuid4(),
        platform="any",
        platform_channel_id=uuid.uuid4().hex,
        interval_s=interval_s,
        poll=PollState(stats_checked_at=checked),
    )


def stats_time(c: PollTarget) -> datetime | None:
    return c.poll.stats_checked_at


def test_never_done_first_then_the_longest_overdue_and_no_more_than_the_share() -> None:
    fresh = [channel() for _ in range(3)]
    old = channel(NOW - 3 * HOUR)
    older = channel(NOW - 5 * HOUR)
    recent = channel(NOW - timedelta(minutes=20))  # not due
    picked = most_overdue([old, recent, *fresh, older], stats_time, NOW, HOUR, share=10)
    assert set(picked[:3]) == set(fresh)
    assert picked[3:] == [older, old]
    assert recent not in picked
    capped = most_overdue([old, older, *fresh], stats_time, NOW, HOUR, share=2)
    assert len(capped) == 2
    assert set(capped) <= set(fresh)


def test_due_exactly_at_the_interval() -> None:
    on_time = channel(NOW - HOUR)
    early = channel(NOW - HOUR + timedelta(seconds=1))
    assert most_overdue([on_time, early], stats_time, NOW, HOUR, share=5) == [on_time]


def test_ties_are_spread_by_a_stable_order_not_by_position() -> None:
    fresh = [channel() for _ in range(40)]
    first = most_overdue(fresh, stats_time, NOW, HOUR, share=40)
    again = most_overdue(list(reversed(fresh)), stats_time, NOW, HOUR, share=40)
    assert first == again
    assert first != fresh  # not simply the order they came in


@pytest.mark.parametrize(
    ("channels", "interval_s", "plan_interval_s", "share"),
    [
        (0, 3600, 60, 0),
        (1, 3600, 60, 1),  # at least one: nothing waits forever
        (600, 3600, 60, 10),
        (601, 3600, 60, 11),
        (600, 3600, 300, 50),  # five-minute plans are checked every five minutes
        (10_000, 300, 60, 2000),
    ],
)
def test_stats_quota_is_the_cycles_share_of_the_interval(
    channels: int, interval_s: int, plan_interval_s: int, share: int
) -> None:
    targets = [channel(interval_s=plan_interval_s) for _ in range(channels)]
    assert stats_quota(targets, timedelta(seconds=interval_s)) == share


def test_a_plan_faster_than_the_timer_still_counts_one_cycle() -> None:
    targets = [channel(interval_s=10) for _ in range(120)]
    assert stats_quota(targets, HOUR) == math.ceil(120 * CYCLE_S / 3600)


def test_an_hour_of_cycles_does_every_channel_once_and_evenly() -> None:
    # 250 channels, hourly stats, a cycle a minute: each cycle does its share,
    # and after an hour every channel has been done exactly once.
    targets = [channel() for _ in range(250)]
    done: dict[uuid.UUID, int] = {}
    now = NOW
    for _ in range(60):
        share = stats_quota(targets, HOUR)
        picked = most_overdue(targets, stats_time, now, HOUR, share)
        assert len(picked) <= share == 5
        for c in picked:
            done[c.id] = done.get(c.id, 0) + 1
        chosen = {c.id for c in picked}
        targets = [
            replace(c, poll=replace(c.poll, stats_checked_at=now)) if c.id in chosen else c
            for c in targets
        ]
        now += timedelta(seconds=CYCLE_S)
    assert len(done) == 250
    assert set(done.values()) == {1}
