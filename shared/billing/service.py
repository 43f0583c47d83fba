"""Billing for users: the summary members see, and Checkout and the customer
portal for owners.

Authorization is checked in the user-scoped transaction (RLS decides whether
the team is visible at all: a non-member gets NotFound, never a hint that the
team exists); only then are Stripe and the service connection used.
"""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict

from shared.auth import AccessClaims
from shared.billing import store
from shared.billing.stripe_client import BillingNotConfigured, StripeGateway
from shared.billing.webhook import price_plans
from shared.config import Settings
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound

PaidPlan = Literal["pro", "business"]
LIVE_STATUSES = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")


class CheckoutCreate(BaseModel):
    """Body of `POST /api/teams/{team_id}/billing/checkout`."""

    model_config = ConfigDict(extra="forbid")

    plan_id: PaidPlan


class CheckoutPublic(BaseModel):
    """A Checkout Session to send the owner to."""

    id: str
    url: str


class PortalPublic(BaseModel):
    """A customer portal session to send the owner to."""

    url: str


class PlanPublic(BaseModel):
    """A plan's entitlements."""

    id: str
    name: str
    max_channels: int
    min_sample_interval_seconds: int
    retention_days: int
    features: dict[str, Any]


class BillingPublic(BaseModel):
    """A team's plan and the state of its subscription, as members see it."""

    team_id: UUID
    plan: PlanPublic
    status: str | None
    """Stripe's subscription status; null when the team never subscribed."""
    current_period_end: datetime | None
    cancel_at_period_end: bool
    grace_until: datetime | None
    """Set while a payment is overdue: paid features end then."""
    paused_by_plan: int
    """Channels paused because the plan allows fewer than the team tracks."""


def get_billing(db: Database, claims: AccessClaims, team_id: UUID) -> BillingPublic:
    """The team's billing summary; RLS shows it to the team's members only."""
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        plan = cur.execute(
            """
            select p.id, p.name, p.max_channels, p.min_sample_interval_seconds,
                   p.retention_days, p.features
            from public.teams t join public.plans p on p.id = t.plan_id
            where t.id = %s
            """,
            (team_id,),
        ).fetchone()
        if plan is None:
            raise NotFound("no such team")
        sub = cur.execute(
            """
            select status, current_period_end, cancel_at_period_end, grace_until
            from public.billing_subscriptions
            where team_id = %s
            order by status = any(%s) desc, updated_at desc
            limit 1
            """,
            (team_id, list(LIVE_STATUSES)),
        ).fetchone()
        paused = cur.execute(
            "select count(*) as n from public.team_channels where team_id = %s and paused_by_plan",
            (team_id,),
        ).fetchone()
    return BillingPublic(
        team_id=team_id,
        plan=PlanPublic.model_validate(plan),
        status=sub["status"] if sub else None,
        current_period_end=sub["current_period_end"] if sub else None,
        cancel_at_period_end=bool(sub and sub["cancel_at_period_end"]),
        grace_until=sub["grace_until"] if sub else None,
        paused_by_plan=int(paused["n"]) if paused else 0,
    )


def create_checkout(
    db: Database,
    gateway: StripeGateway,
    settings: Settings,
    claims: AccessClaims,
    team_id: UUID,
    body: CheckoutCreate,
) -> CheckoutPublic:
    """A subscription-mode Checkout Session for the chosen plan; the team's Stripe
    customer is created (once) and stored first."""
    name = _authorize_owner(db, claims, team_id)
    price = {plan: price for price, plan in price_plans(settings).items()}.get(body.plan_id)
    if price is None:
        raise BillingNotConfigured(f"no Stripe price is configured for plan {body.plan_id}")
    with db.service() as conn:
        live = conn.execute(
            "select 1 from public.billing_subscriptions where team_id = %s and status = any(%s)",
            (team_id, ["active", "trialing", "past_due", "unpaid"]),
        ).fetchone()
        row = conn.execute(
            "select stripe_customer_id from public.billing_customers where team_id = %s",
            (team_id,),
        ).fetchone()
    if live is not None:
        raise Conflict("the team already has a subscription; change it in the billing portal")
    if row is not None:
        customer_id = str(row[0])
    else:
        customer = gateway.create_customer(str(team_id), name)
        with db.service() as conn:
            customer_id = store.save_customer(conn, team_id, customer.id)
    session = gateway.create_checkout_session(
        team_id=str(team_id),
        customer_id=customer_id,
        price_id=price,
        plan_id=body.plan_id,
        success_url=settings.billing_success_url,
        cancel_url=settings.billing_cancel_url,
    )
    if session.url is None:
        raise BillingNotConfigured("Stripe returned a Checkout Session without a URL")
    return CheckoutPublic(id=session.id, url=session.url)


def create_portal(
    db: Database,
    gateway: StripeGateway,
    settings: Settings,
    claims: AccessClaims,
    team_id: UUID,
) -> PortalPublic:
    """A customer portal session for the team's Stripe customer."""
    _authorize_owner(db, claims, team_id)
    with db.service() as conn:
        row = conn.execute(
            "select stripe_customer_id from public.billing_customers where team_id = %s",
            (team_id,),
        ).fetchone()
    if row is None:
        raise Conflict("the team has no billing account yet; subscribe through checkout first")
    session = gateway.create_portal_session(str(row[0]), settings.billing_portal_return_url)
    return PortalPublic(url=session.url)


def _authorize_owner(db: Database, claims: AccessClaims, team_id: UUID) -> str:
    """The team's name when the caller owns it (with aal2 where the team requires
    MFA); NotFound for non-members, Forbidden for other roles."""
    with db.user(claims.raw) as conn:
        row = conn.execute(
            """
            select t.name, public.has_team_role(t.id, 'owner'), public.mfa_satisfied(t.id)
            from public.teams t where t.id = %s
            """,
            (team_id,),
        ).fetchone()
    if row is None:
        raise NotFound("no such team")
    name, owner, mfa = row
    if not owner:
        raise Forbidden("only an owner of the team manages its billing")
    if not mfa:
        raise Forbidden("this team requires multi-factor authentication (aal2) for billing")
    return str(name)
