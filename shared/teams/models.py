"""Request and response bodies of the teams API; the OpenAPI document is
generated from these same models."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr, StringConstraints

from shared.platforms.base import Platform

TeamRole = Literal["owner", "admin", "member", "viewer"]
InvitableRole = Literal["admin", "member", "viewer"]
# PostgreSQL text cannot hold NUL, so a string bound for the database refuses it here
# (a 422 naming the field) instead of failing in the database (a 500).
NO_NUL = r"^[^\x00]*$"
TeamName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)
]

ROLE_RANK: dict[str, int] = {"viewer": 1, "member": 2, "admin": 3, "owner": 4}


class _Body(BaseModel):
    """A request body: unknown fields are refused and types are not coerced
    ("yes" is not a boolean, 5 is not a name)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class TeamCreate(_Body):
    """Body of `POST /api/teams`."""

    name: TeamName
    require_mfa: bool = False
    """Membership, billing and channel changes then need an MFA (aal2) session."""


class TeamUpdate(_Body):
    """Body of `PATCH /api/teams/{team_id}`: the fields to change."""

    name: TeamName | None = None
    require_mfa: bool | None = None


class TeamPublic(BaseModel):
    """A team as its members see it."""

    id: UUID
    name: str
    plan_id: str
    require_mfa: bool
    role: TeamRole
    """The caller's role in the team."""
    created_at: datetime


class TeamsPublic(BaseModel):
    """The caller's teams."""

    data: list[TeamPublic]
    count: int


class MemberPublic(BaseModel):
    """A member of a team."""

    user_id: UUID
    email: str | None
    role: TeamRole
    created_at: datetime


class MembersPublic(BaseModel):
    """The members of a team, highest role first."""

    data: list[MemberPublic]
    count: int


class MemberUpdate(_Body):
    """Body of `PATCH /api/teams/{team_id}/members/{user_id}`."""

    role: TeamRole


class InvitationCreate(_Body):
    """Body of `POST /api/teams/{team_id}/invitations`."""

    email: EmailStr = Field(max_length=320)
    role: InvitableRole = "member"
    """Owners invite admins too; admins invite members and viewers."""


class InvitationPublic(BaseModel):
    """An invitation as the team's admins see it (never its token)."""

    id: UUID
    team_id: UUID
    email: str
    role: TeamRole
    invited_by: UUID | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    status: Literal["pending", "accepted", "expired"]


class InvitationCreated(InvitationPublic):
    """A new invitation: the only answer that carries its link."""

    accept_url: str
    """The link with the single-use token; shown once, stored only as a hash."""
    delivery: Literal["email"]
    """Always `email`: Supabase Auth mailed the invitee (a sign-up invitation, or a
    sign-in link for an address with an account; the answer does not say which, so
    it cannot tell who has an account). `accept_url` may be shared as well."""


class InvitationsPublic(BaseModel):
    """A team's invitations, newest first."""

    data: list[InvitationPublic]
    count: int


class InvitationAccept(_Body):
    """Body of `POST /api/invitations/accept`."""

    token: Annotated[str, StringConstraints(min_length=16, max_length=256, pattern=NO_NUL)]


class InvitationAccepted(BaseModel):
    """The team the caller joined and their role in it."""

    team: TeamPublic


class ChannelCreate(_Body):
    """Body of `POST /api/teams/{team_id}/channels`."""

    platform: Platform
    channel: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048)] = ""
    """A channel URL, @handle, login or id as the user typed it (optional where the
    owner's API key identifies the channel)."""
    api_key: SecretStr | None = Field(default=None, min_length=1, max_length=256)
    """The channel owner's API key, for platforms that are polled with one (required
    there, refused elsewhere). Stored encrypted, never returned."""


class TrackedChannelPublic(BaseModel):
    """A channel a team tracks."""

    channel_id: UUID
    platform: Platform
    platform_channel_id: str
    handle: str | None
    display_name: str | None
    url: str | None
    avatar_url: str | None
    added_by: UUID | None
    added_at: datetime
    paused_at: datetime | None
    """Set when the team stopped polling it (a downgrade); its history stays."""


class TrackedChannelsPublic(BaseModel):
    """The channels a team tracks, newest first, with the plan's limit."""

    data: list[TrackedChannelPublic]
    count: int
    max_channels: int
