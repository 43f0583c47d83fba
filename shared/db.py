"""PostgreSQL access through one psycopg 3 pool and two kinds of unit of work.

- `Database.service()` — a transaction as the backend's own database role, for
  timers and webhooks (the service side: RLS does not restrict it).
- `Database.user(claims)` — a transaction that runs as the token's role
  (`authenticated`) with the verified JWT claims set exactly as PostgREST sets
  them, so row level security governs everything done on a user's behalf.

Both commit when the block ends normally and roll back on any exception. The
role and claims are set with `set_config(..., is_local => true)`, the same call
PostgREST makes, which is `SET LOCAL`: they die with the transaction, so a
pooled connection never carries one user's identity into the next use.

Prepared statements are off (`prepare_threshold=None`) because Supabase's
pooler in transaction mode (port 6543) does not support them.
"""

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from shared.config import Settings, get_settings

logger = logging.getLogger(__name__)

# Roles a user-scoped transaction may take. A token claiming anything else
# (notably service_role) must never reach the database as that role.
USER_ROLES: Final = frozenset({"authenticated", "anon"})


class DatabaseError(Exception):
    """The database could not be reached or did not answer in time."""


class NotConfiguredError(DatabaseError):
    """`DATABASE_URL` is not set."""


class Database:
    """A connection pool plus the two units of work."""

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int = 0,
        max_size: int = 8,
        timeout: float = 10.0,
        statement_timeout_ms: int = 30_000,
        application_name: str = "streamtrack",
    ) -> None:
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            name=application_name,
            # A serverless worker may hold a connection the pooler has dropped.
            check=ConnectionPool.check_connection,
            kwargs={
                "autocommit": True,  # transactions are always explicit blocks
                "prepare_threshold": None,
                "application_name": application_name,
                "connect_timeout": max(1, round(timeout)),
                "options": f"-c statement_timeout={statement_timeout_ms}",
            },
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        if settings.database_url is None:
            raise NotConfiguredError("DATABASE_URL is not set")
        return cls(
            str(settings.database_url),
            min_size=settings.database_pool_min_size,
            max_size=settings.database_pool_max_size,
            timeout=settings.database_connect_timeout_s,
            statement_timeout_ms=settings.database_statement_timeout_ms,
        )

    def open(self) -> None:
        self._pool.open(wait=False)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._pool.closed:
            self.open()
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise DatabaseError(f"no database connection within {self._pool.timeout}s") from exc

    @contextmanager
    def service(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction on the service side (timers, webhooks)."""
        with self._connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def user(self, claims: Mapping[str, Any]) -> Iterator[psycopg.Connection[Any]]:
        """A transaction on behalf of the user whose verified claims are given.

        Equivalent to PostgREST's per-request transaction: `SET LOCAL ROLE` to
        the claims' role and `request.jwt.claims` set locally, so `auth.uid()`
        and every RLS policy see this user.
        """
        with self._connection() as conn, conn.transaction():
            become_user(conn, claims)
            yield conn

    def ping(self) -> bool:
        """True when a trivial query succeeds; never raises."""
        try:
            with self._connection() as conn:
                conn.execute("select 1")
        except (DatabaseError, psycopg.Error) as exc:
            logger.warning("database ping failed: %s", exc.__class__.__name__)
            return False
        return True


def become_user(conn: psycopg.Connection[Any], claims: Mapping[str, Any]) -> None:
    """Act as the user for the rest of the current transaction (`SET LOCAL ROLE` and
    local claims). The service side uses it after writes only it may make, so the
    rest of the transaction is checked by RLS and audited with the user as actor."""
    role = claims.get("role", "authenticated")
    if role not in USER_ROLES:
        raise ValueError(f"a user-scoped transaction cannot run as role {role!r}")
    conn.execute(
        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
        (role, json.dumps(dict(claims), separators=(",", ":"), default=str)),
    )


_database: Database | None = None


def get_database() -> Database:
    """The process-wide database, created from settings on first use."""
    global _database  # one pool per worker process, by design
    if _database is None:
        _database = Database.from_settings(get_settings())
    return _database


def reset_database() -> None:
    """Close and forget the process-wide database (tests, settings changes)."""
    global _database
    if _database is not None:
        _database.close()
    _database = None
