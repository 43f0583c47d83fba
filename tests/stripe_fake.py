"""A fake of Stripe's HTTP API for respx, answering in Stripe's documented wire
format (templates in tests/fixtures/stripe/), plus signed webhook requests.

The fake holds Stripe's *current* state: a subscription re-read returns what
`subscriptions[id]` is now, whatever an event's payload said at the time.
"""

import copy
import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import azure.functions as func
import httpx
import respx
import stripe

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
API = "https://api.stripe.com"
WEBHOOK_SECRET = "whsec_test_0123456789abcdef0123456789abcdef"
PRICE_PRO = "price_1ProTestMonthly"
PRICE_BUSINESS = "price_1BusinessTestMonthly"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def subscription(
    customer: str,
    *,
    sub_id: str | None = None,
    price: str = PRICE_PRO,
    status: str = "active",
    cancel_at_period_end: bool = False,
    period_start: int | None = None,
    period_end: int | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A subscription object from the documented template."""
    sub = fixture("subscription.json")
    sub["id"] = sub_id or new_id("sub")
    sub["customer"] = customer
    sub["status"] = status
    sub["cancel_at_period_end"] = cancel_at_period_end
    sub["canceled_at"] = int(time.time()) if status == "canceled" else None
    sub["metadata"] = metadata or {}
    item = sub["items"]["data"][0]
    item["subscription"] = sub["id"]
    item["price"]["id"] = price
    now = int(time.time())
    item["current_period_start"] = period_start or now - 86_400
    item["current_period_end"] = period_end or now + 29 * 86_400
    return sub


def event(kind: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    """An event from the documented template."""
    evt = fixture("event.json")
    evt["id"] = new_id("evt")
    evt["type"] = kind
    evt["created"] = created or int(time.time())
    evt["data"]["object"] = copy.deepcopy(obj)
    return evt


def invoice(customer: str, sub_id: str) -> dict[str, Any]:
    inv = fixture("invoice.json")
    inv["id"] = new_id("in")
    inv["customer"] = customer
    inv["parent"]["subscription_details"]["subscription"] = sub_id
    return inv


def checkout_completed(customer: str, sub_id: str, team_id: str) -> dict[str, Any]:
    session = fixture("checkout_session.json")
    session.update(
        status="complete",
        payment_status="paid",
        customer=customer,
        subscription=sub_id,
        client_reference_id=team_id,
        metadata={"team_id": team_id, "plan_id": "pro"},
    )
    return session


def webhook_request(
    payload: dict[str, Any] | str,
    *,
    secret: str | None = WEBHOOK_SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
) -> func.HttpRequest:
    """A delivery as Stripe sends it, signed unless `secret` is None."""
    body = payload if isinstance(payload, str) else json.dumps(payload, indent=2)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    elif secret is not None:
        headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            body, secret, timestamp=timestamp
        )
    return func.HttpRequest(
        "POST", "http://localhost/api/stripe/webhook", headers=headers, body=body.encode()
    )


def form(request: httpx.Request) -> dict[str, list[str]]:
    """The form-encoded body Stripe receives."""
    return parse_qs(request.content.decode())


class FakeStripe:
    """Stripe's current state behind respx routes."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.failed_events: list[dict[str, Any]] = []
        self.down = False
        self.router = router
        self.sub_reads = router.get(url__regex=rf"^{API}/v1/subscriptions/(?P<sid>[^/?]+)$").mock(
            side_effect=self._subscription
        )
        self.customers = router.post(f"{API}/v1/customers").mock(side_effect=self._customer)
        self.checkouts = router.post(f"{API}/v1/checkout/sessions").mock(side_effect=self._checkout)
        self.portals = router.post(f"{API}/v1/billing_portal/sessions").mock(
            side_effect=self._portal
        )
        self.events = router.get(url__startswith=f"{API}/v1/events").mock(side_effect=self._events)

    def put(self, sub: dict[str, Any]) -> dict[str, Any]:
        self.subscriptions[sub["id"]] = copy.deepcopy(sub)
        return sub

    def _error(self, status: int, code: str, message: str) -> httpx.Response:
        body = fixture("error_resource_missing.response.json")
        body["error"].update(code=code, message=message)
        headers = {"Request-Id": f"req_{uuid.uuid4().hex[:14]}", "Stripe-Should-Retry": "false"}
        return httpx.Response(status, json=body, headers=headers)

    def _subscription(self, request: httpx.Request, sid: str) -> httpx.Response:
        if self.down:
            return self._error(500, "api_error", "An unknown error occurred")
        if sid not in self.subscriptions:
            return self._error(404, "resource_missing", f"No such subscription: '{sid}'")
        return httpx.Response(200, json=self.subscriptions[sid])

    def _customer(self, request: httpx.Request) -> httpx.Response:
        fields = form(request)
        customer = fixture("customer.json")
        customer["id"] = new_id("cus")
        customer["name"] = fields.get("name", [None])[0]
        customer["metadata"] = {"team_id": fields["metadata[team_id]"][0]}
        return httpx.Response(200, json=customer)

    def _checkout(self, request: httpx.Request) -> httpx.Response:
        fields = form(request)
        session = fixture("checkout_session.json")
        session["id"] = new_id("cs_test")
        session["url"] = f"https://checkout.stripe.com/c/pay/{session['id']}"
        session["customer"] = fields["customer"][0]
        session["client_reference_id"] = fields["client_reference_id"][0]
        return httpx.Response(200, json=session)

    def _portal(self, request: httpx.Request) -> httpx.Response:
        session = fixture("portal_session.json")
        session["customer"] = form(request)["customer"][0]
        return httpx.Response(200, json=session)

    def _events(self, request: httpx.Request) -> httpx.Response:
        """`GET /v1/events`: newest first, pages of `limit`, `starting_after` honoured."""
        params = request.url.params
        gte = int(params.get("created[gte]", "0"))
        listed = sorted(
            (e for e in self.failed_events if e["created"] >= gte),
            key=lambda e: e["created"],
            reverse=True,
        )
        if after := params.get("starting_after"):
            index = next((i for i, e in enumerate(listed) if e["id"] == after), None)
            if index is None:
                return self._error(400, "resource_missing", f"No such event: '{after}'")
            listed = listed[index + 1 :]
        limit = int(params.get("limit", "10"))
        page = listed[:limit]
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": page,
                "has_more": len(listed) > limit,
                "url": "/v1/events",
            },
        )
