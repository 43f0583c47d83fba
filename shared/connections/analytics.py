"""The daily import of owner analytics reports (`ANALYTICS_IMPORT_SCHEDULE`).

For every channel with an active connection on a platform that has owner
reports (its spec's `connect.reports`), with the newest such connection:

- the channel's daily figures for the trailing days that are still settling
  (`ANALYTICS_IMPORT_SETTLING_DAYS`, at least 3: figures arrive 48 to 72
  hours late), ending yesterday in the report's own zone; a channel with no
  imported day yet gets `BACKFILL_DAYS`. Every day read is upserted, so a day
  imported early is corrected by later runs; a day the report leaves out
  (not reported yet) is not written.
- the figures of its live streams that started in that window (the sessions
  the monitor recorded), over [the stream's first day, yesterday], upserted.

One run row in `analytics_import_runs` (requests, failures per channel, like
the monitor's). A dead grant marks the connection broken (audited) and the
channel is skipped from then on; any other failure is recorded and the next
day's run tries again (its window still covers the days missed).
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

import psycopg

from shared.config import Settings
from shared.connections import store
from shared.connections.providers import Providers
from shared.connections.tokens import ConnectionUnusable, access_token
from shared.crypto import CredentialError
from shared.db import Database
from shared.platforms.errors import PlatformError
from shared.platforms.oauth import DailyFigures, InvalidGrant, OwnerReports, StreamFigures
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost

logger = logging.getLogger(__name__)
BACKFILL_DAYS = 28
CHANNEL_BUDGET_S = 60.0


@dataclass
class ImportReport:
    run_id: int
    channels: int = 0
    days_written: int = 0
    videos_written: int = 0
    requests: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.errors:
            return "succeeded"
        return "failed" if len(self.errors) >= max(1, self.channels) else "partial"


@dataclass(frozen=True, slots=True)
class _Target:
    connection_id: UUID
    channel_id: UUID
    imported_before: bool


def import_reports(db: Database, settings: Settings, providers: Providers) -> ImportReport:
    with db.service() as conn:
        row = conn.execute(
            "insert into public.analytics_import_runs (started_at) values (%s) returning id",
            (providers.clock(),),
        ).fetchone()
    assert row is not None
    report = ImportReport(run_id=int(row[0]))
    for platform, reports in providers.reports.items():
        for target in _targets(db, platform):
            report.channels += 1
            try:
                _import_channel(db, settings, providers, reports, target, report)
            except (ConnectionUnusable, PlatformError, CredentialError) as exc:
                report.errors.append(_error(target, exc))
                logger.warning(
                    "analytics import failed for a channel: %s",
                    exc,
                    extra={"platform": platform.value, "channel_id": str(target.channel_id)},
                )
    with db.service() as conn:
        conn.execute(
            """
            update public.analytics_import_runs set finished_at = greatest(%s, started_at),
              status = %s, channels = %s, days_written = %s, videos_written = %s,
              requests = %s, errors = %s::jsonb
            where id = %s
            """,
            (
                providers.clock(),
                report.status,
                report.channels,
                report.days_written,
                report.videos_written,
                report.requests,
                store.errors_json(report.errors),
                report.run_id,
            ),
        )
    logger.info(
        "analytics import",
        extra={
            "run_id": report.run_id,
            "channels": report.channels,
            "days": report.days_written,
            "videos": report.videos_written,
            "errors": len(report.errors),
        },
    )
    return report


def _targets(db: Database, platform: Platform) -> list[_Target]:
    with db.service() as conn:
        rows = conn.execute(
            """
            select distinct on (c.channel_id) c.id, c.channel_id,
                   exists (select 1 from public.channel_analytics_daily d
                           where d.channel_id = c.channel_id)
            from public.channel_connections c
            where c.platform = %s and c.status = 'active'
            order by c.channel_id, c.connected_at desc
            """,
            (platform.value,),
        ).fetchall()
    return [_Target(UUID(str(r[0])), UUID(str(r[1])), bool(r[2])) for r in rows]


def _import_channel(
    db: Database,
    settings: Settings,
    providers: Providers,
    reports: OwnerReports,
    target: _Target,
    report: ImportReport,
) -> None:
    zone = reports.day_zone
    now = providers.clock()
    last = now.astimezone(zone).date() - timedelta(days=1)
    span = settings.analytics_import_settling_days if target.imported_before else BACKFILL_DAYS
    first = last - timedelta(days=span - 1)
    token = access_token(db, target.connection_id, settings, providers)
    deadline = time.monotonic() + CHANNEL_BUDGET_S
    cost = Cost()
    try:
        days = reports.daily(token, first, last, cost=cost, deadline=deadline)
        with db.service() as conn:
            starts = _stream_starts(conn, target.channel_id, first, last, zone)
        streams: list[StreamFigures] = []
        if starts:
            streams = reports.streams(
                token, list(starts), min(starts.values()), last, cost=cost, deadline=deadline
            )
    except InvalidGrant as exc:
        reason = f"the platform refused the token while importing ({exc.message})"
        with db.service() as conn:
            store.mark_broken(conn, target.connection_id, reason)
        raise ConnectionUnusable(reason, broken=True) from None
    finally:
        report.requests += cost.requests
    with db.service() as conn:
        report.days_written += _upsert_days(conn, target.channel_id, days, now)
        report.videos_written += _upsert_streams(
            conn, target.channel_id, streams, starts, last, now
        )


def _stream_starts(
    conn: psycopg.Connection[Any], channel_id: UUID, first: date, last: date, zone: tzinfo
) -> dict[str, date]:
    """The channel's sessions that started in [first, last] (report days), by stream id."""
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    rows = conn.execute(
        "select platform_stream_id, started_at from public.stream_sessions "
        "where channel_id = %s and started_at >= %s and started_at < %s order by started_at",
        (channel_id, start.astimezone(UTC), end.astimezone(UTC)),
    ).fetchall()
    return {str(r[0]): r[1].astimezone(zone).date() for r in rows}


