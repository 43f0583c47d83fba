"""Invitations: an admin invites an address with a role; the invitee, signed in
with that address (confirmed), accepts with the single-use token from the link.

The token is 32 random bytes (URL-safe), shown once in the link and stored only
as sha256 (`accept_team_invitation` in the database compares hashes). The
database makes the invitation (`create_team_invitation`, backend only: clients
cannot insert invitations), with the token hash, validity and hourly limits
this server passes, on behalf of the inviter (their claims, so the database
checks their role and MFA and audits them).

Every invitee gets a mail from Supabase Auth, and the answer is the same
whether or not the address has an account (`delivery` is always `email`), so
inviting cannot be used to find out who has an account: an address with no
account gets Supabase's admin invite (sign-up), one with an account a
sign-in link; both land on the accept URL. Supabase failing either way is the
same 503 and nothing is written.

Addresses are compared with `shared.teams.addresses` (in the database).
"""

import hashlib
import secrets
from collections.abc import Callable
from urllib.parse import urlencode
from uuid import UUID

from psycopg.rows import dict_row

from shared.auth import AccessClaims
from shared.config import Settings
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound
from shared.supabase_admin import SupabaseAdmin
from shared.teams.access import (
    database_rules,
    membership,
    on_behalf_of,
    refuse_anonymous,
    require,
)
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
    admins). Nothing is written when Supabase Auth cannot mail the invitation."""
    email = str(body.email)
    with db.user(claims.raw) as conn, database_rules():
        # Refusals that say why before anything else happens (the database
        # checks them again): outsiders 404, roles and MFA 403.
        me = membership(conn, team_id)
        require(me, claims, "admin", action="invite people")
        if body.role == "admin" and me.role != "owner":
            raise Forbidden("only an owner can invite an admin")
    mailer = admin(settings)  # not configured: 503 before anything is written

    token = secrets.token_urlsafe(32)
    accept_url = f"{settings.invitation_accept_url}?{urlencode({'token': token})}"
    with db.service() as conn, database_rules():
        on_behalf_of(conn, claims.raw)
        with conn.cursor(row_factory=dict_row) as cur:
            # Which mail to send. Supabase Auth stores addresses lowercased, so the
            # key of the invited address finds an account by auth.users' email index.
            created = cur.execute(
                "select i.id, t.name as team_name,"
                " exists (select 1 from auth.users u"
                "         where not u.is_sso_user"
                "           and u.email = any (array[i.email, public.email_address_key(i.email)]))"
                "   as has_account"
                " from public.create_team_invitation(%s, %s, %s::public.team_role, %s,"
                "      make_interval(hours => %s), %s, %s) as i"
                " join public.teams t on t.id = i.team_id",
                (
                    team_id,
                    email,
                    body.role,
                    token_hash(token),
                    settings.invitation_ttl_hours,
                    settings.invitations_per_team_per_hour,
                    settings.invitations_per_inviter_per_hour,
                ),
            ).fetchone()
            assert created is not None
            row = cur.execute(_COLUMNS + " where id = %s", (created["id"],)).fetchone()
        assert row is not None
        # Inside the transaction: if Supabase cannot mail it, no invitation exists.
        if created["has_account"]:
            mailer.send_sign_in_link(email, redirect_to=accept_url)
        else:
            mailer.invite(
                email,
                redirect_to=accept_url,
                data={
                    "team_id": str(team_id),
                    "team_name": created["team_name"],
                    "role": body.role,
                },
            )
    return InvitationCreated(**row, accept_url=accept_url, delivery="email")


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
