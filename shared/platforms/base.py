"""What every platform client promises, and the models they all speak.

A client turns a `ChannelRef` (what a user typed: a URL, @handle, login or id)
into a canonical `Channel`, and polls batches of `ChannelTarget`s for live
status (`LiveBatch`) and audience size (`StatsBatch`). Each batch reports the
requests and quota units it spent, so the caller can account for them, and
the channels it could not answer for, so one bad channel never sinks a batch.
"""

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum
from typing import Annotated, Protocol, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from shared.platforms.errors import (
    AuthError,
    DeadlineExceeded,
    PlatformError,
    QuotaExhausted,
)
from shared.platforms.registry import Platform as Platform
from shared.platforms.registry import parse_channel_ref as parse_channel_ref

logger = logging.getLogger(__name__)
T = TypeVar("T")

UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]
"""An aware datetime, normalised to UTC; naive datetimes are rejected."""


class RefKind(StrEnum):
    """What a `ChannelRef` value is."""

    ID = "id"
    LOGIN = "login"
    HANDLE = "handle"
    USERNAME = "username"
    """A legacy account name some platforms still resolve (`/user/<name>` URLs)."""
    KEY = "key"
    """The owner's credential (in `ChannelRef.secret`) identifies the channel; `value` is
    the channel name the user typed, if any."""


class InvalidChannelRef(ValueError):
    """The text is not a channel reference for that platform."""


class ChannelRef(BaseModel):
    """A channel as a user named it, before the platform confirmed it."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    kind: RefKind
    value: str
    """The id, login or handle (`@name`); with a credential, the channel name if known."""
    secret: SecretStr | None = None
    """The owner's credential, for platforms that poll with one; never logged."""


class Channel(BaseModel):
    """A channel as the platform knows it."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    platform_channel_id: str
    handle: str | None = None
    """The name people know the channel by: a login, an `@handle`, a channel name."""
    display_name: str | None = None
    url: str
    avatar_url: str | None = None


class ChannelTarget(BaseModel):
    """A channel to poll: its platform id and, where the platform needs it, the owner's key."""

    model_config = ConfigDict(frozen=True)

    platform_channel_id: str
    api_key: SecretStr | None = None
    """The owner's credential, for platforms whose channels are polled with one."""


class LiveObservation(BaseModel):
    """What the platform said about one channel's live status at one instant."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    platform_channel_id: str
    is_live: bool
    platform_stream_id: str | None = None
    title: str | None = None
    category: str | None = None
    viewer_count: int | None = Field(default=None, ge=0)
    """None when the platform hides the count: unknown, never 0."""
    started_at: UtcDatetime | None = None
    """When the stream went live, per the platform; None when the platform gives no
    go-live time (a creation time is not one)."""
    observed_at: UtcDatetime


class ChannelStats(BaseModel):
    """A channel's audience size at one instant."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    platform_channel_id: str
    followers: int | None = Field(default=None, ge=0)
    """Followers; None where the platform has none or hides them."""
    subscribers: int | None = Field(default=None, ge=0)
    """Subscribers (free or paid, as the platform counts them; possibly rounded)."""
    observed_at: UtcDatetime


@dataclass(slots=True)
class LiveBatch:
    """Live observations for a batch of channels, with what they cost."""

    observations: dict[str, LiveObservation] = field(default_factory=dict)
    """By platform channel id."""
    failures: dict[str, PlatformError] = field(default_factory=dict)
    """Channels with no answer this time, by platform channel id."""
    requests: int = 0
    quota_units: int = 0


@dataclass(slots=True)
class StatsBatch:
    """Follower and subscriber counts for a batch of channels, with what they cost."""

    stats: dict[str, ChannelStats] = field(default_factory=dict)
    failures: dict[str, PlatformError] = field(default_factory=dict)
    requests: int = 0
    quota_units: int = 0


class PlatformClient(Protocol):
    """A platform's client; `deadline` is a `time.monotonic()` instant, None for no limit."""

    @property
    def platform(self) -> Platform: ...

    def resolve(self, ref: ChannelRef, *, deadline: float | None = None) -> Channel:
        """The canonical channel; raises NotFound when the platform has none."""
        ...

    def fetch_live(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> LiveBatch:
        """Live status of every channel; a failed channel lands in `failures`."""
        ...

    def fetch_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> StatsBatch:
        """Followers/subscribers of every channel; a failed channel lands in `failures`."""
        ...


# --- batches ------------------------------------------------------------------------

FATAL = (AuthError, QuotaExhausted, DeadlineExceeded)
"""Errors that would repeat for every further request of a batch."""


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def each_group(
    groups: Iterable[Sequence[str]],
    call: Callable[[Sequence[str]], None],
    failures: dict[str, PlatformError],
    *,
    fatal: tuple[type[PlatformError], ...] = FATAL,
) -> None:
    """Run `call` per group of channel ids; a failure is recorded for each id of its group.

    After a `fatal` error (by default: credentials, quota, time budget) the
    remaining groups fail with the same error without a request.
    """
    stop: PlatformError | None = None
    for group in groups:
        if stop is not None:
            failures.update(dict.fromkeys(group, stop))
            continue
        try:
            call(group)
        except PlatformError as exc:
            stop = exc if isinstance(exc, fatal) else None
            failures.update(dict.fromkeys(group, exc))


def log_batch(platform: Platform, kind: str, channels: int, batch: LiveBatch | StatsBatch) -> None:
    # Debug: the monitor logs each cycle's totals; this is for tracing one batch.
    logger.debug(
        "%s: %s for %d channels, %d requests, %d quota units, %d failed",
        platform.value,
        kind,
        channels,
        batch.requests,
        batch.quota_units,
        len(batch.failures),
        extra={
            "platform": platform.value,
            "channel_count": channels,
            "requests": batch.requests,
            "quota_units": batch.quota_units,
            "failures": len(batch.failures),
        },
    )


# --- parsing what users type --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TypedReference:
    """What a user typed as a channel reference, split the way every platform reads it."""

    text: str
    """Stripped; the whole input."""
    host: str
    """The URL's host without `www.`/`m.`; empty when the text is not a URL."""
    path: list[str]
    """The URL's path segments, percent-decoded."""
    query: dict[str, list[str]]


def split_reference(text: str) -> TypedReference:
    """Split a reference: anything with a `/` is read as a URL (scheme optional)."""
    text = text.strip()
    parsed = urlsplit(text if "://" in text else f"https://{text}") if "/" in text else None
    if parsed is None:
        return TypedReference(text, "", [], {})
    path = [unquote(p) for p in parsed.path.split("/") if p]
    host = (parsed.hostname or "").removeprefix("www.").removeprefix("m.")
    return TypedReference(text, host, path, parse_qs(parsed.query))
