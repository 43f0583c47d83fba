"""Fixtures shared by every test layer.

The database is real: the session fixture uses the cluster `make test` built
(`STREAMTRACK_TEST_DATABASE_URL`, and `STREAMTRACK_TEST_ADMIN_DATABASE_URL`
for its bootstrap superuser), or builds its own throwaway cluster with the
compatibility layer and migrations (via `localdev`) and removes it at the end.

Tests connect as `postgres`, which is not a superuser (as on Supabase), and
from there act as the API roles (`Database.user`). The superuser URL is only
for arranging what the platform itself would (Realtime's partitions, say);
the code under test never runs as it.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from azure.functions.decorators.function_app import Function

from localdev import supabase
from localdev.postgres import Cluster
from shared.config import get_settings
from shared.db import Database, reset_database


@dataclass(frozen=True)
class ClusterUrls:
    """Where the tests connect: as postgres, and as the platform's superuser."""

    url: str
    admin_url: str | None


def _refuse_superuser(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select current_user, rolsuper from pg_roles where rolname = current_user"
        ).fetchone()
    if row is None or row[1]:
        pytest.exit(
            f"the test database URL logs in as superuser {row[0] if row else '?'}; tests run as "
            "Supabase's non-superuser `postgres` (python -m localdev db url)",
            returncode=2,
        )


@pytest.fixture(scope="session")
def cluster_urls() -> Iterator[ClusterUrls]:
    given = os.environ.get("STREAMTRACK_TEST_DATABASE_URL")
    if given:
        _refuse_superuser(given)
        yield ClusterUrls(given, os.environ.get("STREAMTRACK_TEST_ADMIN_DATABASE_URL") or None)
        return
    cluster = Cluster("pytest")
    cluster.destroy()
    try:
        url = supabase.up(cluster, seed=False)
        _refuse_superuser(url)
        yield ClusterUrls(url, cluster.admin_url)
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def database_url(cluster_urls: ClusterUrls) -> str:
    return cluster_urls.url


@pytest.fixture(scope="session")
def admin_database_url(cluster_urls: ClusterUrls) -> str:
    """The bootstrap superuser (`supabase_admin`): platform-side set-up only."""
    if cluster_urls.admin_url is None:
        pytest.fail(
            "STREAMTRACK_TEST_ADMIN_DATABASE_URL is not set (python -m localdev db url --admin)"
        )
    return cluster_urls.admin_url


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


@pytest.fixture(scope="session")
def app_functions() -> dict[str, Function]:
    """The indexed functions by name (`get_functions()` may run once per app)."""
    from function_app import app

    return {fn.get_function_name(): fn for fn in app.get_functions()}
