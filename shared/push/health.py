"""Push subscription health for operators: the function issue 18's health checks register.

    from shared.push.health import push_subscription_health
    push_subscription_health()  # {"healthy": bool, "platforms": {...}}

Per platform that pushes: whether it is configured, subscriptions by status
(enabled, pending, failed, revoked), the last delivery received, and whether
push has gone quiet (the monitor then polls that platform in full). Never
raises: a database failure is reported as such.
"""

import logging
from typing import Any

import psycopg

from shared.clock import Clock, utc_now
from shared.config import Settings, get_settings
from shared.db import Database, DatabaseError, NotConfiguredError, get_database
from shared.health import Check, Fact, HealthContext, register_check
from shared.push.selection import push_health

logger = logging.getLogger(__name__)


def push_subscription_health(
    *, database: Database | None = None, settings: Settings | None = None, clock: Clock = utc_now
) -> dict[str, Any]:
    """The push health report (JSON-ready)."""
    settings = settings or get_settings()
    try:
        with (database or get_database()).service() as conn:
            found = push_health(conn, settings, clock())
    except (DatabaseError, psycopg.Error) as exc:
        return {"healthy": False, "error": f"database: {type(exc).__name__}", "platforms": {}}
    platforms = {p: h.to_json() for p, h in found.items()}
    configured = [h for h in found.values() if h.configured]
    return {
        # Healthy when every configured platform's push is; none configured is not a fault
        # (the monitor polls), so it is healthy too.
        "healthy": all(h.healthy or h.enabled == 0 for h in configured)
        and not any(h.quiet for h in configured),
        "platforms": platforms,
    }


def health_check(ctx: HealthContext, database: Database | None = None) -> Check:
    """`push` in `/api/health`: degraded (never unhealthy: the monitor polls instead)
    when a configured platform has no enabled subscription, failed or revoked ones,
    or has gone quiet; within the health check's own budget."""
    try:
        with (database or get_database()).service(timeout=ctx.remaining()) as conn:
            found = push_health(conn, ctx.settings, ctx.now)
    except (NotConfiguredError, DatabaseError, psycopg.Error) as exc:
        logger.warning("health: push subscriptions could not be read: %s", type(exc).__name__)
        return Check(status="unknown", detail="push subscriptions could not be read")
    configured = {p: h for p, h in sorted(found.items()) if h.configured}
    if not configured:
        return Check(
            status="ok", detail="no platform's push is configured: every channel is polled"
        )
    facts: dict[str, Fact] = {}
    for platform, h in configured.items():
        facts |= {
            f"{platform}_enabled": h.enabled,
            f"{platform}_pending": h.pending,
            f"{platform}_failed": h.failed,
            f"{platform}_revoked": h.revoked,
            f"{platform}_quiet": h.quiet,
        }
    troubled = [p for p, h in configured.items() if not h.healthy or h.failed or h.revoked]
    if troubled:
        return Check(
            status="degraded",
            detail=(
                f"push needs attention on {', '.join(troubled)} (no enabled subscriptions,"
                " failed or revoked ones, or no deliveries for too long): the monitor polls"
                " those channels until the subscription timer repairs them"
            ),
            facts=facts,
        )
    return Check(status="ok", facts=facts)


def register() -> None:
    """Add `push` to every health report (called where the push functions are declared)."""
    register_check("push", health_check)
