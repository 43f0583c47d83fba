"""Kick's entry in the registry."""

import httpx

from shared.clock import utc_now
from shared.config import Settings
from shared.platforms.base import PlatformClient
from shared.platforms.batch import BatchFetcher
from shared.platforms.kick.client import BATCH, KickClient
from shared.platforms.kick.push import KickPush
from shared.platforms.kick.refs import parse_ref
from shared.platforms.registry import Platform
from shared.platforms.spec import Capabilities, ClientOptions, PlatformSpec, StatsCadence


def _client(settings: Settings, http: httpx.Client, options: ClientOptions) -> PlatformClient:
    extra = {"policy": options.policy} if options.policy is not None else {}
    clock = options.clock or utc_now
    return KickClient.from_settings(settings, http_client=http, clock=clock, **extra)


SPEC = PlatformSpec(
    platform=Platform.KICK,
    display_name="Kick",
    # One GET /livestreams per 50 broadcasters; the public API has no follower count.
    live_batch_size=BATCH,
    stats_batch_size=BATCH,
    stats_per_request=BATCH,
    capabilities=Capabilities(
        live_batch=True,
        stats=StatsCadence.NONE,
        # livestream.status.updated and livestream.metadata.updated webhooks (issue 14).
        push=("webhook",),
        chat=True,
    ),
    parse_ref=parse_ref,
    configured=lambda s: bool(s.kick_client_id and s.kick_client_secret),
    concurrency=lambda s: s.monitor_concurrency_kick,
    client=_client,
    fetcher=BatchFetcher.from_context,
    push=KickPush(),
)
