"""Push callbacks: verify, record once, answer fast.

`receive` is what the HTTP function calls for every request to
`/api/push/<platform>`. The platform's push source verifies the raw body and
reads it (`shared.platforms.push`); here a notification is recorded in
`push_deliveries` under its message id (a repeat is acknowledged and
ignored: deliveries are at least once), a revocation marks the subscription
revoked (its channel is polled again from the next cycle), and a handshake
is answered only for a subscription StreamTrack holds or asked for. Nothing
is applied here: the push timer does that (`shared.push.apply`), so the
callback answers within milliseconds, as the platforms require.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from shared import telemetry
from shared.config import Settings
from shared.db import Database
from shared.platforms.push import (
    MAX_DELIVERY_BYTES,
    Delivery,
    DeliveryKind,
    MalformedDelivery,
    PushRefused,
    PushRequest,
    PushSource,
    UnknownTopic,
)
from shared.platforms.registry import spec

logger = logging.getLogger(__name__)


class TooLarge(PushRefused):
    """A body larger than any platform sends."""

    status = 413


class NoPush(PushRefused):
    """The platform has no push source."""

    status = 404


@dataclass(frozen=True, slots=True)
class Answer:
    """What the callback answers."""

    status: int
    content_type: str
    body: str
    outcome: str
    """recorded, duplicate, verified, revoked, ignored."""


def source_of(platform: str) -> PushSource:
    declared = spec(platform).push
    if declared is None:
        raise NoPush(f"{spec(platform).display_name} has no push callback")
    return declared


def receive(
    db: Database, platform: str, request: PushRequest, settings: Settings, now: datetime
) -> Answer:
    """Verify and record one delivery; raises `PushRefused` (nothing written) when refused."""
    source = source_of(platform)
    if len(request.body) > MAX_DELIVERY_BYTES:
        raise TooLarge(f"the body exceeds {MAX_DELIVERY_BYTES} bytes")
    try:
        delivery = source.receive(request, settings, now)
    except PushRefused as exc:
        if not isinstance(exc, MalformedDelivery | UnknownTopic):
            # Verification failed (no secret, headers, signature, replay window): counted
            # for operators, as the Stripe webhook's are.
            telemetry.webhook_verification_failed(f"{platform}-push", _reason(exc))
        raise
    status, content_type, body = source.acknowledge(delivery)
    with db.service() as conn:
        if delivery.kind is DeliveryKind.VERIFICATION:
            _verify(conn, platform, delivery, now)
            outcome = "verified"
        elif delivery.kind is DeliveryKind.REVOCATION:
            fresh = _record(conn, platform, delivery, {"reason": delivery.reason}, now)
            if fresh:
                revoked = _revoke(conn, platform, delivery)
                logger.warning(
                    "push: %s revoked %d subscription(s): %s", platform, revoked, delivery.reason,
                    extra={"platform": platform, "reason": delivery.reason},
                )  # fmt: skip
            outcome = "revoked" if fresh else "duplicate"
        else:
            payload = {"events": [e.to_json() for e in delivery.events]}
            fresh = _record(conn, platform, delivery, payload, now)
            outcome = "recorded" if fresh else "duplicate"
    return Answer(status, content_type, body, outcome)


def _reason(exc: PushRefused) -> str:
    """`BadSignature` -> `bad_signature`: the metric's reason label."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def _record(
    conn: psycopg.Connection[Any],
    platform: str,
    delivery: Delivery,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Insert the delivery under its message id; False when it was already there."""
    row = conn.execute(
        """
        insert into public.push_deliveries (platform, message_id, kind, sent_at, payload,
                                            received_at, processed_at)
        values (%s::public.platform, %s, %s, %s, %s, %s,
                case when %s then %s::timestamptz end)
        on conflict (platform, message_id) do nothing
        returning 1
        """,
        (
            platform,
            delivery.message_id,
            delivery.kind.value,
            delivery.sent_at,
            Jsonb(payload),
            now,
            delivery.kind is DeliveryKind.REVOCATION or not delivery.events,
            now,
        ),
    ).fetchone()
    return row is not None


def _revoke(conn: psycopg.Connection[Any], platform: str, delivery: Delivery) -> int:
    cur = conn.execute(
        """
        update public.push_subscriptions
        set status = 'revoked', revoked_reason = left(%s, 200)
        where platform = %s::public.platform and remote_id = %s
        """,
        (delivery.reason or "revoked", platform, delivery.subscription_id),
    )
    return cur.rowcount


def _verify(
    conn: psycopg.Connection[Any], platform: str, delivery: Delivery, now: datetime
) -> None:
    """A handshake is answered only for what StreamTrack asked; it enables the subscription.

    `reason` is WebSub's `hub.mode`: `subscribe` for a pending or held topic,
    `unsubscribe` for one the manager is dropping, `denied` records the hub's
    refusal. Without a mode (EventSub) the signature already proved the secret.
    """
    mode = delivery.reason
    if mode == "unsubscribe":
        row = conn.execute(
            """
            select 1 from public.push_subscriptions
            where platform = %s::public.platform and remote_id = %s
              and status = 'revoked' and revoked_reason = 'unsubscribed'
            """,
            (platform, delivery.subscription_id),
        ).fetchone()
        if row is None:
            raise UnknownTopic("StreamTrack did not ask to unsubscribe from this topic")
        return
    if mode == "denied":
        conn.execute(
            """
            update public.push_subscriptions set status = 'failed', last_error = 'denied by the hub'
            where platform = %s::public.platform and remote_id = %s
            """,
            (platform, delivery.subscription_id),
        )
        return
    lease = None
    if delivery.lease_seconds is not None:
        lease = delivery.lease_seconds
    cur = conn.execute(
        """
        update public.push_subscriptions
        set status = 'enabled', last_error = null,
            lease_expires_at = case when %s::int is null then lease_expires_at
                                    else %s + make_interval(secs => %s::int) end
        where platform = %s::public.platform and remote_id = %s
          and status in ('pending', 'enabled')
        """,
        (lease, now, lease, platform, delivery.subscription_id),
    )
    if cur.rowcount == 0 and mode is not None:
        raise UnknownTopic("StreamTrack did not ask to subscribe to this topic")
