"""The monitor's telemetry: what `cycle.py` hands to `shared.telemetry`.

Kept apart from the cycle so the cycle reads as the cycle: a span per platform
fetch (in the platform's worker thread, continuing the cycle's trace), and after
the write the run's metrics: duration, channels by outcome, requests, distinct
errors, quota used and, for platforms with a daily allowance, quota left.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from shared import telemetry
from shared.monitor.state import ChannelOutcome, CycleReport, DueChannel, PlatformUsage, RunInfo
from shared.platforms.polling import PlatformFetcher, QuotaGoverned, QuotaStatus
from shared.quota import quota_left

logger = logging.getLogger(__name__)


def traced_fetch(
    fetcher: PlatformFetcher,
    channels: Sequence[DueChannel],
    now: datetime,
    deadline: float,
    quota: QuotaStatus | None = None,
) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
    """The fetch in a `monitor.fetch` span (run it in a copied context): governed
    by the platform's quota when the fetcher spends one and a status is known."""
    attributes: dict[str, str | int] = {
        "streamtrack.platform": fetcher.platform,
        "streamtrack.channels": len(channels),
    }
    with telemetry.span("monitor.fetch", attributes) as span:
        if quota is not None and isinstance(fetcher, QuotaGoverned):
            outcomes, usage = fetcher.fetch_governed(channels, now, deadline, quota)
        else:
            outcomes, usage = fetcher.fetch(channels, now, deadline)
        span.set_attribute("streamtrack.requests", usage.requests)
        span.set_attribute("streamtrack.errors", len(usage.errors))
        return outcomes, usage


def record_run(
    run: RunInfo,
    report: CycleReport,
    due: Sequence[DueChannel],
    outcomes: Mapping[UUID, ChannelOutcome],
    usage: Mapping[str, PlatformUsage],
) -> None:
    """The run's metrics (never raises: telemetry must not fail a cycle)."""
    try:
        telemetry.record_cycle(
            trigger=run.trigger,
            status=report.status,
            duration_s=report.duration_ms / 1000,
            samples=report.samples_written,
            status_changes=report.status_changes,
            sessions_opened=report.sessions_opened,
            sessions_closed=report.sessions_closed,
        )
        counts: dict[str, dict[str, int]] = {}
        for channel in due:
            outcome = outcomes.get(channel.id)
            kind = (
                "pending" if outcome is not None and outcome.pending
                else "checked" if outcome is not None and outcome.observation is not None
                else "failed"
            )  # fmt: skip
            per = counts.setdefault(channel.platform, {"checked": 0, "failed": 0, "pending": 0})
            per[kind] += 1
        for platform in sorted(set(counts) | set(usage)):
            used = usage.get(platform, PlatformUsage())
            per = counts.get(platform, {})
            telemetry.record_platform(
                platform,
                requests=used.requests,
                quota_units=used.quota_units,
                checked=per.get("checked", 0),
                failed=per.get("failed", 0),
                pending=per.get("pending", 0),
                errors=[str(e.get("error") or "error") for e in used.errors],
            )
    except Exception:
        logger.exception("monitor: recording metrics failed")


def record_quota(conn: psycopg.Connection[Any], now: datetime) -> None:
    """Quota left today per platform with an allowance, as a gauge (one small query)."""
    for left in quota_left(conn, now):
        telemetry.record_quota_remaining(left.platform, left.remaining)
