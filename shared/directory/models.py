"""Request and response bodies of the directory endpoints (the OpenAPI document
is generated from them)."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.directory.errors import Provider

MappedRole = Literal["admin", "member", "viewer"]
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")
_GROUP_EMAIL = re.compile(r"^[a-z0-9._%+'-]+@[a-z0-9.-]+$")
_GROUP_ID = re.compile(r"^[0-9a-z]{6,64}$")
Lowered = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=320)
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MappingCreate(_Body):
    """Body of `POST /api/teams/{team_id}/directory/mappings`."""

    provider: Provider
    """`azure` (Microsoft Entra ID) or `google` (Google Workspace)."""
    tenant: Lowered
    """azure: the Entra tenant id (a GUID); google: the Workspace domain."""
    group_id: Lowered
    """azure: the group's object id; google: the group's email address or id."""
    role: MappedRole = "member"
    """The role the group's members get (never owner)."""

    @model_validator(mode="after")
    def _formats(self) -> Self:
        if self.provider == "azure":
            if not _GUID.match(self.tenant):
                raise ValueError("tenant: an Entra tenant id is a GUID")
            if not _GUID.match(self.group_id):
                raise ValueError("group_id: an Entra group is named by its object id (a GUID)")
        else:
            if len(self.tenant) > 253 or not _DOMAIN.match(self.tenant):
                raise ValueError("tenant: a Google Workspace domain, such as example.com")
            if not (_GROUP_EMAIL.match(self.group_id) or _GROUP_ID.match(self.group_id)):
                raise ValueError("group_id: a Google group's email address or id")
        return self


class MappingUpdate(_Body):
    """Body of `PATCH /api/teams/{team_id}/directory/mappings/{mapping_id}`."""

    role: MappedRole


class MappingPublic(BaseModel):
    """A directory group mapped to a role in the team."""

    id: UUID
    team_id: UUID
    provider: Provider
    tenant: str
    group_id: str
    role: MappedRole
    created_by: UUID | None
    created_at: datetime
    updated_at: datetime


class MappingsPublic(BaseModel):
    data: list[MappingPublic]
    count: int


class SyncRequestBody(_Body):
    """Body of `POST /api/teams/{team_id}/directory/sync` (all optional)."""

    dry_run: bool = False
    """Fetch and plan, change nothing: the answer shows the plan."""
    force: bool = False
    """Apply a plan the safety fuse blocked (a group emptied on purpose, a large
    reorganisation). Removals are still never derived from a failed fetch."""


class PlanEntry(BaseModel):
    """A member the plan adds, updates, removes, holds or skips."""

    user_id: UUID
    email: str | None = None
    role: str
    previous: str | None = None
    reason: str | None = None


class PendingEntry(BaseModel):
    """A directory member without a matching account yet; joins at first sign-in."""

    provider: Provider
    tenant: str
    member_id: str
    """Entra object id / Google member id."""
    email: str | None = None
    role: str


class RunPlan(BaseModel):
    """What the run changes (or would change), each list capped at 500 entries."""

    add: list[PlanEntry] = Field(default_factory=list)
    update: list[PlanEntry] = Field(default_factory=list)
    remove: list[PlanEntry] = Field(default_factory=list)
    held: list[PlanEntry] = Field(default_factory=list)
    """Removals and downgrades withheld because a group could not be fetched."""
    skipped: list[PlanEntry] = Field(default_factory=list)
    """Owners and manual members, whom the sync leaves alone."""
    pending: list[PendingEntry] = Field(default_factory=list)


class RunProblem(BaseModel):
    """Why a group failed, or why the safety fuse blocked the run."""

    code: str
    message: str
    mapping_id: UUID | None = None


class SyncRunPublic(BaseModel):
    """A directory sync run of the team."""

    id: UUID
    team_id: UUID
    trigger: Literal["timer", "manual"]
    requested_by: UUID | None
    dry_run: bool
    status: Literal["applied", "planned", "blocked", "failed"]
    """applied: changes made (or none needed); planned: a dry run; blocked: the safety
    fuse stopped it (see problems; an owner may force it); failed: no group could be read."""
    summary: dict[str, int]
    plan: RunPlan
    problems: list[RunProblem]
    started_at: datetime
    finished_at: datetime


class SyncRunsPublic(BaseModel):
    data: list[SyncRunPublic]
    count: int


class RunsQuery(BaseModel):
    """Query of `GET /api/teams/{team_id}/directory/runs`."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)


class PendingPublic(BaseModel):
    data: list[PendingEntry]
    count: int


def run_from_row(row: dict[str, Any]) -> SyncRunPublic:
    return SyncRunPublic.model_validate(row)
