"""Connected channels: owners and admins connect a tracked channel's account by
OAuth, the platform's redirect lands on the callback, and two timers keep the
tokens alive (%CONNECTIONS_SCHEDULE%) and import the owners' analytics reports
(%ANALYTICS_IMPORT_SCHEDULE%)."""

from http import HTTPStatus
from urllib.parse import urlencode
from uuid import UUID

import azure.functions as func

from functions.http import ON_A_TEAM, Api
from shared.auth import AccessClaims
from shared.config import get_settings
from shared.connections import analytics, service, tokens
from shared.connections.models import (
    CallbackQuery,
    ConnectionPublic,
    ConnectionsPublic,
    ConnectionStart,
    ConnectionStarted,
)
from shared.connections.providers import default_providers
from shared.db import get_database
from shared.errors import ServiceError

api = Api("connections")
CONNECTION = api.path(
    "/api/teams/{team_id}/channels/{channel_id}/connection", function="channel_connection"
)
CONNECTIONS = api.path("/api/teams/{team_id}/connections", function="team_connections")
CALLBACK = api.path("/api/connections/callback", function="connection_callback")


@CONNECTION.post(
    "startChannelConnection",
    "Start connecting the channel's owner account (owners, admins): the authorization URL",
    response=ConnectionStarted,
    errors=(*ON_A_TEAM, 400, 403, 413),
)
def start(
    claims: AccessClaims, team_id: UUID, channel_id: UUID, body: ConnectionStart
) -> ConnectionStarted:
    return service.start_connection(
        get_database(), claims, team_id, channel_id, get_settings(), default_providers()
    )


@CONNECTION.delete(
    "deleteChannelConnection",
    "Disconnect: revoke the tokens at the platform and delete them (owners, admins)",
    ok=HTTPStatus.NO_CONTENT,
    errors=(*ON_A_TEAM, 403),
)
def disconnect(claims: AccessClaims, team_id: UUID, channel_id: UUID) -> None:
    service.disconnect(
        get_database(), claims, team_id, channel_id, get_settings(), default_providers()
    )


@CONNECTIONS.get(
    "listTeamConnections",
    "The team's channel connections and whether each is healthy (members)",
    response=ConnectionsPublic,
)
def list_connections(claims: AccessClaims, team_id: UUID) -> ConnectionsPublic:
    return service.list_connections(get_database(), claims, team_id)


@CALLBACK.get(
    "completeChannelConnection",
    "The platform's OAuth redirect: checks the state and the channel's ownership, stores "
    "the sealed tokens (303 to CONNECTIONS_RETURN_URL when set)",
    response=ConnectionPublic,
    errors=(403, 404, 409, 422, 503),
    authenticated=False,
)
def callback(query: CallbackQuery) -> ConnectionPublic | func.HttpResponse:
    settings = get_settings()
    back = settings.connections_return_url or None  # "" from local settings: unset
    try:
        connected = service.complete_connection(
            get_database(), query, settings, default_providers()
        )
    except ServiceError as exc:
        if back is None:
            raise
        return _see_other(back, {"status": "error", "detail": str(exc)})
    if back is None:
        return connected
    return _see_other(back, {"status": "connected", "connection_id": str(connected.id)})


def _see_other(url: str, params: dict[str, str]) -> func.HttpResponse:
    joiner = "&" if "?" in url else "?"
    location = f"{url}{joiner}{urlencode(params)}"
    return func.HttpResponse(status_code=HTTPStatus.SEE_OTHER, headers={"Location": location})


bp = api.blueprint()


@bp.function_name("connection_upkeep")
@bp.timer_trigger(
    schedule="%CONNECTIONS_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True
)
def connection_upkeep(timer: func.TimerRequest) -> None:
    tokens.upkeep(get_database(), get_settings(), default_providers())


@bp.function_name("analytics_import")
@bp.timer_trigger(
    schedule="%ANALYTICS_IMPORT_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True
)
def analytics_import(timer: func.TimerRequest) -> None:
    analytics.import_reports(get_database(), get_settings(), default_providers())
