"""Billing with Stripe: plans, Checkout, the customer portal, webhooks and the
daily reconciliation.

    models.py        pydantic models of the Stripe objects read (parsed at the boundary)
    stripe_client.py one `stripe.StripeClient` over httpx, API version pinned
    entitlements.py  pure decisions: a team's effective plan, channels to pause/resume
    store.py         the database side: subscriptions, entitlements applied under a team lock
    service.py       checkout, portal and the billing summary (user-facing)
    webhook.py       webhook verification, event processing, reconciliation

Errors raised to the blueprints are `shared.errors` kinds (one mapping to
HTTP, in `functions/http.respond`):

    ServiceError
     ├── InvalidSignature          webhook: signature missing, bad or stale       400
     ├── Forbidden / NotFound / Conflict   checkout and portal refusals           403/404/409
     └── Unavailable                                                               503
          ├── BillingNotConfigured  a Stripe setting is not set
          ├── StripeUnavailable     Stripe unreachable or refusing
          │    └── StripeNotFound   `resource_missing`
          └── ProcessingFailed      webhook: recorded, Stripe delivers it again
"""
