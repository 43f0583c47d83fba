"""The directory sync's SQL (service side): mappings, group copies, delta
links, a team's state, applying a plan, and the run records."""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from shared.directory.errors import Provider
from shared.directory.fetch import ChunkKey, TenantFetch
from shared.directory.plan import (
    GroupKey,
    GroupState,
    IdentityIndex,
    Managed,
    MappingRow,
    Plan,
)

ACTOR = "directory-sync"
PLAN_LIST_LIMIT = 500
"""Entries kept per list in a run's stored plan (the summary counts them all)."""

Conn = psycopg.Connection[Any]


def mappings(conn: Conn, team_id: UUID | None = None) -> dict[UUID, list[MappingRow]]:
    """Mappings by team: one team's, or every team's."""
    rows = conn.execute(
        "select team_id, id, provider, tenant, group_id, role::text from public.directory_mappings "
        "where %(team)s::uuid is null or team_id = %(team)s order by team_id, created_at, id",
        {"team": team_id},
    ).fetchall()
    found: dict[UUID, list[MappingRow]] = defaultdict(list)
    for team, *rest in rows:
        found[team].append(MappingRow(*rest))
    return dict(found)


def directory_groups(
    conn: Conn, directories: Iterable[tuple[str, str]]
) -> dict[tuple[Provider, str], list[str]]:
    """Every group any team maps in each of these directories."""
    pairs = list(directories)
    rows = conn.execute(
        "select distinct provider, tenant, group_id from public.directory_mappings "
        "where (provider, tenant) in (select * from unnest(%s::text[], %s::text[]))",
        ([p for p, _ in pairs], [t for _, t in pairs]),
    ).fetchall()
    found: dict[tuple[Provider, str], list[str]] = defaultdict(list)
    for provider, tenant, group_id in rows:
        found[(provider, tenant)].append(group_id)
    return dict(found)


def managed_teams(conn: Conn) -> set[UUID]:
    """Teams with directory-managed members (they may have lost every mapping)."""
    return {r[0] for r in conn.execute("select distinct team_id from public.directory_members")}


def copies(conn: Conn, provider: str, tenant: str, group_ids: list[str]) -> dict[str, GroupState]:
    """The last complete copy of each group that has one."""
    groups = conn.execute(
        "select group_id, deleted from public.directory_groups "
        "where provider = %s and tenant = %s and group_id = any(%s)",
        (provider, tenant, group_ids),
    ).fetchall()
    members: dict[str, dict[str, str | None]] = {g: {} for g, _ in groups}
    for group_id, member_id, email in conn.execute(
        "select group_id, member_id, email from public.directory_group_members "
        "where provider = %s and tenant = %s and group_id = any(%s)",
        (provider, tenant, group_ids),
    ):
        members[group_id][member_id] = email
    return {g: GroupState(members[g], deleted=d) for g, d in groups}


def delta_links(conn: Conn, tenant: str) -> dict[ChunkKey, str]:
    rows = conn.execute(
        "select group_ids, delta_link from public.directory_delta_links where tenant = %s",
        (tenant,),
    ).fetchall()
    return {tuple(ids): link for ids, link in rows}


