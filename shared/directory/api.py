"""The directory endpoints' services: mappings (owners; writes follow the
team's MFA rule), sync runs, pending people, and "sync now".

Like the teams API, everything runs in the user-scoped transaction so RLS
decides; the rules are checked here first so a refusal says why. "Sync now"
checks the caller there, then runs the sync on the service side.
"""

from datetime import timedelta
from typing import Any
from uuid import UUID

from psycopg import errors as pg
from psycopg.rows import dict_row

from shared.auth import AccessClaims
from shared.clock import utc_now
from shared.config import Settings
from shared.db import Database
from shared.directory import sync
from shared.directory.models import (
    MappingCreate,
    MappingPublic,
    MappingsPublic,
    MappingUpdate,
    PendingEntry,
    PendingPublic,
    RunsQuery,
    SyncRequestBody,
    SyncRunPublic,
    SyncRunsPublic,
)
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.teams.access import database_rules, membership, require

NO_SUCH_MAPPING = "no such directory mapping in this team"
NO_SUCH_RUN = "no such sync run in this team"
MANUAL_INTERVAL = timedelta(seconds=60)
MANUAL_BUDGET_S = 120.0
"""A manual run answers within the HTTP limit (230 s)."""

_MAPPING = (
    "select id, team_id, provider, tenant, group_id, role::text as role, created_by, "
    "created_at, updated_at from public.directory_mappings"
)
_RUN = (
    "select id, team_id, trigger, requested_by, dry_run, status, summary, plan, problems, "
    "started_at, finished_at from public.directory_sync_runs"
)


def _owner(conn: Any, claims: AccessClaims, team_id: UUID, action: str, *, mfa: bool) -> None:
    require(membership(conn, team_id), claims, "owner", action=action, mfa=mfa)


def list_mappings(db: Database, claims: AccessClaims, team_id: UUID) -> MappingsPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        _owner(conn, claims, team_id, "see directory mappings", mfa=False)
        rows = cur.execute(
            _MAPPING + " where team_id = %s order by created_at, id", (team_id,)
        ).fetchall()
    data = [MappingPublic.model_validate(r) for r in rows]
    return MappingsPublic(data=data, count=len(data))


def create_mapping(
    db: Database, claims: AccessClaims, team_id: UUID, body: MappingCreate, settings: Settings
) -> MappingPublic:
    """Map a group to a role. The tenant must be configured for the app and the
    owner must have signed in with it (so no one maps another customer's groups)."""
    allowed, setting = (
        (settings.entra_tenant_ids, "ENTRA_TENANT_IDS")
        if body.provider == "azure"
        else (settings.google_workspace_domains, "GOOGLE_WORKSPACE_DOMAINS")
    )
    if body.tenant not in allowed:
        raise Unprocessable(
            f"tenant {body.tenant} is not set up for directory sync here; the operator lists "
            f"the {body.provider} tenants the app may read in {setting}"
        )
    with db.user(claims.raw) as conn, database_rules(), conn.cursor(row_factory=dict_row) as cur:
        _owner(conn, claims, team_id, "map directory groups", mfa=True)
        row = cur.execute(
            "select public.directory_caller_in_tenant(%s, %s) as ok", (body.provider, body.tenant)
        ).fetchone()
        if not row or not row["ok"]:
            how = (
                "an Entra account of this tenant (the Azure provider with the profile scope)"
                if body.provider == "azure"
                else "a Google account of this domain"
            )
            raise Forbidden(f"to map a group of {body.tenant}, sign in with {how} first")
        try:
            created = cur.execute(
                "insert into public.directory_mappings (team_id, provider, tenant, group_id, role) "
                "values (%s, %s, %s, %s, %s) returning id",
                (team_id, body.provider, body.tenant, body.group_id, body.role),
            ).fetchone()
        except pg.UniqueViolation:
            raise Conflict("this group is mapped in the team already; change its role") from None
        assert created is not None
        return _mapping(cur, team_id, created["id"])


