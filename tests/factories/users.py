"""Users as Supabase Auth makes them, the claims of their sessions, and the
database as the roles Supabase's services log in as."""

import json
import uuid
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from localdev.postgres import PASSWORD
from shared.db import Database


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


def create_identity(
    database_url: str,
    user: uuid.UUID,
    provider: str,
    provider_id: str,
    identity_data: dict[str, Any],
) -> None:
    """A row in `auth.identities`, written as Supabase Auth writes it at an OAuth
    sign-in: logged in as `supabase_auth_admin`, the table's owner (platform state,
    like the superuser's Realtime partitions: the code under test never writes it).
    Azure: `identity_data.custom_claims` carries `oid` and `tid`; Google: `sub`,
    `email`, `email_verified`."""
    with psycopg.connect(url_as(database_url, "supabase_auth_admin"), autocommit=True) as conn:
        conn.execute(
            "insert into auth.identities (provider_id, user_id, provider, identity_data,"
            " last_sign_in_at, created_at, updated_at)"
            " values (%s, %s, %s, %s, now(), now(), now())",
            (provider_id, user, provider, json.dumps(identity_data)),
        )


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


def email_of(database: Database, user: uuid.UUID) -> str:
    with database.service() as conn:
        row = conn.execute("select email from auth.users where id = %s", (user,)).fetchone()
    assert row is not None
    return str(row[0])


def url_as(url: str, role: str) -> str:
    """The same database, logged in as another of the roles localdev gave a password
    (`supabase_auth_admin`, say, as Supabase Auth calls the access-token hook)."""
    return make_conninfo(**{**conninfo_to_dict(url), "user": role, "password": PASSWORD})
