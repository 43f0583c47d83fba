"""Billing: the team's billing summary, Checkout and the customer portal for
owners, the Stripe webhook, and the daily reconciliation timer."""

import logging
from http import HTTPStatus

import azure.functions as func
from pydantic import BaseModel

from functions.http import authenticate, json_response, parse_body, respond, route_uuid
from shared.billing import service, webhook
from shared.billing.stripe_client import get_gateway
from shared.config import get_settings
from shared.db import get_database

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated
logger = logging.getLogger(__name__)


class WebhookAck(BaseModel):
    """What the webhook answers Stripe."""

    received: bool
    outcome: str


@bp.function_name("billing")
@bp.route(route="teams/{team_id}/billing", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def billing(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        return json_response(
            service.get_billing(get_database(), claims, route_uuid(req, "team_id"))
        )

    return respond(handle)


@bp.function_name("billing_checkout")
@bp.route(
    route="teams/{team_id}/billing/checkout",
    methods=["POST"],
    auth_level=func.AuthLevel.ANONYMOUS,
)
def billing_checkout(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id = route_uuid(req, "team_id")
        body = parse_body(req, service.CheckoutCreate)
        session = service.create_checkout(
            get_database(), get_gateway(), get_settings(), claims, team_id, body
        )
        return json_response(session, HTTPStatus.CREATED)

    return respond(handle)


@bp.function_name("billing_portal")
@bp.route(
    route="teams/{team_id}/billing/portal", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS
)
def billing_portal(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id = route_uuid(req, "team_id")
        session = service.create_portal(
            get_database(), get_gateway(), get_settings(), claims, team_id
        )
        return json_response(session, HTTPStatus.CREATED)

    return respond(handle)


@bp.function_name("stripe_webhook")
@bp.route(route="stripe/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def stripe_webhook(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        settings = get_settings()
        event = webhook.verify(settings, req.get_body(), req.headers.get("Stripe-Signature"))
        outcome = webhook.handle_delivery(get_database(), get_gateway(), settings, event)
        return json_response(WebhookAck(received=True, outcome=outcome))

    return respond(handle)


@bp.function_name("billing_reconcile")
@bp.timer_trigger(
    schedule="%STRIPE_RECONCILE_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True
)
def billing_reconcile(timer: func.TimerRequest) -> None:
    settings = get_settings()
    if settings.stripe_secret_key is None or not settings.stripe_secret_key.get_secret_value():
        logger.error("billing: reconciliation skipped, STRIPE_SECRET_KEY is not set")
        return
    webhook.reconcile(get_database(), get_gateway(), settings)
