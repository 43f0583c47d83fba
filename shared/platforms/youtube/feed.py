"""The YouTube channel feed: Atom XML at `<feed_url>?channel_id=UC...`, quota-free.

It lists a channel's ~15 latest uploads, live and upcoming broadcasts
included, and now and then answers 404 for a channel that exists: that is a
PlatformUnavailable for the channel this time, not retried. The XML is
untrusted: it is scanned in one streaming pass of expat that keeps only what
the monitor reads (each entry's video id, channel, title and published time),
with defusedxml's rules and a DTD refused outright (`scan_feed`).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.parsers import expat
from xml.parsers.expat import ExpatError

import httpx
from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.platforms.base import UtcDatetime, chunks, each_group
from shared.platforms.errors import InvalidResponse, PlatformError, PlatformUnavailable
from shared.platforms.parsing import describe, request_id_of
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status

ATOM_NS = "http://www.w3.org/2005/Atom"
YT_NS = "http://www.youtube.com/xml/schemas/2015"
VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


class FeedEntry(BaseModel):
    """One `<entry>` of a channel feed."""

    model_config = ConfigDict(frozen=True)

    video_id: str
    channel_id: str
    title: str
    published: UtcDatetime
    """When the video was published or the broadcast announced, not when it starts."""


@dataclass(slots=True)
class Discovery:
    """Candidate videos from the channel feeds."""

    candidates: dict[str, list[FeedEntry]] = field(default_factory=dict)
    """By channel id, newest first; a channel with an empty feed has an empty list."""
    failures: dict[str, PlatformError] = field(default_factory=dict)
    requests: int = 0

    def video_ids(self) -> dict[str, list[str]]:
        return {ch: [e.video_id for e in entries] for ch, entries in self.candidates.items()}


class ChannelFeed:
    """Reads channel feeds (no key, no quota)."""

    def __init__(
        self, http: httpx.Client, feed_url: str, policy: RetryPolicy, timeout_s: float
    ) -> None:
        self._url = feed_url
        self._policy = policy
        self._sender = Sender(http, Platform.YOUTUBE, policy, timeout_s, self._error)

    def discover(self, channel_ids: Sequence[str], *, deadline: float | None = None) -> Discovery:
        """Each channel's feed entries; one request per channel."""
        cost, found = Cost(), Discovery()

        def read(one: Sequence[str]) -> None:
            params = {"channel_id": one[0]}
            response = self._sender.send(
                "GET", self._url, params=params, cost=cost, deadline=deadline
            )
            found.candidates[one[0]] = parse_feed(response, one[0])

        each_group(chunks(list(dict.fromkeys(channel_ids)), 1), read, found.failures)
        found.requests = cost.requests
        return found

    def _error(self, response: httpx.Response) -> PlatformError:
        if response.status_code == 404:
            error = PlatformUnavailable("feed answered 404", platform=Platform.YOUTUBE, status=404)
            error.retryable = False
            return error
        wall_now = self._policy.wall()
        return error_for_status(Platform.YOUTUBE, response, "feed error", wall_now=wall_now)


def parse_feed(response: httpx.Response, channel_id: str) -> list[FeedEntry]:
    """The feed's entries, newest first; anything malformed is InvalidResponse."""

    def invalid(why: str) -> InvalidResponse:
        return InvalidResponse(
            f"channel feed: {why}",
            platform=Platform.YOUTUBE,
            status=response.status_code,
            request_id=request_id_of(response),
        )

    try:
        found = scan_feed(response.content)
    except NotAtom:
        raise invalid("not an Atom feed") from None
    except (ExpatError, DefusedXmlException, ValueError, LookupError) as exc:
        raise invalid(f"not well-formed XML ({type(exc).__name__})") from None
    entries = []
    for video_id, entry_channel, title, published in found:
        if not VIDEO_ID.match(video_id):
            raise invalid("an entry without a valid yt:videoId")
        if entry_channel != channel_id:
            raise invalid("an entry of another channel")
        try:
            entries.append(
                FeedEntry(
                    video_id=video_id,
                    channel_id=channel_id,
                    title=title,
                    published=datetime.fromisoformat(published),
                )
            )
        except ValueError as exc:
            detail = describe(exc) if isinstance(exc, ValidationError) else "bad published time"
            raise invalid(detail) from None
    return sorted(entries, key=lambda e: e.published, reverse=True)


# --- the streaming scan -------------------------------------------------------------

# Expat names elements "<namespace URI>}<local name>" (namespace_separator="}", as
# ElementTree: expat refuses a URI holding the separator, so it must be one ElementTree
# refuses too).
_FEED = f"{ATOM_NS}}}feed"
_ENTRY = f"{ATOM_NS}}}entry"
_FIELDS = {f"{YT_NS}}}videoId": 0, f"{YT_NS}}}channelId": 1, f"{ATOM_NS}}}title": 2,
           f"{ATOM_NS}}}published": 3}  # fmt: skip


class NotAtom(ValueError):
    """The document's root is not an Atom <feed>."""


class _FeedScanner:
    """Expat callbacks keeping, per top-level <entry>, the first yt:videoId,
    yt:channelId, title and published child's text (as ElementTree's
    `entry.find(tag).text`, stripped); every other element is skipped unread."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str, str]] = []
        self._depth = 0
        self._entry: list[str | None] | None = None
        self._field = -1
        """The field whose text is being read (an index of `_FIELDS`), or -1."""
        self._text: list[str] = []

    def start(self, name: str, _attributes: object) -> None:
        self._depth += 1
        if self._field >= 0:
            self._close_field()  # a child: the text before it was the field's
        if self._depth == 1:
            if name != _FEED:
                raise NotAtom(name)
        elif self._depth == 2:
            self._entry = [None, None, None, None] if name == _ENTRY else None
        elif self._depth == 3 and self._entry is not None:
            index = _FIELDS.get(name, -1)
            if index >= 0 and self._entry[index] is None:
                self._field = index
                self._text = []

    def end(self, _name: str) -> None:
        if self._field >= 0:
            self._close_field()
        elif self._depth == 2 and self._entry is not None:
            video_id, channel, title, published = (v or "" for v in self._entry)
            self.entries.append((video_id, channel, title, published))
            self._entry = None
        self._depth -= 1

    def text(self, data: str) -> None:
        if self._field >= 0:
            self._text.append(data)

    def _close_field(self) -> None:
        assert self._entry is not None
        self._entry[self._field] = "".join(self._text).strip()
        self._field = -1


def _refuse_dtd(name: str, sysid: str | None, pubid: str | None, _internal: int) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _refuse_entity(name: str, *args: object) -> None:
    raise EntitiesForbidden(name, None, None, None, None, None)


def _refuse_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def scan_feed(content: bytes) -> list[tuple[str, str, str, str]]:
    """(video id, channel id, title, published) of each entry, in document order.

    One pass of expat over the bytes, no tree built. defusedxml's rules, and
    stricter: a DOCTYPE is refused where it starts (so no entity can be
    declared, let alone expanded: no billion laughs, no external entities);
    entity and external-reference handlers refuse as well, in case.
    """
    scanner = _FeedScanner()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    parser.CharacterDataHandler = scanner.text
    parser.Parse(content, True)
    return scanner.entries
