"""Create, list, read, update and delete teams."""

from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from shared.auth import AccessClaims
from shared.db import Database
from shared.errors import NotFound, Unprocessable
from shared.teams.access import (
    NOT_A_MEMBER,
    database_rules,
    membership,
    refuse_anonymous,
    require,
)
from shared.teams.models import TeamCreate, TeamPublic, TeamsPublic, TeamUpdate

_TEAM_COLUMNS = """
  select t.id, t.name, t.plan_id, t.require_mfa, m.role::text as role, t.created_at
  from public.teams t
  join public.team_members m on m.team_id = t.id and m.user_id = (select auth.uid())
"""


def create_team(db: Database, claims: AccessClaims, body: TeamCreate) -> TeamPublic:
    """Create a team; the database makes its creator the owner."""
    refuse_anonymous(claims, "create a team")
    with db.user(claims.raw) as conn, database_rules():
        row = conn.execute(
            "insert into public.teams (name, require_mfa) values (%s, %s) returning id",
            (body.name, body.require_mfa),
        ).fetchone()
        assert row is not None
        return team_by_id(conn, row[0])


def list_teams(db: Database, claims: AccessClaims) -> TeamsPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_TEAM_COLUMNS + " order by t.created_at, t.id").fetchall()
    teams = [TeamPublic.model_validate(row) for row in rows]
    return TeamsPublic(data=teams, count=len(teams))


def get_team(db: Database, claims: AccessClaims, team_id: UUID) -> TeamPublic:
    with db.user(claims.raw) as conn:
        return team_by_id(conn, team_id)


def update_team(db: Database, claims: AccessClaims, team_id: UUID, body: TeamUpdate) -> TeamPublic:
    """Rename the team (admins and owners) or switch its MFA rule (owners)."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise Unprocessable("nothing to change: send name and/or require_mfa")
    with db.user(claims.raw) as conn, database_rules():
        member = membership(conn, team_id)
        require(member, claims, "admin", action="change the team's settings")
        if body.require_mfa is not None and body.require_mfa != member.require_mfa:
            # How every member must sign in: owners only, either way (the
            # database's enforce_team_settings_rules() holds clients to it too).
            require(member, claims, "owner", action="change whether the team requires MFA")
        conn.execute(
            "update public.teams set name = coalesce(%s, name), "
            "require_mfa = coalesce(%s, require_mfa) where id = %s",
            (body.name, body.require_mfa, team_id),
        )
        return team_by_id(conn, team_id)


def delete_team(db: Database, claims: AccessClaims, team_id: UUID) -> None:
    """Delete the team with its memberships, invitations and tracking (owners)."""
    with db.user(claims.raw) as conn, database_rules():
        require(membership(conn, team_id), claims, "owner", action="delete the team")
        deleted = conn.execute("delete from public.teams where id = %s", (team_id,)).rowcount
        if deleted != 1:
            raise NotFound(NOT_A_MEMBER)


def team_by_id(conn: psycopg.Connection[Any], team_id: UUID) -> TeamPublic:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_TEAM_COLUMNS + " where t.id = %s", (team_id,)).fetchone()
    if row is None:
        raise NotFound(NOT_A_MEMBER)
    return TeamPublic.model_validate(row)
