"""`GET /api/health` against real PostgreSQL: the monitor's last cycle judged against
the schedule, quota left today, the read replica, and a real server stopped under a
warm pool answered within 2 s."""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import azure.functions as func
import psycopg
import pytest
from azure.functions.decorators.function_app import Function

from localdev.postgres import Cluster
from shared import __version__
from shared.config import Settings, get_settings
from shared.db import Database, reset_database
from shared.health import check_health

PACIFIC = ZoneInfo("America/Los_Angeles")


def call(app_functions: dict[str, Function]) -> tuple[int, dict[str, Any], float]:
    fn = app_functions["health"].get_user_function()
    started = time.monotonic()
    response = fn(func.HttpRequest("GET", "/api/health", body=b""))
    elapsed = time.monotonic() - started
    assert response.mimetype == "application/json"
    return response.status_code, json.loads(response.get_body()), elapsed


@pytest.fixture
def fresh_cycle(database: Database) -> Iterator[datetime]:
    """A successful monitor run that just finished (other tests' runs are in simulated
    time, days ago)."""
    now = datetime.now(UTC)
    with database.service() as conn:
        row = conn.execute(
            "insert into public.monitor_runs (started_at, finished_at, status, duration_ms)"
            " values (%s, %s, 'succeeded', 900) returning id",
            (now - timedelta(seconds=2), now - timedelta(seconds=1)),
        ).fetchone()
    assert row is not None
    yield now
    with database.service() as conn:
        conn.execute("delete from public.monitor_runs where id = %s", (row[0],))


@pytest.mark.usefixtures("app_env", "fresh_cycle")
def test_a_healthy_deployment_reports_ok(app_functions: dict[str, Function]) -> None:
    status, body, elapsed = call(app_functions)
    assert status == 200
    assert elapsed < 2, f"answered in {elapsed:.2f} s"
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"] == "reachable"
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["monitor"]["status"] == "ok"
    assert checks["monitor"]["facts"]["age_s"] <= 5
    assert checks["monitor"]["facts"]["stale_after_s"] == 225
    quota = checks["quota"]["facts"]
    assert quota["youtube_daily_units"] == 10_000
    assert quota["youtube_quota_day"] == datetime.now(PACIFIC).date().isoformat()
    assert checks["queue"]["status"] == "unknown"  # no AzureWebJobsStorage here
    assert checks["read_replica"]["status"] == "unknown"


def test_a_late_monitor_is_degraded_but_still_200(
    database: Database, fresh_cycle: datetime
) -> None:
    later = fresh_cycle + timedelta(minutes=10)
    report = check_health(database, settings=Settings(), now=later)
    assert report.status == "degraded"
    assert report.checks["monitor"].status == "degraded"
    assert "old" in (report.checks["monitor"].detail or "")
    # a longer allowance makes the same age fine
    relaxed = check_health(database, settings=Settings(health_monitor_stale_s=3600), now=later)
    assert relaxed.checks["monitor"].status == "ok"


@pytest.mark.usefixtures("fresh_cycle")
def test_spent_quota_is_degraded(database: Database) -> None:
    now = datetime.now(UTC)
    day = now.astimezone(PACIFIC).date()
    with database.service() as conn:
        before = conn.execute(
            "select units, requests from public.platform_quota_usage"
            " where platform = 'youtube' and quota_day = %s",
            (day,),
        ).fetchone()
        conn.execute(
            "insert into public.platform_quota_usage (platform, quota_day, units, requests)"
            " values ('youtube', %s, 10000, 10000) on conflict (platform, quota_day)"
            " do update set units = 10000",
            (day,),
        )
    try:
        report = check_health(database, settings=Settings(), now=now)
    finally:
        with database.service() as conn:
            if before is None:
                conn.execute(
                    "delete from public.platform_quota_usage"
                    " where platform = 'youtube' and quota_day = %s",
                    (day,),
                )
            else:
                conn.execute(
                    "update public.platform_quota_usage set units = %s"
                    " where platform = 'youtube' and quota_day = %s",
                    (before[0], day),
                )
    assert report.status == "degraded"
    assert report.checks["quota"].status == "degraded"
    assert report.checks["quota"].facts["youtube_remaining"] == 0


@pytest.mark.usefixtures("fresh_cycle")
def test_the_read_replica_is_checked_when_configured(
    monkeypatch: pytest.MonkeyPatch, database: Database, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_READ_URL", database_url)
    get_settings.cache_clear()
    reset_database()
    try:
        report = check_health(database, settings=get_settings())
    finally:
        reset_database()
        get_settings.cache_clear()
    replica = report.checks["read_replica"]
    assert replica.status == "ok"
    assert replica.facts["in_recovery"] is False  # the test's "replica" is a primary


def test_a_stopped_server_is_unhealthy_within_two_seconds(
    monkeypatch: pytest.MonkeyPatch, app_functions: dict[str, Function]
) -> None:
    """A real PostgreSQL, the app's pool warm against it, then the server stops."""
    cluster = Cluster("health-stopped")
    cluster.destroy()
    cluster.init()
    try:
        cluster.start()
        url = cluster.url_for("supabase_admin")  # a bare cluster: only its bootstrap role
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        reset_database()
        from shared.db import get_database

        assert get_database().ping()  # the pool holds a live connection now
        cluster.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2).close()
        status, body, elapsed = call(app_functions)
        assert elapsed < 2, f"answered in {elapsed:.2f} s"
        assert status == 503
        assert body["status"] == "unhealthy"
        assert body["database"] in ("unreachable", "timeout")
        text = json.dumps(body)
        assert url not in text
        assert "supabase_admin" not in text  # no connection details, no credentials
    finally:
        reset_database()
        get_settings.cache_clear()
        cluster.destroy()
