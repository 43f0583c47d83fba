"""Kick webhooks: verify and read deliveries, and the event subscription API.

A delivery carries `Kick-Event-Message-Id` (a ULID), `-Subscription-Id`,
`-Signature`, `-Message-Timestamp`, `-Type` and `-Version`. The signature
is base64 RSA (SHA-256, PKCS#1 v1.5) over `<message id>.<timestamp>.<raw
body>`, verified with Kick's public key (`GET <api>/public-key`, fetched once
and cached, or pinned with KICK_WEBHOOK_PUBLIC_KEY) before the body is
parsed. Only the id, the timestamp and the body are signed, so the type
header is trusted only as far as the body agrees with it.

Events read: `livestream.status.updated` (live or not; its `started_at`
gives the same derived stream id the poll gives) and
`livestream.metadata.updated` (a title or category changed: poll now).
The callback URL is the app's webhook URL, set in Kick's developer settings.
"""

import base64
import binascii
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from shared.config import Settings
from shared.platforms.base import LiveObservation, UtcDatetime
from shared.platforms.errors import InvalidResponse
from shared.platforms.kick.live import stream_id
from shared.platforms.parsing import describe, parse_json
from shared.platforms.polling import PollTarget
from shared.platforms.push import (
    MAX_AGE_S,
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
    StaleMessage,
    SubscriptionResult,
    as_is,
    every_sweep_interval,
    last_polled,
    poll_now,
)
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost

STATUS, METADATA = "livestream.status.updated", "livestream.metadata.updated"
H_ID = "kick-event-message-id"
H_TIMESTAMP = "kick-event-message-timestamp"
H_SIGNATURE = "kick-event-signature"
H_TYPE = "kick-event-type"
H_SUBSCRIPTION = "kick-event-subscription-id"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Broadcaster(_Model):
    user_id: StrictInt = Field(gt=0)


class StatusUpdated(_Model):
    broadcaster: Broadcaster
    is_live: StrictBool
    title: str = ""
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None


class MetadataUpdated(_Model):
    broadcaster: Broadcaster


class PublicKey(_Model):
    public_key: str = Field(min_length=1)


class PublicKeyAnswer(_Model):
    data: PublicKey


class KickSubscription(_Model):
    id: str = Field(min_length=1, max_length=200)
    broadcaster_user_id: StrictInt
    event: str
    version: StrictInt = 1


class SubscriptionsAnswer(_Model):
    data: list[KickSubscription]


class Created(_Model):
    name: str
    version: StrictInt = 1
    subscription_id: str | None = None
    error: str | None = None


class CreatedAnswer(_Model):
    data: list[Created]


