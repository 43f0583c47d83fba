"""Push subscription health for operators: the function issue 18's health checks register.

    from shared.push.health import push_subscription_health
    push_subscription_health()  # {"healthy": bool, "platforms": {...}}

Per platform that pushes: whether it is configured, subscriptions by status
(enabled, pending, failed, revoked), the last delivery received, and whether
push has gone quiet (the monitor then polls that platform in full). Never
raises: a database failure is reported as such.
"""

from typing import Any

import psycopg

from shared.clock import Clock, utc_now
from shared.config import Settings, get_settings
from shared.db import Database, DatabaseError, get_database
from shared.push.selection import push_health


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
