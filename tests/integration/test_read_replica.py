"""DATABASE_READ_URL: the read-only paths (CSV exports) read from it, in read-only
transactions, while everything else stays on DATABASE_URL."""

import re
import uuid
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import httpx
import psycopg
import pytest
import respx
from azure.functions.decorators.function_app import Function

from localdev.postgres import free_port
from shared.auth import get_token_verifier
from shared.config import get_settings
from shared.db import Database, get_database, get_read_database, reset_database
from tests.factories.tokens import SECRET, SUPABASE_URL
from tests.factories.tokens import mint as token
from tests.factories.users import create_user

STORAGE = f"{SUPABASE_URL}/storage/v1"
RANGE = {"from": "2026-10-01", "to": "2026-10-03", "format": "csv"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("SUPABASE_URL", SUPABASE_URL)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", SECRET)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "test-service-role-key")
    yield monkeypatch
    reset_database()
    get_token_verifier.cache_clear()
    get_settings.cache_clear()


def configure(monkeypatch: pytest.MonkeyPatch, primary: str, replica: str | None) -> None:
    monkeypatch.setenv("DATABASE_URL", primary)
    if replica is None:
        monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_READ_URL", replica)
    get_settings.cache_clear()
    get_token_verifier.cache_clear()
    reset_database()


@pytest.fixture
def storage() -> Iterator[respx.MockRouter]:
    """Supabase Storage in its wire format: upload answers {Key, Id}, sign {signedURL}."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        mock.post(url__regex=re.escape(STORAGE) + r"/object/exports/.+").mock(
            side_effect=lambda request: httpx.Response(
                200, json={"Key": "exports/x.csv", "Id": str(uuid.uuid4())}
            )
        )
        mock.post(url__regex=re.escape(STORAGE) + r"/object/sign/exports/(?P<path>.+)").mock(
            side_effect=lambda request, path: httpx.Response(
                200, json={"signedURL": f"/object/sign/exports/{path}?token=t"}
            )
        )
        yield mock


def pro_team(database: Database) -> tuple[uuid.UUID, uuid.UUID]:
    owner = create_user(database)
    with database.service() as conn:
        row = conn.execute(
            "insert into public.teams (name, plan_id, created_by) values ('replica', 'pro', %s)"
            " returning id",
            (owner,),
        ).fetchone()
    assert row is not None
    return owner, uuid.UUID(str(row[0]))


def export(app_functions: dict[str, Function], owner: uuid.UUID, team: uuid.UUID) -> Any:
    fn = app_functions["team_exports"].get_user_function()
    return fn(
        func.HttpRequest(
            "GET",
            f"http://localhost/api/teams/{team}/exports",
            headers={"Authorization": f"Bearer {token(owner)}"},
            params=RANGE,
            route_params={"team_id": str(team)},
            body=b"",
        )
    )


@pytest.mark.usefixtures("storage")
def test_exports_read_from_the_replica_while_the_primary_is_down(
    env: pytest.MonkeyPatch,
    database: Database,
    database_url: str,
    app_functions: dict[str, Function],
) -> None:
    owner, team = pro_team(database)
    down = f"postgresql://postgres:x@127.0.0.1:{free_port()}/postgres?connect_timeout=1"
    configure(env, primary=down, replica=database_url)
    response = export(app_functions, owner, team)
    assert response.status_code == 200, response.get_body()

    # The control: without a replica the same request needs the (down) primary.
    configure(env, primary=down, replica=None)
    env.setenv("DATABASE_CONNECT_TIMEOUT_S", "1")
    get_settings.cache_clear()
    assert export(app_functions, owner, team).status_code == 503


def test_the_replica_pool_refuses_writes_and_the_primary_takes_them(
    env: pytest.MonkeyPatch, database_url: str
) -> None:
    configure(env, primary=database_url, replica=database_url)
    replica = get_read_database()
    assert replica is not get_database()
    assert replica.read_only
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction), replica.service() as conn:
        conn.execute("insert into public.monitor_runs (status) values ('failed')")
    with replica.service() as conn:
        row = conn.execute("select current_setting('application_name')").fetchone()
    assert row == ("streamtrack-read",)
    with get_database().service() as conn:
        conn.execute("select 1")  # the primary pool is an ordinary one


def test_without_a_replica_reads_use_the_primary(
    env: pytest.MonkeyPatch, database_url: str
) -> None:
    configure(env, primary=database_url, replica=None)
    assert get_read_database() is get_database()
    configure(env, primary=database_url, replica="")
    assert get_read_database() is get_database()
