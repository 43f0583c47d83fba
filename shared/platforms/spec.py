"""What a platform package declares about itself: its `PlatformSpec`.

The spec is the registry's one entry per platform (`shared.platforms.registry`):
plain facts (batch sizes, the credential its channels need, how its quota day
is counted, what it can do) and the factories the rest of the backend builds
it with (reference parsing, client, monitor fetcher). Nothing outside the
package needs to know more about a platform than its spec says.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

import httpx

from shared.clock import Clock
from shared.config import Settings
from shared.crypto import SecretBox
from shared.platforms.base import ChannelRef, PlatformClient
from shared.platforms.oauth import OwnerConnect
from shared.platforms.polling import PlatformFetcher
from shared.platforms.push import PushSource
from shared.platforms.retry import RetryPolicy

if TYPE_CHECKING:
    from shared.platforms.registry import Platform


@dataclass(frozen=True, slots=True)
class OwnerCredential:
    """A secret the channel's owner supplies; without it the channel cannot be polled.

    It arrives as `api_key` when a team adds the channel, is sealed into
    `channel_credentials` with `kind`, and reaches the client as
    `ChannelTarget.api_key`.
    """

    kind: str
    """The `channel_credentials.kind` value."""
    label: str
    """How people are told about it, e.g. "its owner's Livestream API key"."""


@dataclass(frozen=True, slots=True)
class QuotaAccounting:
    """How the platform's request quota is counted (`platform_quota_usage`)."""

    day_zone: tzinfo = UTC
    """The zone whose midnight starts a new quota day."""
    daily_units: int | None = None
    """The default daily allowance in quota units; None: no unit quota, only requests."""

    def day(self, at: datetime) -> date:
        """The quota day `at` falls in."""
        if at.tzinfo is None:
            raise ValueError("a quota day needs an aware datetime")
        return at.astimezone(self.day_zone).date()


class StatsCadence(StrEnum):
    """How followers and subscribers are sampled."""

    OWN_REQUESTS = "own_requests"
    """Requests of their own, spread over STATS_INTERVAL_S."""
    WITH_LIVE = "with_live"
    """Carried by the live answer; taken from it when a channel's stats are due."""
    NONE = "none"
    """The platform offers no follower counts to a client like ours: never sampled."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the platform offers the monitor, now and (declared, not yet wired) later."""

    live_batch: bool
    """One live request answers for many channels."""
    stats: StatsCadence
    push: tuple[str, ...] = ()
    """Push sources the platform offers (names such as webhook subscriptions); the one
    wired is the spec's `push`."""
    chat: bool = False
    """The platform exposes live chat to a client like ours."""


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How clients are built beyond what Settings says (tests, the demo, the bench)."""

    http: httpx.Client | None = None
    """One HTTP client for every platform; None: a pool per platform."""
    clock: Clock | None = None
    """The clock observations are stamped with (simulated time); None: real UTC."""
    policy: RetryPolicy | None = None
    """The retry policy; None: from Settings."""
    key_interval_s: float | None = None
    """Override of a per-credential request interval (simulated minutes pass faster
    than a platform's real-time rule)."""


@dataclass(frozen=True, slots=True)
class FetcherContext:
    """What a platform's fetcher factory is given."""

    spec: "PlatformSpec"
    client: PlatformClient
    settings: Settings
    clock: Clock | None = None
    secrets: SecretBox | None = None
    """Opens sealed owner credentials; None when CREDENTIALS_ENCRYPTION_KEY is unset."""


class ClientFactory(Protocol):
    def __call__(
        self, settings: Settings, http: httpx.Client, options: ClientOptions
    ) -> PlatformClient: ...


@dataclass(frozen=True, kw_only=True)
class PlatformSpec:
    """One platform, as the registry knows it."""

    platform: "Platform"
    display_name: str
    """The platform's name in messages to people."""
    live_batch_size: int
    """Channels per live check (one request each for a batch platform)."""
    stats_batch_size: int
    """Channels per `fetch_stats` call the monitor makes."""
    stats_per_request: int = 1
    """Channels one stats request answers for (the fewest requests a cycle needs)."""
    capabilities: Capabilities
    credential: OwnerCredential | None = None
    """Set when each channel is polled with its owner's secret."""
    quota: QuotaAccounting = field(default_factory=QuotaAccounting)
    parse_ref: Callable[[str, str | None], ChannelRef]
    """Reads what a user typed (URL, handle, id) and the owner's secret, if any."""
    configured: Callable[[Settings], bool]
    """Whether this server has what the platform needs (app credentials)."""
    concurrency: Callable[[Settings], int]
    """Concurrent requests per monitor cycle."""
    client: ClientFactory
    fetcher: Callable[[FetcherContext], PlatformFetcher]
    connect: OwnerConnect | None = None
    """How the channel's owner connects the account by OAuth (None: not offered)."""
    push: PushSource | None = None
    """Webhook push (`shared.platforms.push`): verification, reading, subscriptions; None:
    the platform is only polled."""