def save_fetch(
    conn: Conn,
    provider: str,
    tenant: str,
    fetched: TenantFetch,
    expected_links: Mapping[ChunkKey, str],
    now: datetime,
) -> bool:
    """Store the complete groups and their delta links, unless another run moved
    the tenant's chains on meanwhile (then False: theirs is as fresh)."""
    conn.execute(
        "select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"directory:{provider}:{tenant}",)
    )
    if provider == "azure" and delta_links(conn, tenant) != dict(expected_links):
        return False
    for key, state in fetched.states.items():
        if not isinstance(state, GroupState):
            continue
        conn.execute(
            "insert into public.directory_groups (provider, tenant, group_id, deleted, synced_at) "
            "values (%s, %s, %s, %s, %s) on conflict (provider, tenant, group_id) "
            "do update set deleted = excluded.deleted, synced_at = excluded.synced_at",
            (provider, tenant, key.group_id, state.deleted, now),
        )
        conn.execute(
            "delete from public.directory_group_members "
            "where provider = %s and tenant = %s and group_id = %s",
            (provider, tenant, key.group_id),
        )
        with (
            conn.cursor() as cur,
            cur.copy(
                "copy public.directory_group_members "
                "(provider, tenant, group_id, member_id, email) from stdin"
            ) as copy,
        ):
            for member_id, email in state.members.items():
                copy.write_row((provider, tenant, key.group_id, member_id, email))
    for chunk, (link, full) in fetched.links.items():
        conn.execute(
            "insert into public.directory_delta_links "
            "(tenant, group_ids, delta_link, full_sync_at) values (%s, %s, %s, %s) "
            "on conflict (tenant, group_ids) do update set "
            "delta_link = excluded.delta_link, updated_at = now(), full_sync_at = "
            "case when %s then excluded.full_sync_at else directory_delta_links.full_sync_at end",
            (tenant, list(chunk), link, now, full),
        )
    return True


def forget_unmapped(conn: Conn) -> None:
    """Copies and delta chains of groups no team maps any more."""
    conn.execute(
        "delete from public.directory_groups g where not exists (select 1 from "
        "public.directory_mappings m where (m.provider, m.tenant, m.group_id) = "
        "(g.provider, g.tenant, g.group_id))"
    )
    conn.execute(
        "delete from public.directory_delta_links l where exists (select 1 from "
        "unnest(l.group_ids) g where not exists (select 1 from public.directory_mappings m "
        "where m.provider = 'azure' and m.tenant = l.tenant and m.group_id = g))"
    )


def identities(conn: Conn, fetched: Mapping[GroupKey, object]) -> IdentityIndex:
    """The accounts behind the fetched members (one pass over the identities)."""
    azure = [
        (k.tenant, m)
        for k, s in fetched.items()
        if k.provider == "azure" and isinstance(s, GroupState)
        for m in s.members
    ]
    google_ids, google_emails = [], []
    for key, state in fetched.items():
        if key.provider == "google" and isinstance(state, GroupState):
            for member_id, email in state.members.items():
                google_ids.append(member_id)
                if email:
                    google_emails.append(email)
    rows = conn.execute(
        "select k.user_id, k.provider, k.tenant, k.member_id, k.email "
        "from public.directory_identity_keys() k where "
        "(k.provider = 'azure' and (k.tenant, k.member_id) in "
        "  (select * from unnest(%s::text[], %s::text[]))) "
        "or (k.provider = 'google' and (k.member_id = any(%s) or k.email = any(%s)))",
        ([t for t, _ in azure], [m for _, m in azure], google_ids, google_emails),
    ).fetchall()
    return IdentityIndex(rows)


def lock_team(conn: Conn, team_id: UUID) -> bool:
    """Serialise with manual membership changes of the team; False if it is gone."""
    row = conn.execute(
        "select 1 from public.teams where id = %s for no key update", (team_id,)
    ).fetchone()
    return row is not None


def team_state(conn: Conn, team_id: UUID) -> tuple[dict[UUID, str], dict[UUID, Managed]]:
    rows = conn.execute(
        "select user_id, role::text from public.team_members where team_id = %s", (team_id,)
    ).fetchall()
    members: dict[UUID, str] = {u: r for u, r in rows}  # noqa: C416 - typed rows
    managed = {
        u: Managed(r, tuple(ids))
        for u, r, ids in conn.execute(
            "select user_id, role::text, mapping_ids from public.directory_members "
            "where team_id = %s",
            (team_id,),
        )
    }
    return members, managed


