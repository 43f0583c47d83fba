"""What users type for a YouTube channel: `UC…` ids, @handles, and channel URLs
(`/channel/<id>`, `/@handle`, `/user/<name>`, `/c/<name>`)."""

import re

from shared.platforms.base import ChannelRef, InvalidChannelRef, RefKind, split_reference
from shared.platforms.registry import Platform

_ID = re.compile(r"^UC[0-9A-Za-z_-]{22}$")
_HANDLE = re.compile(r"^@?[^\s/?#@]{3,100}$")


def parse_ref(text: str, secret: str | None = None) -> ChannelRef:
    """A channel id, a handle (`@` optional) or a channel URL."""
    typed = split_reference(text)
    text, path = typed.text, typed.path
    kind = RefKind.HANDLE
    if typed.host:
        if typed.host != "youtube.com" or not path:
            raise InvalidChannelRef("not a YouTube channel URL")
        if path[0] == "channel" and len(path) > 1:
            text = path[1]
        elif path[0] == "user" and len(path) > 1:
            kind, text = RefKind.USERNAME, path[1]
        elif path[0] == "c" and len(path) > 1:
            # Custom URLs have no API lookup; YouTube turned most of them into handles.
            text = f"@{path[1]}"
        elif path[0].startswith("@"):
            text = path[0]
        else:
            raise InvalidChannelRef("not a YouTube channel URL")
    if _ID.match(text):
        return ChannelRef(platform=Platform.YOUTUBE, kind=RefKind.ID, value=text)
    if kind is RefKind.USERNAME:
        return ChannelRef(platform=Platform.YOUTUBE, kind=kind, value=text)
    if not _HANDLE.match(text):
        raise InvalidChannelRef("not a YouTube channel id or handle")
    return ChannelRef(platform=Platform.YOUTUBE, kind=kind, value=f"@{text.removeprefix('@')}")
