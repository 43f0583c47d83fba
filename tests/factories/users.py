"""Users as Supabase Auth makes them, and the claims of their sessions."""

import uuid

from shared.db import Database


def create_user(database: Database, email: str | None = None) -> uuid.UUID:
    """A row in `auth.users`, as Supabase Auth would create on sign-up."""
    user_id = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into auth.users (id, email, aud, role) values (%s, %s, 'authenticated', "
            "'authenticated')",
            (user_id, email or f"{user_id.hex[:12]}@example.test"),
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


def email_of(database: Database, user: uuid.UUID) -> str:
    with database.service() as conn:
        row = conn.execute("select email from auth.users where id = %s", (user,)).fetchone()
    assert row is not None
    return str(row[0])
