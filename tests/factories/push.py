"""Signed push deliveries as the platforms send them (tests build them here, once).

Signatures are computed from the platforms' documented recipes, independently
of the code under test: EventSub's HMAC-SHA256 over id + timestamp + body,
WebSub's HMAC-SHA1 over the body, Kick's RSA PKCS#1 v1.5 SHA-256 over
`id.timestamp.body` with a key pair made for the test run.
"""

import base64
import hashlib
import hmac
from datetime import datetime
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.platforms.push import PushRequest

EVENTSUB_SECRET = "eventsub-test-secret-0123456789"
WEBSUB_SECRET = "websub-test-secret"


def stamp(at: datetime) -> str:
    """RFC 3339 with nanoseconds, as Twitch writes it."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def eventsub(
    body: bytes,
    *,
    message_id: str = "befa7b53-d79d-478f-86b9-120f112b044e",
    kind: str = "notification",
    at: datetime,
    secret: str = EVENTSUB_SECRET,
    drop: str | None = None,
) -> PushRequest:
    ts = stamp(at)
    mac = hmac.new(secret.encode(), message_id.encode() + ts.encode() + body, hashlib.sha256)
    headers = {
        "twitch-eventsub-message-id": message_id,
        "twitch-eventsub-message-timestamp": ts,
        "twitch-eventsub-message-signature": "sha256=" + mac.hexdigest(),
        "twitch-eventsub-message-type": kind,
        "twitch-eventsub-message-retry": "0",
        "content-type": "application/json",
    }
    if drop:
        headers.pop(drop)
    return PushRequest("POST", headers, {}, body)


def websub(body: bytes, *, secret: str = WEBSUB_SECRET, signed: bool = True) -> PushRequest:
    headers = {"content-type": "application/atom+xml"}
    if signed:
        mac = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        headers["x-hub-signature"] = f"sha1={mac}"
    return PushRequest("POST", headers, {}, body)


def websub_handshake(
    mode: str, topic: str, challenge: str = "a-challenge-1234", lease: int | None = 432000
) -> PushRequest:
    query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
    if lease is not None:
        query["hub.lease_seconds"] = str(lease)
    return PushRequest("GET", {}, query, b"")


@lru_cache(maxsize=2)
def kick_key(which: int = 0) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def kick_public_pem(which: int = 0) -> str:
    return (
        kick_key(which)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def kick(
    body: bytes,
    *,
    event: str = "livestream.status.updated",
    message_id: str = "01JGM0M5Z9X6RRH5NPF6Q4B8YV",
    at: datetime,
    key: int = 0,
    drop: str | None = None,
) -> PushRequest:
    ts = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    signed = f"{message_id}.{ts}.".encode() + body
    sig = kick_key(key).sign(signed, padding.PKCS1v15(), hashes.SHA256())
    headers = {
        "kick-event-message-id": message_id,
        "kick-event-subscription-id": "01JGM0M5Z9X6RRH5NPF6Q4B8YW",
        "kick-event-signature": base64.b64encode(sig).decode(),
        "kick-event-message-timestamp": ts,
        "kick-event-type": event,
        "kick-event-version": "1",
        "content-type": "application/json",
    }
    if drop:
        headers.pop(drop)
    return PushRequest("POST", headers, {}, body)
