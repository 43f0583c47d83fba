"""Directory sync: the owners' endpoints under /api/teams/{team_id}/directory
and the timer that syncs every team (%DIRECTORY_SCHEDULE%)."""

from http import HTTPStatus
from uuid import UUID

import azure.functions as func

from functions.http import ON_A_TEAM, Api, Reply
from shared import telemetry
from shared.auth import AccessClaims
from shared.config import get_settings
from shared.db import get_database
from shared.directory import api as directory
from shared.directory.models import (
    MappingCreate,
    MappingPublic,
    MappingsPublic,
    MappingUpdate,
    PendingPublic,
    RunsQuery,
    SyncRequestBody,
    SyncRunPublic,
    SyncRunsPublic,
)
from shared.directory.sync import SyncRequest, run_sync

api = Api("directory")
MAPPINGS = api.path("/api/teams/{team_id}/directory/mappings", function="directory_mappings")
MAPPING = api.path(
    "/api/teams/{team_id}/directory/mappings/{mapping_id}", function="directory_mapping"
)
SYNC = api.path("/api/teams/{team_id}/directory/sync", function="directory_sync_now")
RUNS = api.path("/api/teams/{team_id}/directory/runs", function="directory_runs")
RUN = api.path("/api/teams/{team_id}/directory/runs/{run_id}", function="directory_run")
PENDING = api.path("/api/teams/{team_id}/directory/pending", function="directory_pending")


@MAPPINGS.get(
    "listDirectoryMappings",
    "The team's directory group mappings (owners)",
    response=MappingsPublic,
    errors=(*ON_A_TEAM, 403),
)
def list_mappings(claims: AccessClaims, team_id: UUID) -> MappingsPublic:
    return directory.list_mappings(get_database(), claims, team_id)


@MAPPINGS.post(
    "createDirectoryMapping",
    "Map an Entra ID or Google Workspace group to a role (owners, signed in with that directory)",
    ok=HTTPStatus.CREATED,
    response=MappingPublic,
    errors=(*ON_A_TEAM, 400, 403, 409, 413),
)
def create_mapping(claims: AccessClaims, team_id: UUID, body: MappingCreate) -> Reply:
    created = directory.create_mapping(get_database(), claims, team_id, body, get_settings())
    location = f"/api/teams/{team_id}/directory/mappings/{created.id}"
    return Reply(created, headers={"Location": location})


@MAPPING.patch(
    "updateDirectoryMapping",
    "Change the role a mapped group grants (owners)",
    response=MappingPublic,
    errors=(*ON_A_TEAM, 400, 403, 413),
)
def update_mapping(
    claims: AccessClaims, team_id: UUID, mapping_id: UUID, body: MappingUpdate
) -> MappingPublic:
    return directory.update_mapping(get_database(), claims, team_id, mapping_id, body)


@MAPPING.delete(
    "deleteDirectoryMapping",
    "Unmap a group (owners); the next sync removes the members only it granted",
    ok=HTTPStatus.NO_CONTENT,
    errors=(*ON_A_TEAM, 403),
)
def delete_mapping(claims: AccessClaims, team_id: UUID, mapping_id: UUID) -> None:
    directory.delete_mapping(get_database(), claims, team_id, mapping_id)


@SYNC.post(
    "syncDirectory",
    "Sync the team with its directory groups now, or plan only (dry_run) (owners)",
    ok=HTTPStatus.CREATED,
    response=SyncRunPublic,
    errors=(*ON_A_TEAM, 400, 403, 409, 413),
)
def sync_now(claims: AccessClaims, team_id: UUID, body: SyncRequestBody) -> Reply:
    run = directory.sync_now(get_database(), claims, team_id, body, get_settings())
    return Reply(run, headers={"Location": f"/api/teams/{team_id}/directory/runs/{run.id}"})


@RUNS.get(
    "listDirectorySyncRuns",
    "The team's recent directory sync runs, newest first (owners)",
    response=SyncRunsPublic,
    errors=(*ON_A_TEAM, 403),
)
def list_runs(claims: AccessClaims, team_id: UUID, query: RunsQuery) -> SyncRunsPublic:
    return directory.list_runs(get_database(), claims, team_id, query)


@RUN.get(
    "getDirectorySyncRun",
    "One directory sync run with its plan (owners)",
    response=SyncRunPublic,
    errors=(*ON_A_TEAM, 403),
)
def get_run(claims: AccessClaims, team_id: UUID, run_id: UUID) -> SyncRunPublic:
    return directory.get_run(get_database(), claims, team_id, run_id)


@PENDING.get(
    "listDirectoryPending",
    "Directory members without an account yet; they join at first sign-in (owners)",
    response=PendingPublic,
    errors=(*ON_A_TEAM, 403),
)
def list_pending(claims: AccessClaims, team_id: UUID) -> PendingPublic:
    return directory.list_pending(get_database(), claims, team_id)


bp = api.blueprint()


@bp.function_name("directory_sync")
@bp.timer_trigger(
    schedule="%DIRECTORY_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True
)
def directory_sync(timer: func.TimerRequest) -> None:
    with telemetry.invocation("directory_sync", "timer"):
        run_sync(get_database(), get_settings(), SyncRequest(trigger="timer"))
