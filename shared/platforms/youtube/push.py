"""YouTube WebSub (PubSubHubbub): the hub's handshake, signed notifications, subscriptions.

- Subscribe: a form POST to the hub (`hub.callback`, `hub.topic` =
  `<topic url>?channel_id=UC...`, `hub.mode`, `hub.secret`,
  `hub.lease_seconds`); the hub answers 202 and then verifies with a GET to
  the callback carrying `hub.mode`, `hub.topic`, `hub.challenge` and
  `hub.lease_seconds`. StreamTrack echoes the challenge only for a topic and
  mode it asked for (`shared.push` checks its subscriptions).
- Notifications: an Atom feed with one `<entry>` (`yt:videoId`,
  `yt:channelId`), signed `X-Hub-Signature: sha1=<HMAC-SHA1(secret, body)>`.
  They come on upload, on a title or description change, and when a
  broadcast is scheduled (not when it goes live), so a notification is a
  reason to check that video now (`videos.list`), and an upcoming one stays a
  candidate until it starts.
"""

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from shared.config import Settings
from shared.platforms.errors import PlatformError
from shared.platforms.polling import PollTarget
from shared.platforms.push import (
    BadSignature,
    Budget,
    Delivery,
    DeliveryKind,
    MalformedDelivery,
    MissingHeaders,
    PushEvent,
    PushNotConfigured,
    PushRequest,
    RemoteSubscription,
    SubscriptionResult,
)
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status
from shared.platforms.youtube.atom import ATOM_NS, YT_NS
from shared.platforms.youtube.feed import VIDEO_ID

ATOM = f"{{{ATOM_NS}}}"
YT = f"{{{YT_NS}}}"
"""ElementTree's qualified-name prefixes for the notification's Atom and YouTube elements."""

FEED = "feed"
"""The one event type: a channel's feed topic."""
CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
MODES = ("subscribe", "unsubscribe", "denied")
DELETED = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"


def signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature` of a notification."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def topic_url(settings: Settings, channel_id: str) -> str:
    return f"{settings.youtube_websub_topic_url}?channel_id={channel_id}"


def topic_channel(topic: str) -> str | None:
    """The channel id a topic URL names, if it is one."""
    values = parse_qs(urlsplit(topic).query).get("channel_id", [])
    return values[0] if len(values) == 1 and CHANNEL_ID.match(values[0]) else None


class YouTubePush:
    """WebSub (the spec's `push`)."""

    name: str = "websub"
    event_types: tuple[str, ...] = (FEED,)
    required_types: tuple[str, ...] = (FEED,)
    cost_per_subscription: int = 0
    renew_before_s: int | None = 86_400 * 2
    """Leases are about 5 days: renewed when less than two remain (the timer runs often)."""

    def configured(self, settings: Settings) -> bool:
        secret = settings.youtube_websub_secret
        return secret is not None and bool(secret.get_secret_value())

    def receive(self, request: PushRequest, settings: Settings, now: datetime) -> Delivery:
        if not self.configured(settings) or settings.youtube_websub_secret is None:
            raise PushNotConfigured("WebSub is not configured on this server (no secret)")
        if request.method.upper() == "GET":
            return _handshake(request)
        given = request.header("x-hub-signature")
        if not given:
            raise MissingHeaders("missing X-Hub-Signature")
        expected = signature(settings.youtube_websub_secret.get_secret_value(), request.body)
        if not hmac.compare_digest(expected.encode(), given.strip().encode()):
            raise BadSignature("the X-Hub-Signature does not match the body")
        events = _entries(request.body)
        digest = hashlib.sha256(request.body).hexdigest()
        return Delivery(DeliveryKind.NOTIFICATION, f"sha256:{digest}", None, events=events)

    def acknowledge(self, delivery: Delivery) -> tuple[int, str, str]:
        if delivery.kind is DeliveryKind.VERIFICATION and delivery.challenge is not None:
            return 200, "text/plain", delivery.challenge
        return 200, "text/plain", ""

    def subscriptions(self, settings: Settings, http: httpx.Client) -> "WebSubApi":
        if settings.youtube_websub_secret is None:
            raise PushNotConfigured("YOUTUBE_WEBSUB_SECRET is not set")
        return WebSubApi(http, settings)

    def with_checks(self, target: PollTarget, check: Sequence[str]) -> PollTarget:
        """The pushed video ids join the channel's candidates (checked with videos.list);
        the feed is not read for them: the notification just said what is new in it."""
        poll = target.poll
        settled = set(poll.settled_video_ids)
        fresh = [v for v in check if VIDEO_ID.match(v) and v not in settled]
        candidates = tuple(dict.fromkeys([*fresh, *poll.candidate_video_ids]))[:50]
        discover = None if poll.feed_checked_at is None else False
        return replace(
            target, poll=replace(poll, candidate_video_ids=candidates), discover=discover
        )

    def covered(self, target: PollTarget, now: datetime, *, sweep: bool) -> PollTarget:
        """WebSub announces new videos, so a covered channel's feed is read only in its
        sweep turn (first in line then); otherwise its candidates are checked, feed skipped.
        `feed_checked_at` stays the time the feed was really read: the sweep's clock."""
        if target.poll.feed_checked_at is None:
            return target  # never read: read it now, as for any channel
        return replace(target, discover=sweep)

    def sweep_interval_s(self, settings: Settings) -> int:
        """YOUTUBE_PUSH_SWEEP_INTERVAL_S: a feed read is a request per channel."""
        return settings.youtube_push_sweep_interval_s

    def swept_at(self, target: PollTarget) -> datetime | None:
        """The feed is what WebSub reports; live and upcoming videos are checked anyway."""
        return target.poll.feed_checked_at


def _handshake(request: PushRequest) -> Delivery:
    mode = request.query.get("hub.mode", "")
    topic = request.query.get("hub.topic", "")
    challenge = request.query.get("hub.challenge", "")
    if mode not in MODES or not topic:
        raise MissingHeaders("a WebSub verification needs hub.mode and hub.topic")
    if mode != "denied" and not challenge:
        raise MissingHeaders("a WebSub verification needs hub.challenge")
    lease: int | None = None
    if request.query.get("hub.lease_seconds"):
        try:
            lease = int(request.query["hub.lease_seconds"])
        except ValueError:
            raise MalformedDelivery("hub.lease_seconds is not a number") from None
        if not 0 < lease <= 10 * 86_400 * 100:
            raise MalformedDelivery("hub.lease_seconds is out of range")
    digest = hashlib.sha256(f"{mode}|{topic}|{challenge}".encode()).hexdigest()
    return Delivery(
        DeliveryKind.VERIFICATION,
        f"handshake:{digest}",
        challenge=challenge[:1000] or None,
        subscription_id=topic[:500],
        reason=mode,
        lease_seconds=lease,
    )


def _entries(body: bytes) -> tuple[PushEvent, ...]:
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        raise MalformedDelivery(f"not well-formed XML ({type(exc).__name__})") from None
    if root.tag != f"{ATOM}feed":
        raise MalformedDelivery("not an Atom feed")
    events = []
    for entry in root.findall(f"{ATOM}entry"):
        video = (entry.findtext(f"{YT}videoId") or "").strip()
        channel = (entry.findtext(f"{YT}channelId") or "").strip()
        if not VIDEO_ID.match(video) or not CHANNEL_ID.match(channel):
            raise MalformedDelivery("an entry without a valid yt:videoId and yt:channelId")
        events.append(PushEvent(channel, FEED, check=(video,)))
    if not events and root.find(DELETED) is None:
        raise MalformedDelivery("an Atom feed with no entry")
    return tuple(events)


class WebSubApi:
    """The hub's subscribe endpoint; the hub lists nothing, so `list` is empty."""

    def __init__(self, http: httpx.Client, settings: Settings) -> None:
        self._settings = settings
        policy = RetryPolicy.from_settings(settings)
        self._sender = Sender(
            http, Platform.YOUTUBE, policy, settings.platform_timeout_s, self._error
        )

    lists: bool = False

    def remote_id_for(self, platform_channel_id: str, event_type: str) -> str | None:
        return topic_url(self._settings, platform_channel_id)

    def list(self) -> tuple[list[RemoteSubscription], Budget]:
        return [], Budget()

    def create(
        self, platform_channel_id: str, event_type: str, callback: str, *, cost_free: bool
    ) -> SubscriptionResult:
        lease = self._settings.youtube_websub_lease_s
        self._post("subscribe", platform_channel_id, callback, lease)
        # 202: the hub verifies asynchronously; its handshake enables the subscription and
        # says the lease it granted (until then the lease is unknown: retried next run).
        return SubscriptionResult(topic_url(self._settings, platform_channel_id), "pending", 0)

    def delete(
        self, remote_id: str, platform_channel_id: str, event_type: str, callback: str
    ) -> None:
        self._post("unsubscribe", platform_channel_id, callback, None)

    def _post(self, mode: str, channel_id: str, callback: str, lease: int | None) -> None:
        secret = self._settings.youtube_websub_secret
        form = {
            "hub.callback": callback,
            "hub.topic": topic_url(self._settings, channel_id),
            "hub.mode": mode,
            "hub.verify": "async",
        }
        if secret is not None:
            form["hub.secret"] = secret.get_secret_value()
        if lease is not None:
            form["hub.lease_seconds"] = str(lease)
        self._sender.send("POST", self._settings.youtube_websub_hub_url, data=form, cost=Cost())

    def _error(self, response: httpx.Response) -> PlatformError:
        message = response.text[:200] or "hub error"
        return error_for_status(Platform.YOUTUBE, response, message, wall_now=time.time())
