"""What one cycle works on and produces, independent of the database and the platforms."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from shared.crypto import Sealed
from shared.monitor.stitching import Memory, Observation

PLATFORMS = ("twitch", "youtube", "rumble")


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
class PollState:
    """The channel's bookkeeping in `channel_poll_state`."""

    last_polled_at: datetime | None = None
    consecutive_failures: int = 0
    feed_checked_at: datetime | None = None
    candidate_video_ids: tuple[str, ...] = ()
    settled_video_ids: tuple[str, ...] = ()
    stats_checked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DueChannel:
    """A channel the cycle checks, with everything remembered about it."""

    id: UUID
    platform: str
    platform_channel_id: str
    interval_s: int
    memory: Memory = field(default_factory=Memory)
    status: StatusSnapshot | None = None
    poll: PollState = field(default_factory=PollState)
    credential: Sealed | None = None
    """The owner's sealed API key (Rumble)."""


@dataclass(slots=True)
class ChannelOutcome:
    """What the fetch phase learned about one channel."""

    observation: Observation | None = None
    """None: no answer this cycle (the platform failed); nothing about the stream changes."""
    error: str | None = None
    pending: bool = False
    """Not looked at yet by design (a YouTube feed awaiting its first read): no failure."""
    poll: PollState | None = None
    """Updated bookkeeping (YouTube candidates, stats time); None keeps it as it was."""
    followers: int | None = None
    subscribers: int | None = None
    stats_at: datetime | None = None
    """Set when followers/subscribers were sampled this cycle."""


@dataclass(slots=True)
class PlatformUsage:
    """Requests, quota and errors of one platform in one cycle."""

    requests: int = 0
    quota_units: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)
    channels: int = 0
    """Due channels of this platform in the cycle."""
    minimum_requests: int = 0
    """The fewest requests that answer what the cycle asked (full batches, no retries)."""


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
    errors: list[dict[str, object]] = field(default_factory=list)
    duration_ms: int = 0
    fetch_s: float = 0.0
    write_s: float = 0.0
    samples_s: float = 0.0
    """Of write_s, the viewer samples alone."""
