"""The two units of work against the real database."""

import uuid
from collections.abc import Iterator

import psycopg
import psycopg.conninfo
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from shared.db import Database, DatabaseError, QueryTimeoutError, become_user
from tests.factories.users import claims_for, create_user


def test_user_transaction_runs_as_authenticated_with_claims(database: Database) -> None:
    user_id = create_user(database)
    with database.user(claims_for(user_id, aal="aal2")) as conn:
        row = conn.execute(
            "select current_user, auth.uid(), auth.role(), auth.jwt()->>'aal'"
        ).fetchone()
    assert row == ("authenticated", user_id, "authenticated", "aal2")


def test_identity_does_not_outlive_the_transaction(database_url: str) -> None:
    # One connection in the pool: the service transaction reuses the very
    # connection the user transaction ran on.
    db = Database(database_url, max_size=1, timeout=5)
    try:
        user_id = create_user(db)
        with db.user(claims_for(user_id)) as conn:
            pid = conn.info.backend_pid
        with db.service() as conn:
            assert conn.info.backend_pid == pid
            row = conn.execute(
                "select current_user, auth.uid(), current_setting('request.jwt.claims', true)"
            ).fetchone()
    finally:
        db.close()
    assert row is not None
    assert row[0] == "postgres"
    assert row[1] is None
    assert row[2] in (None, "")


def test_an_exception_rolls_the_whole_unit_back(database: Database) -> None:
    user_id = uuid.uuid4()

    def insert_then_fail() -> None:
        with database.service() as conn:
            conn.execute(
                "insert into auth.users (id, email) values (%s, %s)", (user_id, "gone@example.test")
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        insert_then_fail()
    with database.service() as conn:
        assert conn.execute("select 1 from auth.users where id = %s", (user_id,)).fetchone() is None


@pytest.mark.parametrize("role", ["service_role", "postgres", "supabase_auth_admin"])
def test_a_token_cannot_choose_a_privileged_role(database: Database, role: str) -> None:
    claims = {**claims_for(uuid.uuid4()), "role": role}
    with pytest.raises(ValueError, match="cannot run as role"), database.user(claims):
        pass


def test_anon_has_no_uid(database: Database) -> None:
    with database.user({"role": "anon"}) as conn:
        assert conn.execute("select current_user, auth.uid()").fetchone() == ("anon", None)


def test_authenticated_cannot_read_auth_users(database: Database) -> None:
    user_id = create_user(database)
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        database.user(claims_for(user_id)) as conn,
    ):
        conn.execute("select count(*) from auth.users")


def test_user_transactions_run_under_the_roles_statement_timeout(database: Database) -> None:
    # Supabase's role settings (localdev/supabase_compat.sql), applied per
    # transaction as PostgREST applies them; the service side keeps the pool's.
    with database.user(claims_for(uuid.uuid4())) as conn:
        assert conn.execute("show statement_timeout").fetchone() == ("8s",)
    with database.user({"role": "anon"}) as conn:
        assert conn.execute("show statement_timeout").fetchone() == ("3s",)
    with database.service() as conn:
        assert conn.execute("show statement_timeout").fetchone() == ("30s",)


def set_timeout_in(dbname: str, timeout: str) -> sql.Composed:
    return sql.SQL("alter role authenticated in database {} set statement_timeout = {}").format(
        sql.Identifier(dbname), sql.Literal(timeout)
    )


@pytest.fixture
def throwaway_database_url(database_url: str) -> Iterator[str]:
    """An empty database of its own, where role settings can be changed safely."""
    name = f"timeout_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        # Database-specific: the rest of the cluster keeps authenticated's 8 s.
        conn.execute(set_timeout_in(name, "200ms"))
    try:
        yield make_conninfo(database_url, dbname=name)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def test_a_slow_user_query_is_cancelled_at_the_roles_timeout(throwaway_database_url: str) -> None:
    db = Database(throwaway_database_url, max_size=1, timeout=5)
    try:
        with db.service() as conn:
            conn.execute("select pg_sleep(0.3)")  # the pool's 30 s: fine
        with (
            pytest.raises(QueryTimeoutError, match="ran past 200ms") as raised,
            db.user(claims_for(uuid.uuid4())) as conn,
        ):
            conn.execute("select pg_sleep(0.5)")
        assert isinstance(raised.value.__cause__, psycopg.errors.QueryCanceled)
        assert isinstance(raised.value, DatabaseError), "the API answers 503, not a traceback"
        # The timeout was local to that transaction: the connection is back to 30 s.
        with db.service() as conn:
            assert conn.execute("show statement_timeout").fetchone() == ("30s",)
    finally:
        db.close()


def test_role_settings_are_read_once_and_reloaded_on_demand(throwaway_database_url: str) -> None:
    db = Database(throwaway_database_url, max_size=1, timeout=5)
    try:
        with db.user(claims_for(uuid.uuid4())) as conn:
            assert conn.execute("show statement_timeout").fetchone() == ("200ms",)
        dbname = psycopg.conninfo.conninfo_to_dict(throwaway_database_url)["dbname"]
        with db.service() as conn:
            conn.execute(set_timeout_in(str(dbname), "250ms"))
        with db.user(claims_for(uuid.uuid4())) as conn:
            assert conn.execute("show statement_timeout").fetchone() == ("200ms",), "cached"
        db.reload_role_settings()
        with db.user(claims_for(uuid.uuid4())) as conn:
            assert conn.execute("show statement_timeout").fetchone() == ("250ms",)
    finally:
        db.close()


def test_become_user_without_the_cache_reads_the_settings(database: Database) -> None:
    with database.service() as conn:
        become_user(conn, claims_for(uuid.uuid4()))
        row = conn.execute("select current_user, current_setting('statement_timeout')").fetchone()
        assert row == ("authenticated", "8s")
