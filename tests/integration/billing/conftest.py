"""Fixtures of the billing integration tests: settings pointing at the test
database, and the respx fake of Stripe."""

from collections.abc import Iterator

import pytest
import respx

from shared.auth import get_token_verifier
from shared.billing.stripe_client import get_gateway
from shared.config import get_settings
from shared.db import reset_database
from tests.factories.tokens import SECRET as JWT_SECRET
from tests.factories.tokens import SUPABASE_URL
from tests.stripe_fake import PRICE_BUSINESS, PRICE_PRO, WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def billing_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    values = {
        "DATABASE_URL": database_url,
        "SUPABASE_URL": SUPABASE_URL,
        "SUPABASE_JWT_SECRET": JWT_SECRET,
        "STRIPE_SECRET_KEY": "sk_test_integration0123456789",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_PRICE_PRO": PRICE_PRO,
        "STRIPE_PRICE_BUSINESS": PRICE_BUSINESS,
        "BILLING_GRACE_PERIOD_DAYS": "7",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    caches = (get_settings, get_token_verifier, get_gateway)
    for cache in caches:
        cache.cache_clear()
    reset_database()
    yield
    reset_database()
    for cache in caches:
        cache.cache_clear()


@pytest.fixture
def stripe_fake(billing_env: None) -> Iterator[FakeStripe]:
    with respx.mock(assert_all_called=False) as router:
        yield FakeStripe(router)
