"""YouTube's entry in the registry."""

import httpx

from shared.clock import utc_now
from shared.config import Settings
from shared.platforms.base import PlatformClient
from shared.platforms.registry import Platform
from shared.platforms.spec import Capabilities, ClientOptions, PlatformSpec, StatsCadence
from shared.platforms.youtube.client import BATCH, QUOTA, YouTubeClient
from shared.platforms.youtube.fetcher import YouTubeFetcher
from shared.platforms.youtube.oauth import CONNECT
from shared.platforms.youtube.push import YouTubePush
from shared.platforms.youtube.refs import parse_ref


def _client(settings: Settings, http: httpx.Client, options: ClientOptions) -> PlatformClient:
    extra = {"policy": options.policy} if options.policy is not None else {}
    clock = options.clock or utc_now
    return YouTubeClient.from_settings(settings, http_client=http, clock=clock, **extra)


SPEC = PlatformSpec(
    platform=Platform.YOUTUBE,
    display_name="YouTube",
    # videos.list and channels.list take 50 ids; the live batch is in videos, since
    # the quota-free feeds (one per channel) only say which videos to ask about.
    live_batch_size=BATCH,
    stats_batch_size=BATCH,
    stats_per_request=BATCH,
    capabilities=Capabilities(
        live_batch=True,
        stats=StatsCadence.OWN_REQUESTS,
        push=("websub",),
        chat=True,
    ),
    quota=QUOTA,
    parse_ref=parse_ref,
    configured=lambda s: bool(s.youtube_api_key),
    concurrency=lambda s: s.monitor_concurrency_youtube,
    client=_client,
    fetcher=YouTubeFetcher.from_context,
    connect=CONNECT,
    push=YouTubePush(),
)
