"""The custom access token hook as Supabase Auth runs it: logged in as
`supabase_auth_admin`, reading memberships through that role's own policy.

(The pgTAP suite checks the hook's answers as postgres, the function's owner:
on Supabase, postgres cannot `set role supabase_auth_admin`.)
"""

import json
import uuid

import psycopg
import pytest

from shared.db import Database
from tests.factories.teams import make_team
from tests.factories.users import create_user, url_as


def run_hook(url: str, user_id: uuid.UUID) -> dict[str, object]:
    event = {
        "user_id": str(user_id),
        "claims": {"sub": str(user_id), "role": "authenticated", "aal": "aal1"},
        "authentication_method": "password",
    }
    with psycopg.connect(url_as(url, "supabase_auth_admin"), autocommit=True) as conn:
        row = conn.execute(
            "select current_user, public.custom_access_token_hook(%s::jsonb)", (json.dumps(event),)
        ).fetchone()
    assert row is not None
    assert row[0] == "supabase_auth_admin"
    answer: dict[str, object] = row[1]
    return answer


def test_supabase_auth_admin_gets_the_users_team_roles(
    database: Database, database_url: str
) -> None:
    team = make_team(database)
    member = create_user(database)
    with database.service() as conn:
        conn.execute(
            "insert into public.team_members (team_id, user_id, role) values (%s, %s, 'viewer')",
            (team, member),
        )
    answer = run_hook(database_url, member)
    assert answer["claims"] == {
        "sub": str(member),
        "role": "authenticated",
        "aal": "aal1",
        "team_roles": {str(team): "viewer"},
    }


def test_supabase_auth_admin_reads_memberships_only_through_the_hook_policy(
    database_url: str,
) -> None:
    with (
        psycopg.connect(url_as(database_url, "supabase_auth_admin"), autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("select count(*) from public.teams")


def test_postgres_cannot_become_supabase_auth_admin(database: Database) -> None:
    # As on Supabase: postgres is not a member of the platform's admin roles.
    with pytest.raises(psycopg.errors.InsufficientPrivilege), database.service() as conn:
        conn.execute("set local role supabase_auth_admin")
