"""What users type for a Kick channel: `kick.com/<slug>` URLs, slugs, broadcaster user ids."""

import re

from shared.platforms.base import ChannelRef, InvalidChannelRef, RefKind, split_reference
from shared.platforms.registry import Platform

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,24}$")
"""Kick's reference: a slug is at most 25 characters."""
_RESERVED = frozenset(
    "browse categories category search following dashboard settings video videos clips "
    "terms privacy community-guidelines dmca subscriptions wallet apps".split()
)


def parse_ref(text: str, secret: str | None = None) -> ChannelRef:
    """A slug (`@` optional), an all-digit broadcaster user id, or a channel URL."""
    typed = split_reference(text)
    text = typed.text
    if typed.host:
        path = typed.path
        if typed.host != "kick.com" or not path or path[0].lower() in _RESERVED:
            raise InvalidChannelRef("not a Kick channel URL")
        text = path[0]
    text = text.removeprefix("@").lower()
    if text.isdigit() and not typed.host:
        # All digits may be a slug as well; resolve() asks for the id first, then the slug.
        return ChannelRef(platform=Platform.KICK, kind=RefKind.ID, value=text)
    if not _SLUG.match(text):
        raise InvalidChannelRef("not a Kick channel slug")
    return ChannelRef(platform=Platform.KICK, kind=RefKind.LOGIN, value=text)
