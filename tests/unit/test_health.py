"""The health report without a usable database: it answers within 2 s whatever is
down (a refused port, a server that accepts the connection and never speaks, a
stopped real PostgreSQL), says so without secrets, and judges the parts."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import Function

from localdev.postgres import free_port
from shared import health
from shared.config import Settings, get_settings
from shared.db import Database, reset_database
from shared.health import Check, HealthContext, check_health, register_check, unregister_check

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung server or
    a dropped route): connecting succeeds, the PostgreSQL handshake never does."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def timed(db: Database, **settings: object) -> tuple[health.HealthPublic, float]:
    """The report and how long it took (closing the pool afterwards is not counted: a
    worker's pool lives on, and closing waits for its connecting thread)."""
    started = time.monotonic()
    try:
        report = check_health(db, settings=Settings(**settings))  # type: ignore[arg-type]
        return report, time.monotonic() - started
    finally:
        db.close()


def test_a_refused_port_is_unhealthy_at_once() -> None:
    db = Database(f"postgresql://postgres:x@127.0.0.1:{free_port()}/postgres", timeout=10)
    report, elapsed = timed(db)
    assert elapsed < 2, f"answered in {elapsed:.2f} s"
    assert report.status == "unhealthy"
    assert report.database in ("unreachable", "timeout")
    assert report.checks["database"].status in ("unhealthy", "timeout")


def test_a_server_that_never_answers_is_reported_within_two_seconds(silent_server: int) -> None:
    # The pool's own connect timeout is 10 s: the health check must not wait for it.
    db = Database(f"postgresql://postgres:x@127.0.0.1:{silent_server}/postgres", timeout=10)
    report, elapsed = timed(db)
    assert elapsed < 2, f"answered in {elapsed:.2f} s"
    assert report.status == "unhealthy"
    assert report.database == "timeout"
    assert report.checks["database"].status == "timeout"
    # the rest of the report is there, judged without the database
    assert report.checks["queue"].status == "unknown"


def test_health_without_database_url(
    monkeypatch: pytest.MonkeyPatch, app_functions: dict[str, Function]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    reset_database()
    fn = app_functions["health"].get_user_function()
    try:
        response = fn(func.HttpRequest("GET", "/api/health", body=b""))
    finally:
        get_settings.cache_clear()
    assert response.status_code == 503
    body = json.loads(response.get_body())
    assert body["status"] == "unhealthy"
    assert body["database"] == "not_configured"
    assert body["checks"]["database"]["detail"] == "DATABASE_URL is not set"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_secret_never_appears_in_the_report(silent_server: int) -> None:
    password = "s3cr3t-in-the-url"
    db = Database(f"postgresql://postgres:{password}@127.0.0.1:{silent_server}/postgres", timeout=1)
    report, _ = timed(
        db,
        azure_storage_connection=f"DefaultEndpointsProtocol=http;AccountName=x;AccountKey={password};QueueEndpoint=http://127.0.0.1:{silent_server}/x",
    )
    assert password not in report.model_dump_json()


@pytest.mark.parametrize(
    ("schedule", "period"),
    [
        ("0 * * * * *", timedelta(minutes=1)),
        ("0 */5 * * * *", timedelta(minutes=5)),
        ("30 0 * * * *", timedelta(hours=1)),
        ("*/30 * * * * *", timedelta(seconds=30)),
        ("0 0 9 * * Mon-Fri", timedelta(days=3)),  # Friday to Monday
    ],
)
def test_the_schedule_period_is_the_longest_gap(schedule: str, period: timedelta) -> None:
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert health.schedule_period(schedule, friday) == period


def test_stale_after_is_three_periods_plus_the_budget_unless_set() -> None:
    assert health.stale_after(Settings(), NOW) == timedelta(minutes=3, seconds=45)
    assert health.stale_after(Settings(health_monitor_stale_s=900), NOW) == timedelta(minutes=15)
    # an unreadable schedule falls back to a minute rather than failing the report
    assert health.stale_after(Settings(monitor_schedule="bogus"), NOW) == timedelta(
        minutes=3, seconds=45
    )


def ctx(**settings: object) -> HealthContext:
    return HealthContext(Settings(**settings), NOW, time.monotonic() + 1)  # type: ignore[arg-type]


def test_the_monitor_check_judges_the_last_success_against_the_schedule() -> None:
    fresh = health._monitor_check((NOW - timedelta(seconds=70), "succeeded", True), ctx())
    assert fresh.status == "ok"
    assert fresh.facts["age_s"] == 70
    late = health._monitor_check((NOW - timedelta(minutes=10), "failed", True), ctx())
    assert late.status == "degraded"
    assert late.facts["last_status"] == "failed"
    never = health._monitor_check((None, None, False), ctx())
    assert never.status == "unknown"
    lost = health._monitor_check((None, "failed", True), ctx())
    assert lost.status == "degraded"


def test_a_registered_check_joins_the_report_and_its_failures_degrade_it(
    silent_server: int,
) -> None:
    calls: list[HealthContext] = []

    def push(context: HealthContext) -> Check:
        calls.append(context)
        return Check(status="degraded", detail="3 subscriptions revoked", facts={"revoked": 3})

    def broken(_context: HealthContext) -> Check:
        raise KeyError("secret-token")

    def slow(_context: HealthContext) -> Check:
        time.sleep(5)
        return Check(status="ok")

    register_check("push_subscriptions", push)
    register_check("broken", broken)
    register_check("slow", slow)
    try:
        db = Database(f"postgresql://postgres:x@127.0.0.1:{silent_server}/postgres", timeout=1)
        report, elapsed = timed(db)
    finally:
        for name in ("push_subscriptions", "broken", "slow"):
            unregister_check(name)
    assert elapsed < 2, f"answered in {elapsed:.2f} s"
    assert report.checks["push_subscriptions"].facts == {"revoked": 3}
    assert report.checks["broken"] == Check(status="degraded", detail="the check failed (KeyError)")
    assert "secret-token" not in report.model_dump_json()
    assert report.checks["slow"].status == "timeout"
    assert len(calls) == 1


def test_built_in_names_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="database"):
        register_check("database", lambda _c: Check(status="ok"))
    with pytest.raises(ValueError, match="no spaces"):
        register_check("no spaces", lambda _c: Check(status="ok"))


def test_invalid_settings_are_named_not_a_500(
    monkeypatch: pytest.MonkeyPatch, app_functions: dict[str, Function]
) -> None:
    monkeypatch.setenv("HEALTH_TIMEOUT_S", "soon")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:hunter2@127.0.0.1:1/postgres")
    get_settings.cache_clear()
    reset_database()
    fn = app_functions["health"].get_user_function()
    try:
        response = fn(func.HttpRequest("GET", "/api/health", body=b""))
    finally:
        get_settings.cache_clear()
    assert response.status_code == 503
    body = json.loads(response.get_body())
    assert body["status"] == "unhealthy"
    assert body["database"] == "not_configured"
    assert body["checks"]["settings"]["detail"] == "invalid settings: HEALTH_TIMEOUT_S"
    assert "hunter2" not in response.get_body().decode()


def test_an_unreachable_replica_degrades_but_the_primary_decides(silent_server: int) -> None:
    primary = Database(f"postgresql://postgres:x@127.0.0.1:{silent_server}/postgres", timeout=1)
    replica = Database(f"postgresql://postgres:x@127.0.0.1:{silent_server}/postgres", timeout=1)
    try:
        report = check_health(primary, replica=replica, settings=Settings())
    finally:
        replica.close()
        primary.close()
    assert report.checks["read_replica"].status == "timeout"
    assert report.status == "unhealthy"  # the primary is the one that hangs here too
