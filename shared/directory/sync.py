"""Running a directory sync: fetch every mapped group once per directory, then
plan and apply each team in a transaction of its own.

    run_sync(db, settings, SyncRequest(...), clients)

Fetching holds no database connection; the group copies and delta links are
stored in one short transaction per directory (skipped by dry runs and when
another run got there first). Each team is then planned and applied with
its row locked, so a manual change cannot interleave; a dry run, or a plan
the fuse blocks, records the run and changes nothing.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import httpx

from shared.clock import utc_now
from shared.config import Settings
from shared.db import Database
from shared.directory import store
from shared.directory.errors import DirectoryError, DirectoryNotConfigured, Provider
from shared.directory.fetch import TenantFetch, failure, fetch_entra, fetch_google
from shared.directory.google import GoogleDirectory, GoogleTokens
from shared.directory.graph import EntraTokens, GraphDirectory
from shared.directory.plan import (
    Fetched,
    GroupFailure,
    GroupKey,
    GroupState,
    MappingRow,
    Plan,
    Thresholds,
    plan_team,
)
from shared.directory.retry import RetryPolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncRequest:
    trigger: Literal["timer", "manual"] = "timer"
    team_id: UUID | None = None
    """One team (a manual run), or every team with mappings or managed members."""
    dry_run: bool = False
    force: bool = False
    """Apply a plan the fuse would block (owners, manual runs). Never overrides the
    rule that a failed fetch derives no removal."""
    requested_by: UUID | None = None
    budget_s: float | None = None


@dataclass(slots=True)
class TeamOutcome:
    team_id: UUID
    run_id: UUID
    status: str
    plan: Plan


@dataclass(slots=True)
class Clients:
    """The directory clients of one run; a provider's setting problem is kept as its error."""

    http: httpx.Client
    settings: Settings
    policy: RetryPolicy
    _graph: GraphDirectory | DirectoryError | None = None
    _google: GoogleDirectory | DirectoryError | None = None
    owns_http: bool = False

    @classmethod
    def from_settings(
        cls, settings: Settings, http: httpx.Client | None = None, **policy: Any
    ) -> "Clients":
        client = http or httpx.Client(headers={"User-Agent": "StreamTrack directory sync"})
        return cls(
            client, settings, RetryPolicy.from_settings(settings, **policy), owns_http=http is None
        )

    def graph(self) -> GraphDirectory | DirectoryError:
        if self._graph is None:
            try:
                tokens = EntraTokens(self.settings, self.http)
                self._graph = GraphDirectory(
                    self.http, tokens.token, self.policy, self.settings.graph_api_url
                )
            except DirectoryError as exc:
                self._graph = exc
        return self._graph

    def google(self) -> GoogleDirectory | DirectoryError:
        if self._google is None:
            try:
                tokens = GoogleTokens(self.settings, self.http)
                self._google = GoogleDirectory(
                    self.http, tokens.token, self.policy, self.settings.google_directory_api_url
                )
            except DirectoryError as exc:
                self._google = exc
        return self._google

    def close(self) -> None:
        if self.owns_http:
            self.http.close()


def _allowed(settings: Settings, provider: Provider, tenant: str) -> bool:
    allowed = (
        settings.entra_tenant_ids if provider == "azure" else settings.google_workspace_domains
    )
    return tenant in allowed


def run_sync(
    db: Database,
    settings: Settings,
    request: SyncRequest,
    clients: Clients | None = None,
    *,
    now: Callable[[], datetime] = utc_now,
) -> list[TeamOutcome]:
    """Sync one team or all; one recorded run per team."""
    own = clients is None
    clients = clients or Clients.from_settings(settings)
    try:
        return _run(db, settings, request, clients, now)
    finally:
        if own:
            clients.close()


def _run(
    db: Database,
    settings: Settings,
    request: SyncRequest,
    clients: Clients,
    now: Callable[[], datetime],
) -> list[TeamOutcome]:
    started = now()
    budget = request.budget_s or settings.directory_time_budget_s
    deadline = time.monotonic() + budget
    with db.service() as conn:
        by_team = store.mappings(conn, request.team_id)
        if request.team_id is None:
            teams = sorted(set(by_team) | store.managed_teams(conn), key=str)
        else:
            teams = [request.team_id]
        directories = {(m.provider, m.tenant) for rows in by_team.values() for m in rows}
        groups = store.directory_groups(conn, directories)

    fetched: dict[GroupKey, GroupState | GroupFailure] = {}
    for (provider, tenant), group_ids in sorted(groups.items()):
        fetched.update(
            _fetch_directory(db, settings, clients, provider, tenant, group_ids, request, deadline)
        )

    thresholds = Thresholds(
        settings.directory_fuse_max_removals, settings.directory_fuse_max_removal_percent
    )
    outcomes = [
        outcome
        for team_id in teams
        if (outcome := _sync_team(db, team_id, by_team.get(team_id, []), fetched, thresholds,
                                  request, started, now)) is not None
    ]  # fmt: skip
    if request.team_id is None and not request.dry_run:
        with db.service() as conn:
            store.forget_unmapped(conn)
            store.prune_runs(conn, now() - timedelta(days=settings.directory_run_retention_days))
    logger.info(
        "directory sync: %d team(s)",
        len(outcomes),
        extra={
            "teams": len(outcomes),
            "groups": len(fetched),
            "failed_groups": sum(isinstance(s, GroupFailure) for s in fetched.values()),
            "blocked": sum(o.status == "blocked" for o in outcomes),
            "trigger": request.trigger,
        },
    )
    return outcomes


