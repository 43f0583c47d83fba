"""The YouTube quota governor: which channels' candidate videos a cycle checks.

videos.list costs a unit per call of up to 50 ids, and every live or upcoming
candidate used to be re-checked every cycle, so the default 10,000 units a
day ran out at about 650 tracked channels, after which YouTube data stopped
until Pacific midnight. The governor spends units by value instead:

1. Channels last seen live, checked at their plan's sample interval (the
   most overdue first): these samples are the hours watched.
2. Channels whose feed was read this cycle and listed new videos (one may
   have just gone live).
3. Channels with an upcoming broadcast about to start: from `upcoming_lead`
   before its scheduled start (videos.list `scheduledStartTime`, kept in
   `channel_poll_state.upcoming_start_at` between cycles) until
   `upcoming_late` after it, at the plan's sample interval, so a stream is
   found within an interval of going live; later than that the interval
   grows with the delay (a quarter of it) up to `upcoming_interval`.
4. Other channels with candidates (upcoming or unclassified videos): at
   most every `upcoming_interval`, and again once the window of 3 opens,
   the most overdue first.

The cycle's allowance spreads what is left of the daily budget (less a
reserve) evenly over what is left of the Pacific quota day, in proportion
to this fetch's share of the tracked YouTube channels, so the budget never
runs out early. When the allowance does not cover everything, intervals
lengthen (channels wait for a later cycle, without a sample and without a
false offline) rather than stop; the lengthened interval is recorded on the
sample, so hours watched stay exact under the hold rule. Once only the
reserve is left, it is spent the same way, slowly, until the day ends.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.platforms.polling import CYCLE_S, QuotaStatus
from shared.platforms.spec import QuotaAccounting

BATCH = 50


@dataclass(frozen=True, slots=True)
class Budget:
    """The daily budget the governor spreads (from Settings)."""

    daily_units: int
    reserve_units: int
    upcoming_interval: timedelta
    upcoming_lead: timedelta = timedelta(minutes=5)
    """How long before an upcoming broadcast's scheduled start it is checked at the
    sample interval (streams often go live a little early)."""
    upcoming_late: timedelta = timedelta(minutes=15)
    """How long after its scheduled start it still is; later, the interval grows."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A channel with candidate videos, as the governor weighs it."""

    key: str
    video_ids: tuple[str, ...]
    last_live: bool
    new_in_feed: bool
    last_checked_at: datetime | None
    interval: timedelta
    upcoming_start_at: datetime | None = None
    """The earliest scheduled start of the channel's upcoming broadcasts, if known."""


def upcoming_wait(c: Candidate, budget: Budget, now: datetime) -> timedelta:
    """How long a channel that is not live waits between checks of its candidates.

    Around an upcoming broadcast's scheduled start, its sample interval; long after
    it (a late or abandoned broadcast), a quarter of the delay, at least the sample
    interval and at most `upcoming_interval`; otherwise `upcoming_interval`, cut
    short when the window before the scheduled start opens.
    """
    sched = c.upcoming_start_at
    if sched is None:
        return budget.upcoming_interval
    opens = sched - budget.upcoming_lead
    if now < opens:
        if c.last_checked_at is not None and c.last_checked_at < opens:
            # Due again when the window opens, if not before.
            return min(budget.upcoming_interval, opens - c.last_checked_at)
        return budget.upcoming_interval
    late = now - sched
    if late <= budget.upcoming_late:
        return c.interval
    return max(c.interval, min(budget.upcoming_interval, late / 4))


def starting_soon(c: Candidate, budget: Budget, now: datetime) -> bool:
    """The channel's upcoming broadcast is inside its window around the scheduled start."""
    sched = c.upcoming_start_at
    return sched is not None and sched - budget.upcoming_lead <= now <= sched + budget.upcoming_late


def allowance(budget: Budget, status: QuotaStatus, quota: QuotaAccounting, now: datetime) -> float:
    """Units this fetch may spend: the rest of the day's budget spread over its rest."""
    day_end = datetime.combine(
        quota.day(now) + timedelta(days=1), datetime.min.time(), quota.day_zone
    )
    cycles_left = max(1.0, (day_end - now).total_seconds() / CYCLE_S)
    left = budget.daily_units - status.spent_units
    spendable = left - budget.reserve_units
    if spendable <= 0:
        spendable = max(0, left)  # only the reserve is left: spend it, slowly
    return spendable / cycles_left * status.share


def calls_this_cycle(units: float, quota: QuotaAccounting, now: datetime) -> int:
    """Whole calls for this cycle from a fractional allowance, spread evenly over the
    day's cycles (1.25 units a cycle is one call, then two every fourth cycle), so a
    small fetch is not rounded down to nothing for ever."""
    if units <= 0:
        return 0
    day_start = datetime.combine(quota.day(now), datetime.min.time(), quota.day_zone)
    k = int((now - day_start).total_seconds() // CYCLE_S)
    return math.floor(units * (k + 1)) - math.floor(units * k)


def _units(ids: int) -> int:
    return math.ceil(ids / BATCH)


def choose(
    candidates: Sequence[Candidate], calls: int, budget: Budget, now: datetime
) -> list[Candidate]:
    """The channels to check this cycle, by value, within `calls` videos.list calls.

    Ids of the chosen channels go out in shared batches of 50, so a channel
    costs its share of a call (what a cycle leaves unspent raises the
    allowance of the cycles after it).
    """

    def overdue(c: Candidate) -> float:
        if c.last_checked_at is None:
            return math.inf
        return (now - c.last_checked_at) / c.interval

    live = [c for c in candidates if c.last_live and overdue(c) >= 1 - 0.05]
    fresh = [c for c in candidates if not c.last_live and c.new_in_feed]
    waiting = [
        c
        for c in candidates
        if not c.last_live
        and not c.new_in_feed
        and (
            c.last_checked_at is None
            or now - c.last_checked_at >= upcoming_wait(c, budget, now) * (1 - 0.05)
        )
    ]
    soon = [c for c in waiting if starting_soon(c, budget, now)]
    upcoming = [c for c in waiting if not starting_soon(c, budget, now)]
    ordered = [
        *sorted(live, key=overdue, reverse=True),
        *fresh,
        *sorted(soon, key=overdue, reverse=True),
        *sorted(
            upcoming, key=lambda c: c.last_checked_at or datetime.min.replace(tzinfo=now.tzinfo)
        ),
    ]
    chosen: list[Candidate] = []
    ids: set[str] = set()
    for c in ordered:
        more = ids | set(c.video_ids)
        if _units(len(more)) > calls:
            continue
        chosen.append(c)
        ids = more
    return chosen
