"""Push detection: callbacks, applying deliveries, subscriptions, channel selection."""
