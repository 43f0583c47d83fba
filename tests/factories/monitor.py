"""Observations on a fixed timeline, and one monitor cycle written for them."""

import uuid
from datetime import UTC, datetime, timedelta

from shared.db import Database
from shared.monitor import store
from shared.monitor.state import ChannelOutcome, CycleReport, PlatformUsage, RunInfo
from shared.monitor.stitching import Observation, Rules

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RULES = Rules(grace=timedelta(minutes=10), max_gap=timedelta(minutes=10))


def live(minute: float, viewers: int | None = 100, stream: str = "s1") -> Observation:
    """Live `minute` minutes after T0 (started 30 s before that)."""
    at = T0 + timedelta(minutes=minute)
    return Observation(at, True, stream, "title", "cat", viewers, at - timedelta(seconds=30))


def off(minute: float) -> Observation:
    return Observation(T0 + timedelta(minutes=minute), False)


def cycle(
    database: Database, observations: dict[uuid.UUID, Observation | None], at: datetime
) -> CycleReport:
    """One cycle's write for these channels (None: the platform failed for it)."""
    with database.service() as conn:
        due = store.due_channels(conn, at, only=list(observations))
        outcomes = {
            cid: ChannelOutcome(observation=obs, error=None if obs else "boom")
            for cid, obs in observations.items()
        }
        usage = {"twitch": PlatformUsage(requests=1)}
        report = store.write_cycle(conn, due, outcomes, usage, RULES, RunInfo(started_at=at))
        report.run_id = store.record_run(conn, RunInfo(started_at=at), report, at)
        return report
