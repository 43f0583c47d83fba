"""One `stripe.StripeClient` per process: stripe-python over its httpx client
(so tests fake Stripe at the HTTP boundary with respx), the API version
pinned, stripe-python's own retries (idempotency keys on every POST, so a
retried create never creates twice).

Responses are read raw and parsed into `shared.billing.models` right here:
the rest of the code never sees a `StripeObject` or a dict.
"""

import logging
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, TypeVar

import stripe
from pydantic import BaseModel, ValidationError

from shared.billing.models import (
    CheckoutSession,
    Customer,
    EventList,
    PortalSession,
    Subscription,
)
from shared.config import Settings, get_settings
from shared.errors import Unavailable

logger = logging.getLogger(__name__)

STRIPE_API_VERSION: Final = "2026-10-28.endive"
"""The version stripe-python 16.1 is generated for (`stripe._api_version`). Events
are rendered in the endpoint's version, objects read here in this one."""

MAX_NETWORK_RETRIES: Final = 2
TIMEOUT_S: Final = 20.0
M = TypeVar("M", bound=BaseModel)


class BillingNotConfigured(Unavailable):
    """A Stripe setting the request needs is not set."""


class StripeUnavailable(Unavailable):
    """Stripe did not answer, or answered with an error."""


class StripeNotFound(StripeUnavailable):
    """Stripe says the object does not exist (`resource_missing`): for a create, a
    misconfigured id (a price, say), so it is still a 503 to the client."""


class StripeGateway:
    """The Stripe calls StreamTrack makes, each returning a parsed model."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def _call(self, model: type[M], method: str, path: str, **params: Any) -> M:
        try:
            response = self._client.raw_request(method, path, **params)
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                raise StripeNotFound(str(exc.user_message or exc)) from None
            raise StripeUnavailable(f"Stripe refused {method.upper()} {path}: {exc}") from None
        except stripe.StripeError as exc:
            logger.warning("stripe: %s %s failed: %s", method.upper(), path, type(exc).__name__)
            raise StripeUnavailable(f"Stripe is unavailable ({type(exc).__name__})") from None
        try:
            return model.model_validate_json(response.body)
        except ValidationError as exc:
            raise StripeUnavailable(f"unexpected {model.__name__} from Stripe: {exc}") from None

    def retrieve_subscription(self, subscription_id: str) -> Subscription:
        return self._call(Subscription, "get", f"/v1/subscriptions/{subscription_id}")

    def create_customer(self, team_id: str, name: str) -> Customer:
        return self._call(
            Customer,
            "post",
            "/v1/customers",
            name=name,
            metadata={"team_id": team_id},
            # one customer per team, however often the owner clicks
            idempotency_key=f"streamtrack-customer-{team_id}",
        )

    def create_checkout_session(
        self,
        *,
        team_id: str,
        customer_id: str,
        price_id: str,
        plan_id: str,
        success_url: str,
        cancel_url: str,
    ) -> CheckoutSession:
        """stripe-python adds an idempotency key of its own, so its retries are safe."""
        metadata = {"team_id": team_id, "plan_id": plan_id}
        return self._call(
            CheckoutSession,
            "post",
            "/v1/checkout/sessions",
            mode="subscription",
            customer=customer_id,
            client_reference_id=team_id,
            line_items=[{"price": price_id, "quantity": 1}],
            success_url=success_url,
            cancel_url=cancel_url,
            metadata=metadata,
            subscription_data={"metadata": metadata},
        )

    def create_portal_session(self, customer_id: str, return_url: str) -> PortalSession:
        return self._call(
            PortalSession,
            "post",
            "/v1/billing_portal/sessions",
            customer=customer_id,
            return_url=return_url,
        )

    def list_failed_events(self, since: datetime, starting_after: str | None = None) -> EventList:
        params: dict[str, Any] = {
            "delivery_success": "false",
            "created": {"gte": int(since.timestamp())},
            "limit": 100,
        }
        if starting_after:
            params["starting_after"] = starting_after
        return self._call(EventList, "get", "/v1/events", **params)


def build_gateway(settings: Settings) -> StripeGateway:
    key = settings.stripe_secret_key.get_secret_value() if settings.stripe_secret_key else ""
    if not key:
        raise BillingNotConfigured("billing is not configured (STRIPE_SECRET_KEY)")
    client = stripe.StripeClient(
        key,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": settings.stripe_api_url.rstrip("/")},
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.HTTPXClient(timeout=TIMEOUT_S, allow_sync_methods=True),
    )
    return StripeGateway(client)


@lru_cache(maxsize=1)
def get_gateway() -> StripeGateway:
    """The process-wide gateway (tests clear this cache with the settings')."""
    return build_gateway(get_settings())
