"""The YouTube channel feed: Atom XML at `<feed_url>?channel_id=UC...`, quota-free.

It lists a channel's ~15 latest uploads, live and upcoming broadcasts
included, and now and then answers 404 for a channel that exists: that is a
PlatformUnavailable for the channel this time, not retried. The XML is
untrusted: a DOCTYPE is refused where it starts, then C ElementTree reads it
and only what the monitor uses is kept (each entry's video id, channel, title
and published time; `scan_feed`).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree
from xml.parsers import expat
from xml.parsers.expat import ExpatError

import httpx
from defusedxml import DefusedXmlException, DTDForbidden
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
    except (
        ExpatError,
        ElementTree.ParseError,
        DefusedXmlException,
        ValueError,
        LookupError,
    ) as exc:
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


# --- the scan -----------------------------------------------------------------------

_FEED = f"{{{ATOM_NS}}}feed"
_ENTRY = f"{{{ATOM_NS}}}entry"
_VIDEO_ID = f"{{{YT_NS}}}videoId"
_CHANNEL_ID = f"{{{YT_NS}}}channelId"
_TITLE = f"{{{ATOM_NS}}}title"
_PUBLISHED = f"{{{ATOM_NS}}}published"


class NotAtom(ValueError):
    """The document's root is not an Atom <feed>."""


class _RootReached(Exception):
    """The prolog is over: the root element starts."""


def _refuse_dtd(name: str, sysid: str | None, pubid: str | None, _internal: int) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _root_reached(_name: str, _attributes: object) -> None:
    raise _RootReached


def _refuse_doctype(content: bytes) -> None:
    """Raise DTDForbidden if the document has a DOCTYPE, reading no further than its root.

    A DOCTYPE is only allowed in the prolog, before the root element (anywhere
    else the document is not well-formed, which the full parse reports). Expat
    reads the prolog and stops where the root starts, or at the DOCTYPE's first
    byte: nothing of a DTD is read, so no entity is ever declared or expanded
    and no external one fetched.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.StartElementHandler = _root_reached
    try:
        parser.Parse(content, True)
    except _RootReached:
        return


def _text(entry: ElementTree.Element, tag: str) -> str:
    child = entry.find(tag)
    return (child.text or "").strip() if child is not None else ""


def scan_feed(content: bytes) -> list[tuple[str, str, str, str]]:
    """(video id, channel id, title, published) of each entry, in document order.

    Each top-level <entry>'s first yt:videoId, yt:channelId, title and published
    child's text, stripped (ElementTree's `entry.find(tag).text`). Two passes of
    expat, both in C but for one callback: the prolog alone, refusing a DOCTYPE
    where it starts (`_refuse_doctype`: defusedxml's rules, and stricter), then
    the document into C ElementTree, whose callbacks never enter Python. Without
    a DTD no entity but XML's five and character references can appear, and an
    undeclared one is a syntax error.
    """
    _refuse_doctype(content)
    parser = ElementTree.XMLParser()
    parser.feed(content)
    root = parser.close()
    if root.tag != _FEED:
        raise NotAtom(root.tag)
    return [
        (_text(e, _VIDEO_ID), _text(e, _CHANNEL_ID), _text(e, _TITLE), _text(e, _PUBLISHED))
        for e in root.iterfind(_ENTRY)
    ]