def apply(conn: Conn, team_id: UUID, plan: Plan, now: datetime) -> None:
    """Make the plan's changes as 'directory-sync' (team_members' rules apply)."""
    conn.execute("select set_config('streamtrack.actor', %s, true)", (ACTOR,))
    for change in plan.add:
        inserted = conn.execute(
            "insert into public.team_members (team_id, user_id, role) values (%s, %s, %s) "
            "on conflict (team_id, user_id) do nothing",
            (team_id, change.user_id, change.role),
        ).rowcount
        if inserted:
            _record_managed(conn, team_id, change.user_id, change.role, change.mapping_ids, now)
    for change in plan.update:
        conn.execute(
            "update public.team_members set role = %s where team_id = %s and user_id = %s "
            "and role <> 'owner'",
            (change.role, team_id, change.user_id),
        )
        _record_managed(conn, team_id, change.user_id, change.role, change.mapping_ids, now)
    for change in plan.refresh:
        _record_managed(conn, team_id, change.user_id, change.role, change.mapping_ids, now)
    if plan.remove:
        conn.execute(
            "delete from public.team_members m where m.team_id = %s and m.user_id = any(%s) "
            "and m.role <> 'owner' and exists (select 1 from public.directory_members d "
            "where d.team_id = m.team_id and d.user_id = m.user_id)",
            (team_id, [c.user_id for c in plan.remove]),
        )
    conn.execute("delete from public.directory_pending where team_id = %s", (team_id,))
    for p in plan.pending:
        conn.execute(
            "insert into public.directory_pending "
            "(team_id, provider, tenant, member_id, email, role, mapping_ids) "
            "values (%s, %s, %s, %s, %s, %s, %s)",
            (team_id, p.provider, p.tenant, p.member_id, p.email, p.role, list(p.mapping_ids)),
        )
    conn.execute("select set_config('streamtrack.actor', '', true)")


def _record_managed(
    conn: Conn,
    team_id: UUID,
    user_id: UUID,
    role: str,
    mapping_ids: tuple[UUID, ...],
    now: datetime,
) -> None:
    conn.execute(
        "insert into public.directory_members (team_id, user_id, role, mapping_ids, synced_at) "
        "values (%s, %s, %s, %s, %s) on conflict (team_id, user_id) do update set "
        "role = excluded.role, mapping_ids = excluded.mapping_ids, synced_at = excluded.synced_at",
        (team_id, user_id, role, list(mapping_ids), now),
    )


def emails(conn: Conn, users: Iterable[UUID]) -> dict[UUID, str | None]:
    ids = list(set(users))
    if not ids:
        return {}
    rows = conn.execute("select id, email from auth.users where id = any(%s)", (ids,)).fetchall()
    return {u: e for u, e in rows}  # noqa: C416 - typed rows


def record_run(
    conn: Conn,
    *,
    team_id: UUID,
    trigger: str,
    requested_by: UUID | None,
    dry_run: bool,
    status: str,
    summary: Mapping[str, int],
    plan: Mapping[str, Any],
    problems: list[Mapping[str, Any]],
    started_at: datetime,
    finished_at: datetime,
) -> UUID:
    row = conn.execute(
        "insert into public.directory_sync_runs (team_id, trigger, requested_by, dry_run, status, "
        "summary, plan, problems, started_at, finished_at) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
        (
            team_id,
            trigger,
            requested_by,
            dry_run,
            status,
            Jsonb(dict(summary)),
            Jsonb(json.loads(json.dumps(plan, default=str))),
            Jsonb(json.loads(json.dumps(problems, default=str))),
            started_at,
            finished_at,
        ),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def last_manual_run(conn: Conn, team_id: UUID) -> datetime | None:
    row = conn.execute(
        "select max(started_at) from public.directory_sync_runs "
        "where team_id = %s and trigger = 'manual'",
        (team_id,),
    ).fetchone()
    return row[0] if row else None


def prune_runs(conn: Conn, older_than: datetime) -> int:
    return conn.execute(
        "delete from public.directory_sync_runs where started_at < %s", (older_than,)
    ).rowcount
