"""Helix's answers, as StreamTrack reads them (only the fields it uses)."""

from pydantic import BaseModel, ConfigDict, Field

from shared.platforms.base import UtcDatetime


class _Model(BaseModel):
    # Only the fields StreamTrack reads: the rest of Twitch's answer may change freely.
    model_config = ConfigDict(extra="ignore", frozen=True)


class TwitchStream(_Model):
    """One live stream from Get Streams."""

    id: str
    user_id: str
    user_login: str
    user_name: str
    game_name: str = ""
    """Empty when the broadcaster set no category."""
    type: str
    """`live`; an empty string when Twitch had an error."""
    title: str
    viewer_count: int = Field(ge=0)
    started_at: UtcDatetime


class Pagination(_Model):
    """Helix's pagination object; empty on the last page."""

    cursor: str | None = None


class StreamsPage(_Model):
    """A Get Streams answer (read with `parsing.parse_batch`: a bad stream fails alone)."""

    data: list[TwitchStream]
    pagination: Pagination = Pagination()


class TwitchUser(_Model):
    """One user from Get Users."""

    id: str
    login: str
    display_name: str
    profile_image_url: str = ""


class UsersPage(_Model):
    """A Get Users answer (read with `parsing.parse_batch`)."""

    data: list[TwitchUser]


class FollowersPage(_Model):
    """A Get Channel Followers answer; with an app token only `total` is filled."""

    total: int = Field(ge=0)
