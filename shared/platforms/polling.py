"""The contract between the monitor and a platform's fetcher, and the scheduling rules
every fetcher shares.

A cycle hands each platform's `PlatformFetcher` the due channels of that
platform (`PollTarget`s) and gets back a `ChannelOutcome` per channel plus the
cycle's `PlatformUsage`. Periodic work that is not needed every cycle
(followers, quota-free feed reads) is spread with `stats_quota` and
`most_overdue`, so an hourly task is done for a sixtieth of the channels each
minute rather than for all of them at once.

These types belong to no platform and import nothing of the monitor: the
monitor depends on them, never the other way round.
"""

import contextvars
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar, runtime_checkable
from uuid import UUID

from shared import telemetry
from shared.crypto import Sealed
from shared.platforms.base import (
    ChannelStats,
    ChannelTarget,
    LiveBatch,
    LiveObservation,
    PlatformClient,
    StatsBatch,
)
from shared.platforms.errors import PlatformError

T = TypeVar("T")

CYCLE_S = 60
"""The timer's period (MONITOR_SCHEDULE runs every minute): plans sampling more
often than this are still checked once a cycle."""
MAX_ERRORS = 20
"""Distinct errors a cycle records per platform."""


@dataclass(frozen=True, slots=True)
class Observation:
    """What the platform said about one channel at one instant."""

    observed_at: datetime
    is_live: bool
    platform_stream_id: str | None = None
    title: str | None = None
    category: str | None = None
    viewer_count: int | None = None
    """None when the platform hides the count: unknown, never 0."""
    started_at: datetime | None = None
    """When the stream went live, per the platform; None when it does not say (a
    creation time is not a start time)."""
    interval_s: int | None = None
    """Set when the fetcher sampled the channel less often than its plan asks (a quota
    governor): the sample's hold may then cross a longer gap."""


def to_observation(live: LiveObservation) -> Observation:
    return Observation(
        observed_at=live.observed_at,
        is_live=live.is_live,
        platform_stream_id=live.platform_stream_id,
        title=live.title,
        category=live.category,
        viewer_count=live.viewer_count,
        started_at=live.started_at,
    )


@dataclass(frozen=True, slots=True)
class PollState:
    """The channel's bookkeeping in `channel_poll_state`."""

    last_polled_at: datetime | None = None
    consecutive_failures: int = 0
    feed_checked_at: datetime | None = None
    candidate_video_ids: tuple[str, ...] = ()
    settled_video_ids: tuple[str, ...] = ()
    stats_checked_at: datetime | None = None
    upcoming_start_at: datetime | None = None
    """A feed-based platform: the earliest scheduled start of the upcoming candidates."""


@dataclass(frozen=True, slots=True)
class PollTarget:
    """A due channel, as far as its platform's fetcher needs to know it."""

    id: UUID
    platform: str
    platform_channel_id: str
    interval_s: int
    """The shortest sample interval among the plans of the teams tracking it."""
    poll: PollState = field(default_factory=PollState)
    credential: Sealed | None = None
    """The owner's sealed credential, for platforms that poll with one."""
    last_live: bool = False
    """The channel's last sample was live (a quota governor checks these first)."""
    discover: bool | None = None
    """What push says of the fetcher's own discovery work (a quota-free feed read):
    None, none of its business (the fetcher's cadence); False, push reports it, skip it
    this time; True, the safety sweep's turn, do it now (`PushSource.covered`)."""


@dataclass(slots=True)
class ChannelOutcome:
    """What the fetch phase learned about one channel."""

    observation: Observation | None = None
    """None: no answer this cycle (the platform failed); nothing about the stream changes."""
    error: str | None = None
    pending: bool = False
    """Not looked at yet by design (a feed awaiting its first read): no failure."""
    poll: PollState | None = None
    """Updated bookkeeping (feed candidates, stats time); None keeps it as it was."""
    followers: int | None = None
    subscribers: int | None = None
    stats_at: datetime | None = None
    """Set when followers/subscribers were sampled this cycle."""


def error_summary(exc: PlatformError) -> dict[str, object]:
    """A platform error as a cycle records it (`monitor_runs.errors`)."""
    return {
        "platform": exc.platform.value if exc.platform else None,
        "status": exc.status,
        "request_id": exc.request_id,
        "error": type(exc).__name__,
        "message": str(exc)[:300],
    }


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
    live_samples: int = 0
    """Live observations answered (for quota units per live sample)."""
    _seen: set[tuple[object, ...]] = field(default_factory=set, repr=False, compare=False)

    def add(self, batch: LiveBatch | StatsBatch | None, requests: int = 0, units: int = 0) -> None:
        """Count a batch's requests, units and failures (or bare counts)."""
        if batch is not None:
            requests += batch.requests
            units += batch.quota_units
            for exc in batch.failures.values():
                self.error(exc)
        self.requests += requests
        self.quota_units += units

    def error(self, exc: PlatformError) -> None:
        """Record a failure once, not once per channel of a failed batch."""
        key = (type(exc).__name__, exc.status, str(exc))
        if key not in self._seen and len(self.errors) < MAX_ERRORS:
            self._seen.add(key)
            self.errors.append(error_summary(exc))


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    """What a quota-governed fetcher needs to spread its daily budget."""

    spent_units: int
    """Units already spent in the platform's current quota day."""
    share: float
    """This fetch's share of the platform's tracked channels (1.0 unless sharded)."""


