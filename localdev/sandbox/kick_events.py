"""Fake Kick webhooks: the public key, the event subscriptions API, and signed deliveries.

- `GET /kick/public/v1/public-key`: `{"data": {"public_key": PEM}}` (a key pair
  made per sandbox; deliveries are signed with its private half).
- `POST /kick/public/v1/events/subscriptions` (app token):
  `{broadcaster_user_id, events: [{name, version}], method: "webhook"}` answers
  `{"data": [{name, version, subscription_id, error}]}`; `GET` lists them,
  `DELETE ?id=` removes one. Deliveries go to the app's webhook URL
  (`Sandbox.push_to(..., kick_webhook_url=...)`): Kick has no per-subscription
  callback.
- Deliveries: `livestream.status.updated` at a stream's start (`is_live`,
  `started_at`) and end (`ended_at`), with `Kick-Event-*` headers and the
  base64 RSA PKCS#1 v1.5 SHA-256 signature over `id.timestamp.body`.
"""

import base64
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import h64, iso_z
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.push import FakePush, Happened, Outgoing, Subscription, hub

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.population import Channel

EVENTS = ("livestream.status.updated", "livestream.metadata.updated", "chat.message.sent")


@lru_cache(maxsize=2)
def keypair(which: int = 0) -> rsa.RSAPrivateKey:
    """The sandbox's signing key (`which=1`: another one, for a bad signature)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem() -> str:
    return (
        keypair(0)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_key(ctx: "Context", req: Request, _d: Decision) -> Response:
    return json_response(200, {"data": {"public_key": public_pem()}, "message": "OK"})


def _public(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "app_id": "sandbox-kick-app",
        "broadcaster_user_id": int(sub.channel_id),
        "event": sub.event_type,
        "version": 1,
        "method": "webhook",
        "created_at": iso_z(sub.created_at),
        "updated_at": iso_z(sub.created_at),
    }


def create(ctx: "Context", req: Request, _d: Decision) -> Response:
    from localdev.sandbox import kick

    denied = kick._authorize(ctx, req)
    if denied:
        return denied
    try:
        body = req.json()
        broadcaster = body["broadcaster_user_id"]
        events = body["events"]
        if not isinstance(broadcaster, int) or not isinstance(events, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return kick.error(400, "Invalid request body")
    if body.get("method", "webhook") != "webhook":
        return kick.error(400, "method must be webhook")
    pushes = hub(ctx)
    if ctx.population.by_id["kick"].get(str(broadcaster)) is None:
        return kick.error(400, "broadcaster not found")
    made = []
    for event in events:
        name = event.get("name") if isinstance(event, dict) else None
        if name not in EVENTS:
            made.append({"name": name, "version": 1, "subscription_id": None,
                         "error": "unknown event"})  # fmt: skip
            continue
        held = next(
            (s for s in pushes.of("kick") if s.channel_id == str(broadcaster)
             and s.event_type == name), None,
        )  # fmt: skip
        if held is None:
            held = Subscription(
                id="01" + f"{h64('kick-sub', ctx.seed, broadcaster, name):016X}", platform="kick",
                channel_id=str(broadcaster), event_type=name,
                callback=pushes.kick_webhook_url or "", secret=None,
                created_at=ctx.clock.time(),
            )  # fmt: skip
            pushes.add(held)
        made.append({"name": name, "version": 1, "subscription_id": held.id, "error": None})
    return json_response(200, {"data": made, "message": "OK"})


def listing(ctx: "Context", req: Request, _d: Decision) -> Response:
    from localdev.sandbox import kick

    denied = kick._authorize(ctx, req)
    if denied:
        return denied
    subs = sorted(hub(ctx).of("kick"), key=lambda s: (s.created_at, s.id))
    return json_response(200, {"data": [_public(s) for s in subs], "message": "OK"})


def delete(ctx: "Context", req: Request, _d: Decision) -> Response:
    from localdev.sandbox import kick

    denied = kick._authorize(ctx, req)
    if denied:
        return denied
    for sub_id in req.args("id"):
        hub(ctx).remove(sub_id)
    return Response(204, b"", "text/plain")


def _events(
    ctx: "Context", channel: "Channel", sub: Subscription, t0: float, t1: float
) -> list[Happened]:
    if sub.event_type != "livestream.status.updated":
        return []
    found = []
    for s in ctx.schedule.between(channel, t0, t1 + 1):
        if s.start is not None and t0 < s.start <= t1:
            found.append(Happened(s.start, s, "online"))
        if s.end is not None and t0 < s.end <= t1:
            found.append(Happened(s.end, s, "offline"))
    return found


def _message(
    ctx: "Context", sub: Subscription, event: Happened, message_id: str, bad: bool
) -> Outgoing:
    channel = ctx.population.by_id["kick"][sub.channel_id]
    s = event.stream
    assert s.start is not None
    body = json.dumps(
        {
            "broadcaster": {
                "is_anonymous": False,
                "user_id": int(channel.platform_id),
                "username": channel.name,
                "is_verified": False,
                "profile_picture": "",
                "channel_slug": channel.login,
                "identity": None,
            },
            "is_live": event.what == "online",
            "title": s.title,
            "started_at": iso_z(s.start),
            "ended_at": iso_z(s.end) if event.what == "offline" and s.end is not None else None,
        }
    ).encode()
    ulid = "01" + message_id.replace("-", "").upper()[:24]
    stamp = iso_z(event.at)
    signed = f"{ulid}.{stamp}.".encode() + body
    signature = keypair(1 if bad else 0).sign(signed, padding.PKCS1v15(), hashes.SHA256())
    headers = {
        "Content-Type": "application/json",
        "Kick-Event-Message-Id": ulid,
        "Kick-Event-Subscription-Id": sub.id,
        "Kick-Event-Signature": base64.b64encode(signature).decode(),
        "Kick-Event-Message-Timestamp": stamp,
        "Kick-Event-Type": sub.event_type,
        "Kick-Event-Version": "1",
    }
    url = sub.callback or hub(ctx).kick_webhook_url or ""
    return Outgoing("POST", url, headers, {}, body, ulid, "kick", event.at, sub.channel_id)


PUSH = FakePush(events=_events, message=_message)
