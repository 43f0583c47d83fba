"""YouTube Data API v3 plus the quota-free channel feed.

client.py   the client (API key): resolve, live via feed + videos.list, subscribers
feed.py     the channel feed (Atom), which finds broadcasts without quota
atom.py     reading a feed's entries from its XML, safely and at C speed
videos.py   videos.list's wire models, and what makes a video live
fetcher.py  the monitor's fetcher: staggered feeds, candidates checked every cycle
refs.py     what users type for a channel
spec.py     its registry entry (Pacific quota day, batches of 50)
"""

from shared.platforms.youtube.client import (
    ChannelList,
    YouTubeChannel,
    YouTubeClient,
    quota_day,
)
from shared.platforms.youtube.feed import Discovery, FeedEntry, parse_feed
from shared.platforms.youtube.fetcher import YouTubeFetcher
from shared.platforms.youtube.spec import SPEC
from shared.platforms.youtube.videos import VideoCheck, VideoState, VideoStatus, observe_channel

__all__ = [
    "SPEC",
    "ChannelList",
    "Discovery",
    "FeedEntry",
    "VideoCheck",
    "VideoState",
    "VideoStatus",
    "YouTubeChannel",
    "YouTubeClient",
    "YouTubeFetcher",
    "observe_channel",
    "parse_feed",
    "quota_day",
]
