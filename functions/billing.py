"""Billing: the team's billing summary, Checkout and the customer portal for
owners, the Stripe webhook, and the daily reconciliation timer."""

import logging
from http import HTTPStatus
from uuid import UUID

import azure.functions as func
from pydantic import BaseModel

from functions.http import ON_A_TEAM, Api
from shared import telemetry
from shared.auth import AccessClaims
from shared.billing import service, webhook
from shared.billing.service import BillingPublic, CheckoutCreate, CheckoutPublic, PortalPublic
from shared.billing.stripe_client import get_gateway
from shared.config import get_settings
from shared.db import get_database

logger = logging.getLogger(__name__)


class WebhookAck(BaseModel):
    """What the webhook answers Stripe."""

    received: bool
    outcome: str


api = Api("billing")
BILLING = api.path("/api/teams/{team_id}/billing", function="billing")
CHECKOUT = api.path("/api/teams/{team_id}/billing/checkout", function="billing_checkout")
PORTAL = api.path("/api/teams/{team_id}/billing/portal", function="billing_portal")
WEBHOOK = api.path("/api/stripe/webhook", function="stripe_webhook")


@BILLING.get(
    "getBilling",
    "The team's plan, entitlements and subscription state (members)",
    response=BillingPublic,
)
def get_billing(claims: AccessClaims, team_id: UUID) -> BillingPublic:
    return service.get_billing(get_database(), claims, team_id)


@CHECKOUT.post(
    "createCheckout",
    "A Stripe Checkout Session for a paid plan (owners)",
    ok=HTTPStatus.CREATED,
    response=CheckoutPublic,
    errors=(*ON_A_TEAM, 400, 403, 409, 413),
)
def create_checkout(claims: AccessClaims, team_id: UUID, body: CheckoutCreate) -> CheckoutPublic:
    return service.create_checkout(
        get_database(), get_gateway(), get_settings(), claims, team_id, body
    )


@PORTAL.post(
    "createPortal",
    "A Stripe customer portal session (owners)",
    ok=HTTPStatus.CREATED,
    response=PortalPublic,
    errors=(*ON_A_TEAM, 403, 409),
)
def create_portal(claims: AccessClaims, team_id: UUID) -> PortalPublic:
    return service.create_portal(get_database(), get_gateway(), get_settings(), claims, team_id)


@WEBHOOK.post(
    "stripeWebhook",
    "Stripe events, verified by the Stripe-Signature header over the raw body",
    response=WebhookAck,
    errors=(400, 503),
    authenticated=False,
)
def stripe_webhook(req: func.HttpRequest) -> WebhookAck:
    settings = get_settings()
    event = webhook.verify(settings, req.get_body(), req.headers.get("Stripe-Signature"))
    outcome = webhook.handle_delivery(get_database(), get_gateway(), settings, event)
    return WebhookAck(received=True, outcome=outcome)


bp = api.blueprint()


@bp.function_name("billing_reconcile")
@bp.timer_trigger(
    schedule="%STRIPE_RECONCILE_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True
)
def billing_reconcile(timer: func.TimerRequest) -> None:
    settings = get_settings()
    if settings.stripe_secret_key is None or not settings.stripe_secret_key.get_secret_value():
        logger.error("billing: reconciliation skipped, STRIPE_SECRET_KEY is not set")
        return
    with telemetry.invocation("billing_reconcile", "timer"):
        webhook.reconcile(get_database(), get_gateway(), settings)
