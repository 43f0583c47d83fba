"""Teams written directly in the database (as the service side would)."""

import uuid
from dataclasses import dataclass

from shared.db import Database
from tests.factories.users import create_user


def make_team(database: Database, plan: str = "pro") -> uuid.UUID:
    """A team on `plan`, owned by a new user."""
    owner = create_user(database)
    with database.service() as conn:
        row = conn.execute(
            "insert into public.teams (name, plan_id, created_by)"
            " values ('t', %s, %s) returning id",
            (plan, owner),
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


@dataclass
class Crew:
    """A team with one user per role, an extra member, and an outsider."""

    team_id: uuid.UUID
    owner: uuid.UUID
    admin: uuid.UUID
    member: uuid.UUID
    viewer: uuid.UUID
    extra: uuid.UUID
    outsider: uuid.UUID

    def user(self, role: str) -> uuid.UUID:
        return getattr(self, role)  # type: ignore[no-any-return]


def make_crew(database: Database, *, require_mfa: bool = False, plan: str = "pro") -> Crew:
    roles = ("owner", "admin", "member", "viewer", "extra", "outsider")
    # example.com: invitations validate addresses, and .test is a reserved name
    users = {r: create_user(database, f"{r}-{uuid.uuid4().hex[:10]}@example.com") for r in roles}
    team_id = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.teams (id, name, plan_id, require_mfa, created_by) "
            "values (%s, %s, %s, %s, %s)",
            (team_id, f"Crew {team_id.hex[:6]}", plan, require_mfa, users["owner"]),
        )
        for role in ("admin", "member", "viewer"):
            conn.execute(
                "insert into public.team_members (team_id, user_id, role) values (%s, %s, %s)",
                (team_id, users[role], role),
            )
        conn.execute(
            "insert into public.team_members (team_id, user_id, role) values (%s, %s, 'member')",
            (team_id, users["extra"]),
        )
    return Crew(team_id=team_id, **users)
