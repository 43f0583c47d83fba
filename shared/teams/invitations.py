"""Invitations: an admin invites an address with a role; the invitee, signed in
with that address, accepts with the single-use token from the link.

The token is 32 random bytes (URL-safe), shown once in the link and stored only
as sha256 (`accept_team_invitation` in the database compares hashes). An
address with no account gets the link by mail from Supabase Auth's admin
invite; an address with an account gets it from the person who invited them
(the API answers the link once).
"""

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from shared.auth import AccessClaims
from shared.config import Settings
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound
from shared.supabase_admin import SupabaseAdmin
from shared.teams.access import database_rules, membership, refuse_anonymous, require
from shared.teams.models import (
    InvitationAccepted,
    InvitationCreate,
    InvitationCreated,
    InvitationPublic,
    InvitationsPublic,
)
from shared.teams.teams import team_by_id

AdminFactory = Callable[[Settings], SupabaseAdmin]

_COLUMNS = """
  select id, team_id, email, role::text as role, invited_by, created_at, expires_at, accepted_at,
         case when accepted_at is not null then 'accepted'
              when expires_at <= now() then 'expired'
              else 'pending' end as status
  from public.team_invitations
"""


def token_hash(token: str) -> bytes:
    """What the database stores for a token: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(token.encode()).digest()


def create_invitation(
    db: Database,
    claims: AccessClaims,
    team_id: UUID,
    body: InvitationCreate,
    settings: Settings,
    admin: AdminFactory = SupabaseAdmin.from_settings,
) -> InvitationCreated:
    """Invite `body.email` as `body.role` (admins: members and viewers; owners also
    admins). Nothing is written when Supabase Auth cannot mail a new address."""
    email = str(body.email)
    with db.user(claims.raw) as conn, database_rules():
        me = membership(conn, team_id)
        require(me, claims, "admin", action="invite people")
        if body.role == "admin" and me.role != "owner":
            raise Forbidden("only an owner can invite an admin")
        team_name = _check_not_member_or_invited(conn, team_id, email, clear_expired=False)

    has_account = _has_account(db, email)
    mailer = None if has_account else admin(settings)  # fails before anything is written

    token = secrets.token_urlsafe(32)
    accept_url = f"{settings.invitation_accept_url}?{urlencode({'token': token})}"
    expires_at = datetime.now(UTC) + timedelta(hours=settings.invitation_ttl_hours)
    with db.user(claims.raw) as conn, database_rules():
        # Re-checked in this transaction: the first one has ended.
        require(membership(conn, team_id), claims, "admin", action="invite people")
        _check_not_member_or_invited(conn, team_id, email, clear_expired=True)
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                "insert into public.team_invitations"
                " (team_id, email, role, token_hash, expires_at)"
                " values (%s, %s, %s, %s, %s) returning id",
                (team_id, email, body.role, token_hash(token), expires_at),
            )
            created = cur.fetchone()
            assert created is not None
            row = cur.execute(_COLUMNS + " where id = %s", (created["id"],)).fetchone()
        assert row is not None
        if mailer is not None:
            # Inside the transaction: if Supabase cannot mail it, no invitation exists.
            mailer.invite(
                email,
                redirect_to=accept_url,
                data={"team_id": str(team_id), "team_name": team_name, "role": body.role},
            )
    return InvitationCreated(
        **row, accept_url=accept_url, delivery="link" if has_account else "email"
    )


def list_invitations(db: Database, claims: AccessClaims, team_id: UUID) -> InvitationsPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        require(membership(conn, team_id), claims, "admin", action="see invitations", mfa=False)
        rows = cur.execute(
            _COLUMNS + " where team_id = %s order by created_at desc, id", (team_id,)
        ).fetchall()
    invitations = [InvitationPublic.model_validate(row) for row in rows]
    return InvitationsPublic(data=invitations, count=len(invitations))


def revoke_invitation(
    db: Database, claims: AccessClaims, team_id: UUID, invitation_id: UUID
) -> None:
    """Withdraw an invitation that has not been accepted; its link stops working."""
    with db.user(claims.raw) as conn, database_rules():
        require(membership(conn, team_id), claims, "admin", action="revoke invitations")
        row = conn.execute(
            "select accepted_at from public.team_invitations where id = %s and team_id = %s",
            (invitation_id, team_id),
        ).fetchone()
        if row is None:
            raise NotFound("no invitation with this id in the team")
        if row[0] is not None:
            raise Conflict("this invitation was accepted already; remove the member instead")
        conn.execute("delete from public.team_invitations where id = %s", (invitation_id,))


def accept_invitation(db: Database, claims: AccessClaims, token: str) -> InvitationAccepted:
    """Join the invitation's team with its role; the signed-in address must match."""
    refuse_anonymous(claims, "accept an invitation")
    with db.user(claims.raw) as conn, database_rules():
        row = conn.execute("select public.accept_team_invitation(%s)", (token,)).fetchone()
        assert row is not None
        return InvitationAccepted(team=team_by_id(conn, row[0]))


def _check_not_member_or_invited(
    conn: psycopg.Connection[Any], team_id: UUID, email: str, *, clear_expired: bool
) -> str:
    """The team's name, after making sure `email` is neither a member nor invited."""
    row = conn.execute(
        "select exists (select 1 from public.team_member_list(%s) where lower(email) = lower(%s)),"
        " (select name from public.teams where id = %s)",
        (team_id, email, team_id),
    ).fetchone()
    assert row is not None
    if row[0]:
        raise Conflict(f"{email} is a member of the team already")
    if clear_expired:
        # An expired invitation still holds the address's slot (one open invitation
        # per address): clear it in the transaction that writes the new one.
        conn.execute(
            "delete from public.team_invitations where team_id = %s and lower(email) = lower(%s) "
            "and accepted_at is null and expires_at <= now()",
            (team_id, email),
        )
    pending = conn.execute(
        "select 1 from public.team_invitations where team_id = %s and lower(email) = lower(%s) "
        "and accepted_at is null and expires_at > now()",
        (team_id, email),
    ).fetchone()
    if pending:
        raise Conflict(f"{email} has a pending invitation; revoke it to send a new one")
    return str(row[1])


def _has_account(db: Database, email: str) -> bool:
    # Service side: clients cannot read auth.users. Only a yes/no leaves here.
    with db.service() as conn:
        row = conn.execute(
            "select exists (select 1 from auth.users where lower(email) = lower(%s))", (email,)
        ).fetchone()
    return bool(row and row[0])
