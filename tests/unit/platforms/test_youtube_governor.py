"""The YouTube quota governor: spend by value, spread over the Pacific day, never stop."""

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.platforms.polling import QuotaStatus
from shared.platforms.youtube.client import QUOTA
from shared.platforms.youtube.governor import (
    Budget,
    Candidate,
    allowance,
    calls_this_cycle,
    choose,
)

BUDGET = Budget(daily_units=10_000, reserve_units=500, upcoming_interval=timedelta(minutes=15))
# 08:00 UTC is midnight Pacific (PST) on this date.
MIDNIGHT_PT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def cand(key: str, *, live: bool = False, fresh: bool = False, ago: float | None = 1.0,
         ids: int = 1) -> Candidate:  # fmt: skip
    return Candidate(
        key=key,
        video_ids=tuple(f"{key}-v{i}" for i in range(ids)),
        last_live=live,
        new_in_feed=fresh,
        last_checked_at=None if ago is None else MIDNIGHT_PT - timedelta(minutes=ago),
        interval=timedelta(minutes=1),
    )


def test_the_budget_is_spread_over_the_pacific_day() -> None:
    start = allowance(BUDGET, QuotaStatus(0, 1.0), QUOTA, MIDNIGHT_PT)
    assert start == pytest.approx((10_000 - 500) / 1440)
    # Half the day gone and half the budget spent: the same pace.
    noon = allowance(BUDGET, QuotaStatus(4_750, 1.0), QUOTA, MIDNIGHT_PT + timedelta(hours=12))
    assert noon == pytest.approx(start)
    # A shard gets its share.
    assert allowance(BUDGET, QuotaStatus(0, 0.25), QUOTA, MIDNIGHT_PT) == pytest.approx(start / 4)


def test_the_reserve_is_spent_slowly_and_nothing_more() -> None:
    late = MIDNIGHT_PT + timedelta(hours=20)
    reserve_only = allowance(BUDGET, QuotaStatus(9_800, 1.0), QUOTA, late)
    assert reserve_only == pytest.approx(200 / (4 * 60))
    assert allowance(BUDGET, QuotaStatus(10_000, 1.0), QUOTA, late) == 0


def test_live_channels_come_first_then_new_videos_then_upcoming() -> None:
    channels = [cand("up", ago=30), cand("new", fresh=True), cand("live", live=True)]
    # One call of 50 ids covers all three.
    assert {c.key for c in choose(channels, 1, BUDGET, MIDNIGHT_PT)} == {"up", "new", "live"}
    # With room for fewer ids, value decides.
    big = [cand("up", ago=30, ids=20), cand("new", fresh=True, ids=20),
           cand("live", live=True, ids=20)]  # fmt: skip
    assert [c.key for c in choose(big, 1, BUDGET, MIDNIGHT_PT)] == ["live", "new"]


def test_upcoming_videos_wait_for_their_interval() -> None:
    recent = cand("up", ago=5)
    assert choose([recent], 10, BUDGET, MIDNIGHT_PT) == []
    assert choose([cand("up", ago=16)], 10, BUDGET, MIDNIGHT_PT) != []


def test_short_budget_lengthens_intervals_most_overdue_first() -> None:
    live = [cand(f"l{i}", live=True, ago=1 + i, ids=25) for i in range(6)]
    chosen = choose(live, 1, BUDGET, MIDNIGHT_PT)
    assert [c.key for c in chosen] == ["l5", "l4"]  # the two longest waiting
    assert choose(live, 0, BUDGET, MIDNIGHT_PT) == []


def test_three_thousand_channels_stay_within_a_day_and_live_ones_are_sampled_often() -> None:
    # A day of one-minute cycles: 3,000 channels, 8% live, 20% with an upcoming
    # broadcast, hourly subscriber counts (60 units an hour) spent too.
    n, live_n, upcoming_n = 3_000, 240, 600
    last: dict[str, datetime | None] = {f"c{i}": None for i in range(live_n + upcoming_n)}
    spent, worst_live_gap = 0, timedelta(0)
    for minute in range(1440):
        now = MIDNIGHT_PT + timedelta(minutes=minute)
        stats = math.ceil(n / 60 / 50)
        units = allowance(BUDGET, QuotaStatus(spent, 1.0), QUOTA, now) - stats
        channels = [
            Candidate(key, (f"{key}-v",), int(key[1:]) < live_n, False, at, timedelta(minutes=1))
            for key, at in last.items()
        ]
        chosen = choose(channels, calls_this_cycle(units, QUOTA, now), BUDGET, now)
        spent += math.ceil(len(chosen) / 50) + stats
        for c in chosen:
            if c.last_live and c.last_checked_at is not None:
                worst_live_gap = max(worst_live_gap, now - c.last_checked_at)
            last[c.key] = now
    assert spent <= BUDGET.daily_units
    assert worst_live_gap <= timedelta(minutes=5)


def test_a_fractional_allowance_is_spread_not_rounded_away() -> None:
    calls = [calls_this_cycle(0.25, QUOTA, MIDNIGHT_PT + timedelta(minutes=m)) for m in range(8)]
    assert calls == [0, 0, 0, 1, 0, 0, 0, 1]
    assert calls_this_cycle(0, QUOTA, MIDNIGHT_PT) == 0


def scheduled(key: str, *, ago: float, starts_in: float) -> Candidate:
    """A channel with an upcoming broadcast scheduled `starts_in` minutes from now."""
    return replace(cand(key, ago=ago), upcoming_start_at=MIDNIGHT_PT + timedelta(minutes=starts_in))


def test_an_upcoming_broadcast_is_checked_at_the_sample_interval_around_its_start() -> None:
    def picked(c: Candidate) -> bool:
        return bool(choose([c], 100, BUDGET, MIDNIGHT_PT))

    # Hours away: every 15 minutes, as any upcoming video.
    assert not picked(scheduled("far", ago=5, starts_in=180))
    assert picked(scheduled("far", ago=15, starts_in=180))
    # The window opens 5 minutes before: due then, though checked 10 minutes ago.
    assert picked(scheduled("opens", ago=10, starts_in=5))
    assert not picked(scheduled("not-yet", ago=1, starts_in=10))
    # Inside the window (up to 15 minutes late): every sample interval (1 minute).
    assert picked(scheduled("soon", ago=1, starts_in=2))
    assert picked(scheduled("late", ago=1, starts_in=-14))
    # Long overdue: a quarter of the delay (40 min late: every 10 minutes), at most 15.
    assert not picked(scheduled("stale", ago=9, starts_in=-40))
    assert picked(scheduled("stale", ago=10, starts_in=-40))
    assert not picked(scheduled("abandoned", ago=14, starts_in=-600))
    assert picked(scheduled("abandoned", ago=15, starts_in=-600))


def test_a_broadcast_about_to_start_comes_before_other_upcoming_videos() -> None:
    big = [cand("up", ago=30, ids=30), scheduled("soon", ago=1, starts_in=1)]
    big[1] = replace(big[1], video_ids=tuple(f"soon-v{i}" for i in range(30)))
    assert [c.key for c in choose(big, 1, BUDGET, MIDNIGHT_PT)] == ["soon"]
