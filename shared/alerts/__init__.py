"""Alerts: the outbox written with each status change, delivery to Discord, Slack,
Microsoft Teams and signed webhooks, and the team API that configures them."""
