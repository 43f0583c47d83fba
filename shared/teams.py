"""Teams: the service behind `/api/teams`. Everything runs in the user-scoped
transaction, so row level security decides what a user may see and do.

Errors come from `shared.errors`: `Forbidden` (RLS or a role rule said no),
`NotFound`.
"""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, StringConstraints

from shared.auth import AccessClaims
from shared.db import Database
from shared.errors import Forbidden, NotFound

TeamRole = Literal["owner", "admin", "member", "viewer"]
TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TeamCreate(BaseModel):
    """Body of `POST /api/teams`."""

    model_config = ConfigDict(extra="forbid")

    name: TeamName
    require_mfa: bool = False
    """Membership, billing and channel changes then need an MFA (aal2) session."""


class TeamPublic(BaseModel):
    """A team as its members see it."""

    id: UUID
    name: str
    plan_id: str
    require_mfa: bool
    role: TeamRole
    """The caller's role in the team."""
    created_at: datetime


class TeamsPublic(BaseModel):
    """The caller's teams."""

    data: list[TeamPublic]
    count: int


_TEAM_COLUMNS = """
  select t.id, t.name, t.plan_id, t.require_mfa, m.role::text as role, t.created_at
  from public.teams t
  join public.team_members m on m.team_id = t.id and m.user_id = (select auth.uid())
"""


def create_team(db: Database, claims: AccessClaims, body: TeamCreate) -> TeamPublic:
    """Create a team; the database makes its creator the owner."""
    try:
        with db.user(claims.raw) as conn:
            row = conn.execute(
                "insert into public.teams (name, require_mfa) values (%s, %s) returning id",
                (body.name, body.require_mfa),
            ).fetchone()
            assert row is not None
            return _one(conn, row[0])
    except psycopg.errors.InsufficientPrivilege as exc:
        raise Forbidden("you may not create a team") from exc


def list_teams(db: Database, claims: AccessClaims) -> TeamsPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_TEAM_COLUMNS + " order by t.created_at, t.id").fetchall()
    teams = [TeamPublic.model_validate(row) for row in rows]
    return TeamsPublic(data=teams, count=len(teams))


def _one(conn: psycopg.Connection[Any], team_id: UUID) -> TeamPublic:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_TEAM_COLUMNS + " where t.id = %s", (team_id,)).fetchone()
    if row is None:
        raise NotFound("no such team")
    return TeamPublic.model_validate(row)
