"""Rumble's entry in the registry."""

import httpx

from shared.clock import utc_now
from shared.config import Settings
from shared.platforms.base import PlatformClient
from shared.platforms.registry import Platform
from shared.platforms.rumble.client import RumbleClient
from shared.platforms.rumble.fetcher import PairedFetcher
from shared.platforms.rumble.refs import parse_ref
from shared.platforms.spec import (
    Capabilities,
    ClientOptions,
    OwnerCredential,
    PlatformSpec,
    StatsCadence,
)


def _client(settings: Settings, http: httpx.Client, options: ClientOptions) -> PlatformClient:
    extra: dict[str, object] = {}
    if options.policy is not None:
        extra["policy"] = options.policy
    if options.key_interval_s is not None:
        extra["interval_s"] = options.key_interval_s
    clock = options.clock or utc_now
    return RumbleClient.from_settings(settings, http_client=http, clock=clock, **extra)


SPEC = PlatformSpec(
    platform=Platform.RUMBLE,
    display_name="Rumble",
    # A key covers one account: one request per channel, followers in the same answer.
    live_batch_size=1,
    stats_batch_size=1,
    stats_per_request=1,
    capabilities=Capabilities(live_batch=False, stats=StatsCadence.WITH_LIVE, chat=True),
    credential=OwnerCredential(
        kind="rumble_livestream_api_key", label="its owner's Livestream API key"
    ),
    parse_ref=parse_ref,
    configured=lambda s: True,  # nothing server-wide: each channel brings its owner's key
    concurrency=lambda s: s.monitor_concurrency_rumble,
    client=_client,
    fetcher=PairedFetcher.from_context,
)
