"""The teams API: teams, members, invitations and tracked channels.

Each operation is declared once (`functions.http`): its handler gets the
verified claims, the path ids and the parsed body, calls one service in
`shared.teams`, and returns the model to answer with.
"""

from http import HTTPStatus
from uuid import UUID

from functions.http import AUTHENTICATED, ON_A_TEAM, Api, Reply
from shared.auth import AccessClaims
from shared.config import get_settings
from shared.db import get_database
from shared.platforms.registry import needing_credentials, spec
from shared.teams import channels, invitations, members, teams
from shared.teams.models import (
    ChannelCreate,
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationCreated,
    InvitationsPublic,
    MemberPublic,
    MembersPublic,
    MemberUpdate,
    TeamCreate,
    TeamPublic,
    TeamsPublic,
    TeamUpdate,
    TrackedChannelPublic,
    TrackedChannelsPublic,
)

api = Api("teams")
TEAMS = api.path("/api/teams", function="teams")
TEAM = api.path("/api/teams/{team_id}", function="team")
MEMBERS = api.path("/api/teams/{team_id}/members", function="team_members")
MEMBER = api.path("/api/teams/{team_id}/members/{user_id}", function="team_member")
LEAVE = api.path("/api/teams/{team_id}/leave", function="team_leave")
INVITATIONS = api.path("/api/teams/{team_id}/invitations", function="team_invitations")
INVITATION = api.path(
    "/api/teams/{team_id}/invitations/{invitation_id}", function="team_invitation"
)
ACCEPT = api.path("/api/invitations/accept", function="invitation_accept")
CHANNELS = api.path("/api/teams/{team_id}/channels", function="team_channels")
CHANNEL = api.path("/api/teams/{team_id}/channels/{channel_id}", function="team_channel")


@TEAMS.post(
    "createTeam",
    "Create a team; you become its owner",
    ok=HTTPStatus.CREATED,
    response=TeamPublic,
    errors=(*AUTHENTICATED, 400, 403, 413, 422),
)
def create_team(claims: AccessClaims, body: TeamCreate) -> Reply:
    team = teams.create_team(get_database(), claims, body)
    return Reply(team, headers={"Location": f"/api/teams/{team.id}"})


@TEAMS.get("listTeams", "The teams you belong to", response=TeamsPublic, errors=AUTHENTICATED)
def list_teams(claims: AccessClaims) -> TeamsPublic:
    return teams.list_teams(get_database(), claims)


@TEAM.get("getTeam", "One of your teams", response=TeamPublic)
def get_team(claims: AccessClaims, team_id: UUID) -> TeamPublic:
    return teams.get_team(get_database(), claims, team_id)


@TEAM.patch(
    "updateTeam",
    "Rename the team or change its MFA rule (admins)",
    response=TeamPublic,
    errors=(*ON_A_TEAM, 400, 403, 413),
)
def update_team(claims: AccessClaims, team_id: UUID, body: TeamUpdate) -> TeamPublic:
    return teams.update_team(get_database(), claims, team_id, body)


@TEAM.delete(
    "deleteTeam", "Delete the team (owners)", ok=HTTPStatus.NO_CONTENT, errors=(*ON_A_TEAM, 403)
)
def delete_team(claims: AccessClaims, team_id: UUID) -> None:
    teams.delete_team(get_database(), claims, team_id)


@MEMBERS.get("listMembers", "The team's members", tag="members", response=MembersPublic)
def list_members(claims: AccessClaims, team_id: UUID) -> MembersPublic:
    return members.list_members(get_database(), claims, team_id)


@MEMBER.patch(
    "updateMember",
    "Change a member's role (admins: members and viewers; owners: anyone)",
    tag="members",
    response=MemberPublic,
    errors=(*ON_A_TEAM, 400, 403, 409, 413),
)
def update_member(
    claims: AccessClaims, team_id: UUID, user_id: UUID, body: MemberUpdate
) -> MemberPublic:
    return members.update_member(get_database(), claims, team_id, user_id, body)


