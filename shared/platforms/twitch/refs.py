"""What users type for a Twitch channel: `twitch.tv/<login>` URLs, logins, user ids."""

import re

from shared.platforms.base import ChannelRef, InvalidChannelRef, RefKind, split_reference
from shared.platforms.registry import Platform

_LOGIN = re.compile(r"^[a-zA-Z0-9_]{1,25}$")
_RESERVED = frozenset(
    "directory videos settings search p downloads subscriptions inventory wallet drops "
    "jobs turbo friends messages payments moderator".split()
)


def parse_ref(text: str, secret: str | None = None) -> ChannelRef:
    """A login (`@` optional), an all-digit user id, or a channel URL."""
    typed = split_reference(text)
    text = typed.text
    if typed.host:
        path = typed.path
        if typed.host not in ("twitch.tv", "go.twitch.tv") or not path or path[0] in _RESERVED:
            raise InvalidChannelRef("not a Twitch channel URL")
        text = path[0]
    text = text.removeprefix("@")
    if text.isdigit():
        # An all-digit value may be a login too; resolve() asks for both at once.
        return ChannelRef(platform=Platform.TWITCH, kind=RefKind.ID, value=text)
    if not _LOGIN.match(text):
        raise InvalidChannelRef("not a Twitch login")
    return ChannelRef(platform=Platform.TWITCH, kind=RefKind.LOGIN, value=text.lower())
