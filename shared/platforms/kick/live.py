"""What a `GET /livestreams` answer says about the broadcasters asked, as observations.

Kick gives a livestream no id of its own: `stream_id` derives one from the
broadcaster and the start instant, which stay the same while the stream lasts
(a restart is a new start, so a new id; the monitor's grace period stitches it
to the session it continues).
"""

from datetime import datetime
from typing import Any

from shared.platforms.base import LiveObservation
from shared.platforms.errors import InvalidResponse
from shared.platforms.kick.models import KickLivestream
from shared.platforms.parsing import Items
from shared.platforms.registry import Platform


def stream_id(broadcaster_user_id: int | str, started_at: datetime) -> str:
    """The id StreamTrack gives a Kick broadcast: `<broadcaster user id>-<start epoch s>`."""
    return f"{broadcaster_user_id}-{int(started_at.timestamp())}"


def user_id_of(item: Any) -> str | None:
    """`parsing.parse_batch`'s key: the broadcaster a raw livestream item is about."""
    value = item.get("broadcaster_user_id") if isinstance(item, dict) else None
    return str(value) if type(value) is int and value > 0 else None


class Found:
    """What one `GET /livestreams` said about a group of broadcasters."""

    def __init__(self, items: Items[KickLivestream]) -> None:
        self.valid = {str(s.broadcaster_user_id): s for s in items.valid}
        """The live ones, by broadcaster user id."""
        self.failed: dict[str, InvalidResponse] = items.failed
        """Broadcasters whose item was malformed."""
        self.unattributed = items.unattributed
        """A malformed item that names no broadcaster: whoever is not listed live is uncertain."""

    def about(self) -> set[str]:
        return self.valid.keys() | self.failed.keys()


def observation(user_id: str, stream: KickLivestream | None, at: datetime) -> LiveObservation:
    """The channel's observation: offline when no stream names it."""
    if stream is None:
        return LiveObservation(
            platform=Platform.KICK, platform_channel_id=user_id, is_live=False, observed_at=at
        )
    return LiveObservation(
        platform=Platform.KICK,
        platform_channel_id=user_id,
        is_live=True,
        platform_stream_id=stream_id(user_id, stream.started_at),
        title=stream.stream_title or None,
        category=(stream.category.name if stream.category else "") or None,
        viewer_count=stream.viewer_count,
        started_at=stream.started_at,
        observed_at=at,
    )
