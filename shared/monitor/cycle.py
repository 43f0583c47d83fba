"""One monitoring cycle: lock, choose due channels, fan out, write once.

The cycle holds a transaction-scoped advisory lock for its whole length, so
a cycle that starts while another runs does nothing (and a crashed cycle's
lock dies with its connection). The platforms are polled in parallel, each
through its own `ThreadPoolExecutor` capped at that platform's concurrency,
all within one time budget; then everything is written in the same
transaction that holds the lock.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from uuid import UUID

import psycopg

from shared.clock import Clock, utc_now
from shared.db import Database
from shared.monitor import store
from shared.monitor.gcpause import with_paused_gc
from shared.monitor.state import (
    ChannelOutcome,
    CycleReport,
    DueChannel,
    PlatformUsage,
    RunInfo,
)
from shared.monitor.stitching import Rules
from shared.platforms.polling import PlatformFetcher

__all__ = ["PlatformFetcher", "due_channel_ids", "fetch_all", "run_cycle", "shard_channels"]

logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock(namespace, key): the whole cycle uses key -1, a
# queue shard its index, so shards run side by side but never twice at once.
LOCK_NAMESPACE = 0x5354  # "ST"
CYCLE_LOCK_KEY = -1


def fetch_all(
    fetchers: Mapping[str, PlatformFetcher],
    due: Sequence[DueChannel],
    now: datetime,
    deadline: float,
) -> tuple[dict[UUID, ChannelOutcome], dict[str, PlatformUsage]]:
    """Poll every platform at once; one platform failing never stops the others."""
    by_platform: dict[str, list[DueChannel]] = {}
    for channel in due:
        by_platform.setdefault(channel.platform, []).append(channel)
    outcomes: dict[UUID, ChannelOutcome] = {}
    usage: dict[str, PlatformUsage] = {}
    with ThreadPoolExecutor(
        max_workers=max(1, len(by_platform)), thread_name_prefix="monitor"
    ) as ex:
        futures = {}
        for platform, channels in by_platform.items():
            fetcher = fetchers.get(platform)
            if fetcher is None:
                usage[platform] = PlatformUsage(
                    errors=[{"platform": platform, "message": "platform not configured"}]
                )
                continue
            futures[platform] = ex.submit(fetcher.fetch, channels, now, deadline)
        for platform, future in futures.items():
            try:
                got, used = future.result()
            except Exception as exc:  # a bug or outage in one platform stays there
                logger.exception("monitor: %s fetch failed", platform, extra={"platform": platform})
                used = PlatformUsage(
                    errors=[{"platform": platform, "message": f"{type(exc).__name__}: {exc}"[:300]}]
                )
                got = {}
            outcomes.update(got)
            used.channels = len(by_platform[platform])
            usage[platform] = used
    return outcomes, usage


def maintain_partitions(db: Database) -> None:
    """Make sure the coming days' sample partitions exist (cheap when they do).

    Runs in its own short transaction: creating a partition locks
    viewer_samples briefly, which must not last as long as a whole cycle.
    """
    with db.service() as conn:
        conn.execute("select count(*) from public.manage_viewer_sample_partitions(2)")


@with_paused_gc
def run_cycle(
    db: Database,
    fetchers: Mapping[str, PlatformFetcher],
    rules: Rules,
    *,
    budget_s: float,
    run: RunInfo | None = None,
    only: Sequence[UUID] | None = None,
    clock: Clock = utc_now,
) -> CycleReport:
    """Run one cycle (or one shard of it, `only`); never overlaps another."""
    started = time.monotonic()
    now = clock()
    run = run or RunInfo(started_at=now)
    lock_key = CYCLE_LOCK_KEY if run.shard_index is None else run.shard_index
    maintain_partitions(db)
    try:
        with db.service() as conn:
            locked = conn.execute(
                "select pg_try_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, lock_key)
            ).fetchone()
            if not (locked and locked[0]):
                logger.info("monitor: another cycle is running; skipping")
                return CycleReport(skipped=True)
            due = store.due_channels(conn, now, only=only)
            fetch_started = time.monotonic()
            outcomes, usage = fetch_all(fetchers, due, now, started + budget_s)
            write_started = time.monotonic()
            report = store.write_cycle(conn, due, outcomes, usage, rules, run)
            report.fetch_s = write_started - fetch_started
            report.duration_ms = round((time.monotonic() - started) * 1000)
            report.run_id = store.record_run(conn, run, report, clock())
            report.write_s = time.monotonic() - write_started
    except psycopg.Error as exc:
        # The cycle's transaction is gone, and with it every row of this
        # cycle: record the failure on its own so it is not silent.
        logger.exception("monitor: cycle failed in the database")
        _record_failure(db, run, started, f"{type(exc).__name__}: {exc}", clock)
        raise
    logger.info(
        "monitor: %d due, %d checked, %d samples, %d opened, %d closed in %d ms",
        report.channels_due, report.channels_checked, report.samples_written,
        report.sessions_opened, report.sessions_closed, report.duration_ms,
        extra={"run_id": report.run_id, "requests": report.requests, "status": report.status},
    )  # fmt: skip
    return report


def _record_failure(db: Database, run: RunInfo, started: float, message: str, clock: Clock) -> None:
    report = CycleReport(
        status="failed",
        errors=[{"platform": None, "message": message[:500]}],
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    try:
        with db.service() as conn:
            store.record_run(conn, replace(run), report, clock())
    except psycopg.Error:
        logger.exception("monitor: could not record the failed run either")


def shard_channels(ids: Sequence[UUID], size: int) -> list[list[UUID]]:
    """Split channel ids into shards of at most `size`, platforms kept together.

    Ids arrive ordered by platform (see store.DUE_CHANNELS_SQL), so slicing
    keeps each shard's batches full.
    """
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def due_channel_ids(db: Database, now: datetime) -> list[UUID]:
    """The ids a cycle starting now would check (for sharding)."""
    with db.service() as conn:
        return store.due_channel_ids(conn, now)