def update_mapping(
    db: Database, claims: AccessClaims, team_id: UUID, mapping_id: UUID, body: MappingUpdate
) -> MappingPublic:
    with db.user(claims.raw) as conn, database_rules(), conn.cursor(row_factory=dict_row) as cur:
        _owner(conn, claims, team_id, "change directory mappings", mfa=True)
        changed = cur.execute(
            "update public.directory_mappings set role = %s where team_id = %s and id = %s",
            (body.role, team_id, mapping_id),
        ).rowcount
        if changed != 1:
            raise NotFound(NO_SUCH_MAPPING)
        return _mapping(cur, team_id, mapping_id)


def delete_mapping(db: Database, claims: AccessClaims, team_id: UUID, mapping_id: UUID) -> None:
    """Unmap a group; the next sync removes the members it alone granted (fuse applies)."""
    with db.user(claims.raw) as conn, database_rules():
        _owner(conn, claims, team_id, "remove directory mappings", mfa=True)
        deleted = conn.execute(
            "delete from public.directory_mappings where team_id = %s and id = %s",
            (team_id, mapping_id),
        ).rowcount
        if deleted != 1:
            raise NotFound(NO_SUCH_MAPPING)


def _mapping(cur: Any, team_id: UUID, mapping_id: UUID) -> MappingPublic:
    row = cur.execute(
        _MAPPING + " where team_id = %s and id = %s", (team_id, mapping_id)
    ).fetchone()
    if row is None:
        raise NotFound(NO_SUCH_MAPPING)
    return MappingPublic.model_validate(row)


def list_runs(
    db: Database, claims: AccessClaims, team_id: UUID, query: RunsQuery
) -> SyncRunsPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        _owner(conn, claims, team_id, "see directory sync runs", mfa=False)
        rows = cur.execute(
            _RUN + " where team_id = %s order by started_at desc, id limit %s",
            (team_id, query.limit),
        ).fetchall()
    data = [SyncRunPublic.model_validate(r) for r in rows]
    return SyncRunsPublic(data=data, count=len(data))


def get_run(db: Database, claims: AccessClaims, team_id: UUID, run_id: UUID) -> SyncRunPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        _owner(conn, claims, team_id, "see directory sync runs", mfa=False)
        row = cur.execute(_RUN + " where team_id = %s and id = %s", (team_id, run_id)).fetchone()
    if row is None:
        raise NotFound(NO_SUCH_RUN)
    return SyncRunPublic.model_validate(row)


def list_pending(db: Database, claims: AccessClaims, team_id: UUID) -> PendingPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        _owner(conn, claims, team_id, "see pending directory members", mfa=False)
        rows = cur.execute(
            "select provider, tenant, member_id, email, role::text as role "
            "from public.directory_pending where team_id = %s order by provider, tenant, member_id",
            (team_id,),
        ).fetchall()
    data = [PendingEntry.model_validate(r) for r in rows]
    return PendingPublic(data=data, count=len(data))


def sync_now(
    db: Database,
    claims: AccessClaims,
    team_id: UUID,
    body: SyncRequestBody,
    settings: Settings,
    clients: "sync.Clients | None" = None,
) -> SyncRunPublic:
    """Run the team's sync now (owners), or a dry run that only plans."""
    with db.user(claims.raw) as conn:
        # A dry run changes nothing: any owner may ask; applying follows the MFA rule.
        _owner(conn, claims, team_id, "run the directory sync", mfa=not body.dry_run)
        row = conn.execute(
            "select max(started_at) from public.directory_sync_runs "
            "where team_id = %s and trigger = 'manual'",
            (team_id,),
        ).fetchone()
    last = row[0] if row else None
    if last is not None and utc_now() - last < MANUAL_INTERVAL:
        wait = int((MANUAL_INTERVAL - (utc_now() - last)).total_seconds()) + 1
        raise Conflict(f"a manual sync of this team ran less than a minute ago; retry in {wait} s")
    request = sync.SyncRequest(
        trigger="manual",
        team_id=team_id,
        dry_run=body.dry_run,
        force=body.force,
        requested_by=claims.sub,
        budget_s=min(MANUAL_BUDGET_S, settings.directory_time_budget_s),
    )
    outcomes = sync.run_sync(db, settings, request, clients)
    if not outcomes:
        raise NotFound("no such team, or you are not a member of it")
    return get_run(db, claims, team_id, outcomes[0].run_id)
