"""Kick's public API answers, as StreamTrack reads them (only the fields it uses).

Every answer is the envelope `{"data": ..., "message": "..."}`; errors carry
a `message` (the OAuth server's: `error`, sometimes `error_description`).
Ids are JSON integers in Kick's reference, so they are read strictly: a
string where an integer belongs is a malformed answer, not a coercion.
"""

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.platforms.base import UtcDatetime


class _Model(BaseModel):
    # Only the fields StreamTrack reads: the rest of Kick's answer may change freely.
    model_config = ConfigDict(extra="ignore", frozen=True)


class KickToken(_Model):
    """The OAuth server's client-credentials answer."""

    access_token: str = Field(min_length=1, pattern=r"^[\x21-\x7e]+$")
    """Visible ASCII only: it goes into an HTTP header (RFC 6750's token charset)."""
    expires_in: StrictInt = Field(gt=0)
    """Lifetime in seconds."""


class KickError(_Model):
    """An error answer: the API's envelope, or the OAuth server's `error`."""

    message: str = ""
    error: str = ""
    error_description: str = ""


class KickCategory(_Model):
    """A stream's category (Kick's "game")."""

    id: StrictInt
    name: str = ""


class KickLivestream(_Model):
    """One live stream from `GET /livestreams` (offline channels are absent)."""

    broadcaster_user_id: StrictInt = Field(gt=0)
    slug: str = ""
    stream_title: str = ""
    language: str = ""
    viewer_count: StrictInt = Field(ge=0)
    started_at: UtcDatetime
    category: KickCategory | None = None
    """None (or an empty name) when the broadcaster set none."""


class LivestreamsPage(_Model):
    """A `GET /livestreams` answer (read with `parsing.parse_batch`: a bad item fails alone)."""

    data: list[KickLivestream]


class KickChannel(_Model):
    """One channel from `GET /channels` (by broadcaster user id or by slug)."""

    broadcaster_user_id: StrictInt = Field(gt=0)
    slug: str = Field(min_length=1, max_length=64)
    banner_picture: str = ""


class ChannelsPage(_Model):
    """A `GET /channels` answer; a channel Kick does not know (or has banned) is absent."""

    data: list[KickChannel]
