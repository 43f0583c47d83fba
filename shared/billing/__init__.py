"""Billing with Stripe: plans, Checkout, the customer portal, webhooks and the
daily reconciliation.

    models.py        pydantic models of the Stripe objects read (parsed at the boundary)
    stripe_client.py one `stripe.StripeClient` over httpx, API version pinned
    entitlements.py  pure decisions: a team's effective plan, channels to pause/resume
    store.py         the database side: subscriptions, entitlements applied under a team lock
    service.py       checkout, portal and the billing summary (user-facing)
    webhook.py       webhook verification, event processing, reconciliation

Errors raised to the blueprints are `shared.errors` kinds, plus:

    ServiceError
     └── InvalidSignature   the webhook's signature is missing, bad or stale   400
    Unavailable
     └── BillingNotConfigured   a Stripe secret is not set                      503
"""
