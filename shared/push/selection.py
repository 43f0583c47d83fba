"""Which due channels a cycle polls when push is healthy, and push health for operators.

For a platform whose push is healthy, a channel covered by push (every one
of the source's `required_types` enabled) is polled only when:

- it is known live, or its latest session is still open (viewer counts, and
  the end of a stream within the grace period, come from polling);
- it has candidates to check (a video a push named, an upcoming broadcast);
- it was never polled; or
- its turn in the safety sweep came: every covered channel is looked at once
  per its platform's sweep interval (`PushSource.sweep_interval_s`:
  `PUSH_SWEEP_INTERVAL_S` unless the platform's package sets its own), counted
  from what the source says was last swept (`PushSource.swept_at`: the last
  poll, or the last feed read), spread evenly over the cycles
  (`polling.most_overdue`), which catches deliveries that never came.

Everything else is polled as before: channels of platforms without push,
channels whose subscription is missing, pending, failed or revoked, and every
channel of a platform whose push has gone quiet (no delivery for
`PUSH_QUIET_AFTER_S` although its subscriptions are older than that).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from shared.config import Settings
from shared.monitor.state import DueChannel
from shared.platforms.polling import most_overdue, stats_quota
from shared.platforms.registry import spec, specs


@dataclass(frozen=True, slots=True)
class PushHealth:
    """One platform's push, as operators (and the monitor) see it."""

    platform: str
    configured: bool
    enabled: int = 0
    pending: int = 0
    failed: int = 0
    revoked: int = 0
    oldest_enabled_at: datetime | None = None
    last_delivery_at: datetime | None = None
    quiet: bool = False
    """Subscribed for longer than the threshold, yet nothing arrived for that long."""

    @property
    def healthy(self) -> bool:
        return self.configured and self.enabled > 0 and not self.quiet

    def to_json(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "configured": self.configured,
            "healthy": self.healthy,
            "enabled": self.enabled,
            "pending": self.pending,
            "failed": self.failed,
            "revoked": self.revoked,
            "last_delivery_at": self.last_delivery_at.isoformat()
            if self.last_delivery_at
            else None,
            "quiet": self.quiet,
        }


def push_health(
    conn: psycopg.Connection[Any], settings: Settings, now: datetime
) -> dict[str, PushHealth]:
    """Every push platform's subscription counts and delivery recency (issue 18 registers it)."""
    counts = conn.execute(
        """
        select platform::text, status, count(*)::int,
               min(updated_at) filter (where status = 'enabled')
        from public.push_subscriptions group by platform, status
        """
    ).fetchall()
    last = dict(
        conn.execute(
            "select platform::text, max(received_at) from public.push_deliveries group by 1"
        ).fetchall()
    )
    quiet_after = timedelta(seconds=settings.push_quiet_after_s)
    found: dict[str, PushHealth] = {}
    for declared in specs():
        source = declared.push
        if source is None:
            continue
        platform = declared.platform.value
        mine = {status: (n, oldest) for p, status, n, oldest in counts if p == platform}
        oldest = mine.get("enabled", (0, None))[1]
        delivered = last.get(platform)
        quiet = (
            oldest is not None
            and now - oldest > quiet_after
            and (delivered is None or now - delivered > quiet_after)
        )
        found[platform] = PushHealth(
            platform=platform,
            configured=source.configured(settings) and bool(settings.push_callback_base_url),
            enabled=mine.get("enabled", (0, None))[0],
            pending=mine.get("pending", (0, None))[0],
            failed=mine.get("failed", (0, None))[0],
            revoked=mine.get("revoked", (0, None))[0],
            oldest_enabled_at=oldest,
            last_delivery_at=delivered,
            quiet=quiet,
        )
    return found


def covered_channels(conn: psycopg.Connection[Any], ids: Sequence[UUID]) -> set[UUID]:
    """Of `ids`, the channels with every required push subscription enabled."""
    if not ids:
        return set()
    rows = conn.execute(
        """
        select s.channel_id, c.platform::text, array_agg(s.event_type)
        from public.push_subscriptions s join public.channels c on c.id = s.channel_id
        where s.channel_id = any(%s::uuid[]) and s.status = 'enabled'
        group by s.channel_id, c.platform
        """,
        (list(ids),),
    ).fetchall()
    covered = set()
    for channel_id, platform, types in rows:
        source = spec(platform).push
        if source is not None and set(source.required_types) <= set(types):
            covered.add(channel_id)
    return covered


def needs_poll(channel: DueChannel) -> bool:
    """A covered channel that is polled anyway: live, in a session, candidates, never polled."""
    status = channel.status
    session = channel.memory.session
    return (
        channel.poll.last_polled_at is None
        or (status is not None and status.is_live)
        or (session is not None and session.is_open)
        or bool(channel.poll.candidate_video_ids)
    )


def select(
    conn: psycopg.Connection[Any], due: Sequence[DueChannel], now: datetime, settings: Settings
) -> list[DueChannel]:
    """The due channels this cycle polls, push taken into account (order kept)."""
    health = push_health(conn, settings, now)
    healthy = {p for p, h in health.items() if h.healthy}
    if not healthy:
        return list(due)
    candidates = [c for c in due if c.platform in healthy]
    covered = covered_channels(conn, [c.id for c in candidates])
    return choose(due, covered, healthy, now, settings)


def sweep_interval(platform: str, settings: Settings) -> timedelta:
    """The platform's safety sweep interval (its push source's say; the common setting
    for a platform without push)."""
    source = spec(platform).push
    if source is None:
        return timedelta(seconds=settings.push_sweep_interval_s)
    return timedelta(seconds=source.sweep_interval_s(settings))


def choose(
    due: Sequence[DueChannel],
    covered: set[UUID],
    healthy: set[str],
    now: datetime,
    settings: Settings,
) -> list[DueChannel]:
    """`select` once push health and coverage are known: the due channels polled, in order,
    each covered one adjusted by its push source (what the poll may skip)."""
    dropped: set[UUID] = set()
    swept: set[UUID] = set()
    for platform in healthy:
        source = spec(platform).push
        if source is None:
            continue
        sweep = sweep_interval(platform, settings)
        mine = [c for c in due if c.platform == platform and c.id in covered]
        # The sweep's turn goes round every covered channel, those polled anyway included
        # (a feed-based platform reads a live channel's feed only in its turn), at its
        # own cadence, spread evenly over the cycles.
        turn = most_overdue(mine, source.swept_at, now, sweep, stats_quota(mine, sweep))
        chosen = {c.id for c in turn}
        swept |= chosen
        dropped |= {c.id for c in mine if c.id not in chosen and not needs_poll(c)}
    kept = []
    for channel in due:
        if channel.id in dropped:
            continue
        source = spec(channel.platform).push
        if channel.id in covered and channel.platform in healthy and source is not None:
            # What push reports, the poll may skip (a feed read), except in the sweep.
            adjusted = source.covered(channel, now, sweep=channel.id in swept)
            channel = adjusted if isinstance(adjusted, DueChannel) else channel
        kept.append(channel)
    return kept


class Selector:
    """`select` bound to settings: what the monitor cycle calls."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(
        self, conn: psycopg.Connection[Any], due: Sequence[DueChannel], now: datetime
    ) -> list[DueChannel]:
        return select(conn, due, now, self.settings)
