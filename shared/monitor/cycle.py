"""One monitoring cycle: lock, choose due channels, fan out, write once.

The cycle holds a transaction-scoped advisory lock for its whole length, so
a cycle that starts while another runs does nothing (and a crashed cycle's
lock dies with its connection). The platforms are polled in parallel, each
through its own `ThreadPoolExecutor` capped at that platform's concurrency,
all within one time budget; then everything is written in the same
transaction that holds the lock.
"""

import contextvars
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from shared import telemetry
from shared.clock import Clock, utc_now
from shared.db import Database
from shared.monitor import observe, store
from shared.monitor.gcpause import with_paused_gc
from shared.monitor.state import (
    ChannelOutcome,
    CycleReport,
    DueChannel,
    PlatformUsage,
    RunInfo,
)
from shared.monitor.stitching import Rules
from shared.platforms.polling import PlatformFetcher, QuotaStatus

Done = Callable[[Sequence[DueChannel], Mapping[UUID, ChannelOutcome]], None]
"""Told a platform's channels and outcomes once its fetch is done (`CycleWriter.add`)."""
Selection = Callable[[psycopg.Connection[Any], list[DueChannel], datetime], list[DueChannel]]
"""Narrows a cycle's due channels (`shared.push.selection.Selector`)."""

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
    quotas: Mapping[str, QuotaStatus] | None = None,
    *,
    on_done: Done | None = None,
) -> tuple[dict[UUID, ChannelOutcome], dict[str, PlatformUsage]]:
    """Poll every platform at once; one platform failing never stops the others.

    A fetcher that governs a daily quota is told what its platform has spent today
    (`quotas`) and polls within its share of the rest. `on_done` is called in
    this thread with each platform's channels and outcomes as soon as that
    platform is done, while the others are still polled (the cycle writes them).
    """
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
            # Its own span, in the cycle's trace and log context (a copy per thread).
            futures[platform] = ex.submit(
                contextvars.copy_context().run,
                observe.traced_fetch, fetcher, channels, now, deadline,
                (quotas or {}).get(platform),
            )  # fmt: skip
        platform_of = {future: platform for platform, future in futures.items()}
        for future in as_completed(platform_of):
            platform = platform_of[future]
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
            if on_done is not None:
                on_done(by_platform[platform], got)
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
    select: Selection | None = None,
) -> CycleReport:
    """Run one cycle (or one shard of it, `only`); never overlaps another.

    `select` narrows the due channels (push detection polls fewer; see
    `shared.push.selection`)."""
    started = time.monotonic()
    now = clock()
    run = run or RunInfo(started_at=now)
    with (
        telemetry.log_context(
            cycle_id=str(run.cycle_id) if run.cycle_id else None,
            shard_index=run.shard_index, shard_count=run.shard_count, trigger=run.trigger,
        ),
        telemetry.span("monitor.cycle", _span_attributes(run)) as span,
    ):  # fmt: skip
        report = _run_cycle(db, fetchers, rules, budget_s, run, only, clock, started, now, select)
        span.set_attribute("streamtrack.status", report.status)
        span.set_attribute("streamtrack.channels_due", report.channels_due)
        if report.run_id is not None:
            span.set_attribute("streamtrack.run_id", report.run_id)
    if not report.skipped:
        _record_quota(db, now)
    return report


def _span_attributes(run: RunInfo) -> dict[str, str | int | bool]:
    attributes: dict[str, str | int | bool] = {"faas.trigger": run.trigger}
    attributes["streamtrack.past_due"] = run.past_due
    if run.cycle_id is not None:
        attributes["streamtrack.cycle_id"] = str(run.cycle_id)
    if run.shard_index is not None and run.shard_count is not None:
        attributes["streamtrack.shard_index"] = run.shard_index
        attributes["streamtrack.shard_count"] = run.shard_count
    return attributes


