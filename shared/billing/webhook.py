"""The Stripe webhook and the daily reconciliation.

A delivery is verified on its raw body before anything is parsed or written,
then its event id is recorded (its own transaction, so even a delivery that
fails later is on record). Processing re-reads the subscription from Stripe
(event payloads arrive in any order; a re-read is the current state) and
then, in one transaction holding the event's and the team's row locks,
stores it and applies the team's entitlements and marks the event
processed. A failure records the error and answers 503 so Stripe retries;
a repeat of a processed event is a no-op.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import psycopg
import stripe
from pydantic import ValidationError

from shared import telemetry
from shared.billing import store
from shared.billing.models import CheckoutSession, Event, Invoice, ObjectRef, Subscription
from shared.billing.stripe_client import (
    BillingNotConfigured,
    StripeGateway,
    StripeNotFound,
    StripeUnavailable,
)
from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.db import Database
from shared.errors import ServiceError, Unavailable

logger = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    }
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_failed"})
HANDLED = SUBSCRIPTION_EVENTS | INVOICE_EVENTS | {"checkout.session.completed"}
RECONCILE_WINDOW = timedelta(days=30)
Outcome = Literal["processed", "duplicate", "ignored"]


class InvalidSignature(ServiceError):
    """The `Stripe-Signature` header is missing, wrong or too old (400)."""


class ProcessingFailed(Unavailable):
    """The event could not be processed now; Stripe will deliver it again (503)."""


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What one reconciliation run did."""

    events_listed: int
    events_processed: int
    events_failed: int
    teams_reevaluated: int


def verify(settings: Settings, payload: bytes, signature: str | None) -> Event:
    """The verified event; raises before anything is parsed or written."""
    secret = settings.stripe_webhook_secret
    key = settings.stripe_secret_key
    if secret is None or not secret.get_secret_value() or key is None or not key.get_secret_value():
        logger.error("billing: STRIPE_WEBHOOK_SECRET or STRIPE_SECRET_KEY is not set")
        telemetry.webhook_verification_failed("stripe", "not_configured")
        raise BillingNotConfigured("the Stripe webhook is not configured")
    try:
        stripe.Webhook.construct_event(payload, signature, secret.get_secret_value())
    except stripe.SignatureVerificationError:
        telemetry.webhook_verification_failed("stripe", "bad_signature")
        raise InvalidSignature("the Stripe-Signature header is missing, invalid or stale") from None
    except ValueError:
        telemetry.webhook_verification_failed("stripe", "malformed")
        raise InvalidSignature("the body is not a JSON event") from None
    try:
        return Event.model_validate_json(payload)
    except ValidationError:
        telemetry.webhook_verification_failed("stripe", "malformed")
        raise InvalidSignature("the body is not a Stripe event") from None


def handle_delivery(
    db: Database,
    gateway: StripeGateway,
    settings: Settings,
    event: Event,
    now: Clock = utc_now,
) -> Outcome:
    """Record and process one verified event."""
    with db.service() as conn:
        store.record_event(conn, event)
    return process(db, gateway, settings, event, now)


def process(
    db: Database,
    gateway: StripeGateway,
    settings: Settings,
    event: Event,
    now: Clock,
) -> Outcome:
    """Process a recorded event once; re-processing a failed one is allowed."""
    if event.type not in HANDLED:
        with db.service() as conn:
            if store.claim_event(conn, event.id):
                store.finish_event(conn, event.id)
        logger.info("billing: ignored event %s of type %s", event.id, event.type)
        return "ignored"
    with db.service() as conn:
        if not store.claim_event(conn, event.id):
            return "duplicate"
    try:
        return _process(db, gateway, settings, event, now)
    except (StripeUnavailable, ValidationError, ValueError, psycopg.Error) as exc:
        with db.service() as conn:
            store.fail_event(conn, event.id, f"{type(exc).__name__}: {exc}")
        logger.warning("billing: event %s failed: %s", event.id, exc, extra={"event": event.id})
        raise ProcessingFailed(f"event {event.id} could not be processed; retry") from None


