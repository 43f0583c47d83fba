"""Fixtures shared by every test layer.

The database is real: the session fixture uses the cluster `make test` built
(`STREAMTRACK_TEST_DATABASE_URL`), or builds its own throwaway cluster with the
compatibility layer and migrations (via `localdev`) and removes it at the end.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
from azure.functions.decorators.function_app import Function

from localdev import supabase
from localdev.postgres import Cluster
from shared.config import get_settings
from shared.db import Database, reset_database


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    given = os.environ.get("STREAMTRACK_TEST_DATABASE_URL")
    if given:
        yield given
        return
    cluster = Cluster("pytest")
    cluster.destroy()
    try:
        yield supabase.up(cluster, seed=False)
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url, max_size=4, timeout=10)
    db.open()
    yield db
    db.close()


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    """Point the app's own settings and pool at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_database()
    yield
    reset_database()
    get_settings.cache_clear()


def create_user(
    database: Database, email: str | None = None, *, confirmed: bool = True
) -> uuid.UUID:
    """A row in `auth.users`, as Supabase Auth would create on sign-up (with the
    address confirmed, as after the confirmation mail or an SSO sign-in)."""
    user_id = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into auth.users (id, email, aud, role, email_confirmed_at)"
            " values (%s, %s, 'authenticated', 'authenticated', case when %s then now() end)",
            (user_id, email or f"{user_id.hex[:12]}@example.test", confirmed),
        )
    return user_id


def claims_for(user_id: uuid.UUID, *, aal: str = "aal1") -> dict[str, object]:
    """Verified access-token claims as Supabase Auth issues them."""
    return {
        "sub": str(user_id),
        "role": "authenticated",
        "aud": "authenticated",
        "aal": aal,
        "email": f"{user_id.hex[:12]}@example.test",
        "is_anonymous": False,
        "session_id": str(uuid.uuid4()),
    }


@pytest.fixture(scope="session")
def app_functions() -> dict[str, Function]:
    """The indexed functions by name (`get_functions()` may run once per app)."""
    from function_app import app

    return {fn.get_function_name(): fn for fn in app.get_functions()}
