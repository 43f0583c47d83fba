"""Clients for the streaming platforms, all behind one Protocol (`base.PlatformClient`).

base.py          the Protocol and the normalised models (Platform, ChannelRef, ...)
errors.py        the one error tree
retry.py         the one retry policy and HTTP send helper
pacing.py        slowing down before a platform says so (Twitch bucket, Rumble key)
twitch.py        Helix (+ twitch_auth.py: the app access token)
youtube.py       Data API v3 (+ youtube_feed.py, youtube_videos.py)
rumble.py        Livestream API, one owner key per channel (+ rumble_models.py)
"""

from typing import TYPE_CHECKING

from shared.platforms.base import (
    Channel,
    ChannelRef,
    ChannelStats,
    ChannelTarget,
    InvalidChannelRef,
    LiveBatch,
    LiveObservation,
    Platform,
    PlatformClient,
    RefKind,
    StatsBatch,
    parse_channel_ref,
)
from shared.platforms.errors import (
    AuthError,
    DeadlineExceeded,
    InvalidResponse,
    NotFound,
    PlatformError,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
)
from shared.platforms.retry import RetryPolicy
from shared.platforms.rumble import RumbleClient
from shared.platforms.twitch import TwitchClient
from shared.platforms.youtube import YouTubeClient, quota_day

__all__ = [
    "AuthError",
    "Channel",
    "ChannelRef",
    "ChannelStats",
    "ChannelTarget",
    "DeadlineExceeded",
    "InvalidChannelRef",
    "InvalidResponse",
    "LiveBatch",
    "LiveObservation",
    "NotFound",
    "Platform",
    "PlatformClient",
    "PlatformError",
    "PlatformUnavailable",
    "QuotaExhausted",
    "RateLimited",
    "RefKind",
    "RetryPolicy",
    "RumbleClient",
    "StatsBatch",
    "TwitchClient",
    "YouTubeClient",
    "parse_channel_ref",
    "quota_day",
]

if TYPE_CHECKING:
    # mypy checks here that every client satisfies the Protocol.
    def _conforms(t: TwitchClient, y: YouTubeClient, r: RumbleClient) -> list[PlatformClient]:
        return [t, y, r]
