"""Entitlement decisions, table by table."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.billing.entitlements import (
    ChannelChanges,
    SubscriptionState,
    TrackedChannel,
    channel_changes,
    effective_plan,
    entitled_plan,
    grace_until,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
EARLIER = NOW - timedelta(days=3)
RANK = {"free": 10, "pro": 20, "business": 30}


@pytest.mark.parametrize(
    ("sub", "plan"),
    [
        (SubscriptionState("pro", "active"), "pro"),
        (SubscriptionState("business", "trialing"), "business"),
        (SubscriptionState(None, "active"), None),
        (
            SubscriptionState("pro", "active", cancel_at_period_end=True, current_period_end=LATER),
            "pro",
        ),
        (
            SubscriptionState("pro", "active", cancel_at_period_end=True, current_period_end=NOW),
            None,
        ),
        (
            SubscriptionState(
                "pro", "active", cancel_at_period_end=False, current_period_end=EARLIER
            ),
            "pro",
        ),
        (SubscriptionState("pro", "past_due", grace_until=LATER), "pro"),
        (SubscriptionState("pro", "unpaid", grace_until=LATER), "pro"),
        (SubscriptionState("pro", "past_due", grace_until=NOW), None),
        (SubscriptionState("pro", "past_due", grace_until=None), None),
        (SubscriptionState("pro", "canceled", current_period_end=LATER), None),
        (SubscriptionState("pro", "paused"), None),
        (SubscriptionState("pro", "incomplete"), None),
        (SubscriptionState("pro", "incomplete_expired"), None),
    ],
)
def test_entitled_plan(sub: SubscriptionState, plan: str | None) -> None:
    assert entitled_plan(sub, NOW) == plan


@pytest.mark.parametrize(
    ("subs", "plan"),
    [
        ([], "free"),
        ([SubscriptionState("pro", "canceled")], "free"),
        ([SubscriptionState("pro", "active"), SubscriptionState("business", "active")], "business"),
        ([SubscriptionState("business", "canceled"), SubscriptionState("pro", "active")], "pro"),
        ([SubscriptionState("unknown_plan", "active")], "free"),
    ],
)
def test_effective_plan_is_the_best_granted(subs: list[SubscriptionState], plan: str) -> None:
    assert effective_plan(subs, RANK, NOW) == plan


@pytest.mark.parametrize(
    ("status", "previous_status", "previous_grace", "expected"),
    [
        ("active", "past_due", LATER, None),
        ("past_due", None, None, NOW + timedelta(days=7)),
        ("past_due", "active", None, NOW + timedelta(days=7)),
        ("past_due", "past_due", LATER, LATER),
        ("unpaid", "past_due", LATER, LATER),
        ("past_due", "active", LATER, NOW + timedelta(days=7)),
        ("canceled", "past_due", LATER, None),
    ],
)
def test_grace_starts_once_per_episode(
    status: str,
    previous_status: str | None,
    previous_grace: datetime | None,
    expected: datetime | None,
) -> None:
    assert grace_until(status, previous_status, previous_grace, NOW, 7) == expected


def channels(n: int, *, paused: dict[int, bool] | None = None) -> list[TrackedChannel]:
    """n channels added a minute apart; `paused` maps index -> paused_by_plan."""
    paused = paused or {}
    return [
        TrackedChannel(
            uuid.UUID(int=i + 1),
            NOW + timedelta(minutes=i),
            paused_at=NOW if i in paused else None,
            paused_by_plan=paused.get(i, False),
        )
        for i in range(n)
    ]


def ids(*indexes: int) -> tuple[uuid.UUID, ...]:
    return tuple(uuid.UUID(int=i + 1) for i in indexes)


@pytest.mark.parametrize(
    ("tracked", "limit", "expected"),
    [
        (channels(3), 3, ChannelChanges()),
        (channels(5), 3, ChannelChanges(pause=ids(4, 3))),
        (channels(5), 0 + 1, ChannelChanges(pause=ids(4, 3, 2, 1))),
        # already paused rows do not count against the limit
        (channels(5, paused={3: True, 4: True}), 3, ChannelChanges()),
        (channels(5, paused={0: False}), 3, ChannelChanges(pause=ids(4))),
        # upgrade: plan-paused rows come back oldest first, up to the limit
        (channels(6, paused={2: True, 4: True, 5: True}), 5, ChannelChanges(resume=ids(2, 4))),
        (channels(6, paused={2: True, 4: True, 5: True}), 25, ChannelChanges(resume=ids(2, 4, 5))),
        # a member's own pause is never undone
        (channels(4, paused={1: False, 3: True}), 25, ChannelChanges(resume=ids(3))),
        ([], 3, ChannelChanges()),
    ],
)
def test_channel_changes(
    tracked: list[TrackedChannel], limit: int, expected: ChannelChanges
) -> None:
    assert channel_changes(tracked, limit) == expected


def test_ties_in_added_at_break_by_channel_id() -> None:
    same = [TrackedChannel(uuid.UUID(int=i), NOW) for i in (3, 1, 2)]
    assert channel_changes(same, 1) == ChannelChanges(pause=(uuid.UUID(int=3), uuid.UUID(int=2)))
