"""The YouTube channel feed: Atom XML at `<feed_url>?channel_id=UC...`, quota-free.

It lists a channel's ~15 latest uploads, live and upcoming broadcasts
included, and now and then answers 404 for a channel that exists: that is a
PlatformUnavailable for the channel this time, not retried. The XML is
untrusted: `atom.scan_feed` reads only what the monitor uses (each entry's
video id, channel, title and published time) at C speed, refusing any DOCTYPE.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

import httpx
from defusedxml import DefusedXmlException
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.platforms.base import UtcDatetime, chunks, each_group
from shared.platforms.errors import InvalidResponse, PlatformError, PlatformUnavailable
from shared.platforms.parsing import describe, request_id_of
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status
from shared.platforms.youtube.atom import NotAtom, scan_feed

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