def signed_message(message_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + body


def load_key(pem: str) -> rsa.RSAPublicKey:
    """Kick's key, PEM (SubjectPublicKeyInfo or PKCS#1); ValueError if it is not RSA."""
    data = pem.encode()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        key = serialization.load_pem_public_key(data.replace(b"RSA PUBLIC KEY", b"PUBLIC KEY"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("Kick's webhook key is not an RSA key")
    return key


class KickPush:
    """Kick's webhooks (the spec's `push`)."""

    name: str = "webhooks"
    event_types: tuple[str, ...] = (STATUS, METADATA)
    required_types: tuple[str, ...] = (STATUS,)
    cost_per_subscription: int = 0
    renew_before_s: int | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, rsa.RSAPublicKey] = {}

    def configured(self, settings: Settings) -> bool:
        return bool(settings.kick_webhook_public_key) or bool(
            settings.kick_client_id and settings.kick_client_secret
        )

    def key(self, settings: Settings) -> rsa.RSAPublicKey:
        """The verification key: pinned, or fetched from Kick once per API URL and cached."""
        source = settings.kick_webhook_public_key or settings.kick_api_url
        with self._lock:
            if source in self._keys:
                return self._keys[source]
        if settings.kick_webhook_public_key:
            pem = settings.kick_webhook_public_key
        else:
            pem = self._fetch(settings)
        try:
            key = load_key(pem)
        except ValueError as exc:
            raise PushNotConfigured(f"Kick's webhook public key is unusable: {exc}") from None
        with self._lock:
            self._keys[source] = key
        return key

    def forget_keys(self) -> None:
        with self._lock:
            self._keys.clear()

    def _fetch(self, settings: Settings) -> str:
        url = f"{settings.kick_api_url.rstrip('/')}/public-key"
        try:
            response = httpx.get(url, timeout=settings.platform_timeout_s)
            response.raise_for_status()
            return parse_json(PublicKeyAnswer, response, Platform.KICK).data.public_key
        except (httpx.HTTPError, InvalidResponse) as exc:
            # 503: Kick delivers again, and the next delivery tries the key again.
            raise PushNotConfigured(f"Kick's public key could not be fetched: {exc}") from None

    def receive(self, request: PushRequest, settings: Settings, now: datetime) -> Delivery:
        if not self.configured(settings):
            raise PushNotConfigured("Kick webhooks are not configured on this server")
        names = (H_ID, H_TIMESTAMP, H_SIGNATURE, H_TYPE)
        values = [request.header(n) for n in names]
        missing = [n for n, v in zip(names, values, strict=True) if not v]
        if missing:
            raise MissingHeaders(f"missing Kick header(s): {', '.join(missing)}")
        message_id, stamp, given, kind = (v or "" for v in values)
        try:
            raw = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            raise BadSignature("the Kick-Event-Signature is not base64") from None
        key = self.key(settings)
        try:
            key.verify(
                raw, signed_message(message_id, stamp, request.body), padding.PKCS1v15(),
                hashes.SHA256(),
            )  # fmt: skip
        except InvalidSignature:
            raise BadSignature("the Kick-Event-Signature does not match the body") from None
        try:
            sent = datetime.fromisoformat(stamp)
        except ValueError:
            raise MissingHeaders(f"{H_TIMESTAMP} is not an RFC 3339 timestamp") from None
        if sent.tzinfo is None:
            raise MissingHeaders(f"{H_TIMESTAMP} has no UTC offset")
        if abs(now - sent) > timedelta(seconds=MAX_AGE_S):
            raise StaleMessage("the Kick message is older than 10 minutes (or from the future)")
        event = _event(kind, request.body, sent)
        return Delivery(
            DeliveryKind.NOTIFICATION,
            message_id[:200],
            sent,
            events=(event,) if event else (),
            subscription_id=(request.header(H_SUBSCRIPTION) or None),
        )

    def acknowledge(self, delivery: Delivery) -> tuple[int, str, str]:
        return 200, "text/plain", ""

    def subscriptions(self, settings: Settings, http: httpx.Client) -> "KickEventsApi":
        from shared.platforms.kick.client import KickClient

        return KickEventsApi(KickClient.from_settings(settings, http_client=http))

    def with_checks(self, target: PollTarget, check: Sequence[str]) -> PollTarget:
        return poll_now(target, check)

    def covered(self, target: PollTarget, now: datetime, *, sweep: bool) -> PollTarget:
        return as_is(target, now, sweep=sweep)

    def sweep_interval_s(self, settings: Settings) -> int:
        return every_sweep_interval(settings)

    def swept_at(self, target: PollTarget) -> datetime | None:
        return last_polled(target)


def _event(kind: str, body: bytes, sent: datetime) -> PushEvent | None:
    try:
        if kind == STATUS:
            status = StatusUpdated.model_validate_json(body)
            who = str(status.broadcaster.user_id)
            if status.is_live and status.started_at is not None:
                obs = LiveObservation(
                    platform=Platform.KICK,
                    platform_channel_id=who,
                    is_live=True,
                    platform_stream_id=stream_id(who, status.started_at),
                    title=status.title or None,
                    started_at=status.started_at,
                    observed_at=sent,
                )
            elif status.is_live:
                return PushEvent(who, kind)  # live without a start: the poll tells
            else:
                obs = LiveObservation(
                    platform=Platform.KICK, platform_channel_id=who, is_live=False, observed_at=sent
                )
            return PushEvent(who, kind, observation=obs)
        if kind == METADATA:
            who = str(MetadataUpdated.model_validate_json(body).broadcaster.user_id)
            return PushEvent(who, kind)
    except ValidationError as exc:
        raise MalformedDelivery(f"malformed {kind} event: {describe(exc)}") from None
    return None  # an event we did not subscribe to: accepted, nothing to do


class KickEventsApi:
    """`/events/subscriptions`: create, list, delete (webhook method)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    lists: bool = True

    def remote_id_for(self, platform_channel_id: str, event_type: str) -> str | None:
        return None

    def list(self) -> tuple[list[RemoteSubscription], Budget]:
        response = self._client.call("GET", "/events/subscriptions", [], Cost())
        answer = parse_json(SubscriptionsAnswer, response, Platform.KICK)
        found = [
            RemoteSubscription(s.id, str(s.broadcaster_user_id), s.event, "enabled")
            for s in answer.data
        ]
        return found, Budget()

    def create(
        self, platform_channel_id: str, event_type: str, callback: str, *, cost_free: bool
    ) -> SubscriptionResult:
        body = {
            "broadcaster_user_id": int(platform_channel_id),
            "events": [{"name": event_type, "version": 1}],
            "method": "webhook",
        }
        response = self._client.call("POST", "/events/subscriptions", [], Cost(), json=body)
        answer = parse_json(CreatedAnswer, response, Platform.KICK)
        made = next((c for c in answer.data if c.name == event_type), None)
        if made is None or not made.subscription_id:
            why = made.error if made and made.error else "no subscription id in the answer"
            raise InvalidResponse(f"Kick did not subscribe: {why}", platform=Platform.KICK)
        return SubscriptionResult(made.subscription_id, "enabled")

    def delete(
        self, remote_id: str, platform_channel_id: str, event_type: str, callback: str
    ) -> None:
        self._client.call("DELETE", "/events/subscriptions", [("id", remote_id)], Cost())