def _process(
    db: Database,
    gateway: StripeGateway,
    settings: Settings,
    event: Event,
    now: Clock,
) -> Outcome:
    obj = event.data.object
    team_hint: str | None = None
    customer_hint: str | None = None
    if event.type == "checkout.session.completed":
        session = CheckoutSession.model_validate(obj)
        subscription_id = session.subscription
        team_hint = session.metadata.get("team_id") or session.client_reference_id
        customer_hint = session.customer
    elif event.type in INVOICE_EVENTS:
        bill = Invoice.model_validate(obj)
        subscription_id, customer_hint = bill.subscription_id, bill.customer
    else:
        subscription_id = ObjectRef.model_validate(obj).id

    sub: Subscription | None = None
    read_at = now()
    if subscription_id is not None:
        try:
            sub = gateway.retrieve_subscription(subscription_id)
        except StripeNotFound:
            # Gone from Stripe: only a deletion's own payload is still the truth;
            # otherwise there is nothing to follow (retrying would not change that).
            if event.type != "customer.subscription.deleted":
                logger.warning("billing: event %s: no subscription %s", event.id, subscription_id)
                with db.service() as conn:
                    store.finish_event(conn, event.id)
                return "ignored"
            sub = Subscription.model_validate(obj)

    with db.service() as conn:
        if not store.claim_event(conn, event.id):
            return "duplicate"  # a concurrent delivery finished it meanwhile
        customer = sub.customer if sub else customer_hint
        hint = (sub.metadata.get("team_id") if sub else None) or team_hint
        team_id = store.team_of(conn, customer, hint) if customer else None
        if team_id is None or not store.lock_team(conn, team_id):
            logger.warning(
                "billing: event %s concerns no StreamTrack team (customer %s)", event.id, customer
            )
            store.finish_event(conn, event.id)
            return "ignored"
        if customer_hint and event.type == "checkout.session.completed":
            store.save_customer(conn, team_id, customer_hint)
        # Entitlements follow subscriptions only: an invoice or a payment-mode
        # checkout without one leaves the plan as it is.
        if sub is not None:
            store.store_subscription(
                conn,
                team_id,
                sub,
                read_at=read_at,
                plan_for_price=price_plans(settings),
                grace_days=settings.billing_grace_period_days,
            )
            store.apply_entitlements(conn, team_id, now(), f"{event.type} {event.id}")
        store.finish_event(conn, event.id)
    return "processed"


def reconcile(
    db: Database,
    gateway: StripeGateway,
    settings: Settings,
    now: Clock = utc_now,
) -> ReconcileReport:
    """Process failed deliveries of the last 30 days not yet processed, then
    re-evaluate teams whose grace or cancelled period has run out."""
    listed = processed = failed = 0
    starting_after: str | None = None
    since = now() - RECONCILE_WINDOW
    while True:
        try:
            page = gateway.list_failed_events(since, starting_after)
        except StripeUnavailable as exc:
            # Time-based downgrades below need no Stripe call: do them anyway.
            logger.warning("billing: listing failed events stopped: %s", exc)
            failed += 1
            break
        listed += len(page.data)
        with db.service() as conn:
            pending = store.unprocessed_ids(conn, [e.id for e in page.data])
        # oldest first, as Stripe would have delivered them
        for event in sorted((e for e in page.data if e.id in pending), key=lambda e: e.created):
            try:
                if handle_delivery(db, gateway, settings, event, now) == "processed":
                    processed += 1
            except ProcessingFailed:
                failed += 1
        if not page.has_more or not page.data:
            break
        starting_after = page.data[-1].id

    at = now()
    with db.service() as conn:
        due = store.teams_due(conn, at)
    for team_id in due:
        reevaluate(db, team_id, at)
    report = ReconcileReport(listed, processed, failed, len(due))
    logger.info("billing: reconciled %s", report, extra={"report": str(report)})
    return report


def reevaluate(db: Database, team_id: UUID, at: datetime) -> None:
    """Apply a team's entitlements as of `at` (time passed, no new event)."""
    with db.service() as conn:
        if store.lock_team(conn, team_id):
            store.apply_entitlements(conn, team_id, at, "reconcile")


def price_plans(settings: Settings) -> dict[str, str]:
    """Stripe price id -> plan id, from settings (unset prices map nothing)."""
    pairs = ((settings.stripe_price_pro, "pro"), (settings.stripe_price_business, "business"))
    return {price: plan for price, plan in pairs if price}
