"""`POST /api/stripe/webhook` and the reconciliation, against the real database
and a respx fake of Stripe's HTTP API."""

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import httpx
import pytest
from azure.functions.decorators.function_app import Function

from shared.billing import store, webhook
from shared.billing.models import Subscription
from shared.billing.stripe_client import get_gateway
from shared.config import get_settings
from shared.db import Database
from tests.integration.billing.support import Team, make_team, paused, team_plan
from tests.stripe_fake import (
    PRICE_BUSINESS,
    FakeStripe,
    checkout_completed,
    event,
    invoice,
    subscription,
    webhook_request,
)


def deliver(app_functions: dict[str, Function], request: func.HttpRequest) -> func.HttpResponse:
    response: func.HttpResponse = app_functions["stripe_webhook"].get_user_function()(request)
    return response


def send(app_functions: dict[str, Function], evt: dict[str, Any]) -> dict[str, Any]:
    response = deliver(app_functions, webhook_request(evt))
    assert response.status_code == 200, response.get_body()
    body: dict[str, Any] = json.loads(response.get_body())
    return body


def event_row(database: Database, event_id: str) -> dict[str, Any] | None:
    with database.service() as conn:
        row = conn.execute(
            "select type, processed_at, attempts, last_error from public.stripe_events "
            "where id = %s",
            (event_id,),
        ).fetchone()
    if row is None:
        return None
    return {"type": row[0], "processed_at": row[1], "attempts": row[2], "last_error": row[3]}


def sub_row(database: Database, sub_id: str) -> dict[str, Any] | None:
    with database.service() as conn:
        row = conn.execute(
            "select team_id, plan_id, status, cancel_at_period_end, current_period_end, "
            "grace_until, price_id from public.billing_subscriptions "
            "where stripe_subscription_id = %s",
            (sub_id,),
        ).fetchone()
    if row is None:
        return None
    keys = (
        "team_id",
        "plan_id",
        "status",
        "cancel_at_period_end",
        "current_period_end",
        "grace_until",
        "price_id",
    )
    return dict(zip(keys, row, strict=True))


def audit(database: Database, team: Team, action: str) -> list[dict[str, Any]]:
    with database.service() as conn:
        rows = conn.execute(
            "select details from public.audit_log where team_id = %s and action = %s order by id",
            (team.id, action),
        ).fetchall()
    return [row[0] for row in rows]


# --- signatures and configuration ------------------------------------------------


@pytest.mark.parametrize("case", ["bad", "stale", "missing", "garbled"])
def test_bad_signatures_are_400_and_write_nothing(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe, case: str
) -> None:
    team = make_team(database)
    sub = stripe_fake.put(subscription(team.customer))
    evt = event("customer.subscription.created", sub)
    request = {
        "bad": lambda: webhook_request(evt, secret="whsec_someone_else"),
        "stale": lambda: webhook_request(evt, timestamp=int(time.time()) - 600),
        "missing": lambda: webhook_request(evt, secret=None),
        "garbled": lambda: webhook_request(evt, signature="t=1,v1=deadbeef"),
    }[case]()
    response = deliver(app_functions, request)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert json.loads(response.get_body())["status"] == 400
    assert event_row(database, evt["id"]) is None
    assert sub_row(database, sub["id"]) is None
    assert not stripe_fake.sub_reads.called


