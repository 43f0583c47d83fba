"""`/api/teams/{team_id}/billing[/checkout|/portal]` by role, MFA and membership."""

import json
import time
import uuid
from typing import Any

import azure.functions as func
import jwt
import pytest
from azure.functions.decorators.function_app import Function

from shared.billing.stripe_client import get_gateway
from shared.config import get_settings
from shared.db import Database
from tests.factories.tokens import SECRET as JWT_SECRET
from tests.factories.tokens import SUPABASE_URL
from tests.factories.users import create_user
from tests.integration.billing.support import Team, make_team
from tests.stripe_fake import PRICE_BUSINESS, PRICE_PRO, FakeStripe, form, subscription

ROLES = ("admin", "member", "viewer")


def token(user: uuid.UUID, aal: str = "aal1") -> str:
    now = int(time.time())
    claims = {
        "sub": str(user),
        "role": "authenticated",
        "aud": "authenticated",
        "iss": f"{SUPABASE_URL}/auth/v1",
        "exp": now + 3600,
        "iat": now,
        "aal": aal,
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def call(
    app_functions: dict[str, Function],
    name: str,
    team_id: uuid.UUID | str,
    user: uuid.UUID | None,
    *,
    aal: str = "aal1",
    body: dict[str, Any] | None = None,
) -> func.HttpResponse:
    suffix = {"billing": "", "billing_checkout": "/checkout", "billing_portal": "/portal"}[name]
    headers = {"Content-Type": "application/json"}
    if user is not None:
        headers["Authorization"] = f"Bearer {token(user, aal)}"
    request = func.HttpRequest(
        "GET" if name == "billing" else "POST",
        f"http://localhost/api/teams/{team_id}/billing{suffix}",
        headers=headers,
        route_params={"team_id": str(team_id)},
        body=json.dumps(body).encode() if body is not None else b"",
    )
    response: func.HttpResponse = app_functions[name].get_user_function()(request)
    return response


def who(team: Team, role: str, database: Database) -> uuid.UUID:
    if role == "owner":
        return team.owner
    if role == "non-member":
        return create_user(database)
    return team.members[role]


def customer_of(database: Database, team_id: uuid.UUID) -> str | None:
    with database.service() as conn:
        row = conn.execute(
            "select stripe_customer_id from public.billing_customers where team_id = %s",
            (team_id,),
        ).fetchone()
    return str(row[0]) if row else None


# --- GET billing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("admin", 200), ("member", 200), ("viewer", 200), ("non-member", 404)],
)
def test_members_see_billing_and_nobody_else(
    app_functions: dict[str, Function],
    database: Database,
    stripe_fake: FakeStripe,
    role: str,
    status: int,
) -> None:
    team = make_team(database, plan="pro", roles=ROLES)
    end = int(time.time()) + 86_400
    with database.service() as conn:
        conn.execute(
            "insert into public.billing_subscriptions (stripe_subscription_id, team_id, plan_id, "
            "status, current_period_end, cancel_at_period_end) "
            "values (%s, %s, 'pro', 'active', to_timestamp(%s), true)",
            (f"sub_api{uuid.uuid4().hex[:10]}", team.id, end),
        )
    response = call(app_functions, "billing", team.id, who(team, role, database))
    assert response.status_code == status
    if status == 200:
        body = json.loads(response.get_body())
        assert body["plan"]["id"] == "pro"
        assert body["plan"]["max_channels"] == 25
        assert body["status"] == "active"
        assert body["cancel_at_period_end"] is True
        assert body["current_period_end"].startswith(time.strftime("%Y-%m-%d", time.gmtime(end)))
    else:
        assert response.mimetype == "application/problem+json"


def test_billing_of_a_team_without_subscription(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database, customer=False)
    body = json.loads(call(app_functions, "billing", team.id, team.owner).get_body())
    assert body["plan"]["id"] == "free"
    assert body["status"] is None
    assert body["paused_by_plan"] == 0


@pytest.mark.parametrize("name", ["billing", "billing_checkout", "billing_portal"])
def test_no_token_is_401_and_a_bad_team_id_404(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe, name: str
) -> None:
    team = make_team(database)
    assert call(app_functions, name, team.id, None, body={"plan_id": "pro"}).status_code == 401
    bad = call(app_functions, name, "not-a-uuid", team.owner, body={"plan_id": "pro"})
    assert bad.status_code == 404


