"""What every platform client promises, and the models they all speak.

A client turns a `ChannelRef` (what a user typed: a URL, @handle, login or id)
into a canonical `Channel`, and polls batches of `ChannelTarget`s for live
status (`LiveBatch`) and audience size (`StatsBatch`). Each batch reports the
requests and quota units it spent, so the caller can account for them, and
the channels it could not answer for, so one bad channel never sinks a batch.
"""

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

logger = logging.getLogger(__name__)
T = TypeVar("T")


def utc_now() -> datetime:
    """The default clock of every client: aware UTC now."""
    return datetime.now(UTC)


Clock = Callable[[], datetime]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]
"""An aware datetime, normalised to UTC; naive datetimes are rejected."""


class Platform(StrEnum):
    """A streaming platform (the values of the database enum)."""

    TWITCH = "twitch"
    YOUTUBE = "youtube"
    RUMBLE = "rumble"


class RefKind(StrEnum):
    """What a `ChannelRef` value is."""

    ID = "id"
    LOGIN = "login"
    HANDLE = "handle"
    USERNAME = "username"
    """A legacy YouTube username (`youtube.com/user/<name>`)."""
    KEY = "key"
    """A Rumble owner's Livestream API key (carried in `ChannelRef.secret`)."""


class InvalidChannelRef(ValueError):
    """The text is not a channel reference for that platform."""


class ChannelRef(BaseModel):
    """A channel as a user named it, before the platform confirmed it."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    kind: RefKind
    value: str
    """The id, login or handle (`@name`); for Rumble the channel name, if known."""
    secret: SecretStr | None = None
    """The owner's API key (Rumble); never logged."""


class Channel(BaseModel):
    """A channel as the platform knows it."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    platform_channel_id: str
    handle: str | None = None
    """Twitch login, YouTube `@handle`, Rumble channel or user name."""
    display_name: str | None = None
    url: str
    avatar_url: str | None = None


class ChannelTarget(BaseModel):
    """A channel to poll: its platform id and, for Rumble, the owner's key."""

    model_config = ConfigDict(frozen=True)

    platform_channel_id: str
    api_key: SecretStr | None = None
    """The owner's Livestream API key (Rumble only)."""


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
    observed_at: UtcDatetime


class ChannelStats(BaseModel):
    """A channel's audience size at one instant."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    platform_channel_id: str
    followers: int | None = Field(default=None, ge=0)
    """Twitch and Rumble followers; None where the platform has none or hides them."""
    subscribers: int | None = Field(default=None, ge=0)
    """YouTube subscribers (rounded by YouTube), Rumble paid subscribers."""
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

_TWITCH_LOGIN = re.compile(r"^[a-zA-Z0-9_]{1,25}$")
_TWITCH_RESERVED = frozenset(
    "directory videos settings search p downloads subscriptions inventory wallet drops "
    "jobs turbo friends messages payments moderator".split()
)
_YOUTUBE_ID = re.compile(r"^UC[0-9A-Za-z_-]{22}$")
_YOUTUBE_HANDLE = re.compile(r"^@?[^\s/?#@]{3,100}$")
_RUMBLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def parse_channel_ref(platform: Platform, text: str, *, secret: str | None = None) -> ChannelRef:
    """Read a URL, @handle, login or id as typed by a user (`secret`: a Rumble key)."""
    text = text.strip()
    if not text and not secret:
        raise InvalidChannelRef("empty channel reference")
    parsed = urlsplit(text if "://" in text else f"https://{text}") if "/" in text else None
    path = [unquote(p) for p in parsed.path.split("/") if p] if parsed else []
    host = (parsed.hostname or "").removeprefix("www.").removeprefix("m.") if parsed else ""
    if platform is Platform.TWITCH:
        return _twitch_ref(text, host, path)
    if platform is Platform.YOUTUBE:
        return _youtube_ref(text, host, path)
    keys = parse_qs(parsed.query).get("key", []) if parsed else []
    return _rumble_ref(text, host, path, secret or (keys[-1] if keys else None))


def _twitch_ref(text: str, host: str, path: list[str]) -> ChannelRef:
    if host:
        if host not in ("twitch.tv", "go.twitch.tv") or not path or path[0] in _TWITCH_RESERVED:
            raise InvalidChannelRef("not a Twitch channel URL")
        text = path[0]
    text = text.removeprefix("@")
    if text.isdigit():
        # An all-digit value may be a login too; resolve() asks for both at once.
        return ChannelRef(platform=Platform.TWITCH, kind=RefKind.ID, value=text)
    if not _TWITCH_LOGIN.match(text):
        raise InvalidChannelRef("not a Twitch login")
    return ChannelRef(platform=Platform.TWITCH, kind=RefKind.LOGIN, value=text.lower())


def _youtube_ref(text: str, host: str, path: list[str]) -> ChannelRef:
    kind = RefKind.HANDLE
    if host:
        if host != "youtube.com" or not path:
            raise InvalidChannelRef("not a YouTube channel URL")
        if path[0] == "channel" and len(path) > 1:
            text = path[1]
        elif path[0] == "user" and len(path) > 1:
            kind, text = RefKind.USERNAME, path[1]
        elif path[0] == "c" and len(path) > 1:
            # Custom URLs have no API lookup; YouTube turned most of them into handles.
            text = f"@{path[1]}"
        elif path[0].startswith("@"):
            text = path[0]
        else:
            raise InvalidChannelRef("not a YouTube channel URL")
    if _YOUTUBE_ID.match(text):
        return ChannelRef(platform=Platform.YOUTUBE, kind=RefKind.ID, value=text)
    if kind is RefKind.USERNAME:
        return ChannelRef(platform=Platform.YOUTUBE, kind=kind, value=text)
    if not _YOUTUBE_HANDLE.match(text):
        raise InvalidChannelRef("not a YouTube channel id or handle")
    return ChannelRef(platform=Platform.YOUTUBE, kind=kind, value=f"@{text.removeprefix('@')}")


def _rumble_ref(text: str, host: str, path: list[str], key: str | None) -> ChannelRef:
    name = "" if host else text
    if host:
        if host != "rumble.com":
            raise InvalidChannelRef("not a Rumble URL")
        if len(path) > 1 and path[0] in ("c", "user"):
            name = path[1]
        elif not key:
            raise InvalidChannelRef("not a Rumble channel URL")
    if name and not _RUMBLE_NAME.match(name):
        raise InvalidChannelRef("not a Rumble channel name")
    if key:
        secret = SecretStr(key)
        return ChannelRef(platform=Platform.RUMBLE, kind=RefKind.KEY, value=name, secret=secret)
    return ChannelRef(platform=Platform.RUMBLE, kind=RefKind.HANDLE, value=name)
