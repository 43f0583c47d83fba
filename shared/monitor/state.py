"""What one cycle works on and produces, independent of the database.

The part a platform's fetcher sees (`PollTarget`, `PollState`, `ChannelOutcome`,
`PlatformUsage`) is defined beside the fetchers, in `shared.platforms.polling`;
a `DueChannel` is a `PollTarget` plus what the monitor remembers about it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from shared.monitor.stitching import Memory
from shared.platforms.polling import ChannelOutcome, PlatformUsage, PollState, PollTarget

__all__ = [
    "ChannelOutcome",
    "CycleReport",
    "DueChannel",
    "PlatformUsage",
    "PollState",
    "RunInfo",
    "StatusSnapshot",
]


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """A channel's row in `channel_status` (the fields that mean a change)."""

    is_live: bool
    platform_stream_id: str | None = None
    title: str | None = None
    category: str | None = None
    viewer_count: int | None = None
    started_at: datetime | None = None
    session_id: int | None = None


@dataclass(frozen=True, slots=True)
class DueChannel(PollTarget):
    """A channel the cycle checks, with everything remembered about it."""

    memory: Memory = field(default_factory=Memory)
    status: StatusSnapshot | None = None


@dataclass(frozen=True, slots=True)
class RunInfo:
    """How the cycle was started."""

    started_at: datetime
    trigger: str = "timer"
    cycle_id: UUID | None = None
    shard_index: int | None = None
    shard_count: int | None = None
    past_due: bool = False


@dataclass(slots=True)
class CycleReport:
    """What a cycle did: the `monitor_runs` row, plus counts for logs and tests."""

    run_id: int | None = None
    skipped: bool = False
    """True when another cycle held the lock and this one did nothing."""
    status: str = "succeeded"
    channels_due: int = 0
    channels_checked: int = 0
    channels_pending: int = 0
    samples_written: int = 0
    sessions_opened: int = 0
    sessions_closed: int = 0
    status_changes: int = 0
    stats_written: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    minimum_requests: dict[str, int] = field(default_factory=dict)
    quota_units: dict[str, int] = field(default_factory=dict)
    units_per_live_sample: dict[str, float] = field(default_factory=dict)
    """Quota units spent per live sample, by platform with a unit quota."""
    errors: list[dict[str, object]] = field(default_factory=list)
    duration_ms: int = 0
    fetch_s: float = 0.0
    write_s: float = 0.0
    samples_s: float = 0.0
    """Of write_s, the viewer samples alone."""
