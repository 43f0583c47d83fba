"""Twitch EventSub over webhooks: verify and read deliveries, and the subscription API.

A delivery carries `Twitch-Eventsub-Message-Id`, `-Message-Timestamp`,
`-Message-Signature` (`sha256=` + hex HMAC-SHA256 with the subscription
secret over id + timestamp + raw body) and `-Message-Type`
(`notification`, `webhook_callback_verification`, `revocation`). The
signature is checked in constant time before the body is parsed; a
timestamp more than 10 minutes away is a replay.

Events read: `stream.online` (the stream's id and `started_at`: the channel is
live, viewers unknown until polled), `stream.offline`, and `channel.update`
(a title or category changed: poll the channel now).
"""

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.config import Settings
from shared.platforms.base import LiveObservation, UtcDatetime
from shared.platforms.errors import InvalidResponse
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

ONLINE, OFFLINE, UPDATE = "stream.online", "stream.offline", "channel.update"
VERSIONS = {ONLINE: "1", OFFLINE: "1", UPDATE: "2"}
H_ID = "twitch-eventsub-message-id"
H_TIMESTAMP = "twitch-eventsub-message-timestamp"
H_SIGNATURE = "twitch-eventsub-message-signature"
H_TYPE = "twitch-eventsub-message-type"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Condition(_Model):
    broadcaster_user_id: str = Field(min_length=1, max_length=40)


class Subscription(_Model):
    id: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100)
    status: str = Field(default="", max_length=100)
    condition: Condition
    cost: int = Field(default=0, ge=0)


class StreamOnline(_Model):
    id: str = Field(min_length=1, max_length=100)
    """The stream's id: the same as Get Streams' `id`."""
    broadcaster_user_id: str = Field(min_length=1, max_length=40)
    type: str = "live"
    """live, playlist, watch_party, premiere, rerun."""
    started_at: UtcDatetime


class BroadcasterEvent(_Model):
    broadcaster_user_id: str = Field(min_length=1, max_length=40)


class Notification(_Model):
    subscription: Subscription
    event: dict[str, Any]


class Verification(_Model):
    subscription: Subscription
    challenge: str = Field(min_length=1, max_length=1000)


class Revocation(_Model):
    subscription: Subscription


class SubscriptionsPage(_Model):
    data: list[Subscription]
    total_cost: int = Field(default=0, ge=0)
    max_total_cost: int = Field(default=10_000, ge=0)
    pagination: dict[str, Any] = Field(default_factory=dict)


def signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """The `Twitch-Eventsub-Message-Signature` of a delivery."""
    mac = hmac.new(secret.encode(), message_id.encode() + timestamp.encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise MissingHeaders(f"{H_TIMESTAMP} is not an RFC 3339 timestamp") from None
    if value.tzinfo is None:
        raise MissingHeaders(f"{H_TIMESTAMP} has no UTC offset")
    return value


def _read(model: type[BaseModel], body: bytes) -> Any:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise MalformedDelivery(f"not an EventSub message: {describe(exc)}") from None


class TwitchPush:
    """EventSub webhooks (the spec's `push`)."""

    name: str = "eventsub"
    event_types: tuple[str, ...] = (ONLINE, OFFLINE, UPDATE)
    required_types: tuple[str, ...] = (ONLINE, OFFLINE)
    cost_per_subscription: int = 1
    renew_before_s: int | None = None

    def configured(self, settings: Settings) -> bool:
        secret = settings.twitch_eventsub_secret
        return secret is not None and 10 <= len(secret.get_secret_value()) <= 100

    def receive(self, request: PushRequest, settings: Settings, now: datetime) -> Delivery:
        if not self.configured(settings) or settings.twitch_eventsub_secret is None:
            raise PushNotConfigured("EventSub is not configured on this server (no secret)")
        names = (H_ID, H_TIMESTAMP, H_SIGNATURE, H_TYPE)
        values = [request.header(n) for n in names]
        missing = [n for n, v in zip(names, values, strict=True) if not v]
        if missing:
            raise MissingHeaders(f"missing EventSub header(s): {', '.join(missing)}")
        message_id, stamp, given, kind = (v or "" for v in values)
        secret = settings.twitch_eventsub_secret.get_secret_value()
        expected = signature(secret, message_id, stamp, request.body)
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise BadSignature("the EventSub signature does not match the body")
        sent = _timestamp(stamp)
        if abs(now - sent) > timedelta(seconds=MAX_AGE_S):
            raise StaleMessage("the EventSub message is older than 10 minutes (or from the future)")
        if kind == "webhook_callback_verification":
            verification = _read(Verification, request.body)
            return Delivery(
                DeliveryKind.VERIFICATION,
                message_id,
                sent,
                challenge=verification.challenge,
                subscription_id=verification.subscription.id,
            )
        if kind == "revocation":
            revoked = _read(Revocation, request.body).subscription
            return Delivery(
                DeliveryKind.REVOCATION,
                message_id,
                sent,
                subscription_id=revoked.id,
                reason=revoked.status or "revoked",
            )
        if kind != "notification":
            raise MalformedDelivery(f"unknown {H_TYPE} {kind[:40]!r}")
        note = _read(Notification, request.body)
        event = _event(note, sent)
        return Delivery(
            DeliveryKind.NOTIFICATION,
            message_id,
            sent,
            events=(event,) if event else (),
            subscription_id=note.subscription.id,
        )

    def acknowledge(self, delivery: Delivery) -> tuple[int, str, str]:
        if delivery.kind is DeliveryKind.VERIFICATION and delivery.challenge is not None:
            return 200, "text/plain", delivery.challenge
        return 200, "text/plain", ""

    def subscriptions(self, settings: Settings, http: httpx.Client) -> "EventSubApi":
        from shared.platforms.twitch.client import TwitchClient

        if settings.twitch_eventsub_secret is None:
            raise PushNotConfigured("TWITCH_EVENTSUB_SECRET is not set")
        client = TwitchClient.from_settings(settings, http_client=http)
        return EventSubApi(client, settings.twitch_eventsub_secret.get_secret_value())

    def with_checks(self, target: PollTarget, check: Sequence[str]) -> PollTarget:
        return poll_now(target, check)

    def covered(self, target: PollTarget, now: datetime, *, sweep: bool) -> PollTarget:
        return as_is(target, now, sweep=sweep)

    def sweep_interval_s(self, settings: Settings) -> int:
        return every_sweep_interval(settings)

    def swept_at(self, target: PollTarget) -> datetime | None:
        return last_polled(target)


def _event(note: Notification, sent: datetime) -> PushEvent | None:
    kind = note.subscription.type
    try:
        if kind == ONLINE:
            online = StreamOnline.model_validate(note.event)
            if online.type != "live":
                # A rerun or premiere: Get Streams decides what it is.
                return PushEvent(online.broadcaster_user_id, kind)
            obs = LiveObservation(
                platform=Platform.TWITCH,
                platform_channel_id=online.broadcaster_user_id,
                is_live=True,
                platform_stream_id=online.id,
                started_at=online.started_at,
                observed_at=sent,
            )
            return PushEvent(online.broadcaster_user_id, kind, observation=obs)
        if kind in (OFFLINE, UPDATE):
            who = BroadcasterEvent.model_validate(note.event).broadcaster_user_id
            if kind == UPDATE:
                return PushEvent(who, kind)
            obs = LiveObservation(
                platform=Platform.TWITCH, platform_channel_id=who, is_live=False, observed_at=sent
            )
            return PushEvent(who, kind, observation=obs)
    except ValidationError as exc:
        raise MalformedDelivery(f"malformed {kind} event: {describe(exc)}") from None
    return None  # a type we did not subscribe to: accepted, nothing to do


class EventSubApi:
    """Create, list and delete EventSub subscriptions with the app token."""

    def __init__(self, client: Any, secret: str) -> None:
        self._client = client
        self._secret = secret

    lists: bool = True

    def remote_id_for(self, platform_channel_id: str, event_type: str) -> str | None:
        return None

    def list(self) -> tuple[list[RemoteSubscription], Budget]:
        found: list[RemoteSubscription] = []
        budget = Budget(max_total_cost=10_000)
        cursor: str | None = None
        for _ in range(200):  # 100 a page: 20,000 subscriptions at most
            params = [("after", cursor)] if cursor else []
            response = self._client.call("GET", "/eventsub/subscriptions", params, Cost())
            page = parse_json(SubscriptionsPage, response, Platform.TWITCH)
            budget = Budget(max_total_cost=page.max_total_cost, total_cost=page.total_cost)
            found += [
                RemoteSubscription(
                    s.id, s.condition.broadcaster_user_id, s.type, _status(s.status), s.cost
                )
                for s in page.data
            ]
            cursor = page.pagination.get("cursor") or None
            if not cursor or not page.data:
                break
        return found, budget

    def create(
        self, platform_channel_id: str, event_type: str, callback: str, *, cost_free: bool
    ) -> SubscriptionResult:
        body = {
            "type": event_type,
            "version": VERSIONS.get(event_type, "1"),
            "condition": {"broadcaster_user_id": platform_channel_id},
            "transport": {"method": "webhook", "callback": callback, "secret": self._secret},
        }
        response = self._client.call("POST", "/eventsub/subscriptions", [], Cost(), json=body)
        page = parse_json(SubscriptionsPage, response, Platform.TWITCH)
        if not page.data:
            raise InvalidResponse("EventSub created no subscription", platform=Platform.TWITCH)
        made = page.data[0]
        return SubscriptionResult(made.id, _status(made.status), made.cost)

    def delete(
        self, remote_id: str, platform_channel_id: str, event_type: str, callback: str
    ) -> None:
        self._client.call("DELETE", "/eventsub/subscriptions", [("id", remote_id)], Cost())


def _status(status: str) -> str:
    if status == "enabled":
        return "enabled"
    if status == "webhook_callback_verification_pending":
        return "pending"
    return "failed"
