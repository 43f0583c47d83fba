"""The registry: which platforms exist, and where each one's package is.

A platform is one package, `shared/platforms/<value>/`, whose `SPEC` (a
`shared.platforms.spec.PlatformSpec`) declares what it can do and how its
client and monitor fetcher are built, plus one member of `Platform` here (its
value is also the database enum `public.platform`; a test compares the two).
Everything outside the packages asks this module instead of naming a
platform: the monitor for its fetchers, batch sizes and quota day, the teams
API for reference parsing, credential rules and clients.

The packages are imported on first use, not with this module: they import
`Platform` from here.
"""

import importlib
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.platforms.base import ChannelRef, PlatformClient
    from shared.platforms.spec import ClientOptions, PlatformSpec


class Platform(StrEnum):
    """A streaming platform (the values of the database enum)."""

    # One package under shared/platforms/ per member: see docs/platforms.md.

    TWITCH = "twitch"
    YOUTUBE = "youtube"
    KICK = "kick"
    RUMBLE = "rumble"


@lru_cache(maxsize=1)
def _registered() -> dict[Platform, "PlatformSpec"]:
    from shared.platforms.spec import PlatformSpec

    found: dict[Platform, PlatformSpec] = {}
    for platform in Platform:
        package = importlib.import_module(f"shared.platforms.{platform.value}")
        declared = getattr(package, "SPEC", None)
        if not isinstance(declared, PlatformSpec) or declared.platform is not platform:
            raise RuntimeError(
                f"shared.platforms.{platform.value} must export SPEC, the PlatformSpec of "
                f"{platform!r}"
            )
        found[platform] = declared
    return found


def spec(platform: Platform | str) -> "PlatformSpec":
    """The platform's spec; ValueError for a name no package registers."""
    return _registered()[Platform(platform)]


def specs() -> tuple["PlatformSpec", ...]:
    """Every registered platform's spec, in `Platform` order."""
    return tuple(_registered().values())


def parse_channel_ref(
    platform: Platform | str, text: str, *, secret: str | None = None
) -> "ChannelRef":
    """A URL, @handle, login or id as typed by a user, read by the platform's own rules.

    `secret` is the owner's credential, for platforms whose channels need one.
    Raises `InvalidChannelRef` for text that names no channel of the platform.
    """
    from shared.platforms.base import InvalidChannelRef

    if not text.strip() and not secret:
        raise InvalidChannelRef("empty channel reference")
    return spec(platform).parse_ref(text, secret)


def quota_day(platform: Platform | str, at: datetime) -> date:
    """The quota day `at` falls in, as the platform counts its quota."""
    return spec(platform).quota.day(at)


def needing_credentials() -> tuple[Platform, ...]:
    """The platforms whose channels are polled with their owner's credential."""
    return tuple(s.platform for s in specs() if s.credential is not None)


def connectable() -> tuple[Platform, ...]:
    """The platforms whose channel owners can connect their account (`spec.connect`)."""
    return tuple(s.platform for s in specs() if s.connect is not None)


def build_clients(
    settings: "Settings", options: "ClientOptions | None" = None
) -> dict[Platform, "PlatformClient"]:
    """A client for each platform this server is configured for (the others are absent).

    Each gets an HTTP pool as large as its concurrency, unless `options.http`
    is given: httpcore scans a pool's idle connections under its lock on
    every request, so one big pool shared by every platform's threads halved
    the monitor cycle's speed. The pool is a `SlotTransport`, whose cost per
    request does not grow with its size.
    """
    import httpx

    from shared.platforms.spec import ClientOptions
    from shared.platforms.transport import SlotTransport

    options = options or ClientOptions()
    clients: dict[Platform, PlatformClient] = {}
    for declared in specs():
        if not declared.configured(settings):
            continue
        size = declared.concurrency(settings)
        http = options.http or httpx.Client(
            timeout=settings.platform_timeout_s, transport=SlotTransport(size)
        )
        clients[declared.platform] = declared.client(settings, http, options)
    return clients


@lru_cache(maxsize=1)
def default_clients() -> Mapping[Platform, "PlatformClient"]:
    """The process's clients, built once from `get_settings()`: their HTTP pools and
    app tokens live across invocations, shared by the monitor and the teams API."""
    from shared.config import get_settings

    return build_clients(get_settings())
