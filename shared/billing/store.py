"""The database side of billing, always on the service connection and always
inside one transaction that holds the team's row lock (`lock_team`): two
webhook deliveries, or a delivery and the reconciliation, for one team never
interleave, and neither interleaves with a member adding or resuming a
channel (the channel-limit triggers take the same lock).
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from shared.billing import entitlements
from shared.billing.entitlements import SubscriptionState, TrackedChannel
from shared.billing.models import Event, Subscription

logger = logging.getLogger(__name__)
Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying entitlements changed for one team."""

    team_id: UUID
    previous_plan: str
    plan: str
    paused: tuple[UUID, ...]
    resumed: tuple[UUID, ...]


def record_event(conn: Conn, event: Event) -> None:
    """Record the event id (a repeat changes nothing)."""
    conn.execute(
        """
        insert into public.stripe_events (id, type, livemode, stripe_created_at)
        values (%s, %s, %s, %s)
        on conflict (id) do nothing
        """,
        (event.id, event.type, event.livemode, event.created),
    )


def claim_event(conn: Conn, event_id: str) -> bool:
    """Lock the event's row for this transaction; False when it is already processed."""
    row = conn.execute(
        "select processed_at from public.stripe_events where id = %s for update", (event_id,)
    ).fetchone()
    return row is not None and row[0] is None


def finish_event(conn: Conn, event_id: str) -> None:
    conn.execute(
        """
        update public.stripe_events
        set processed_at = now(), attempts = attempts + 1, last_error = null
        where id = %s
        """,
        (event_id,),
    )


def fail_event(conn: Conn, event_id: str, error: str) -> None:
    conn.execute(
        "update public.stripe_events set attempts = attempts + 1, last_error = %s where id = %s",
        (error[:1000], event_id),
    )


def unprocessed_ids(conn: Conn, event_ids: list[str]) -> set[str]:
    """The ids among `event_ids` not recorded as processed."""
    rows = conn.execute(
        "select id from public.stripe_events where id = any(%s) and processed_at is not null",
        (event_ids,),
    ).fetchall()
    done = {row[0] for row in rows}
    return {eid for eid in event_ids if eid not in done}


def team_of(conn: Conn, customer_id: str, metadata_team_id: str | None) -> UUID | None:
    """The team a Stripe customer belongs to: the stored customer first, then the
    `team_id` StreamTrack put in the metadata (checkout), if such a team exists."""
    row = conn.execute(
        "select team_id from public.billing_customers where stripe_customer_id = %s",
        (customer_id,),
    ).fetchone()
    if row is not None:
        return UUID(str(row[0]))
    try:
        candidate = UUID(metadata_team_id) if metadata_team_id else None
    except ValueError:
        return None
    if candidate is None:
        return None
    row = conn.execute("select id from public.teams where id = %s", (candidate,)).fetchone()
    return candidate if row is not None else None


def save_customer(conn: Conn, team_id: UUID, customer_id: str) -> str:
    """Store the team's customer unless it has one; the team's customer id."""
    conn.execute(
        """
        insert into public.billing_customers (team_id, stripe_customer_id) values (%s, %s)
        on conflict do nothing
        """,
        (team_id, customer_id),
    )
    row = conn.execute(
        "select stripe_customer_id from public.billing_customers where team_id = %s", (team_id,)
    ).fetchone()
    return str(row[0]) if row else customer_id


def lock_team(conn: Conn, team_id: UUID) -> bool:
    """Take the team's row lock for the rest of the transaction; False: no such team."""
    row = conn.execute(
        "select 1 from public.teams where id = %s for no key update", (team_id,)
    ).fetchone()
    return row is not None


def store_subscription(
    conn: Conn,
    team_id: UUID,
    sub: Subscription,
    *,
    read_at: datetime,
    plan_for_price: dict[str, str],
    grace_days: int,
) -> bool:
    """Store a subscription as read from Stripe at `read_at`, unless a later read is
    already stored. A re-read is Stripe's current state, so the read time orders
    them: whatever order events arrive in, the latest read wins."""
    previous = conn.execute(
        """
        select status, grace_until, stripe_updated_at
        from public.billing_subscriptions where stripe_subscription_id = %s for update
        """,
        (sub.id,),
    ).fetchone()
    if previous is not None and previous[2] is not None and previous[2] >= read_at:
        return False
    prices = sub.price_ids()
    price_id = next((p for p in prices if p in plan_for_price), next(iter(prices), None))
    plan_id = plan_for_price.get(price_id) if price_id else None
    start, end = sub.period
    grace = entitlements.grace_until(
        sub.status,
        previous[0] if previous else None,
        previous[1] if previous else None,
        read_at,
        grace_days,
    )
    conn.execute(
        """
        insert into public.billing_subscriptions (
          stripe_subscription_id, team_id, plan_id, status, price_id, current_period_start,
          current_period_end, cancel_at_period_end, canceled_at, grace_until, stripe_updated_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (stripe_subscription_id) do update set
          team_id = excluded.team_id, plan_id = excluded.plan_id, status = excluded.status,
          price_id = excluded.price_id, current_period_start = excluded.current_period_start,
          current_period_end = excluded.current_period_end,
          cancel_at_period_end = excluded.cancel_at_period_end,
          canceled_at = excluded.canceled_at, grace_until = excluded.grace_until,
          stripe_updated_at = excluded.stripe_updated_at
        """,
        (
            sub.id,
            team_id,
            plan_id,
            sub.status,
            price_id,
            start,
            end,
            sub.cancel_at_period_end,
            sub.canceled_at,
            grace,
            read_at,
        ),
    )
    return True


