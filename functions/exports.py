"""`GET /api/teams/{team_id}/exports?from=…&to=…&format=csv`: a CSV of the team's
sessions and daily rollups in Storage, answered with a signed download URL."""

import azure.functions as func

from functions.http import authenticate, json_response, parse_query, respond, route_uuid
from shared.config import get_settings
from shared.db import get_database
from shared.exports import ExportQuery, create_export

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated


@bp.function_name("team_exports")
@bp.route(route="teams/{team_id}/exports", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def team_exports(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        team_id = route_uuid(req, "team_id")
        query = parse_query(req, ExportQuery)
        export = create_export(get_database(), claims, team_id, query, get_settings())
        return json_response(export)

    return respond(handle)
