"""Fake Twitch EventSub: the subscriptions API and webhook deliveries.

- `POST /twitch/helix/eventsub/subscriptions` (app token): `type`,
  `version`, `condition.broadcaster_user_id`, `transport` `{method:
  "webhook", callback, secret}` (10-100 characters). Each costs 1 against
  `max_total_cost` (`twitch_eventsub_max_cost`, 10,000 by default); the same
  type and condition twice is 409. The callback is then sent the
  `webhook_callback_verification` challenge; a callback that echoes it gets
  an `enabled` subscription, else `webhook_callback_verification_failed`.
  Answers 202 with the subscription, `total`, `total_cost`, `max_total_cost`.
- `GET` lists them (100 a page, `after` cursor); `DELETE ?id=` removes one (204).
- Deliveries: `stream.online` (the stream's id, `type: live`, `started_at`) at
  a stream's start, `stream.offline` at its end, signed `sha256=` HMAC-SHA256
  over message id + timestamp + body with the subscription's secret.
"""

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import h64, iso_z
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.push import FakePush, Happened, Outgoing, Subscription, hub

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.population import Channel

TYPES = {"stream.online": "1", "stream.offline": "1", "channel.update": "2"}
MAX_COST = 10_000


def _nanos(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _public(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "status": sub.status,
        "type": sub.event_type,
        "version": sub.version,
        "condition": {"broadcaster_user_id": sub.channel_id},
        "created_at": _nanos(sub.created_at),
        "transport": {"method": "webhook", "callback": sub.callback},
        "cost": sub.cost,
    }


def _totals(ctx: "Context") -> dict[str, Any]:
    subs = hub(ctx).of("twitch")
    return {
        "total": len(subs),
        "total_cost": sum(s.cost for s in subs),
        "max_total_cost": _max_cost(ctx),
    }


def _max_cost(ctx: "Context") -> int:
    return int(getattr(ctx.state["twitch"], "eventsub_max_cost", MAX_COST))


def _signed(secret: str, message_id: str, stamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), message_id.encode() + stamp.encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _request(
    sub: Subscription, kind: str, message_id: str, at: float, body: bytes, bad: bool
) -> Outgoing:
    stamp = _nanos(at)
    secret = (sub.secret or "") + ("-wrong" if bad else "")
    headers = {
        "Content-Type": "application/json",
        "Twitch-Eventsub-Message-Id": message_id,
        "Twitch-Eventsub-Message-Retry": "0",
        "Twitch-Eventsub-Message-Type": kind,
        "Twitch-Eventsub-Message-Signature": _signed(secret, message_id, stamp, body),
        "Twitch-Eventsub-Message-Timestamp": stamp,
        "Twitch-Eventsub-Subscription-Type": sub.event_type,
        "Twitch-Eventsub-Subscription-Version": sub.version,
    }
    return Outgoing(
        "POST", sub.callback, headers, {}, body, message_id, "twitch", at, sub.channel_id
    )


def create(ctx: "Context", req: Request, _d: Decision) -> Response:
    from localdev.sandbox import twitch

    denied, headers = twitch._authorize(ctx, req)
    if denied:
        return denied
    try:
        body = req.json()
        kind, version = body["type"], str(body["version"])
        broadcaster = str(body["condition"]["broadcaster_user_id"])
        transport = body["transport"]
        callback, secret = transport["callback"], transport["secret"]
    except (ValueError, KeyError, TypeError):
        return twitch.error(400, "The request body is malformed")
    if TYPES.get(kind) != version:
        return twitch.error(400, f"unsupported subscription type or version: {kind} {version}")
    if transport.get("method") != "webhook" or not isinstance(secret, str):
        return twitch.error(400, "transport.method must be webhook, with a secret")
    if not 10 <= len(secret) <= 100:
        return twitch.error(400, "transport.secret must be 10-100 characters")
    if ctx.population.by_id["twitch"].get(broadcaster) is None:
        return twitch.error(400, "invalid broadcaster_user_id")
    pushes = hub(ctx)
    if any(s.event_type == kind and s.channel_id == broadcaster for s in pushes.of("twitch")):
        return twitch.error(409, "subscription already exists")
    totals = _totals(ctx)
    if totals["total_cost"] + 1 > totals["max_total_cost"]:
        return twitch.error(429, "the subscription would exceed max_total_cost")
    # Ids from the seed, so that a run's fault decisions (keyed by message id) repeat.
    raw = f"{h64('eventsub', ctx.seed, broadcaster, kind, callback):016x}"
    raw += f"{h64('eventsub-2', raw):016x}"
    sub = Subscription(
        id=f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-8{raw[17:20]}-{raw[20:32]}",
        platform="twitch",
        channel_id=broadcaster,
        event_type=kind,
        callback=callback,
        secret=secret,
        status="webhook_callback_verification_pending",
        cost=1,
        created_at=ctx.clock.time(),
        version=version,
    )  # fmt: skip
    pushes.add(sub)
    challenge = secrets.token_urlsafe(24)
    verification = json.dumps({"challenge": challenge, "subscription": _public(sub)}).encode()
    out = _request(sub, "webhook_callback_verification", secrets.token_hex(16),
                   ctx.clock.time(), verification, False)  # fmt: skip
    status, answer = pushes.handshake(out)
    echoed = 200 <= status < 300 and answer.decode(errors="replace") == challenge
    sub.status = "enabled" if echoed else "webhook_callback_verification_failed"
    if not echoed:
        sub.cost = 0
    return json_response(202, {"data": [_public(sub)], **_totals(ctx)}, headers)


def listing(ctx: "Context", req: Request, _d: Decision) -> Response:
    from localdev.sandbox import twitch

    denied, headers = twitch._authorize(ctx, req)
    if denied:
        return denied
    offset = twitch._offset(req.arg("after"))
    if offset is None:
        return twitch.error(400, "Invalid cursor")
    subs = sorted(hub(ctx).of("twitch"), key=lambda s: (s.created_at, s.id))
    page = subs[offset : offset + 100]
    more = offset + 100 < len(subs)
    pagination = {"cursor": twitch._cursor(offset + 100)} if more else {}
    body = {"data": [_public(s) for s in page], **_totals(ctx), "pagination": pagination}
    return json_response(200, body, headers)


def delete(ctx: "Context", req: Request, _d: Decision) -> Response:
    from localdev.sandbox import twitch

    denied, headers = twitch._authorize(ctx, req)
    if denied:
        return denied
    sub_id = req.arg("id")
    if not sub_id:
        return twitch.error(400, 'Missing required parameter "id"')
    pushes = hub(ctx)
    found = next((s for s in pushes.of("twitch") if s.id == sub_id), None)
    if found is None:
        return twitch.error(404, "subscription not found")
    pushes.remove(sub_id)
    return Response(204, b"", "text/plain", headers)


def _events(
    ctx: "Context", channel: "Channel", sub: Subscription, t0: float, t1: float
) -> list[Happened]:
    found = []
    for s in ctx.schedule.between(channel, t0, t1 + 1):
        if s.start is None or s.end is None:
            continue
        if sub.event_type == "stream.online" and t0 < s.start <= t1:
            found.append(Happened(s.start, s, "online"))
        if sub.event_type == "stream.offline" and t0 < s.end <= t1:
            found.append(Happened(s.end, s, "offline"))
    return found


def _message(
    ctx: "Context", sub: Subscription, event: Happened, message_id: str, bad: bool
) -> Outgoing:
    from localdev.sandbox import twitch

    channel = ctx.population.by_id["twitch"][sub.channel_id]
    who = {
        "broadcaster_user_id": channel.platform_id,
        "broadcaster_user_login": channel.login,
        "broadcaster_user_name": channel.name,
    }
    if event.what == "online":
        assert event.stream.start is not None
        payload: dict[str, Any] = {
            "id": twitch.stream_id(ctx.seed, event.stream),
            **who,
            "type": "live",
            "started_at": iso_z(event.stream.start),
        }
    else:
        payload = who
    body = json.dumps({"subscription": _public(sub), "event": payload}).encode()
    return _request(sub, "notification", message_id, event.at, body, bad)


PUSH = FakePush(events=_events, message=_message)
