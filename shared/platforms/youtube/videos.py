"""videos.list: the wire models, and what makes a video live.

A broadcast is live when `liveStreamingDetails.actualStartTime` is set and
`actualEndTime` is not; scheduled broadcasts are upcoming, not live; a video
without `liveStreamingDetails` is an ordinary upload. A missing
`concurrentViewers` means hidden (or nobody watching): unknown, never 0.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from shared.platforms.base import LiveObservation, UtcDatetime
from shared.platforms.errors import PlatformError
from shared.platforms.registry import Platform


class GoogleModel(BaseModel):
    """A Google API resource: camelCase on the wire, unknown fields ignored."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class VideoSnippet(GoogleModel):
    """The parts of a video's snippet StreamTrack reads."""

    channel_id: str
    title: str = ""
    live_broadcast_content: str = "none"
    """`live`, `upcoming` or `none`."""


class LiveStreamingDetails(GoogleModel):
    """A broadcast's times and audience; present only on live, upcoming and past broadcasts."""

    scheduled_start_time: UtcDatetime | None = None
    actual_start_time: UtcDatetime | None = None
    actual_end_time: UtcDatetime | None = None
    concurrent_viewers: int | None = Field(default=None, ge=0)
    """Sent as a string; absent when the owner hides it: unknown, not 0."""


class Video(GoogleModel):
    """A video resource (`part=snippet,liveStreamingDetails`)."""

    id: str
    snippet: VideoSnippet
    live_streaming_details: LiveStreamingDetails | None = None


class VideoList(GoogleModel):
    """A videos.list answer; `items` is left out when nothing matched. Read with
    `parsing.parse_batch`, so one malformed video fails only itself."""

    items: list[Video] = []


class VideoState(StrEnum):
    """Where a video stands as a broadcast."""

    LIVE = "live"
    UPCOMING = "upcoming"
    ENDED = "ended"
    NONE = "none"
    """An ordinary upload, not a broadcast."""
    MISSING = "missing"
    """Not returned: deleted, private or never existed."""


class VideoStatus(BaseModel):
    """One video as videos.list described it."""

    model_config = ConfigDict(frozen=True)

    video_id: str
    channel_id: str | None = None
    state: VideoState
    title: str | None = None
    viewer_count: int | None = None
    """None when hidden or not live: unknown, not 0."""
    scheduled_start_at: UtcDatetime | None = None
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    observed_at: UtcDatetime


@dataclass(slots=True)
class VideoCheck:
    """The outcome of checking a list of video ids."""

    videos: dict[str, VideoStatus] = field(default_factory=dict)
    failures: dict[str, PlatformError] = field(default_factory=dict)
    """By video id: videos whose batch failed (nothing is known about them)."""
    requests: int = 0
    quota_units: int = 0


def observe_channel(
    channel_id: str, videos: Iterable[VideoStatus], observed_at: datetime
) -> LiveObservation:
    """The channel's live status from its videos; the longest-running broadcast wins."""
    live = [v for v in videos if v.state is VideoState.LIVE and v.channel_id == channel_id]
    if not live:
        return LiveObservation(
            platform=Platform.YOUTUBE,
            platform_channel_id=channel_id,
            is_live=False,
            observed_at=observed_at,
        )
    # Picking the same one every cycle keeps a channel's session stable.
    video = min(live, key=lambda v: (v.started_at or observed_at, v.video_id))
    return LiveObservation(
        platform=Platform.YOUTUBE,
        platform_channel_id=channel_id,
        is_live=True,
        platform_stream_id=video.video_id,
        title=video.title,
        viewer_count=video.viewer_count,
        started_at=video.started_at,
        observed_at=observed_at,
    )


def video_status(video_id: str, video: Video | None, now: datetime) -> VideoStatus:
    if video is None:
        return VideoStatus(video_id=video_id, state=VideoState.MISSING, observed_at=now)
    live = video.live_streaming_details
    if live is None:
        state = VideoState.NONE
    elif live.actual_end_time is not None:
        state = VideoState.ENDED
    elif live.actual_start_time is not None:
        state = VideoState.LIVE
    elif (
        live.scheduled_start_time is not None or video.snippet.live_broadcast_content == "upcoming"
    ):
        state = VideoState.UPCOMING
    else:
        state = VideoState.NONE
    return VideoStatus(
        video_id=video_id,
        channel_id=video.snippet.channel_id,
        state=state,
        title=video.snippet.title or None,
        viewer_count=live.concurrent_viewers if live and state is VideoState.LIVE else None,
        scheduled_start_at=live.scheduled_start_time if live else None,
        started_at=live.actual_start_time if live else None,
        ended_at=live.actual_end_time if live else None,
        observed_at=now,
    )