@runtime_checkable
class QuotaGoverned(Protocol):
    """A fetcher that spends a daily unit budget and is told what is already spent."""

    def fetch_governed(
        self, channels: Sequence[PollTarget], now: datetime, deadline: float, quota: QuotaStatus
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        """`fetch`, within the cycle's share of what is left of the day's budget."""
        ...


class PlatformFetcher(Protocol):
    """Polls one platform for a batch of due channels."""

    platform: str
    concurrency: int

    @property
    def client(self) -> PlatformClient:
        """The platform client it polls with."""
        ...

    def fetch(
        self, channels: Sequence[PollTarget], now: datetime, deadline: float
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        """Outcomes by channel; `deadline` is a `time.monotonic()` instant."""
        ...


# --- spreading periodic work --------------------------------------------------------


def _spread_rank(channel: PollTarget) -> str:
    """A stable pseudo-random order, so staggered work spreads evenly over channels."""
    return hashlib.blake2s(channel.id.bytes, digest_size=8).hexdigest()


def most_overdue(
    channels: Sequence[PollTarget],
    last: Callable[[PollTarget], datetime | None],
    now: datetime,
    interval: timedelta,
    share: int,
) -> list[PollTarget]:
    """Channels whose work is due, never-done first, then the longest overdue; at most `share`.

    Capping each cycle at its share of the interval's work spreads, for
    example, an hourly follower count over the hour instead of doing all of
    it in the first cycle and again an hour later.
    """
    due = [c for c in channels if (t := last(c)) is None or now - t >= interval]
    due.sort(key=lambda c: (last(c) is not None, last(c) or now, _spread_rank(c)))
    return due[:share]


def stats_quota(channels: Sequence[PollTarget], interval: timedelta) -> int:
    """Per cycle, the share of channels whose periodic work keeps up with `interval`."""
    if not channels:
        return 0
    cycle_s = max(CYCLE_S, min(c.interval_s for c in channels))
    return max(1, math.ceil(len(channels) * cycle_s / interval.total_seconds()))


# --- helpers for fetchers -------------------------------------------------------------


def submit_each(
    ex: ThreadPoolExecutor,
    call: Callable[..., T],
    groups: Iterable[Sequence[ChannelTarget]] | Iterable[Sequence[str]],
    deadline: float,
) -> list[Future[T]]:
    """`call(group, deadline=deadline)` for each group, on the executor, each in a
    `platform.batch` span of the caller's trace (the context goes with the call)."""
    return [
        ex.submit(contextvars.copy_context().run, _traced_batch, call, list(group), deadline)
        for group in groups
    ]


def _traced_batch(call: Callable[..., T], group: list[object], deadline: float) -> T:
    owner = getattr(call, "__self__", None)
    platform = getattr(getattr(owner, "platform", None), "value", None)
    attributes: dict[str, str | int] = {
        "streamtrack.operation": getattr(call, "__name__", "call"),
        "streamtrack.batch_size": len(group),
    }
    if platform:
        attributes["streamtrack.platform"] = str(platform)
    with telemetry.span("platform.batch", attributes) as span:
        result = call(group, deadline=deadline)
        for name in ("requests", "quota_units"):
            value = getattr(result, name, None)
            if isinstance(value, int):
                span.set_attribute(f"streamtrack.{name}", value)
        failures = getattr(result, "failures", None)
        if isinstance(failures, dict):
            span.set_attribute("streamtrack.failures", len(failures))
        return result


def results(futures: Iterable[Future[T]]) -> Iterable[T]:
    for future in futures:
        yield future.result()


def add_stats(
    outcomes: dict[UUID, ChannelOutcome], channel: PollTarget, stats: ChannelStats
) -> None:
    """Put a channel's sampled followers/subscribers into its outcome."""
    outcome = outcomes.setdefault(channel.id, ChannelOutcome())
    outcome.followers = stats.followers
    outcome.subscribers = stats.subscribers
    outcome.stats_at = stats.observed_at
    outcome.poll = replace(outcome.poll or channel.poll, stats_checked_at=stats.observed_at)
