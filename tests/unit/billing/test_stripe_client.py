"""The Stripe gateway against a respx fake: what goes out, what comes back."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import respx
import stripe

from shared.billing.models import Subscription
from shared.billing.stripe_client import (
    STRIPE_API_VERSION,
    BillingNotConfigured,
    StripeGateway,
    StripeNotFound,
    StripeUnavailable,
    build_gateway,
)
from shared.config import Settings
from tests.stripe_fake import PRICE_PRO, FakeStripe, event, fixture, form, subscription

KEY = "sk_test_gateway0123456789"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with respx.mock(assert_all_called=False) as router:
        yield FakeStripe(router)


@pytest.fixture
def gateway() -> StripeGateway:
    return build_gateway(Settings(stripe_secret_key=KEY))


def test_the_pinned_version_is_the_one_stripe_python_is_generated_for() -> None:
    assert stripe.api_version == STRIPE_API_VERSION


def test_retrieve_subscription_sends_the_pinned_version(
    fake: FakeStripe, gateway: StripeGateway
) -> None:
    sub = fake.put(subscription("cus_A1", period_start=1764000000, period_end=1766592000))
    got = gateway.retrieve_subscription(sub["id"])
    request = fake.sub_reads.calls.last.request
    assert request.headers["Stripe-Version"] == STRIPE_API_VERSION
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert got.id == sub["id"]
    assert got.customer == "cus_A1"
    assert got.price_ids() == [PRICE_PRO]
    assert got.period == (
        datetime.fromtimestamp(1764000000, UTC),
        datetime.fromtimestamp(1766592000, UTC),
    )


def test_a_missing_subscription_is_not_found(fake: FakeStripe, gateway: StripeGateway) -> None:
    with pytest.raises(StripeNotFound):
        gateway.retrieve_subscription("sub_doesNotExist")


def test_a_stripe_outage_is_unavailable(fake: FakeStripe, gateway: StripeGateway) -> None:
    fake.down = True
    sub = fake.put(subscription("cus_A1"))
    with pytest.raises(StripeUnavailable):
        gateway.retrieve_subscription(sub["id"])


def test_checkout_session_form(fake: FakeStripe, gateway: StripeGateway) -> None:
    session = gateway.create_checkout_session(
        team_id="t-1",
        customer_id="cus_A1",
        price_id=PRICE_PRO,
        plan_id="pro",
        success_url="https://app.test/ok",
        cancel_url="https://app.test/no",
    )
    request = fake.checkouts.calls.last.request
    sent = form(request)
    assert sent["mode"] == ["subscription"]
    assert sent["customer"] == ["cus_A1"]
    assert sent["line_items[0][price]"] == [PRICE_PRO]
    assert sent["line_items[0][quantity]"] == ["1"]
    assert sent["metadata[team_id]"] == ["t-1"]
    assert sent["subscription_data[metadata][team_id]"] == ["t-1"]
    assert sent["success_url"] == ["https://app.test/ok"]
    assert sent["cancel_url"] == ["https://app.test/no"]
    assert request.headers["Idempotency-Key"]
    assert session.url
    assert session.url.startswith("https://checkout.stripe.com/")


def test_customer_creation_is_idempotent_per_team(fake: FakeStripe, gateway: StripeGateway) -> None:
    gateway.create_customer("team-42", "Acme")
    request = fake.customers.calls.last.request
    assert request.headers["Idempotency-Key"] == "streamtrack-customer-team-42"
    assert form(request)["metadata[team_id]"] == ["team-42"]


def test_failed_events_are_listed_by_delivery_and_window(
    fake: FakeStripe, gateway: StripeGateway
) -> None:
    newer = event("invoice.paid", fixture("invoice.json"), created=1764000100)
    older = event("invoice.paid", fixture("invoice.json"), created=1764000000)
    fake.failed_events = [older, newer]
    page = gateway.list_failed_events(datetime.fromtimestamp(1763000000, UTC), newer["id"])
    params = fake.events.calls.last.request.url.params
    assert params["delivery_success"] == "false"
    assert params["created[gte]"] == "1763000000"
    assert params["starting_after"] == newer["id"]
    assert params["limit"] == "100"
    assert [e.id for e in page.data] == [older["id"]]
    assert page.has_more is False


def test_no_secret_key_is_a_configuration_error() -> None:
    with pytest.raises(BillingNotConfigured):
        build_gateway(Settings(stripe_secret_key=""))


def test_the_documented_subscription_parses() -> None:
    sub = Subscription.model_validate(fixture("subscription.json"))
    assert sub.status == "active"
    assert sub.items.data[0].price.id == "price_1MowQULkdIwHu7ixraEm8TS5"
