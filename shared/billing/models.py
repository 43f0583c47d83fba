"""The Stripe objects StreamTrack reads, in Stripe's wire format (API version
pinned in `stripe_client.STRIPE_API_VERSION`). Only the fields used are
declared; Stripe adds fields freely, so extra ones are ignored.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _epoch(value: Any) -> Any:
    """Stripe timestamps are Unix seconds; keep them timezone-aware UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return value


Timestamp = Annotated[datetime, BeforeValidator(_epoch)]


def _id_of(value: Any) -> Any:
    """An expandable field is an id or the expanded object; keep the id."""
    if isinstance(value, dict):
        return value.get("id")
    return value


ExpandableId = Annotated[str, BeforeValidator(_id_of)]


class StripeModel(BaseModel):
    """Base of every Stripe model: unknown fields ignored, instances frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True)


SubscriptionStatus = Literal[
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
]


class Price(StripeModel):
    """A price (only its id matters: settings map price ids to plans)."""

    id: str


class ObjectRef(StripeModel):
    """Any Stripe object, by id: all an event payload is trusted for."""

    object: str
    id: str


class SubscriptionItem(StripeModel):
    """One item of a subscription; carries the current period since API 2025-03-31."""

    id: str
    price: Price
    quantity: int | None = None
    current_period_start: Timestamp | None = None
    current_period_end: Timestamp | None = None


class SubscriptionItems(StripeModel):
    """The `items` list of a subscription."""

    data: list[SubscriptionItem] = Field(default_factory=list)


class Subscription(StripeModel):
    """A Stripe subscription."""

    object: Literal["subscription"]
    id: str = Field(pattern=r"^sub_[A-Za-z0-9]+$")
    customer: ExpandableId
    status: SubscriptionStatus
    cancel_at_period_end: bool = False
    canceled_at: Timestamp | None = None
    items: SubscriptionItems
    metadata: dict[str, str] = Field(default_factory=dict)

    @property
    def period(self) -> tuple[datetime | None, datetime | None]:
        """The current period over the items: earliest start, latest end."""
        starts = [i.current_period_start for i in self.items.data if i.current_period_start]
        ends = [i.current_period_end for i in self.items.data if i.current_period_end]
        return (min(starts) if starts else None, max(ends) if ends else None)

    def price_ids(self) -> list[str]:
        return [item.price.id for item in self.items.data]


class CheckoutSession(StripeModel):
    """A Checkout Session (created by StreamTrack, or in a webhook)."""

    object: Literal["checkout.session"]
    id: str
    url: str | None = None
    mode: str | None = None
    customer: ExpandableId | None = None
    subscription: ExpandableId | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class PortalSession(StripeModel):
    """A customer portal session."""

    object: Literal["billing_portal.session"]
    id: str
    url: str


class Customer(StripeModel):
    """A Stripe customer."""

    object: Literal["customer"]
    id: str = Field(pattern=r"^cus_[A-Za-z0-9]+$")
    metadata: dict[str, str] = Field(default_factory=dict)


class SubscriptionDetails(StripeModel):
    """`invoice.parent.subscription_details` (API 2025-03-31 and later)."""

    subscription: ExpandableId | None = None


class InvoiceParent(StripeModel):
    """`invoice.parent`: what the invoice bills."""

    subscription_details: SubscriptionDetails | None = None


class Invoice(StripeModel):
    """An invoice; only the subscription it belongs to is read."""

    object: Literal["invoice"]
    id: str | None = None
    customer: ExpandableId | None = None
    parent: InvoiceParent | None = None
    subscription: ExpandableId | None = None
    """Before API 2025-03-31 (events created under an older default version)."""

    @property
    def subscription_id(self) -> str | None:
        if self.parent and self.parent.subscription_details:
            sub = self.parent.subscription_details.subscription
            if sub:
                return sub
        return self.subscription


class EventData(StripeModel):
    """`event.data`: the object as it was when the event happened."""

    object: dict[str, Any]


class Event(StripeModel):
    """A Stripe event (a webhook delivery or an item of `GET /v1/events`)."""

    object: Literal["event"]
    id: str = Field(pattern=r"^evt_[A-Za-z0-9]+$")
    type: str
    created: Timestamp
    livemode: bool = False
    api_version: str | None = None
    data: EventData


class EventList(StripeModel):
    """A page of `GET /v1/events`."""

    object: Literal["list"]
    data: list[Event]
    has_more: bool