def test_a_signed_body_is_verified_byte_for_byte(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    evt = event("customer.subscription.created", subscription(team.customer))
    signed = webhook_request(evt)
    tampered = func.HttpRequest(
        "POST",
        signed.url,
        headers=dict(signed.headers),
        body=signed.get_body().replace(b'"active"', b'"trialing"'),
    )
    assert deliver(app_functions, tampered).status_code == 400
    assert event_row(database, evt["id"]) is None


@pytest.mark.parametrize("unset", ["STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY"])
def test_no_secret_is_503_logged_and_writes_nothing(
    app_functions: dict[str, Function],
    database: Database,
    stripe_fake: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    unset: str,
) -> None:
    monkeypatch.delenv(unset)
    get_settings.cache_clear()
    get_gateway.cache_clear()
    team = make_team(database)
    evt = event("customer.subscription.created", stripe_fake.put(subscription(team.customer)))
    with caplog.at_level(logging.ERROR, logger="shared.billing"):
        response = deliver(app_functions, webhook_request(evt))
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert any("not set" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert event_row(database, evt["id"]) is None


# --- processing --------------------------------------------------------------------


def test_checkout_completed_stores_the_subscription_and_upgrades(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database, customer=False)
    customer = "cus_checkoutNew" + uuid.uuid4().hex[:8]
    sub = stripe_fake.put(subscription(customer, metadata={"team_id": str(team.id)}))
    body = send(
        app_functions,
        event("checkout.session.completed", checkout_completed(customer, sub["id"], str(team.id))),
    )
    assert body == {"received": True, "outcome": "processed"}
    assert team_plan(database, team.id) == "pro"
    stored = sub_row(database, sub["id"])
    assert stored is not None
    assert stored["status"] == "active"
    assert stored["team_id"] == team.id
    period_end = sub["items"]["data"][0]["current_period_end"]
    assert stored["current_period_end"] == datetime.fromtimestamp(period_end, UTC)
    with database.service() as conn:
        row = conn.execute(
            "select stripe_customer_id from public.billing_customers where team_id = %s",
            (team.id,),
        ).fetchone()
    assert row == (customer,)
    assert [a["to"] for a in audit(database, team, "billing.plan_change")] == ["pro"]


def test_a_replayed_event_is_a_no_op(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    evt = event("customer.subscription.created", stripe_fake.put(subscription(team.customer)))
    assert send(app_functions, evt)["outcome"] == "processed"
    reads = stripe_fake.sub_reads.call_count
    assert send(app_functions, evt)["outcome"] == "duplicate"
    assert send(app_functions, evt)["outcome"] == "duplicate"
    assert stripe_fake.sub_reads.call_count == reads
    row = event_row(database, evt["id"])
    assert row is not None
    assert row["attempts"] == 1
    assert row["processed_at"] is not None
    assert len(audit(database, team, "billing.plan_change")) == 1


def test_updated_before_created_ends_in_the_current_state(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    current = stripe_fake.put(subscription(team.customer, status="active"))
    created_then = {**current, "status": "incomplete"}
    send(app_functions, event("customer.subscription.updated", current))
    send(
        app_functions,
        event("customer.subscription.created", created_then, created=int(time.time()) - 60),
    )
    stored = sub_row(database, current["id"])
    assert stored is not None
    assert stored["status"] == "active"
    assert team_plan(database, team.id) == "pro"


def test_deleted_then_a_stale_updated_stays_canceled(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    active = stripe_fake.put(subscription(team.customer))
    send(app_functions, event("customer.subscription.created", active))
    assert team_plan(database, team.id) == "pro"
    canceled = stripe_fake.put({**active, "status": "canceled", "canceled_at": int(time.time())})
    send(app_functions, event("customer.subscription.deleted", canceled))
    send(
        app_functions,
        event("customer.subscription.updated", active, created=int(time.time()) - 120),
    )
    stored = sub_row(database, active["id"])
    assert stored is not None
    assert stored["status"] == "canceled"
    assert team_plan(database, team.id) == "free"


def test_a_deleted_subscription_gone_from_stripe_uses_the_deletion_payload(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    active = stripe_fake.put(subscription(team.customer))
    send(app_functions, event("customer.subscription.created", active))
    del stripe_fake.subscriptions[active["id"]]
    send(app_functions, event("customer.subscription.deleted", {**active, "status": "canceled"}))
    assert team_plan(database, team.id) == "free"


def test_a_stale_read_never_overwrites_a_newer_one(database: Database, billing_env: None) -> None:
    """Two deliveries racing: the one that read Stripe later wins, whoever commits last."""
    team = make_team(database)
    newer = Subscription.model_validate(subscription(team.customer, status="canceled"))
    older = Subscription.model_validate({**subscription(team.customer), "id": newer.id})
    t2 = datetime.now(UTC)
    settings = get_settings()
    with database.service() as conn:
        assert store.lock_team(conn, team.id)
        assert store.store_subscription(
            conn,
            team.id,
            newer,
            read_at=t2,
            plan_for_price=webhook.price_plans(settings),
            grace_days=7,
        )
        assert not store.store_subscription(
            conn,
            team.id,
            older,
            read_at=t2 - timedelta(seconds=1),
            plan_for_price=webhook.price_plans(settings),
            grace_days=7,
        )
    stored = sub_row(database, newer.id)
    assert stored is not None
    assert stored["status"] == "canceled"


def test_unknown_types_are_200_and_ignored(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    evt = event("customer.tax_id.created", {"id": "txi_123", "object": "tax_id"})
    assert send(app_functions, evt)["outcome"] == "ignored"
    row = event_row(database, evt["id"])
    assert row is not None
    assert row["processed_at"] is not None
    assert not stripe_fake.sub_reads.called


def test_a_subscription_of_no_team_is_ignored(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    sub = stripe_fake.put(subscription("cus_someoneElse" + uuid.uuid4().hex[:6]))
    assert send(app_functions, event("customer.subscription.created", sub))["outcome"] == "ignored"
    assert sub_row(database, sub["id"]) is None


def test_a_stripe_failure_is_503_recorded_and_retried_later(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    evt = event("customer.subscription.created", stripe_fake.put(subscription(team.customer)))
    stripe_fake.down = True
    response = deliver(app_functions, webhook_request(evt))
    assert response.status_code == 503
    row = event_row(database, evt["id"])
    assert row is not None
    assert row["processed_at"] is None
    assert row["attempts"] == 1
    assert row["last_error"]
    assert team_plan(database, team.id) == "free"

    stripe_fake.down = False  # Stripe delivers again
    assert send(app_functions, evt)["outcome"] == "processed"
    row = event_row(database, evt["id"])
    assert row is not None
    assert row["processed_at"] is not None
    assert row["attempts"] == 2
    assert row["last_error"] is None
    assert team_plan(database, team.id) == "pro"


# --- entitlements ------------------------------------------------------------------


def test_downgrade_pauses_newest_and_upgrade_resumes(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database, plan="free", channels=6)
    first = stripe_fake.put(subscription(team.customer))
    send(app_functions, event("customer.subscription.created", first))
    assert team_plan(database, team.id) == "pro"
    assert paused(database, team) == {}

    # a member pauses the oldest channel on their own
    with database.service() as conn:
        conn.execute(
            "update public.team_channels set paused_at = now() "
            "where team_id = %s and channel_id = %s",
            (team.id, team.channels[0]),
        )
    canceled = stripe_fake.put({**first, "status": "canceled"})
    send(app_functions, event("customer.subscription.deleted", canceled))
    assert team_plan(database, team.id) == "free"
    # free allows 3: of the five still tracked, the two most recently added pause
    assert paused(database, team) == {
        team.channels[0]: False,
        team.channels[4]: True,
        team.channels[5]: True,
    }
    downgrade = audit(database, team, "billing.downgrade")
    assert downgrade[-1]["paused_channel_ids"] == [str(team.channels[5]), str(team.channels[4])]
    assert downgrade[-1]["max_channels"] == 3
    with database.service() as conn:
        count = conn.execute(
            "select count(*) from public.team_channels where team_id = %s", (team.id,)
        ).fetchone()
    assert count == (6,), "nothing is deleted"

    second = stripe_fake.put(subscription(team.customer, price=PRICE_BUSINESS))
    send(app_functions, event("customer.subscription.created", second))
    assert team_plan(database, team.id) == "business"
    assert paused(database, team) == {team.channels[0]: False}
    upgrade = audit(database, team, "billing.upgrade")
    assert upgrade[-1]["resumed_channel_ids"] == [str(team.channels[4]), str(team.channels[5])]


def test_a_failed_payment_keeps_the_plan_through_the_grace_period(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database, plan="free", channels=5)
    sub = stripe_fake.put(subscription(team.customer))
    send(app_functions, event("customer.subscription.created", sub))
    past_due = stripe_fake.put({**sub, "status": "past_due"})
    before = datetime.now(UTC)
    send(app_functions, event("invoice.payment_failed", invoice(team.customer, sub["id"])))
    stored = sub_row(database, sub["id"])
    assert stored is not None
    assert stored["status"] == "past_due"
    grace = stored["grace_until"]
    assert before + timedelta(days=7) <= grace <= datetime.now(UTC) + timedelta(days=7)
    assert team_plan(database, team.id) == "pro"

    # another failed attempt does not extend the grace
    send(app_functions, event("customer.subscription.updated", past_due))
    stored = sub_row(database, sub["id"])
    assert stored is not None
    assert stored["grace_until"] == grace

    settings, gateway = get_settings(), get_gateway()
    webhook.reconcile(database, gateway, settings, now=lambda: grace - timedelta(minutes=1))
    assert team_plan(database, team.id) == "pro"
    report = webhook.reconcile(
        database, gateway, settings, now=lambda: grace + timedelta(minutes=1)
    )
    assert report.teams_reevaluated >= 1
    assert team_plan(database, team.id) == "free"
    assert len(paused(database, team)) == 2

    # paid at last: back on pro, channels resumed, grace cleared
    stripe_fake.put({**sub, "status": "active"})
    send(app_functions, event("invoice.paid", invoice(team.customer, sub["id"])))
    stored = sub_row(database, sub["id"])
    assert stored is not None
    assert stored["grace_until"] is None
    assert team_plan(database, team.id) == "pro"
    assert paused(database, team) == {}


def test_cancellation_at_period_end_downgrades_when_the_period_ends(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    end = int(time.time()) + 3 * 86_400
    sub = stripe_fake.put(subscription(team.customer, cancel_at_period_end=True, period_end=end))
    send(app_functions, event("customer.subscription.updated", sub))
    assert team_plan(database, team.id) == "pro"
    period_end = datetime.fromtimestamp(end, UTC)
    settings, gateway = get_settings(), get_gateway()
    webhook.reconcile(database, gateway, settings, now=lambda: period_end - timedelta(seconds=1))
    assert team_plan(database, team.id) == "pro"
    webhook.reconcile(database, gateway, settings, now=lambda: period_end + timedelta(seconds=1))
    assert team_plan(database, team.id) == "free"
    changes = audit(database, team, "billing.plan_change")
    assert [c["to"] for c in changes] == ["pro", "free"]
    assert changes[-1]["cause"] == "reconcile"


# --- reconciliation ----------------------------------------------------------------


def test_reconcile_processes_failed_deliveries_not_yet_recorded(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    teams = [make_team(database) for _ in range(3)]
    subs = [stripe_fake.put(subscription(t.customer)) for t in teams]
    now = int(time.time())
    events = [
        event("customer.subscription.created", s, created=now - 3600 * (i + 1))
        for i, s in enumerate(subs)
    ]
    send(app_functions, events[0])  # this one did arrive after all
    too_old = event(
        "customer.subscription.created",
        stripe_fake.put(subscription(make_team(database).customer)),
        created=now - 31 * 86_400,
    )
    stripe_fake.failed_events = [*events, too_old]
    reads = stripe_fake.sub_reads.call_count

    page_size = 2
    original = stripe_fake.events.side_effect

    def small_pages(request: Any) -> Any:
        url = request.url.copy_set_param("limit", str(page_size))
        return original(request.__class__(request.method, url, headers=request.headers))

    stripe_fake.events.side_effect = small_pages
    report = webhook.reconcile(database, get_gateway(), get_settings())
    assert report.events_listed == 3
    assert report.events_processed == 2
    assert stripe_fake.sub_reads.call_count == reads + 2
    assert stripe_fake.events.call_count == 2
    second = stripe_fake.events.calls[1].request.url.params
    assert second["starting_after"] == events[1]["id"]
    assert all(team_plan(database, t.id) == "pro" for t in teams)


# --- concurrency -------------------------------------------------------------------


def test_deliveries_for_one_team_wait_for_each_other(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    evt = event("customer.subscription.created", stripe_fake.put(subscription(team.customer)))
    results: list[int] = []
    with database.service() as conn:
        # another delivery for the same team holds its lock
        assert store.lock_team(conn, team.id)
        worker = threading.Thread(
            target=lambda: results.append(deliver(app_functions, webhook_request(evt)).status_code)
        )
        worker.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _waiting_on_lock(database):
            time.sleep(0.05)
        assert _waiting_on_lock(database), "the delivery waits for the team's lock"
        assert results == []
    worker.join(10)
    assert results == [200]
    assert team_plan(database, team.id) == "pro"


def _waiting_on_lock(database: Database) -> bool:
    with database.service() as conn:
        row = conn.execute(
            "select count(*) from pg_stat_activity "
            "where wait_event_type = 'Lock' and query like %s",
            ("%for no key update%",),
        ).fetchone()
    return bool(row and row[0])


def test_an_invoice_without_subscription_leaves_the_plan_alone(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database, plan="business")  # e.g. a plan set by hand, no subscription
    one_off = invoice(team.customer, "sub_unused")
    one_off["parent"] = None
    assert send(app_functions, event("invoice.paid", one_off))["outcome"] == "processed"
    assert team_plan(database, team.id) == "business"
    assert not stripe_fake.sub_reads.called


def test_reconcile_downgrades_on_time_even_when_stripe_is_down(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    end = int(time.time()) + 86_400
    sub = stripe_fake.put(subscription(team.customer, cancel_at_period_end=True, period_end=end))
    send(app_functions, event("customer.subscription.updated", sub))
    assert team_plan(database, team.id) == "pro"
    stripe_fake.events.side_effect = None
    stripe_fake.events.return_value = httpx.Response(
        500,
        json={"error": {"type": "api_error", "message": "An unknown error occurred"}},
        headers={"Stripe-Should-Retry": "false"},
    )
    after_end = datetime.fromtimestamp(end + 1, UTC)
    report = webhook.reconcile(database, get_gateway(), get_settings(), now=lambda: after_end)
    assert report.events_failed == 1
    assert team_plan(database, team.id) == "free"


def test_an_event_for_a_subscription_stripe_does_not_know_is_ignored(
    app_functions: dict[str, Function], database: Database, stripe_fake: FakeStripe
) -> None:
    team = make_team(database)
    ghost = subscription(team.customer)  # never put into the fake
    evt = event("customer.subscription.updated", ghost)
    assert send(app_functions, evt)["outcome"] == "ignored"
    assert sub_row(database, ghost["id"]) is None
    row = event_row(database, evt["id"])
    assert row is not None
    assert row["processed_at"] is not None
    assert team_plan(database, team.id) == "free"
