"""Turning one channel's observations into samples, status and stream sessions.

Pure functions, no I/O: `advance(memory, observation, rules)` returns what to
write and the channel's new memory. The rules, in one place:

- A live observation continues the channel's latest session when it is the
  same broadcast (same platform stream id, whatever the gap), or when that
  session is still open and was last seen live within the grace period (a
  restart: a new stream id shortly after the old one ended). Otherwise the
  open session, if any, is closed and a new one starts.
- An offline observation closes the open session once the channel has been
  seen offline for longer than the grace period; the session's `ended_at` is
  the last time it was seen live. Within the grace the session stays open.
- No observation (the platform failed) changes nothing: no false offline.
- Aggregates use samples with a known viewer count only: peak, the sum for the
  average, and hours watched = Σ viewers x Δt. Each known live sample holds its
  value until the channel's next sample, live or offline, provided it comes
  within `max_gap` (a longer gap is unknown, not counted); the first sample
  also covers the time back to the platform's start time, when that is within
  `max_gap`. Holding into the first offline sample and back to the start makes
  the estimate unbiased: a stream ends, on average, half an interval after it
  was last seen live.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from shared.platforms.polling import Observation

__all__ = ["LastSample", "Memory", "Observation", "Rules", "Session", "SessionChange", "Step"]


@dataclass(frozen=True, slots=True)
class Session:
    """A stream session's identity and running aggregates."""

    id: int | None
    """None until the database has assigned one (a session opened this cycle)."""
    platform_stream_id: str
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
    title: str | None = None
    category: str | None = None
    peak_viewers: int | None = None
    viewer_count_sum: int = 0
    viewer_seconds: float = 0.0
    sample_count: int = 0
    known_viewer_sample_count: int = 0

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class LastSample:
    """The channel's previous sample, for Σ viewers x Δt."""

    observed_at: datetime
    is_live: bool
    viewer_count: int | None


@dataclass(frozen=True, slots=True)
class Memory:
    """What the monitor remembers about a channel between cycles."""

    session: Session | None = None
    """The channel's latest session, open or closed."""
    last_sample: LastSample | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """The stitching parameters (from Settings)."""

    grace: timedelta = timedelta(minutes=10)
    max_gap: timedelta = timedelta(minutes=10)


class SessionChange(Enum):
    """What happened to the latest session in this step."""

    NONE = "none"
    OPENED = "opened"  # a new session (the previous one, if open, was closed)
    EXTENDED = "extended"
    REOPENED = "reopened"  # a closed session's broadcast came back
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Step:
    """What one observation makes the monitor write."""

    memory: Memory
    """The channel's memory after this observation."""
    change: SessionChange
    closed: Session | None
    """A session closed by this step (also set when OPENED replaced an open one)."""
    sample_in_session: bool
    """True when the sample belongs to `memory.session`."""
    applied: bool = True
    """False when the observation was not newer than the last one: write nothing."""


def _held_seconds(session: Session, last: LastSample | None, now: datetime, rules: Rules) -> float:
    """Viewer-seconds the previous sample holds until `now`, if it counts."""
    if (
        last is None
        or not last.is_live
        or last.viewer_count is None
        or last.observed_at < session.started_at
    ):
        return 0.0
    elapsed = now - last.observed_at
    if not timedelta(0) < elapsed <= rules.max_gap:
        return 0.0
    return last.viewer_count * elapsed.total_seconds()


def _extend(session: Session, obs: Observation, last: LastSample | None, rules: Rules) -> Session:
    viewers = obs.viewer_count
    seconds = session.viewer_seconds + _held_seconds(session, last, obs.observed_at, rules)
    if session.sample_count == 0 and viewers is not None:
        # The first sighting also covers the time since the platform's start.
        head = obs.observed_at - session.started_at
        if head <= rules.max_gap:
            seconds += viewers * head.total_seconds()
    known = viewers is not None
    return replace(
        session,
        last_seen_at=max(session.last_seen_at, obs.observed_at),
        ended_at=None,
        title=obs.title if obs.title is not None else session.title,
        category=obs.category if obs.category is not None else session.category,
        peak_viewers=(
            max(session.peak_viewers or 0, viewers) if viewers is not None else session.peak_viewers
        ),
        viewer_count_sum=session.viewer_count_sum + (viewers or 0),
        viewer_seconds=seconds,
        sample_count=session.sample_count + 1,
        known_viewer_sample_count=session.known_viewer_sample_count + int(known),
    )


# How much earlier than our last offline sighting a platform's start time may
# lie and still be believed (platforms list a new stream after a short lag).
START_LAG = timedelta(minutes=2)


def _open(obs: Observation, last: LastSample | None) -> Session:
    assert obs.platform_stream_id is not None
    # The platform's own start time is the truth when it has one; a stream
    # cannot start after it was first seen live. Nor long before the channel
    # was last seen offline: some platforms give only the time the stream was
    # created, which may be hours before it went live.
    started = min(obs.started_at or obs.observed_at, obs.observed_at)
    if last is not None and not last.is_live and started < last.observed_at - START_LAG:
        started = last.observed_at
    return Session(
        id=None,
        platform_stream_id=obs.platform_stream_id,
        started_at=started,
        last_seen_at=obs.observed_at,
    )


def advance(memory: Memory, obs: Observation, rules: Rules) -> Step:
    """Apply one observation to a channel's memory."""
    latest = memory.session
    sample = LastSample(obs.observed_at, obs.is_live, obs.viewer_count if obs.is_live else None)
    if memory.last_sample is not None and obs.observed_at <= memory.last_sample.observed_at:
        # Not newer than what was applied (a retried or late cycle): a no-op.
        return Step(memory, SessionChange.NONE, None, sample_in_session=False, applied=False)

    if not obs.is_live or obs.platform_stream_id is None:
        if latest is None or not latest.is_open:
            return Step(Memory(latest, sample), SessionChange.NONE, None, False)
        # The last live sample holds until this offline one.
        tail = _held_seconds(latest, memory.last_sample, obs.observed_at, rules)
        session = replace(latest, viewer_seconds=latest.viewer_seconds + tail)
        if obs.observed_at - latest.last_seen_at > rules.grace:
            closed = replace(session, ended_at=latest.last_seen_at)
            return Step(Memory(closed, sample), SessionChange.CLOSED, closed, False)
        change = SessionChange.EXTENDED if tail else SessionChange.NONE
        return Step(Memory(session, sample), change, None, False)

    if latest is not None:
        same_broadcast = latest.platform_stream_id == obs.platform_stream_id
        restart = latest.is_open and obs.observed_at - latest.last_seen_at <= rules.grace
        if same_broadcast or restart:
            change = SessionChange.EXTENDED if latest.is_open else SessionChange.REOPENED
            extended = _extend(latest, obs, memory.last_sample, rules)
            return Step(Memory(extended, sample), change, None, True)

    replaced: Session | None = None
    if latest is not None and latest.is_open:
        replaced = replace(latest, ended_at=latest.last_seen_at)
    opened = _extend(_open(obs, memory.last_sample), obs, None, rules)
    return Step(Memory(opened, sample), SessionChange.OPENED, replaced, True)
