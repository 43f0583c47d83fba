"""`/api/teams`: create a team, list the caller's teams."""

from http import HTTPStatus

import azure.functions as func

from functions.http import authenticate, json_response, parse_body, respond
from shared.db import get_database
from shared.teams import TeamCreate, create_team, list_teams

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated


@bp.function_name("teams")
@bp.route(route="teams", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def teams(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        if req.method == "POST":
            team = create_team(get_database(), claims, parse_body(req, TeamCreate))
            location = {"Location": f"/api/teams/{team.id}"}
            return json_response(team, HTTPStatus.CREATED, location)
        return json_response(list_teams(get_database(), claims))

    return respond(handle)
