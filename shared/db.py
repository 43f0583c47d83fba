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

`SET ROLE` does not apply a role's own settings (`alter role authenticated set
statement_timeout = '8s'`); PostgREST reads them once (`pg_db_role_setting`)
and sets them locally in every request's transaction. `Database.user()` does
the same, so a request on a user's behalf runs under that role's statement
timeout (Supabase: anon 3 s, authenticated 8 s), not the pool's.

Prepared statements are off (`prepare_threshold=None`) because Supabase's
pooler in transaction mode (port 6543) does not support them.
"""

import json
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from shared.config import Settings, get_settings

logger = logging.getLogger(__name__)

# Roles a user-scoped transaction may take. A token claiming anything else
# (notably service_role) must never reach the database as that role.
USER_ROLES: Final = frozenset({"authenticated", "anon"})

RoleSettings = Mapping[str, tuple[tuple[str, str], ...]]
"""Per role, the settings PostgREST would apply to its requests, as (name, value)."""

# PostgREST's queryRoleSettings (src/PostgREST/Config/Database.hs): the
# settings of the roles it may switch to, limited to those a session may set
# (context `user`, or SET granted), values lower-cased, and without
# default_transaction_isolation (PostgREST turns that into the transaction's
# isolation level instead; none of our roles sets it). A database-specific
# `alter role ... in database` setting wins over the role-wide one, as at login.
_ROLE_SETTINGS_SQL = """
with role_setting as (
  select r.rolname, s.setdatabase, unnest(s.setconfig) as setting
  from pg_catalog.pg_db_role_setting s
  join pg_catalog.pg_roles r on r.oid = s.setrole
  where r.rolname = any(%s)
    and s.setdatabase in (0, (select oid from pg_catalog.pg_database
                              where datname = current_database()))
), kv as (
  select rolname, setdatabase,
         substr(setting, 1, strpos(setting, '=') - 1) as key,
         lower(substr(setting, strpos(setting, '=') + 1)) as value
  from role_setting
)
select distinct on (kv.rolname, kv.key) kv.rolname, kv.key, kv.value
from kv
join pg_catalog.pg_settings ps on ps.name = kv.key
  and (ps.context = 'user' or has_parameter_privilege(current_user, ps.name, 'set'))
where kv.key <> 'default_transaction_isolation'
order by kv.rolname, kv.key, kv.setdatabase desc
"""


def load_role_settings(conn: psycopg.Connection[Any]) -> RoleSettings:
    """The settings of the user roles, read from the catalog."""
    rows = conn.execute(_ROLE_SETTINGS_SQL, (sorted(USER_ROLES),)).fetchall()
    settings: dict[str, list[tuple[str, str]]] = {role: [] for role in USER_ROLES}
    for role, key, value in rows:
        settings[str(role)].append((str(key), str(value)))
    return {role: tuple(pairs) for role, pairs in settings.items()}


class DatabaseError(Exception):
    """The database could not be reached or did not answer in time."""


class NotConfiguredError(DatabaseError):
    """`DATABASE_URL` is not set."""


class QueryTimeoutError(DatabaseError):
    """A statement on a user's behalf ran past the role's statement timeout."""


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
        read_only: bool = False,
    ) -> None:
        options = f"-c statement_timeout={statement_timeout_ms}"
        if read_only:
            # A replica refuses writes anyway; this makes a misconfigured read URL
            # (pointing at the primary) refuse them too, instead of writing there.
            options += " -c default_transaction_read_only=on"
        self.read_only = read_only
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
                "options": options,
            },
        )
        self._role_settings: RoleSettings | None = None
        self._role_settings_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, replica: bool = False) -> "Database":
        """The primary's pool, or with `replica` the read replica's (DATABASE_READ_URL:
        read-only transactions only)."""
        url = settings.database_read_url if replica else settings.database_url
        if url is None:
            name = "DATABASE_READ_URL" if replica else "DATABASE_URL"
            raise NotConfiguredError(f"{name} is not set")
        return cls(
            str(url),
            min_size=settings.database_pool_min_size,
            max_size=settings.database_pool_max_size,
            timeout=settings.database_connect_timeout_s,
            statement_timeout_ms=settings.database_statement_timeout_ms,
            application_name="streamtrack-read" if replica else "streamtrack",
            read_only=replica,
        )

    def open(self) -> None:
        self._pool.open(wait=False)

    def close(self) -> None:
        self._pool.close()

    def reload_role_settings(self) -> None:
        """Forget the cached role settings (PostgREST: `notify pgrst, 'reload config'`)."""
        with self._role_settings_lock:
            self._role_settings = None

    def _settings_for_user_roles(self, conn: psycopg.Connection[Any]) -> RoleSettings:
        with self._role_settings_lock:
            if self._role_settings is None:
                self._role_settings = load_role_settings(conn)
            return self._role_settings

    @contextmanager
    def _connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        if self._pool.closed:
            self.open()
        wait = self._pool.timeout if timeout is None else timeout
        try:
            with self._pool.connection(timeout=wait) as conn:
                yield conn
        except PoolTimeout as exc:
            raise DatabaseError(f"no database connection within {wait}s") from exc

    @contextmanager
    def service(self, *, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A transaction on the service side (timers, webhooks). `timeout`: how long to
        wait for a connection, if not the pool's (the health check's short budget)."""
        with self._connection(timeout) as conn, conn.transaction():
            yield conn

    @contextmanager
    def user(self, claims: Mapping[str, Any]) -> Iterator[psycopg.Connection[Any]]:
        """A transaction on behalf of the user whose verified claims are given.

        Equivalent to PostgREST's per-request transaction: `SET LOCAL ROLE` to
        the claims' role, `request.jwt.claims` and the role's own settings
        (its statement timeout) set locally, so `auth.uid()` and every RLS
        policy see this user and a slow query is cancelled as PostgREST's is.
        """
        with self._connection() as conn:
            settings = self._settings_for_user_roles(conn)
            try:
                with conn.transaction():
                    become_user(conn, claims, role_settings=settings)
                    yield conn
            except psycopg.errors.QueryCanceled as exc:
                timeout = dict(settings.get(str(claims.get("role")), ())).get("statement_timeout")
                raise QueryTimeoutError(
                    f"the database cancelled a query that ran past {timeout or 'its'} limit"
                ) from exc

    def ping(self) -> bool:
        """True when a trivial query succeeds; never raises."""
        try:
            with self._connection() as conn:
                conn.execute("select 1")
        except (DatabaseError, psycopg.Error) as exc:
            logger.warning("database ping failed: %s", exc.__class__.__name__)
            return False
        return True


def become_user(
    conn: psycopg.Connection[Any],
    claims: Mapping[str, Any],
    *,
    role_settings: RoleSettings | None = None,
) -> None:
    """Act as the user for the rest of the current transaction (`SET LOCAL ROLE`,
    local claims and the role's settings). The service side uses it after writes
    only it may make, so the rest of the transaction is checked by RLS, audited
    with the user as actor and bounded by the role's statement timeout.

    `role_settings` is the cache `Database.user()` keeps; without it they are
    read from the catalog first."""
    role = claims.get("role", "authenticated")
    if role not in USER_ROLES:
        raise ValueError(f"a user-scoped transaction cannot run as role {role!r}")
    if role_settings is None:
        role_settings = load_role_settings(conn)
    claims_json = json.dumps(dict(claims), separators=(",", ":"), default=str)
    pairs = [*role_settings.get(role, ()), ("role", role), ("request.jwt.claims", claims_json)]
    set_local = sql.SQL("set_config(%s, %s, true)")
    conn.execute(
        sql.SQL("select {}").format(sql.SQL(", ").join([set_local] * len(pairs))),
        [part for pair in pairs for part in pair],
    )


_database: Database | None = None
_read_database: Database | None = None


def get_database() -> Database:
    """The process-wide database, created from settings on first use."""
    global _database  # one pool per worker process, by design
    if _database is None:
        _database = Database.from_settings(get_settings())
    return _database


def get_read_database() -> Database:
    """Where read-only API paths read: the replica (DATABASE_READ_URL) when one is
    configured, else the primary. Only for work that never writes: a replica lags
    the primary (see docs/operations.md) and refuses writes."""
    global _read_database  # one replica pool per worker process
    settings = get_settings()
    if settings.database_read_url is None:
        return get_database()
    if _read_database is None:
        _read_database = Database.from_settings(settings, replica=True)
    return _read_database


def reset_database() -> None:
    """Close and forget the process-wide databases (tests, settings changes)."""
    global _database, _read_database
    for db in (_database, _read_database):
        if db is not None:
            db.close()
    _database = _read_database = None
