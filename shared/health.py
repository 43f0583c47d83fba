"""The health report behind `GET /api/health`: fast whatever is down, and no secrets.

Every check runs at once in its own thread, all within HEALTH_TIMEOUT_S (1.5 s by
default, so the endpoint answers within 2 s): a check still running then is
reported as `timeout`, and the answer does not wait for it. The database is asked
for a connection with that budget, not the pool's 10 s.

    status     unhealthy   the database is unreachable, times out or is not
                           configured: nothing works (HTTP 503)
               degraded    it answers, but a check needs an operator: the monitor's
                           last successful cycle is too old, a platform's daily quota
                           is spent, shard messages are poisoned, the read replica is
                           down, or a registered check says so (HTTP 200)
               ok          everything checked is fine (HTTP 200)

A check is `ok`, `degraded`, `unhealthy` (only the database), `timeout` (counts as
degraded; as unhealthy for the database) or `unknown` (not configured here, or
nothing to judge yet: no effect on the status). Other features add checks with
`register_check(name, check)` (push subscriptions, say); a check gets a
`HealthContext` and returns a `Check`, and one that raises is reported as
degraded with its exception's class name, never its message.
"""

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg
from azure.core.exceptions import ResourceNotFoundError
from croniter import CroniterError, croniter
from pydantic import BaseModel, Field, ValidationError

from shared import __version__
from shared.clock import utc_now
from shared.config import Settings, get_settings
from shared.db import Database, DatabaseError, NotConfiguredError, get_database, get_read_database
from shared.monitor.shards import normalize_connection_string, queue_client
from shared.quota import quota_left

logger = logging.getLogger(__name__)

NO_DATABASE_URL = "DATABASE_URL is not set"
CheckStatus = Literal["ok", "degraded", "unhealthy", "timeout", "unknown"]
Fact = str | int | float | bool | None


class Check(BaseModel):
    """One check's verdict, with the figures it judged by."""

    status: CheckStatus
    detail: str | None = None
    """What is wrong and what it means, for a person; never a secret or a raw error."""
    facts: dict[str, Fact] = Field(default_factory=dict)
    """The figures behind the verdict (ages in seconds, counts, quota units)."""


class HealthPublic(BaseModel):
    """What the health endpoint answers."""

    status: Literal["ok", "degraded", "unhealthy"]
    version: str
    database: Literal["reachable", "unreachable", "not_configured", "timeout"]
    checks: dict[str, Check] = Field(default_factory=dict)
    """By name: database, monitor, quota, queue, read_replica and registered checks."""
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class HealthContext:
    """What a check may use."""

    settings: Settings
    now: datetime
    deadline: float
    """A `time.monotonic()` instant: the check's result is not waited for after it."""

    def remaining(self) -> float:
        return max(0.05, self.deadline - time.monotonic())


CheckFn = Callable[[HealthContext], Check]
_registered: dict[str, CheckFn] = {}
_BUILT_IN = frozenset({"database", "monitor", "quota", "queue", "read_replica"})
_lock = threading.Lock()


def register_check(name: str, check: CheckFn) -> None:
    """Add a check to every health report (its own thread, the same budget).

    Registering a name again replaces the check (a module reloaded in tests)."""
    if name in _BUILT_IN or not name.replace("_", "").isalnum():
        raise ValueError(f"cannot register a health check named {name!r}")
    with _lock:
        _registered[name] = check


def unregister_check(name: str) -> None:
    with _lock:
        _registered.pop(name, None)


# --- the database: reachability, the monitor's last cycle, quota --------------------

_MONITOR_SQL = """
select
  (select max(finished_at) from public.monitor_runs
    where status in ('succeeded', 'partial') and started_at > %(since)s) as last_success,
  (select status from public.monitor_runs
    where started_at > %(since)s order by started_at desc limit 1) as last_status,
  exists (select 1 from public.monitor_runs) as any_run
"""


def schedule_period(expression: str, now: datetime) -> timedelta:
    """The longest gap between firings of an NCRONTAB schedule around `now` (the one
    now falls in, and the next two)."""
    fields = expression.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    expression = " ".join(fields)
    # from just after now, so a firing at exactly `now` counts as the previous one
    after = now + timedelta(seconds=1)
    previous = croniter(expression, after, second_at_beginning=True).get_prev(datetime)
    it = croniter(expression, now, second_at_beginning=True)
    fires = [previous, *(it.get_next(datetime) for _ in range(3))]
    return max(b - a for a, b in itertools.pairwise(fires))


