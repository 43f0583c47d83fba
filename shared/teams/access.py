"""The caller's membership in a team, and the rules every team operation
checks before it writes: role rank (owner > admin > member > viewer) and the
team's MFA rule. RLS enforces the same rules again in the database; checking
here first turns a silent "0 rows" into a refusal that says why.

Also the mapping of the database's refusals to service errors, and
`on_behalf_of`, for the service-side calls the database makes for a user.
"""

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg import errors as pg

from shared.auth import AccessClaims
from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    TooManyRequests,
    Unauthenticated,
)
from shared.teams.models import ROLE_RANK, TeamRole

# The SQLSTATE the database raises for a rate limit (PostgREST would answer it
# 429), with DETAIL `retry_after_seconds=<n>`.
RATE_LIMITED = "PT429"
_RETRY_AFTER = re.compile(r"retry_after_seconds=(\d+)")

NOT_A_MEMBER = "no such team, or you are not a member of it"
MFA_REQUIRED = (
    "this team requires multi-factor authentication for changes; "
    "sign in again with your authenticator app (an aal2 session)"
)


@dataclass(frozen=True, slots=True)
class Membership:
    """The caller's place in one team."""

    team_id: UUID
    role: TeamRole
    require_mfa: bool
    plan_id: str


def membership(conn: psycopg.Connection[Any], team_id: UUID) -> Membership:
    """The caller's membership (user-scoped transaction); NotFound for anyone else,
    so a team's existence is not revealed to outsiders."""
    row = conn.execute(
        """
        select m.role::text, t.require_mfa, t.plan_id
        from public.team_members m
        join public.teams t on t.id = m.team_id
        where m.team_id = %s and m.user_id = (select auth.uid())
        """,
        (team_id,),
    ).fetchone()
    if row is None:
        raise NotFound(NOT_A_MEMBER)
    return Membership(team_id=team_id, role=row[0], require_mfa=row[1], plan_id=row[2])


def require(
    member: Membership, claims: AccessClaims, min_role: TeamRole, *, action: str, mfa: bool = True
) -> None:
    """Refuse unless the caller has `min_role` or higher and, when the team requires
    MFA and `mfa` is set, an aal2 session."""
    if ROLE_RANK[member.role] < ROLE_RANK[min_role]:
        needed = "an owner" if min_role == "owner" else f"{min_role} or higher"
        raise Forbidden(f"to {action} you must be {needed}; you are {member.role}")
    if mfa and member.require_mfa and claims.aal != "aal2":
        raise Forbidden(MFA_REQUIRED)


def refuse_anonymous(claims: AccessClaims, action: str) -> None:
    """Anonymous sign-ins have a session but no identity: they cannot own or join teams."""
    if claims.is_anonymous:
        raise Forbidden(f"sign in with an account to {action}")


def on_behalf_of(conn: psycopg.Connection[Any], claims: Mapping[str, Any]) -> None:
    """Give the current service-side transaction the user's verified claims without
    leaving the service role: `auth.uid()` and `auth.jwt()` then name the user, so
    backend-only functions check the user's role and MFA and the audit trail records
    them as the actor. Transaction-local, like `become_user`."""
    conn.execute(
        "select set_config('request.jwt.claims', %s, true)",
        (json.dumps(dict(claims), separators=(",", ":"), default=str),),
    )


@contextmanager
def database_rules() -> Iterator[None]:
    """Map the database's refusals (RLS, triggers, constraints) to service errors,
    with the database's message and hint, which are written for people."""
    try:
        yield
    except ServiceError:
        raise
    except pg.InsufficientPrivilege as exc:
        raise Forbidden(_message(exc)) from exc
    except (pg.CheckViolation, pg.UniqueViolation, pg.ObjectNotInPrerequisiteState) as exc:
        raise Conflict(_message(exc)) from exc
    except pg.NoDataFound as exc:
        raise NotFound(_message(exc)) from exc
    except pg.ForeignKeyViolation as exc:
        if _references_users(exc):
            # A valid token whose user was deleted since: the session is over.
            raise Unauthenticated(ACCOUNT_GONE) from exc
        raise Conflict(_message(exc)) from exc
    except psycopg.Error as exc:
        if exc.sqlstate != RATE_LIMITED:
            raise
        found = _RETRY_AFTER.search(exc.diag.message_detail or "")
        raise TooManyRequests(_message(exc), int(found.group(1)) if found else 60) from exc


ACCOUNT_GONE = "the account this access token was issued for no longer exists; sign in again"


def _references_users(exc: psycopg.Error) -> bool:
    """Whether a foreign-key refusal is about a row of `auth.users` that is not there."""
    return 'in table "users"' in (exc.diag.message_detail or "")


def _message(exc: psycopg.Error) -> str:
    diag = exc.diag
    text = diag.message_primary or "the database refused the change"
    if diag.message_hint:
        text = f"{text}: {diag.message_hint}"
    return text
