"""Applying recorded push deliveries through the monitor's own write path.

A delivery's events become the same `ChannelOutcome`s a poll produces, and
are written by `shared.monitor.store.write_cycle` in one transaction that
holds the monitor cycle's advisory lock: the same stitching (grace period,
restarts, no flapping), the same `channel_status` upsert that writes only
real changes, the same Realtime broadcast (and whatever else that path
writes in its transaction, such as alerts). A push and a poll of the same
change therefore meet in `stitching.advance`: the second is the same
broadcast (same platform stream id) or not newer than the first, so it
opens no second session and changes no status.

- An event carrying the channel's state (online with the platform's stream
  id and start time, or offline) is that channel's observation, stamped
  with the platform's own message time; several for one channel: the latest.
- An event that only names a reason to look (a new video, a changed title)
  makes the channel's fetcher poll it now, with what the event named
  (`PushSource.with_checks`: a video id joins the candidates).
- A channel no team tracks is skipped; so is a delivery for nobody.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from shared.clock import Clock, utc_now
from shared.config import Settings, get_settings
from shared.db import Database, get_database
from shared.monitor import store
from shared.monitor.cycle import CYCLE_LOCK_KEY, LOCK_NAMESPACE
from shared.monitor.state import ChannelOutcome, DueChannel, PlatformUsage, RunInfo
from shared.monitor.stitching import Rules
from shared.platforms.polling import PlatformFetcher, to_observation
from shared.platforms.push import PushEvent
from shared.platforms.registry import spec

logger = logging.getLogger(__name__)

BATCH = 2_000
"""Deliveries applied per transaction."""
LOCK_WAIT = "20s"
"""How long to wait for a running monitor cycle to release the lock (then: next tick)."""
KEEP = timedelta(days=7)
"""Applied deliveries are kept this long for operators (and deduplication: platforms
retry within minutes, and refuse-by-timestamp covers the rest), then deleted."""
PRUNE_BATCH = 5_000


@dataclass(slots=True)
class ApplyReport:
    """What one application did."""

    deliveries: int = 0
    events: int = 0
    channels: int = 0
    observed: int = 0
    """Channels whose state came from the push itself."""
    polled: int = 0
    """Channels polled because a push named them."""
    status_changes: int = 0
    sessions_opened: int = 0
    sessions_closed: int = 0
    skipped: bool = False
    errors: list[dict[str, object]] = field(default_factory=list)


def _pending(conn: psycopg.Connection[Any], limit: int) -> list[tuple[str, str, Any]]:
    rows = conn.execute(
        """
        select platform::text, message_id, payload
        from public.push_deliveries
        where processed_at is null and kind = 'notification'
        order by received_at
        limit %s
        for update skip locked
        """,
        (limit,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _channel_ids(
    conn: psycopg.Connection[Any], keys: set[tuple[str, str]]
) -> dict[tuple[str, str], UUID]:
    if not keys:
        return {}
    platforms, ids = zip(*sorted(keys), strict=True)
    rows = conn.execute(
        """
        select c.platform::text, c.platform_channel_id, c.id
        from unnest(%s::public.platform[], %s::text[]) as k(platform, pcid)
        join public.channels c on c.platform = k.platform and c.platform_channel_id = k.pcid
        """,
        (list(platforms), list(ids)),
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def _latest_observations(
    events: Sequence[tuple[str, PushEvent]],
) -> tuple[dict[tuple[str, str], PushEvent], dict[tuple[str, str], list[str]]]:
    """Per channel: the latest state event, and every id a check named."""
    states: dict[tuple[str, str], PushEvent] = {}
    checks: dict[tuple[str, str], list[str]] = {}
    for platform, event in events:
        key = (platform, event.platform_channel_id)
        if event.observation is not None:
            held = states.get(key)
            if held is None or (
                held.observation is not None
                and event.observation.observed_at >= held.observation.observed_at
            ):
                states[key] = event
        else:
            checks.setdefault(key, []).extend(event.check)
    return states, checks


def apply_pending(
    db: Database,
    fetchers: Mapping[str, PlatformFetcher],
    rules: Rules,
    *,
    clock: Clock = utc_now,
    budget_s: float = 20.0,
    limit: int = BATCH,
) -> ApplyReport:
    """Apply up to `limit` recorded deliveries; returns what changed."""
    report = ApplyReport()
    started = time.monotonic()
    with db.service() as conn:
        conn.execute(f"set local lock_timeout = '{LOCK_WAIT}'")
        try:
            conn.execute("select pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, CYCLE_LOCK_KEY))
        except psycopg.errors.LockNotAvailable:
            report.skipped = True
            return report
        conn.execute("set local lock_timeout = 0")
        _prune(conn, clock())
        pending = _pending(conn, limit)
        if not pending:
            return report
        report.deliveries = len(pending)
        events: list[tuple[str, PushEvent]] = []
        for platform, _, payload in pending:
            for item in (payload or {}).get("events", []):
                try:
                    events.append((platform, PushEvent.from_json(item)))
                except (KeyError, TypeError, ValueError):
                    logger.warning("push: an unreadable recorded event skipped")
        report.events = len(events)
        states, checks = _latest_observations(events)
        keys = set(states) | set(checks)
        ids = _channel_ids(conn, keys)
        by_id = {cid: key for key, cid in ids.items()}
        now = clock()
        due = store.due_channels(conn, now, only=list(by_id)) if by_id else []
        outcomes: dict[UUID, ChannelOutcome] = {}
        usage: dict[str, PlatformUsage] = {}
        to_poll: dict[str, list[DueChannel]] = {}
        for channel in due:
            key = by_id[channel.id]
            state = states.get(key)
            if state is not None and state.observation is not None:
                outcomes[channel.id] = ChannelOutcome(observation=to_observation(state.observation))
                report.observed += 1
                continue
            source = spec(channel.platform).push
            target = channel
            if source is not None:
                target = source.with_checks(channel, checks.get(key, []))  # type: ignore[assignment]
            to_poll.setdefault(channel.platform, []).append(target)
        deadline = started + budget_s
        for platform, targets in to_poll.items():
            fetcher = fetchers.get(platform)
            if fetcher is None:
                continue
            try:
                got, used = fetcher.fetch(targets, now, deadline)
            except Exception as exc:  # one platform's outage stays there
                logger.exception("push: polling %s channels a push named failed", platform)
                report.errors.append({"platform": platform, "message": str(exc)[:300]})
                continue
            used.channels = len(targets)
            usage[platform] = used
            for cid, outcome in got.items():
                if outcome.observation is not None or outcome.poll is not None:
                    outcomes[cid] = outcome
            report.polled += len(got)
        written = [c for c in due if c.id in outcomes]
        report.channels = len(written)
        if written:
            run = RunInfo(started_at=now, trigger="push")
            cycle = store.write_cycle(conn, written, outcomes, usage, rules, run)
            cycle.duration_ms = round((time.monotonic() - started) * 1000)
            store.record_run(conn, run, cycle, clock())
            report.status_changes = cycle.status_changes
            report.sessions_opened = cycle.sessions_opened
            report.sessions_closed = cycle.sessions_closed
        conn.execute(
            """
            update public.push_deliveries d set processed_at = now(), attempts = d.attempts + 1
            from unnest(%s::public.platform[], %s::text[]) as u(platform, message_id)
            where d.platform = u.platform and d.message_id = u.message_id
            """,
            ([p for p, _, _ in pending], [m for _, m, _ in pending]),
        )
    logger.info(
        "push: %d deliveries, %d channels (%d from the push, %d polled), %d status changes",
        report.deliveries, report.channels, report.observed, report.polled, report.status_changes,
        extra={"push": True, "status_changes": report.status_changes},
    )  # fmt: skip
    return report


def _prune(conn: psycopg.Connection[Any], now: datetime) -> None:
    conn.execute(
        """
        delete from public.push_deliveries d
        using (select platform, message_id from public.push_deliveries
               where processed_at is not null and received_at < %s
               limit %s) old
        where d.platform = old.platform and d.message_id = old.message_id
        """,
        (now - KEEP, PRUNE_BATCH),
    )


def tick(
    *,
    settings: Settings | None = None,
    database: Database | None = None,
    fetchers: Mapping[str, PlatformFetcher] | None = None,
    clock: Clock = utc_now,
) -> ApplyReport:
    """The push timer: apply what the callbacks recorded."""
    from shared.monitor.service import default_fetchers, rules_from

    settings = settings or get_settings()
    return apply_pending(
        database or get_database(),
        fetchers if fetchers is not None else default_fetchers(),
        rules_from(settings),
        clock=clock,
    )


def received_at(conn: psycopg.Connection[Any]) -> dict[str, datetime]:
    """The last delivery received per platform (push health)."""
    rows = conn.execute(
        "select platform::text, max(received_at) from public.push_deliveries group by platform"
    ).fetchall()
    return {r[0]: r[1] for r in rows}
