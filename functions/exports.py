"""`GET /api/teams/{team_id}/exports?from=…&to=…&format=csv`: a CSV of the team's
sessions and daily rollups in Storage, answered with a signed download URL."""

import uuid
from http import HTTPStatus

import azure.functions as func
from pydantic import ValidationError

from functions.http import ClientError, authenticate, json_response, respond
from shared.config import get_settings
from shared.db import get_database
from shared.errors import NotFound
from shared.exports import ExportQuery, create_export

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated


def parse_query(req: func.HttpRequest) -> ExportQuery:
    """The query string as an ExportQuery; a ClientError (422) naming what to fix."""
    try:
        return ExportQuery.model_validate(dict(req.params))
    except ValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'query'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ClientError(HTTPStatus.UNPROCESSABLE_ENTITY, detail) from None


@bp.function_name("team_exports")
@bp.route(route="teams/{team_id}/exports", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def team_exports(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        claims = authenticate(req)
        try:
            team_id = uuid.UUID(req.route_params.get("team_id", ""))
        except ValueError:
            raise NotFound("no such team") from None
        query = parse_query(req)
        export = create_export(get_database(), claims, team_id, query, get_settings())
        return json_response(export)

    return respond(handle)
