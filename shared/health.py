"""Health report for `GET /api/health`: version and database reachability, no secrets."""

from typing import Literal

from pydantic import BaseModel

from shared import __version__
from shared.db import Database, NotConfiguredError, get_database


class HealthPublic(BaseModel):
    """What the health endpoint answers."""

    status: Literal["ok", "degraded"]
    version: str
    database: Literal["reachable", "unreachable", "not_configured"]


def check_health(database: Database | None = None) -> HealthPublic:
    """Probe the database once and report; never raises."""
    try:
        db = database or get_database()
    except NotConfiguredError:
        return HealthPublic(status="degraded", version=__version__, database="not_configured")
    reachable = db.ping()
    return HealthPublic(
        status="ok" if reachable else "degraded",
        version=__version__,
        database="reachable" if reachable else "unreachable",
    )
