"""A team's members: list, change a role, remove, leave."""

from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from shared.auth import AccessClaims
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound
from shared.teams.access import database_rules, membership, require
from shared.teams.models import ROLE_RANK, MemberPublic, MembersPublic, MemberUpdate

NO_SUCH_MEMBER = "no member with this user id in the team"


def list_members(db: Database, claims: AccessClaims, team_id: UUID) -> MembersPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        membership(conn, team_id)
        rows = cur.execute(
            "select user_id, email, role::text as role, created_at "
            "from public.team_member_list(%s)",
            (team_id,),
        ).fetchall()
    members = [MemberPublic.model_validate(row) for row in rows]
    return MembersPublic(data=members, count=len(members))


def update_member(
    db: Database, claims: AccessClaims, team_id: UUID, user_id: UUID, body: MemberUpdate
) -> MemberPublic:
    """Change a member's role: admins for members and viewers, owners for everyone."""
    with db.user(claims.raw) as conn, database_rules():
        me = membership(conn, team_id)
        require(me, claims, "admin", action="change roles")
        current = _role_of(conn, team_id, user_id)
        if me.role != "owner":
            touches = {current, body.role}
            if "owner" in touches:
                raise Forbidden("only an owner can make someone an owner or change an owner")
            if "admin" in touches and not (user_id == claims.sub and body.role != "admin"):
                raise Forbidden("only an owner can make someone an admin or change an admin")
        if current == "owner" and body.role != "owner":
            _keep_an_owner(conn, team_id, user_id)
        conn.execute(
            "update public.team_members set role = %s where team_id = %s and user_id = %s",
            (body.role, team_id, user_id),
        )
        return _member(conn, team_id, user_id)


def remove_member(db: Database, claims: AccessClaims, team_id: UUID, user_id: UUID) -> None:
    """Remove someone (admins: members and viewers; owners: anyone), or yourself."""
    if user_id == claims.sub:
        leave_team(db, claims, team_id)
        return
    with db.user(claims.raw) as conn, database_rules():
        me = membership(conn, team_id)
        require(me, claims, "admin", action="remove members")
        current = _role_of(conn, team_id, user_id)
        if me.role != "owner" and ROLE_RANK[current] >= ROLE_RANK["admin"]:
            raise Forbidden(f"only an owner can remove an {current}")
        if current == "owner":
            _keep_an_owner(conn, team_id, user_id)
        conn.execute(
            "delete from public.team_members where team_id = %s and user_id = %s",
            (team_id, user_id),
        )


def leave_team(db: Database, claims: AccessClaims, team_id: UUID) -> None:
    """Leave a team (no MFA step-up needed: anyone may walk away), unless you are
    its last owner."""
    with db.user(claims.raw) as conn, database_rules():
        me = membership(conn, team_id)
        if me.role == "owner":
            _keep_an_owner(conn, team_id, claims.sub)
        conn.execute(
            "delete from public.team_members where team_id = %s and user_id = (select auth.uid())",
            (team_id,),
        )


def _role_of(conn: psycopg.Connection[Any], team_id: UUID, user_id: UUID) -> str:
    row = conn.execute(
        "select role::text from public.team_members where team_id = %s and user_id = %s",
        (team_id, user_id),
    ).fetchone()
    if row is None:
        raise NotFound(NO_SUCH_MEMBER)
    return str(row[0])


def _keep_an_owner(conn: psycopg.Connection[Any], team_id: UUID, leaving: UUID) -> None:
    row = conn.execute(
        "select count(*) from public.team_members "
        "where team_id = %s and role = 'owner' and user_id <> %s",
        (team_id, leaving),
    ).fetchone()
    if not row or row[0] == 0:
        raise Conflict(
            "a team must keep at least one owner: make someone else an owner first, "
            "or delete the team"
        )


def _member(conn: psycopg.Connection[Any], team_id: UUID, user_id: UUID) -> MemberPublic:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "select user_id, email, role::text as role, created_at "
            "from public.team_member_list(%s) where user_id = %s",
            (team_id, user_id),
        ).fetchone()
    if row is None:
        raise NotFound(NO_SUCH_MEMBER)
    return MemberPublic.model_validate(row)
