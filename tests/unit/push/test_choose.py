"""The subscription manager's choice of channels within a platform's budget."""

import uuid

from shared.platforms.registry import Platform, spec
from shared.push.manager import Wanted, choose


def wanted(n: int) -> list[Wanted]:
    # Ranked as the manager ranks them: most teams first.
    return [Wanted(uuid.uuid4(), str(1000 + i), teams=n - i) for i in range(n)]


def source():  # type: ignore[no-untyped-def]
    declared = spec(Platform.TWITCH).push
    assert declared is not None
    return declared


def test_everything_fits_with_every_type() -> None:
    chosen, total, types = choose(
        wanted(10), source(), max_total_cost=30, cost_free=(), max_channels=None
    )
    assert len(chosen) == 10
    assert total == 30
    assert types == source().event_types


def test_over_budget_keeps_the_required_types_for_the_best_tracked() -> None:
    channels = wanted(6000)
    chosen, total, types = choose(
        channels, source(), max_total_cost=10_000, cost_free=(), max_channels=None
    )
    assert types == source().required_types
    assert len(chosen) == 5000
    assert total == 10_000
    assert chosen == channels[:5000], "the most tracked channels first"


def test_cost_free_broadcasters_fit_beyond_the_budget() -> None:
    channels = wanted(20)
    free = {c.platform_channel_id for c in channels[10:]}
    chosen, total, _ = choose(channels, source(), max_total_cost=20, cost_free=free,
                              max_channels=None)  # fmt: skip
    # 10 paying channels at 2 types fill the budget; the 10 connected ones cost nothing.
    assert len(chosen) == 20
    assert total == 20


def test_a_cap_on_channels() -> None:
    chosen, _, _ = choose(wanted(50), source(), max_total_cost=None, cost_free=(), max_channels=7)
    assert len(chosen) == 7


def test_no_budget_platforms_take_everyone() -> None:
    declared = spec(Platform.KICK).push
    assert declared is not None
    chosen, total, types = choose(
        wanted(100), declared, max_total_cost=None, cost_free=(), max_channels=None
    )
    assert (len(chosen), total, types) == (100, 0, declared.event_types)
