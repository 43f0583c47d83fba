"""Twitch's entry in the registry."""

import httpx

from shared.clock import utc_now
from shared.config import Settings
from shared.platforms.base import PlatformClient
from shared.platforms.batch import BatchFetcher
from shared.platforms.registry import Platform
from shared.platforms.spec import Capabilities, ClientOptions, PlatformSpec, StatsCadence
from shared.platforms.twitch.client import BATCH, TwitchClient
from shared.platforms.twitch.oauth import CONNECT
from shared.platforms.twitch.push import TwitchPush
from shared.platforms.twitch.refs import parse_ref


def _client(settings: Settings, http: httpx.Client, options: ClientOptions) -> PlatformClient:
    extra = {"policy": options.policy} if options.policy is not None else {}
    clock = options.clock or utc_now
    return TwitchClient.from_settings(settings, http_client=http, clock=clock, **extra)


SPEC = PlatformSpec(
    platform=Platform.TWITCH,
    display_name="Twitch",
    # One Get Streams per 100 channels; followers are one request per channel,
    # ten of them to a fetch_stats call so the cycle's share spreads over threads.
    live_batch_size=BATCH,
    stats_batch_size=10,
    stats_per_request=1,
    capabilities=Capabilities(
        live_batch=True,
        stats=StatsCadence.OWN_REQUESTS,
        push=("eventsub",),
        chat=True,
    ),
    parse_ref=parse_ref,
    configured=lambda s: bool(s.twitch_client_id and s.twitch_client_secret),
    concurrency=lambda s: s.monitor_concurrency_twitch,
    client=_client,
    fetcher=BatchFetcher.from_context,
    connect=CONNECT,
    push=TwitchPush(),
)