@MEMBER.delete(
    "removeMember",
    "Remove a member (admins: members and viewers; owners: anyone)",
    tag="members",
    ok=HTTPStatus.NO_CONTENT,
    errors=(*ON_A_TEAM, 403, 409),
)
def remove_member(claims: AccessClaims, team_id: UUID, user_id: UUID) -> None:
    members.remove_member(get_database(), claims, team_id, user_id)


@LEAVE.post(
    "leaveTeam",
    "Leave the team (not as its last owner)",
    tag="members",
    ok=HTTPStatus.NO_CONTENT,
    errors=(*ON_A_TEAM, 409),
)
def leave_team(claims: AccessClaims, team_id: UUID) -> None:
    members.leave_team(get_database(), claims, team_id)


@INVITATIONS.post(
    "createInvitation",
    "Invite an address (admins); the answer carries the single-use link once",
    tag="invitations",
    ok=HTTPStatus.CREATED,
    response=InvitationCreated,
    errors=(*ON_A_TEAM, 400, 403, 409, 413, 429),
)
def create_invitation(claims: AccessClaims, team_id: UUID, body: InvitationCreate) -> Reply:
    created = invitations.create_invitation(get_database(), claims, team_id, body, get_settings())
    return Reply(created, headers={"Location": f"/api/teams/{team_id}/invitations/{created.id}"})


@INVITATIONS.get(
    "listInvitations",
    "The team's invitations (admins)",
    tag="invitations",
    response=InvitationsPublic,
    errors=(*ON_A_TEAM, 403),
)
def list_invitations(claims: AccessClaims, team_id: UUID) -> InvitationsPublic:
    return invitations.list_invitations(get_database(), claims, team_id)


@INVITATION.delete(
    "revokeInvitation",
    "Revoke a pending invitation (admins)",
    tag="invitations",
    ok=HTTPStatus.NO_CONTENT,
    errors=(*ON_A_TEAM, 403, 409),
)
def revoke_invitation(claims: AccessClaims, team_id: UUID, invitation_id: UUID) -> None:
    invitations.revoke_invitation(get_database(), claims, team_id, invitation_id)


@ACCEPT.post(
    "acceptInvitation",
    "Join a team with an invitation's token, signed in with the invited address",
    tag="invitations",
    response=InvitationAccepted,
    errors=(*ON_A_TEAM, 400, 403, 409, 413),
)
def accept_invitation(claims: AccessClaims, body: InvitationAccept) -> InvitationAccepted:
    return invitations.accept_invitation(get_database(), claims, body.token)


def _track_summary() -> str:
    names = [spec(p).display_name for p in needing_credentials()]
    needs = "needs" if len(names) == 1 else "need"
    return (
        "Track a channel by URL, handle or id (members); "
        f"{' and '.join(names)} {needs} the owner's API key"
    )


@CHANNELS.post(
    "trackChannel",
    _track_summary(),
    tag="channels",
    ok=HTTPStatus.CREATED,
    response=TrackedChannelPublic,
    errors=(*ON_A_TEAM, 400, 403, 409, 413),
)
def track_channel(claims: AccessClaims, team_id: UUID, body: ChannelCreate) -> Reply:
    tracked = channels.track_channel(
        get_database(), claims, team_id, body, get_settings(), channels.default_resolvers()
    )
    location = f"/api/teams/{team_id}/channels/{tracked.channel_id}"
    return Reply(tracked, headers={"Location": location})


@CHANNELS.get(
    "listChannels", "The channels the team tracks", tag="channels", response=TrackedChannelsPublic
)
def list_channels(claims: AccessClaims, team_id: UUID) -> TrackedChannelsPublic:
    return channels.list_channels(get_database(), claims, team_id)


@CHANNEL.delete(
    "untrackChannel",
    "Stop tracking a channel (members); its history stays",
    tag="channels",
    ok=HTTPStatus.NO_CONTENT,
    errors=(*ON_A_TEAM, 403),
)
def untrack_channel(claims: AccessClaims, team_id: UUID, channel_id: UUID) -> None:
    channels.untrack_channel(get_database(), claims, team_id, channel_id)


bp = api.blueprint()
