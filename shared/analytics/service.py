"""Analytics jobs run by the backend (the dashboard itself is SQL: see the migration)."""

import logging
import time

from shared.db import Database, get_database

logger = logging.getLogger(__name__)


def refresh_leaderboard(db: Database | None = None) -> float:
    """Refresh the leaderboard materialized view concurrently; return the seconds it took.

    CONCURRENTLY: dashboards keep reading the previous contents meanwhile.
    """
    db = db or get_database()
    started = time.perf_counter()
    with db.service() as conn:
        conn.execute("select analytics.refresh_leaderboard()")
    elapsed = time.perf_counter() - started
    logger.info("analytics: leaderboard refreshed in %.3f s", elapsed, extra={"seconds": elapsed})
    return elapsed