# --- checkout ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 201), ("admin", 403), ("member", 403), ("viewer", 403), ("non-member", 404)],
)
def test_checkout_is_for_owners(
    app_functions: dict[str, Function],
    database: Database,
    stripe_fake: FakeStripe,
    role: str,
    status: int,
) -> None:
    team = make_team(database, customer=False, roles=ROLES)
    user = who(team, role, database)
    response = call(app_functions, "billing_checkout", team.id, user, body={"plan_id": "pro"})
    assert response.status_code == status, response.get_body()
    if status != 201:
        assert response.mimetype == "application/problem+json"
        assert not stripe_fake.customers.called
        assert not stripe_fake.checkouts.called
        assert customer_of(database, team.id) is None
        return
    session = json.loads(response.get_body())
    assert session["url"].startswith("https://checkout.stripe.com/")
    customer = customer_of(database, team.id)
    assert customer is not None
    sent = form(stripe_fake.checkouts.calls.last.request)
    assert sent["customer"] == [customer]
    assert sent["mode"] == ["subscription"]
    assert sent["line_items[0][price]"] == [PRICE_PRO]
    assert sent["metadata[team_id]"] == [str(team.id)]
    assert sent["client_reference_id"] == [str(team.id)]
    assert sent["success_url"] == [get_settings().billing_success_url]
    assert sent["cancel_url"] == [get_settings().billing_cancel_url]
    assert form(stripe_fake.customers.calls.last.request)["metadata[team_id]"] == [str(team.id)]


@pytest.mark.parametrize(("aal", "status"), [("aal1", 403), ("aal2", 201)])
@pytest.mark.parametrize("name", ["billing_checkout", "billing_portal"])
def test_an_mfa_team_needs_aal2(
    app_functions: dict[str, Function],
    database: Database,
    stripe_fake: FakeStripe,
    name: str,
    aal: str,
    status: int,
) -> None:
    team = make_team(database, require_mfa=True)
    body = {"plan_id": "business"}
    response = call(app_functions, name, team.id, team.owner, aal=aal, body=body)
    assert response.status_code == status, response.get_body()
    if status == 403:
        assert "aal2" in json.loads(response.get_body())["detail"]
        assert not stripe_fake.checkouts.called
        assert not stripe_fake.portals.called


def test_checkout_reuses_the_teams_customer(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database, customer=True)
    response = call(
        app_functions, "billing_checkout", team.id, team.owner, body={"plan_id": "business"}
    )
    assert response.status_code == 201
    assert not stripe_fake.customers.called
    sent = form(stripe_fake.checkouts.calls.last.request)
    assert sent["customer"] == [team.customer]
    assert sent["line_items[0][price]"] == [PRICE_BUSINESS]


def test_checkout_with_a_live_subscription_is_409(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database, plan="pro")
    sub = subscription(team.customer)
    with database.service() as conn:
        conn.execute(
            "insert into public.billing_subscriptions (stripe_subscription_id, team_id, plan_id, "
            "status) values (%s, %s, 'pro', 'active')",
            (sub["id"], team.id),
        )
    body = {"plan_id": "business"}
    assert (
        call(app_functions, "billing_checkout", team.id, team.owner, body=body).status_code == 409
    )
    assert not stripe_fake.checkouts.called


@pytest.mark.parametrize("body", [{"plan_id": "free"}, {"plan_id": "gold"}, {}])
def test_checkout_needs_a_paid_plan(
    app_functions: dict[str, Function],
    database: Database,
    stripe_fake: FakeStripe,
    body: dict[str, Any],
) -> None:
    team = make_team(database)
    response = call(app_functions, "billing_checkout", team.id, team.owner, body=body)
    assert response.status_code == 422
    assert "plan_id" in json.loads(response.get_body())["detail"]


def test_checkout_without_stripe_configured_is_503(
    app_functions: dict[str, Function],
    database: Database,
    stripe_fake: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STRIPE_SECRET_KEY")
    get_settings.cache_clear()
    get_gateway.cache_clear()
    team = make_team(database, customer=False)
    response = call(app_functions, "billing_checkout", team.id, team.owner, body={"plan_id": "pro"})
    assert response.status_code == 503
    assert customer_of(database, team.id) is None


# --- portal -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 201), ("admin", 403), ("member", 403), ("viewer", 403), ("non-member", 404)],
)
def test_portal_is_for_owners(
    app_functions: dict[str, Function],
    database: Database,
    stripe_fake: FakeStripe,
    role: str,
    status: int,
) -> None:
    team = make_team(database, roles=ROLES)
    response = call(app_functions, "billing_portal", team.id, who(team, role, database))
    assert response.status_code == status
    if status == 201:
        assert json.loads(response.get_body())["url"].startswith("https://billing.stripe.com/")
        sent = form(stripe_fake.portals.calls.last.request)
        assert sent["customer"] == [team.customer]
        assert sent["return_url"] == [get_settings().billing_portal_return_url]
    else:
        assert not stripe_fake.portals.called


def test_portal_without_a_customer_is_409(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database, customer=False)
    assert call(app_functions, "billing_portal", team.id, team.owner).status_code == 409
    assert not stripe_fake.portals.called
