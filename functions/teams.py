"""The teams API: teams, members, invitations and tracked channels.

Each function authenticates the bearer token, parses the path and body, calls
one service in `shared.teams`, and answers JSON or problem+json.
"""

from http import HTTPStatus

import azure.functions as func

from functions.http import (
    authenticate,
    json_response,
    no_content,
    parse_body,
    respond,
    route_uuid,
)
from shared.config import get_settings
from shared.db import get_database
from shared.teams import channels, invitations, members, teams
from shared.teams.models import (
    ChannelCreate,
    InvitationAccept,
    InvitationCreate,
    MemberUpdate,
    TeamCreate,
    TeamUpdate,
)

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token is the authentication


@bp.function_name("teams")
@bp.route(route="teams", methods=["GET", "POST"], auth_level=ANONYMOUS)
def teams_collection(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        if req.method == "POST":
            team = teams.create_team(get_database(), claims, parse_body(req, TeamCreate))
            return json_response(team, HTTPStatus.CREATED, {"Location": f"/api/teams/{team.id}"})
        return json_response(teams.list_teams(get_database(), claims))

    return respond(handle)


@bp.function_name("team")
@bp.route(route="teams/{team_id}", methods=["GET", "PATCH", "DELETE"], auth_level=ANONYMOUS)
def team_item(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id = route_uuid(req, "team_id")
        if req.method == "PATCH":
            body = parse_body(req, TeamUpdate)
            return json_response(teams.update_team(get_database(), claims, team_id, body))
        if req.method == "DELETE":
            teams.delete_team(get_database(), claims, team_id)
            return no_content()
        return json_response(teams.get_team(get_database(), claims, team_id))

    return respond(handle)


@bp.function_name("team_members")
@bp.route(route="teams/{team_id}/members", methods=["GET"], auth_level=ANONYMOUS)
def team_members(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id = route_uuid(req, "team_id")
        return json_response(members.list_members(get_database(), claims, team_id))

    return respond(handle)


@bp.function_name("team_member")
@bp.route(
    route="teams/{team_id}/members/{user_id}", methods=["PATCH", "DELETE"], auth_level=ANONYMOUS
)
def team_member(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id, user_id = route_uuid(req, "team_id"), route_uuid(req, "user_id")
        if req.method == "DELETE":
            members.remove_member(get_database(), claims, team_id, user_id)
            return no_content()
        body = parse_body(req, MemberUpdate)
        return json_response(members.update_member(get_database(), claims, team_id, user_id, body))

    return respond(handle)


@bp.function_name("team_leave")
@bp.route(route="teams/{team_id}/leave", methods=["POST"], auth_level=ANONYMOUS)
def team_leave(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        members.leave_team(get_database(), claims, route_uuid(req, "team_id"))
        return no_content()

    return respond(handle)


@bp.function_name("team_invitations")
@bp.route(route="teams/{team_id}/invitations", methods=["GET", "POST"], auth_level=ANONYMOUS)
def team_invitations(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id = route_uuid(req, "team_id")
        if req.method == "POST":
            body = parse_body(req, InvitationCreate)
            created = invitations.create_invitation(
                get_database(), claims, team_id, body, get_settings()
            )
            location = {"Location": f"/api/teams/{team_id}/invitations/{created.id}"}
            return json_response(created, HTTPStatus.CREATED, location)
        return json_response(invitations.list_invitations(get_database(), claims, team_id))

    return respond(handle)


@bp.function_name("team_invitation")
@bp.route(
    route="teams/{team_id}/invitations/{invitation_id}", methods=["DELETE"], auth_level=ANONYMOUS
)
def team_invitation(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id, invitation_id = route_uuid(req, "team_id"), route_uuid(req, "invitation_id")
        invitations.revoke_invitation(get_database(), claims, team_id, invitation_id)
        return no_content()

    return respond(handle)


@bp.function_name("invitation_accept")
@bp.route(route="invitations/accept", methods=["POST"], auth_level=ANONYMOUS)
def invitation_accept(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        body = parse_body(req, InvitationAccept)
        return json_response(invitations.accept_invitation(get_database(), claims, body.token))

    return respond(handle)


@bp.function_name("team_channels")
@bp.route(route="teams/{team_id}/channels", methods=["GET", "POST"], auth_level=ANONYMOUS)
def team_channels(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id = route_uuid(req, "team_id")
        if req.method == "POST":
            body = parse_body(req, ChannelCreate)
            tracked = channels.track_channel(
                get_database(), claims, team_id, body, get_settings(), channels.default_resolvers()
            )
            location = {"Location": f"/api/teams/{team_id}/channels/{tracked.channel_id}"}
            return json_response(tracked, HTTPStatus.CREATED, location)
        return json_response(channels.list_channels(get_database(), claims, team_id))

    return respond(handle)


@bp.function_name("team_channel")
@bp.route(route="teams/{team_id}/channels/{channel_id}", methods=["DELETE"], auth_level=ANONYMOUS)
def team_channel(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id, channel_id = route_uuid(req, "team_id"), route_uuid(req, "channel_id")
        channels.untrack_channel(get_database(), claims, team_id, channel_id)
        return no_content()

    return respond(handle)
