"""The two units of work against the real database."""

import uuid

import psycopg
import pytest

from shared.db import Database
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