def _upsert_days(
    conn: psycopg.Connection[Any], channel_id: UUID, days: list[DailyFigures], at: datetime
) -> int:
    for d in days:
        conn.execute(
            """
            insert into public.channel_analytics_daily
              (channel_id, day, views, estimated_minutes_watched, average_view_duration,
               subscribers_gained, subscribers_lost, fetched_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (channel_id, day) do update set
              views = excluded.views,
              estimated_minutes_watched = excluded.estimated_minutes_watched,
              average_view_duration = excluded.average_view_duration,
              subscribers_gained = excluded.subscribers_gained,
              subscribers_lost = excluded.subscribers_lost,
              fetched_at = excluded.fetched_at
            """,
            (
                channel_id,
                d.day,
                d.views,
                d.estimated_minutes_watched,
                d.average_view_duration,
                d.subscribers_gained,
                d.subscribers_lost,
                at,
            ),
        )
    return len(days)


def _upsert_streams(
    conn: psycopg.Connection[Any],
    channel_id: UUID,
    streams: list[StreamFigures],
    starts: dict[str, date],
    last: date,
    at: datetime,
) -> int:
    written = 0
    for s in streams:
        first = starts.get(s.stream_id)
        if first is None:
            continue
        conn.execute(
            """
            insert into public.channel_analytics_videos
              (channel_id, video_id, first_day, last_day, views, estimated_minutes_watched,
               average_view_duration, average_concurrent_viewers, peak_concurrent_viewers,
               fetched_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (channel_id, video_id) do update set
              first_day = excluded.first_day, last_day = excluded.last_day,
              views = excluded.views,
              estimated_minutes_watched = excluded.estimated_minutes_watched,
              average_view_duration = excluded.average_view_duration,
              average_concurrent_viewers = excluded.average_concurrent_viewers,
              peak_concurrent_viewers = excluded.peak_concurrent_viewers,
              fetched_at = excluded.fetched_at
            """,
            (
                channel_id,
                s.stream_id,
                first,
                max(first, last),
                s.views,
                s.estimated_minutes_watched,
                s.average_view_duration,
                s.average_concurrent_viewers,
                s.peak_concurrent_viewers,
                at,
            ),
        )
        written += 1
    return written


def _error(target: _Target, exc: Exception) -> dict[str, object]:
    found: dict[str, object] = {
        "channel_id": str(target.channel_id),
        "error": type(exc).__name__,
        "message": str(exc)[:300],
    }
    if isinstance(exc, PlatformError):
        found |= {"status": exc.status, "request_id": exc.request_id}
    if isinstance(exc, ConnectionUnusable):
        found["broken"] = exc.broken
    return found