def stale_after(settings: Settings, now: datetime) -> timedelta:
    """How old the last successful cycle may be before the monitor counts as late."""
    if settings.health_monitor_stale_s is not None:
        return timedelta(seconds=settings.health_monitor_stale_s)
    try:
        period = schedule_period(settings.monitor_schedule, now)
    except (CroniterError, ValueError):
        period = timedelta(minutes=1)
    return 3 * period + timedelta(seconds=settings.monitor_time_budget_s)


def _monitor_check(row: tuple[Any, ...], ctx: HealthContext) -> Check:
    last_success, last_status, any_run = row
    limit = stale_after(ctx.settings, ctx.now)
    facts: dict[str, Fact] = {"stale_after_s": round(limit.total_seconds())}
    facts["last_status"] = last_status
    if last_success is None:
        if not any_run:
            return Check(status="unknown", detail="the monitor has not run yet", facts=facts)
        return Check(
            status="degraded",
            detail="no successful monitor cycle in the last day: check the monitor runs",
            facts=facts,
        )
    age = (ctx.now - last_success).total_seconds()
    facts["last_success_at"] = last_success.isoformat()
    facts["age_s"] = round(max(0.0, age))
    if age > limit.total_seconds():
        return Check(
            status="degraded",
            detail=f"the last successful monitor cycle is {round(age)} s old "
            f"(more than {round(limit.total_seconds())} s)",
            facts=facts,
        )
    return Check(status="ok", facts=facts)


def _quota_check(conn: psycopg.Connection[Any], now: datetime) -> Check:
    facts: dict[str, Fact] = {}
    spent = []
    for left in quota_left(conn, now):
        facts[f"{left.platform}_remaining"] = left.remaining
        facts[f"{left.platform}_daily_units"] = left.daily_units
        facts[f"{left.platform}_quota_day"] = left.quota_day.isoformat()
        if left.remaining == 0:
            spent.append(left.platform)
    if spent:
        return Check(
            status="degraded",
            detail=f"daily quota spent on {', '.join(spent)}: its channels wait for the "
            "next quota day",
            facts=facts,
        )
    return Check(status="ok" if facts else "unknown", facts=facts)


_CONNECT_SLACK_S = 0.5
"""How much longer than the remaining budget the database check waits for a connection."""


def _database_checks(db: Database, ctx: HealthContext) -> dict[str, Check]:
    started = time.monotonic()
    budget_ms = max(50, round(ctx.remaining() * 1000))
    # Wait for a connection a little past the answer's deadline: a database that
    # gives none within the budget is then reported as `timeout` by `_collect`
    # (the deadline passes first), not as a failure, whichever thread runs first.
    with db.service(timeout=ctx.remaining() + _CONNECT_SLACK_S) as conn:
        conn.execute("select set_config('statement_timeout', %s, true)", (f"{budget_ms}ms",))
        conn.execute("select 1")
        latency = round((time.monotonic() - started) * 1000)
        since = ctx.now - timedelta(days=1)
        row = conn.execute(_MONITOR_SQL, {"since": since}).fetchone()
        quota = _quota_check(conn, ctx.now)
    assert row is not None  # one row, always
    return {
        "database": Check(status="ok", facts={"latency_ms": latency}),
        "monitor": _monitor_check(row, ctx),
        "quota": quota,
    }


# --- the shard queue -----------------------------------------------------------------


def _queue_check(ctx: HealthContext) -> Check:
    connection = ctx.settings.azure_storage_connection
    if not connection:
        return Check(status="unknown", detail="no storage connection: the monitor does not shard")
    name = ctx.settings.monitor_queue_name
    counts: dict[str, int] = {}
    for label, queue in (("backlog", name), ("poison", f"{name}-poison")):
        client = queue_client(normalize_connection_string(connection), queue)
        try:
            props = client.get_queue_properties(timeout=max(1, int(ctx.remaining())))
            counts[label] = int(props.approximate_message_count or 0)
        except ResourceNotFoundError:
            counts[label] = 0  # created on first use
        finally:
            client.close()
    facts: dict[str, Fact] = dict(counts)
    if counts["poison"]:
        return Check(
            status="degraded",
            detail=f"{counts['poison']} shard message(s) in {name}-poison: shards failed "
            "5 times (see docs/operations.md)",
            facts=facts,
        )
    return Check(status="ok", facts=facts)


