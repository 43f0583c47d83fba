"""Pure entitlement decisions: which plan a team is entitled to now, and which
of its channels to pause or resume for that plan. No I/O; table-tested.

- active / trialing: the subscription's plan; with `cancel_at_period_end`
  only until `current_period_end` (then free, even if Stripe's
  `customer.subscription.deleted` has not arrived yet);
- past_due / unpaid: the plan until `grace_until`, then free;
- anything else (canceled, paused, incomplete, incomplete_expired): free.
A team with several subscriptions gets the best plan among them.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

FREE_PLAN = "free"
PAYING = frozenset({"active", "trialing"})
IN_ARREARS = frozenset({"past_due", "unpaid"})


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """What the database holds about one subscription."""

    plan_id: str | None
    status: str
    cancel_at_period_end: bool = False
    current_period_end: datetime | None = None
    grace_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class TrackedChannel:
    """One of the team's `team_channels` rows."""

    channel_id: UUID
    added_at: datetime
    paused_at: datetime | None = None
    paused_by_plan: bool = False


@dataclass(frozen=True, slots=True)
class ChannelChanges:
    """Channels to pause (newest first) and to resume (oldest first)."""

    pause: tuple[UUID, ...] = ()
    resume: tuple[UUID, ...] = ()


def entitled_plan(sub: SubscriptionState, now: datetime) -> str | None:
    """The plan one subscription grants at `now`, or None."""
    if sub.plan_id is None:
        return None
    if sub.status in PAYING:
        ended = sub.current_period_end is not None and sub.current_period_end <= now
        return None if sub.cancel_at_period_end and ended else sub.plan_id
    if sub.status in IN_ARREARS:
        return sub.plan_id if sub.grace_until is not None and now < sub.grace_until else None
    return None


def effective_plan(
    subs: Iterable[SubscriptionState], rank: Mapping[str, int], now: datetime
) -> str:
    """The best plan any of the team's subscriptions grants; free without one."""
    plans = [p for p in (entitled_plan(s, now) for s in subs) if p is not None and p in rank]
    return max(plans, key=lambda p: rank[p], default=FREE_PLAN)


def grace_until(
    status: str,
    previous_status: str | None,
    previous_grace: datetime | None,
    now: datetime,
    grace_days: int,
) -> datetime | None:
    """When paid features end for a subscription in arrears; None when it is not.

    The grace starts when the arrears are first seen and is never extended
    by later events of the same episode.
    """
    if status not in IN_ARREARS:
        return None
    if previous_status in IN_ARREARS and previous_grace is not None:
        return previous_grace
    return now + timedelta(days=grace_days)


def channel_changes(channels: Sequence[TrackedChannel], max_channels: int) -> ChannelChanges:
    """Pause the most recently added tracked channels above the limit; below it,
    resume channels a downgrade paused, oldest-added first. A channel a member
    paused is never resumed here."""
    active = sorted(
        (c for c in channels if c.paused_at is None),
        key=lambda c: (c.added_at, str(c.channel_id)),
    )
    if len(active) > max_channels:
        newest_first = list(reversed(active))[: len(active) - max_channels]
        return ChannelChanges(pause=tuple(c.channel_id for c in newest_first))
    room = max_channels - len(active)
    if room <= 0:
        return ChannelChanges()
    paused_by_plan = sorted(
        (c for c in channels if c.paused_at is not None and c.paused_by_plan),
        key=lambda c: (c.added_at, str(c.channel_id)),
    )
    return ChannelChanges(resume=tuple(c.channel_id for c in paused_by_plan[:room]))
