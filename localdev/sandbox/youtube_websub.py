"""Fake WebSub hub for YouTube channel feeds, and its signed notifications.

- `POST /youtube/hub/subscribe` (form): `hub.callback`, `hub.topic`
  (`https://www.youtube.com/xml/feeds/videos.xml?channel_id=UC...`), `hub.mode`
  (`subscribe`/`unsubscribe`), `hub.secret`, `hub.lease_seconds`. The hub
  verifies at once: a GET to the callback with `hub.mode`, `hub.topic`,
  `hub.challenge` and `hub.lease_seconds`; the subscription holds (lease
  capped at 10 days, 5 by default) only if the challenge is echoed. It answers
  202 either way, as the real hub does before verifying.
- Notifications: an Atom feed with one `<entry>` (`yt:videoId`,
  `yt:channelId`) when a video is published or a broadcast announced, not
  when a broadcast goes live; `X-Hub-Signature: sha1=<HMAC-SHA1(secret, body)>`.
"""

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import iso_z
from localdev.sandbox.messages import Request, Response
from localdev.sandbox.push import FakePush, Happened, Outgoing, Subscription, hub
from localdev.sandbox.schedule import DAY

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.population import Channel

TOPIC = "https://www.youtube.com/xml/feeds/videos.xml"
DEFAULT_LEASE_S = 432_000
MAX_LEASE_S = 864_000


def _text(status: int, message: str) -> Response:
    return Response(status, message.encode(), "text/plain; charset=utf-8")


def subscribe(ctx: "Context", req: Request, _d: Decision) -> Response:
    form = {k: v[-1] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
    callback, topic, mode = form.get("hub.callback"), form.get("hub.topic"), form.get("hub.mode")
    if not callback or not topic or mode not in ("subscribe", "unsubscribe"):
        return _text(400, "hub.callback, hub.topic and hub.mode are required")
    parsed = urlsplit(topic)
    channel_ids = parse_qs(parsed.query).get("channel_id", [])
    if f"{parsed.scheme}://{parsed.netloc}{parsed.path}" != TOPIC or len(channel_ids) != 1:
        return _text(400, "Invalid value for hub.topic")
    channel = ctx.population.by_id["youtube"].get(channel_ids[0])
    try:
        lease = min(MAX_LEASE_S, int(form.get("hub.lease_seconds") or DEFAULT_LEASE_S))
    except ValueError:
        return _text(400, "Invalid value for hub.lease_seconds")
    pushes = hub(ctx)
    challenge = secrets.token_urlsafe(16)
    query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
    if mode == "subscribe":
        query["hub.lease_seconds"] = str(lease)
    status, body = pushes.handshake(Outgoing("GET", callback, {}, query, b""))
    if not (200 <= status < 300 and body.decode(errors="replace") == challenge):
        return _text(202, "")  # verification failed: nothing held
    held = [s for s in pushes.of("youtube") if s.callback == callback and s.event_type == topic]
    for old in held:
        pushes.remove(old.id)
    if mode == "subscribe" and channel is not None:
        now = ctx.clock.time()
        pushes.add(
            Subscription(
                id=f"{callback}|{topic}", platform="youtube", channel_id=channel.platform_id,
                event_type=topic, callback=callback, secret=form.get("hub.secret"),
                created_at=now, expires_at=now + lease,
            )
        )  # fmt: skip
    return _text(202, "")


def _events(
    ctx: "Context", channel: "Channel", sub: Subscription, t0: float, t1: float
) -> list[Happened]:
    found = []
    for window in range(int(t0 // DAY) - 1, int(t1 // DAY) + 3):
        for s in ctx.schedule.plan(channel.index, window):
            if t0 < s.announced <= t1:
                found.append(Happened(s.announced, s, "published"))
    return found


def _message(
    ctx: "Context", sub: Subscription, event: Happened, message_id: str, bad: bool
) -> Outgoing:
    from localdev.sandbox.youtube_api import video_id

    channel = ctx.population.by_id["youtube"][sub.channel_id]
    vid = video_id(ctx.seed, event.stream)
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
        'xmlns="http://www.w3.org/2005/Atom">\n'
        '  <link rel="hub" href="https://pubsubhubbub.appspot.com"/>\n'
        f'  <link rel="self" href="{escape(sub.event_type)}"/>\n'
        "  <title>YouTube video feed</title>\n"
        f"  <updated>{iso_z(event.at)}</updated>\n"
        "  <entry>\n"
        f"    <id>yt:video:{vid}</id>\n"
        f"    <yt:videoId>{vid}</yt:videoId>\n"
        f"    <yt:channelId>{channel.platform_id}</yt:channelId>\n"
        f"    <title>{escape(event.stream.title)}</title>\n"
        f'    <link rel="alternate" href="https://www.youtube.com/watch?v={vid}"/>\n'
        f"    <author><name>{escape(channel.name)}</name>"
        f"<uri>https://www.youtube.com/channel/{channel.platform_id}</uri></author>\n"
        f"    <published>{iso_z(event.stream.announced)}</published>\n"
        f"    <updated>{iso_z(event.at)}</updated>\n"
        "  </entry>\n"
        "</feed>\n"
    ).encode()
    secret = (sub.secret or "") + ("-wrong" if bad else "")
    signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    links = f"<https://pubsubhubbub.appspot.com>; rel=hub, <{sub.event_type}>; rel=self"
    headers = {
        "Content-Type": "application/atom+xml",
        "X-Hub-Signature": signature,
        "Link": links,
    }
    return Outgoing("POST", sub.callback, headers, {}, body, message_id, "youtube", event.at,
                    sub.channel_id)  # fmt: skip


PUSH = FakePush(events=_events, message=_message)