# --- the read replica ----------------------------------------------------------------


def _replica_check(ctx: HealthContext, replica: Database | None) -> Check:
    if replica is None:
        return Check(status="unknown", detail="no read replica configured")
    with replica.service(timeout=ctx.remaining()) as conn:
        row = conn.execute(
            "select pg_is_in_recovery(),"
            " extract(epoch from now() - pg_last_xact_replay_timestamp())::float8"
        ).fetchone()
    in_recovery, lag = row if row else (False, None)
    facts: dict[str, Fact] = {"in_recovery": bool(in_recovery)}
    if lag is not None:
        facts["replay_lag_s"] = round(float(lag), 3)
    return Check(status="ok", facts=facts)


# --- the report ----------------------------------------------------------------------


def check_health(
    database: Database | None = None,
    *,
    replica: Database | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> HealthPublic:
    """Run every check within the budget and judge; never raises. `database` and
    `replica` default to the process's pools (the replica only with DATABASE_READ_URL)."""
    started = time.monotonic()
    try:
        settings = settings or get_settings()
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")})
        detail = f"invalid settings: {', '.join(fields).upper() or 'unknown'}"
        return _judge({"settings": Check(status="unhealthy", detail=detail)}, started)
    ctx = HealthContext(
        settings=settings, now=now or utc_now(), deadline=started + settings.health_timeout_s
    )
    checks: dict[str, Check] = {}
    try:
        db: Database | None = database or get_database()
    except NotConfiguredError:
        db = None
        checks["database"] = Check(status="unhealthy", detail=NO_DATABASE_URL)
    with _lock:
        extra = dict(_registered)
    pool = ThreadPoolExecutor(max_workers=3 + len(extra), thread_name_prefix="health")
    futures: dict[str, Future[Any]] = {}
    try:
        if db is not None:
            futures["database"] = pool.submit(_database_checks, db, ctx)
        futures["queue"] = pool.submit(_queue_check, ctx)
        if replica is None and settings.database_read_url is not None:
            replica = get_read_database()
        futures["read_replica"] = pool.submit(_replica_check, ctx, replica)
        for name, fn in extra.items():
            futures[name] = pool.submit(fn, ctx)
        for name, future in futures.items():
            checks.update(_collect(name, future, ctx))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a straggler is not waited for
    return _judge(checks, started)


def _collect(name: str, future: Future[Any], ctx: HealthContext) -> Mapping[str, Check]:
    try:
        result = future.result(timeout=max(0.0, ctx.deadline - time.monotonic()))
    except FutureTimeout:
        logger.warning("health: check %s timed out", name)
        detail = f"no answer within {ctx.settings.health_timeout_s} s"
        if name == "database":
            return {"database": Check(status="timeout", detail=detail)}
        return {name: Check(status="timeout", detail=detail)}
    except (DatabaseError, psycopg.Error) as exc:
        logger.warning("health: check %s failed: %s", name, type(exc).__name__)
        status: CheckStatus = "unhealthy" if name == "database" else "degraded"
        what = {"database": "the database", "read_replica": "the read replica"}.get(
            name, "its database"
        )
        return {name: Check(status=status, detail=f"{what} did not answer ({type(exc).__name__})")}
    except Exception as exc:
        logger.warning("health: check %s failed: %s", name, type(exc).__name__)
        return {name: Check(status="degraded", detail=f"the check failed ({type(exc).__name__})")}
    if isinstance(result, Check):
        return {name: result}
    if isinstance(result, dict):
        return result
    return {name: Check(status="degraded", detail="the check returned no verdict")}


def _judge(checks: dict[str, Check], started: float) -> HealthPublic:
    db = checks.get("database")
    database: Literal["reachable", "unreachable", "not_configured", "timeout"]
    if db is None:  # never asked: the settings could not be read
        database = "not_configured"
    elif db.status == "unhealthy":
        database = "not_configured" if db.detail == NO_DATABASE_URL else "unreachable"
    elif db.status == "timeout":
        database = "timeout"
    else:
        database = "reachable"
    status: Literal["ok", "degraded", "unhealthy"]
    if database != "reachable":
        status = "unhealthy"
    elif any(c.status in ("degraded", "timeout", "unhealthy") for c in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return HealthPublic(
        status=status,
        version=__version__,
        database=database,
        checks=dict(sorted(checks.items())),
        duration_ms=round((time.monotonic() - started) * 1000),
    )
