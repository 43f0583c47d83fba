"""Retention of the raw viewer samples (the `retention` timer).

One run, in one short transaction with a lock timeout (dropping or attaching
a partition needs a brief exclusive lock on `viewer_samples`; rather than
queue every reader behind a long monitor cycle, a run that cannot get it
gives up and the next run tries again):

1. `manage_viewer_sample_partitions(days_ahead)` creates the coming days'
   partitions (and drops any past the longest retention of any plan).
2. `apply_viewer_sample_retention(as_of)` drops the partitions, and the
   default partition's rows, that no team's plan keeps any more: a channel's
   samples are kept for the longest retention among the teams tracking it.
   Rollups are never touched. The rule is written out in migration
   20261124120100_channels_monitoring.sql.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from shared.db import Database, DatabaseError, get_database

logger = logging.getLogger(__name__)

DAYS_AHEAD = 7
"""Partitions are created this many UTC days ahead (the monitor keeps 2)."""

LOCK_TIMEOUT_S = 10.0


@dataclass(slots=True)
class RetentionReport:
    """What one retention run did."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    default_rows_purged: int = 0


def run_retention(
    db: Database | None = None,
    *,
    as_of: datetime | None = None,
    days_ahead: int = DAYS_AHEAD,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
) -> RetentionReport:
    """Create the coming partitions, then drop the raw samples no team keeps.

    Raises DatabaseError when viewer_samples stays locked longer than
    `lock_timeout_s` (nothing is changed then; the next run retries).
    """
    db = db or get_database()
    report = RetentionReport()
    try:
        with db.service() as conn:
            conn.execute(
                "select set_config('lock_timeout', %s, true)",
                (f"{round(lock_timeout_s * 1000)}ms",),
            )
            managed = conn.execute(
                "select action, partition_name from public.manage_viewer_sample_partitions(%s)",
                (days_ahead,),
            ).fetchall()
            removed = conn.execute(
                "select action, partition_name, row_count"
                " from public.apply_viewer_sample_retention(coalesce(%s, now()))",
                (as_of,),
            ).fetchall()
    except psycopg.errors.LockNotAvailable as exc:
        raise DatabaseError("retention: viewer_samples is busy; the next run retries") from exc
    # manage_viewer_sample_partitions' own purge of the default partition
    # (rows past every plan's retention) reports no count; it is left out.
    report.created = [name for action, name in managed if action == "created"]
    report.dropped = [name for action, name in managed if action == "dropped"]
    for action, name, count in removed:
        if action == "dropped":
            report.dropped.append(name)
        elif action == "purged_default":
            report.default_rows_purged += int(count)
    logger.info(
        "retention: %d partitions created, %d dropped, %d default rows purged",
        len(report.created), len(report.dropped), report.default_rows_purged,
        extra={"dropped": report.dropped},
    )  # fmt: skip
    return report
