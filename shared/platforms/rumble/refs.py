"""What users type for a Rumble channel: the owner's Livestream API key (alone, or in
its `-livestream-api/get-data?key=` URL), optionally with the channel's URL or name."""

import re

from pydantic import SecretStr

from shared.platforms.base import ChannelRef, InvalidChannelRef, RefKind, split_reference
from shared.platforms.registry import Platform

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def parse_ref(text: str, secret: str | None = None) -> ChannelRef:
    """The key (`secret`, or the URL's `key`) and the channel name, when one was typed."""
    typed = split_reference(text)
    keys = typed.query.get("key", [])
    key = secret or (keys[-1] if keys else None)
    name = "" if typed.host else typed.text
    if typed.host:
        path = typed.path
        if typed.host != "rumble.com":
            raise InvalidChannelRef("not a Rumble URL")
        if len(path) > 1 and path[0] in ("c", "user"):
            name = path[1]
        elif not key:
            raise InvalidChannelRef("not a Rumble channel URL")
    if name and not _NAME.match(name):
        raise InvalidChannelRef("not a Rumble channel name")
    if key:
        return ChannelRef(
            platform=Platform.RUMBLE, kind=RefKind.KEY, value=name, secret=SecretStr(key)
        )
    return ChannelRef(platform=Platform.RUMBLE, kind=RefKind.HANDLE, value=name)