def _record_quota(db: Database, now: datetime) -> None:
    try:
        with db.service() as conn:
            observe.record_quota(conn, now)
    except psycopg.Error:
        logger.warning("monitor: could not read the quota left for the metrics")


def _run_cycle(
    db: Database,
    fetchers: Mapping[str, PlatformFetcher],
    rules: Rules,
    budget_s: float,
    run: RunInfo,
    only: Sequence[UUID] | None,
    clock: Clock,
    started: float,
    now: datetime,
    select: Selection | None,
) -> CycleReport:
    lock_key = CYCLE_LOCK_KEY if run.shard_index is None else run.shard_index
    maintain_partitions(db)
    usage: dict[str, PlatformUsage] = {}
    try:
        with db.service() as conn:
            locked = conn.execute(
                "select pg_try_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, lock_key)
            ).fetchone()
            if not (locked and locked[0]):
                logger.info("monitor: another cycle is running; skipping")
                return CycleReport(skipped=True)
            # The cycle's statements are big set-based reads and writes the
            # planner prices above jit_above_cost; compiling them cost more than
            # running them (the due-channel read once took 1.3 s instead of 0.1 s).
            conn.execute("set local jit = off")
            due = store.due_channels(conn, now, only=only)
            if select is not None:
                due = select(conn, due, now)
            quotas = store.quota_status(conn, due, now, sharded=run.shard_count is not None)
            fetch_started = time.monotonic()
            # Each platform's rows are written as soon as it is done, while the
            # slower ones are still polled; the rest once all are (one transaction).
            writer = store.CycleWriter(conn, rules, run)
            outcomes, fetched = fetch_all(
                fetchers, due, now, started + budget_s, quotas, on_done=writer.add
            )
            usage.update(fetched)
            write_started = time.monotonic()
            with telemetry.span("db.write monitor", {"db.system": "postgresql"}) as write:
                report = writer.finish(due, outcomes, usage)
                report.fetch_s = write_started - fetch_started
                report.duration_ms = round((time.monotonic() - started) * 1000)
                report.run_id = store.record_run(conn, run, report, clock())
                write.set_attribute("streamtrack.samples", report.samples_written)
            report.write_s = time.monotonic() - write_started
            telemetry.set_log_field("run_id", report.run_id)
    except psycopg.Error as exc:
        # The cycle's transaction is gone, and with it every row of this
        # cycle: record the failure on its own so it is not silent, with the
        # requests and quota units the fetch phase really spent.
        logger.exception("monitor: cycle failed in the database")
        _record_failure(db, run, started, f"{type(exc).__name__}: {exc}", clock, usage)
        telemetry.record_cycle(
            trigger=run.trigger, status="failed", duration_s=time.monotonic() - started
        )
        raise
    observe.record_run(run, report, due, outcomes, usage)
    logger.info(
        "monitor: %d due, %d checked, %d samples, %d opened, %d closed in %d ms",
        report.channels_due, report.channels_checked, report.samples_written,
        report.sessions_opened, report.sessions_closed, report.duration_ms,
        extra={"run_id": report.run_id, "requests": report.requests, "status": report.status},
    )  # fmt: skip
    return report


def _record_failure(
    db: Database,
    run: RunInfo,
    started: float,
    message: str,
    clock: Clock,
    usage: Mapping[str, PlatformUsage],
) -> None:
    """A failed cycle's run row and its spending, in a short transaction of their own
    (after the cycle's rolled back): requests were sent and quota units spent
    whatever became of the write."""
    report = CycleReport(
        status="failed",
        errors=[{"platform": None, "message": message[:500]}],
        duration_ms=round((time.monotonic() - started) * 1000),
        requests={p: u.requests for p, u in usage.items()},
        minimum_requests={p: u.minimum_requests for p, u in usage.items()},
        quota_units={p: u.quota_units for p, u in usage.items() if u.quota_units},
        units_per_live_sample=store.units_per_live_sample(usage),
    )
    try:
        with db.service() as conn:
            store.write_usage(conn, usage, run.started_at)
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
