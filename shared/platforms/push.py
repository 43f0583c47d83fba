"""The push seam: what a platform package's push source promises, and what it hands back.

A platform that can push (webhook subscriptions) declares a `PushSource` in
its spec (`PlatformSpec.push`). The source is the only code that knows the
platform's wire format: it verifies a delivery on its **raw body** before
anything is parsed, reads it into a `Delivery` (pydantic models at the
boundary), and talks to the platform's subscription API. Everything else
(`shared.push`: recording, deduplication, applying, the subscription manager)
asks the source and never names a platform.

    PushRefused                       the delivery is not accepted; nothing is written
     ├── PushNotConfigured            no secret or key on this server          503
     ├── MissingHeaders               a required header is absent              400
     ├── BadSignature                 the signature does not match             403
     ├── StaleMessage                 the timestamp is too old (or far ahead)  403
     ├── UnknownTopic                 a handshake for nothing we asked for     404
     └── MalformedDelivery            signed, but not a body we can read       400

Subscription API failures are `shared.platforms.errors.PlatformError`s.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import httpx

from shared.config import Settings
from shared.platforms.base import LiveObservation
from shared.platforms.polling import PollTarget

MAX_DELIVERY_BYTES = 256 * 1024
"""Larger bodies are refused before verification (platforms send a few KB)."""
MAX_AGE_S = 600
"""Deliveries older than this (by the platform's own timestamp) are refused: replays."""


class PushRefused(Exception):
    """A delivery that is not accepted; the message is safe to show the sender."""

    status = 400


class PushNotConfigured(PushRefused):
    """The server has no secret (or key) for this platform's push: refuse, write nothing."""

    status = 503


class MissingHeaders(PushRefused):
    """A header the platform always sends is absent."""

    status = 400


class BadSignature(PushRefused):
    """The signature does not match the raw body."""

    status = 403


class StaleMessage(PushRefused):
    """The platform's timestamp is outside the accepted window."""

    status = 403


class UnknownTopic(PushRefused):
    """A verification handshake for a subscription StreamTrack did not ask for."""

    status = 404


class MalformedDelivery(PushRefused):
    """Signed, but not a body in the platform's documented shape."""

    status = 400


class DeliveryKind(StrEnum):
    NOTIFICATION = "notification"
    VERIFICATION = "verification"
    """A handshake: answer `challenge` as text/plain."""
    REVOCATION = "revocation"


@dataclass(frozen=True, slots=True)
class PushRequest:
    """An HTTP request to a push callback, as the platform sent it."""

    method: str
    headers: Mapping[str, str]
    """Lower-case names."""
    query: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class PushEvent:
    """What one notification says about one channel.

    Either the channel's state (`observation`: a stream went online or
    offline, with the platform's own stream id and start time) or a reason to
    look now (`check`: something changed that only a poll can tell, such as
    a new video id to classify or a changed title).
    """

    platform_channel_id: str
    event_type: str
    observation: LiveObservation | None = None
    check: tuple[str, ...] = ()
    """Ids the platform's fetcher should look at now (e.g. video ids); may be empty."""

    def to_json(self) -> dict[str, object]:
        return {
            "platform_channel_id": self.platform_channel_id,
            "event_type": self.event_type,
            "observation": self.observation.model_dump(mode="json") if self.observation else None,
            "check": list(self.check),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> "PushEvent":
        obs = data.get("observation")
        check = data.get("check") or []
        return cls(
            platform_channel_id=str(data["platform_channel_id"]),
            event_type=str(data["event_type"]),
            observation=LiveObservation.model_validate(obs) if obs else None,
            check=tuple(str(c) for c in check) if isinstance(check, list) else (),
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """A verified delivery, read."""

    kind: DeliveryKind
    message_id: str
    """The platform's message id (for WebSub, which has none, a hash of the body)."""
    sent_at: datetime | None = None
    challenge: str | None = None
    """VERIFICATION: the text to echo."""
    events: tuple[PushEvent, ...] = ()
    subscription_id: str | None = None
    """The platform's subscription id (or WebSub topic) the delivery is about."""
    reason: str | None = None
    """REVOCATION: the platform's reason (e.g. notification_failures_exceeded)."""
    lease_seconds: int | None = None
    """VERIFICATION of a WebSub lease: how long the hub granted."""


@dataclass(frozen=True, slots=True)
class RemoteSubscription:
    """A subscription as the platform lists it."""

    remote_id: str
    platform_channel_id: str
    event_type: str
    status: str
    """`enabled`, `pending` or the platform's failure status."""
    cost: int = 0


@dataclass(slots=True)
class SubscriptionResult:
    """What creating one subscription did."""

    remote_id: str | None
    status: str
    """`enabled` or `pending` (a handshake to come)."""
    cost: int = 0
    lease_expires_at: datetime | None = None


@dataclass(slots=True)
class Budget:
    """How many cost units the platform lets StreamTrack hold, and how many are used."""

    max_total_cost: int | None = None
    """None: the platform counts no cost."""
    total_cost: int = 0


class SubscriptionApi(Protocol):
    """The platform's subscription endpoints (create, list, delete)."""

    lists: bool
    """Whether `list` returns what the platform holds (a WebSub hub lists nothing)."""

    def remote_id_for(self, platform_channel_id: str, event_type: str) -> str | None:
        """The subscription's id when it is known before creating it (a WebSub topic)."""
        ...

    def list(self) -> tuple[list[RemoteSubscription], Budget]: ...

    def create(
        self, platform_channel_id: str, event_type: str, callback: str, *, cost_free: bool
    ) -> SubscriptionResult: ...

    def delete(
        self, remote_id: str, platform_channel_id: str, event_type: str, callback: str
    ) -> None: ...


class PushSource(Protocol):
    """One platform's push: verification, reading, and subscriptions."""

    name: str
    """Shown in logs and health: e.g. `eventsub`."""
    event_types: tuple[str, ...]
    """The event types the manager keeps per channel..."""
    required_types: tuple[str, ...]
    """...and those without which a channel is not covered by push (polled as before)."""
    cost_per_subscription: int
    """Cost units per subscription without the broadcaster's authorization."""
    renew_before_s: int | None
    """Leases: renew this long before `lease_expires_at` (None: subscriptions do not expire)."""

    def configured(self, settings: Settings) -> bool:
        """Whether this server can verify deliveries (a secret or key is set)."""
        ...

    def receive(self, request: PushRequest, settings: Settings, now: datetime) -> Delivery:
        """Verify the raw delivery, then read it; raises a `PushRefused`."""
        ...

    def acknowledge(self, delivery: Delivery) -> tuple[int, str, str]:
        """(status, content type, body) to answer a delivery that was accepted."""
        ...

    def subscriptions(self, settings: Settings, http: httpx.Client) -> SubscriptionApi:
        """The platform's subscription API, with this server's app credentials."""
        ...

    def with_checks(self, target: PollTarget, check: Sequence[str]) -> PollTarget:
        """The poll target with `check` (ids a push named) to be looked at this cycle."""
        ...

    def covered(self, target: PollTarget, now: datetime, *, sweep: bool) -> PollTarget:
        """The poll target of a channel push covers, polled this cycle: what the poll may
        skip because push reports it (`sweep`: the safety sweep's turn, skip nothing)."""
        ...

    def sweep_interval_s(self, settings: Settings) -> int:
        """How often the safety sweep looks at each covered channel on this platform."""
        ...

    def swept_at(self, target: PollTarget) -> datetime | None:
        """When the sweep last looked at what push reports for this channel (None: never):
        its turn comes `sweep_interval_s` later."""
        ...


def poll_now(target: PollTarget, check: Sequence[str]) -> PollTarget:
    """`with_checks` for platforms whose poll answers everything: the target as it is."""
    return target


def as_is(target: PollTarget, now: datetime, *, sweep: bool) -> PollTarget:
    """`covered` for platforms whose one live request says everything: nothing to skip."""
    return target


def every_sweep_interval(settings: Settings) -> int:
    """`sweep_interval_s` for platforms on the common cadence (PUSH_SWEEP_INTERVAL_S)."""
    return settings.push_sweep_interval_s


def last_polled(target: PollTarget) -> datetime | None:
    """`swept_at` for platforms whose poll looks at everything push reports."""
    return target.poll.last_polled_at