def _fetch_directory(
    db: Database,
    settings: Settings,
    clients: Clients,
    provider: Provider,
    tenant: str,
    group_ids: list[str],
    request: SyncRequest,
    deadline: float,
) -> Fetched:
    keys = [GroupKey(provider, tenant, g) for g in group_ids]
    if not _allowed(settings, provider, tenant):
        setting = "ENTRA_TENANT_IDS" if provider == "azure" else "GOOGLE_WORKSPACE_DOMAINS"
        error = DirectoryNotConfigured(f"{tenant} is not in {setting}", provider=provider)
        return dict.fromkeys(keys, failure(error))
    client = clients.graph() if provider == "azure" else clients.google()
    if isinstance(client, DirectoryError):
        return dict.fromkeys(keys, failure(client))
    with db.service() as conn:
        copies = store.copies(conn, provider, tenant, group_ids)
        links = store.delta_links(conn, tenant) if provider == "azure" else {}
    result: TenantFetch
    if isinstance(client, GraphDirectory):
        result = fetch_entra(client, tenant, group_ids, dict(copies), links, deadline=deadline)
    else:
        result = fetch_google(client, tenant, group_ids, deadline=deadline)
    if request.dry_run:
        return result.states
    with db.service() as conn:
        saved = store.save_fetch(conn, provider, tenant, result, links, utc_now())
    if saved:
        return result.states
    # Another run stored this directory meanwhile: plan from its copies.
    logger.info("directory %s/%s stored by a concurrent run", provider, tenant)
    with db.service() as conn:
        fresh = store.copies(conn, provider, tenant, group_ids)
    return {
        key: fresh.get(key.group_id, result.states.get(key) or failure(
            DirectoryError("no copy", provider=provider)))
        for key in keys
    }  # fmt: skip


def _sync_team(
    db: Database,
    team_id: UUID,
    mappings: list[MappingRow],
    fetched: Fetched,
    thresholds: Thresholds,
    request: SyncRequest,
    started: datetime,
    now: Callable[[], datetime],
) -> TeamOutcome | None:
    with db.service() as conn:
        if not store.lock_team(conn, team_id):
            return None
        members, managed = store.team_state(conn, team_id)
        plan = plan_team(
            mappings, fetched, store.identities(conn, fetched), members, managed, thresholds
        )
        status: str = plan.status
        if status == "blocked" and request.force:
            status = "applied"
        if request.dry_run and status != "failed":
            status = "planned"
        if status == "applied":
            store.apply(conn, team_id, plan, now())
        users = [c.user_id for c in (*plan.add, *plan.update, *plan.remove)]
        names = store.emails(conn, [*users, *(n.user_id for n in (*plan.held, *plan.skipped))])
        run_id = store.record_run(
            conn,
            team_id=team_id,
            trigger=request.trigger,
            requested_by=request.requested_by,
            dry_run=request.dry_run,
            status=status,
            summary=summary(plan, applied=status == "applied"),
            plan=plan_document(plan, names),
            problems=[
                {"code": p.code, "message": p.message, "mapping_id": p.mapping_id}
                for p in (*plan.fuse, *plan.problems)
            ],
            started_at=started,
            finished_at=now(),
        )
    if status == "blocked":
        logger.warning(
            "directory sync blocked for team %s: %s",
            team_id,
            "; ".join(p.message for p in plan.fuse),
            extra={"team_id": str(team_id), "removals": len(plan.remove)},
        )
    return TeamOutcome(team_id, run_id, status, plan)


def summary(plan: Plan, *, applied: bool) -> dict[str, int]:
    return {
        "added": len(plan.add),
        "updated": len(plan.update),
        "removed": len(plan.remove),
        "pending": len(plan.pending),
        "held": len(plan.held),
        "skipped": len(plan.skipped),
        "applied": int(applied),
    }


def plan_document(plan: Plan, names: dict[UUID, str | None]) -> dict[str, Any]:
    """The plan as stored with the run (each list capped)."""
    cap = store.PLAN_LIST_LIMIT

    def change(c: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "user_id": c.user_id,
            "email": names.get(c.user_id),
            "role": c.role,
        }
        if getattr(c, "previous", None):
            entry["previous"] = c.previous
        if getattr(c, "reason", None):
            entry["reason"] = c.reason
        return entry

    return {
        "add": [change(c) for c in plan.add[:cap]],
        "update": [change(c) for c in plan.update[:cap]],
        "remove": [change(c) for c in plan.remove[:cap]],
        "held": [change(n) for n in plan.held[:cap]],
        "skipped": [change(n) for n in plan.skipped[:cap]],
        "pending": [
            {
                "provider": p.provider,
                "tenant": p.tenant,
                "member_id": p.member_id,
                "email": p.email,
                "role": p.role,
            }
            for p in plan.pending[:cap]
        ],
    }


__all__ = ["Clients", "SyncRequest", "TeamOutcome", "field", "run_sync"]