def apply_entitlements(conn: Conn, team_id: UUID, now: datetime, cause: str) -> Applied:
    """Set the team's plan from its subscriptions and pause/resume channels to fit.
    Call with the team's lock held (`lock_team`)."""
    with conn.cursor(row_factory=dict_row) as cur:
        subs = cur.execute(
            """
            select plan_id, status, cancel_at_period_end, current_period_end, grace_until
            from public.billing_subscriptions where team_id = %s
            """,
            (team_id,),
        ).fetchall()
        plans = cur.execute("select id, max_channels, sort_order from public.plans").fetchall()
        team = cur.execute("select plan_id from public.teams where id = %s", (team_id,)).fetchone()
        channels = cur.execute(
            """
            select channel_id, added_at, paused_at, paused_by_plan
            from public.team_channels where team_id = %s
            """,
            (team_id,),
        ).fetchall()
    assert team is not None, "apply_entitlements needs the team's lock"
    rank = {p["id"]: p["sort_order"] for p in plans}
    max_channels = {p["id"]: p["max_channels"] for p in plans}
    previous = str(team["plan_id"])
    plan = entitlements.effective_plan((SubscriptionState(**s) for s in subs), rank, now)
    changes = entitlements.channel_changes(
        [TrackedChannel(**c) for c in channels], max_channels[plan]
    )
    if plan != previous:
        # the teams audit trigger logs the row change; the billing row says why
        conn.execute("update public.teams set plan_id = %s where id = %s", (plan, team_id))
        _audit(conn, team_id, "billing.plan_change", {"from": previous, "to": plan, "cause": cause})
    if changes.pause:
        conn.execute(
            """
            update public.team_channels set paused_at = %s, paused_by_plan = true
            where team_id = %s and channel_id = any(%s)
            """,
            (now, team_id, list(changes.pause)),
        )
        _audit(
            conn,
            team_id,
            "billing.downgrade",
            {
                "plan": plan,
                "max_channels": max_channels[plan],
                "cause": cause,
                "paused_channel_ids": [str(c) for c in changes.pause],
            },
        )
    if changes.resume:
        # one row at a time, oldest first: the resume-limit trigger counts each
        for channel_id in changes.resume:
            conn.execute(
                "update public.team_channels set paused_at = null "
                "where team_id = %s and channel_id = %s",
                (team_id, channel_id),
            )
        _audit(
            conn,
            team_id,
            "billing.upgrade",
            {
                "plan": plan,
                "max_channels": max_channels[plan],
                "cause": cause,
                "resumed_channel_ids": [str(c) for c in changes.resume],
            },
        )
    if plan != previous or changes.pause or changes.resume:
        logger.info(
            "billing: team %s on %s (was %s), %d paused, %d resumed",
            team_id,
            plan,
            previous,
            len(changes.pause),
            len(changes.resume),
            extra={"team_id": str(team_id), "plan": plan, "cause": cause},
        )
    return Applied(team_id, previous, plan, changes.pause, changes.resume)


def teams_due(conn: Conn, now: datetime) -> list[UUID]:
    """Teams on a paid plan whose grace or cancelled period has run out by `now`."""
    rows = conn.execute(
        """
        select distinct s.team_id
        from public.billing_subscriptions s
        join public.teams t on t.id = s.team_id
        where t.plan_id <> 'free'
          and ((s.grace_until is not null and s.grace_until <= %s)
               or (s.cancel_at_period_end and s.current_period_end <= %s
                   and s.status in ('active', 'trialing', 'past_due', 'unpaid')))
        order by 1
        """,
        (now, now),
    ).fetchall()
    return [UUID(str(r[0])) for r in rows]


def _audit(conn: Conn, team_id: UUID, action: str, details: dict[str, Any]) -> None:
    conn.execute(
        """
        insert into public.audit_log (team_id, actor_id, action, target_type, target_id, details)
        values (%s, null, %s, 'teams', %s, %s::jsonb)
        """,
        (team_id, action, str(team_id), json.dumps(details)),
    )
