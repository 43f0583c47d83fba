"""`GET /api/openapi.json`: the OpenAPI 3.1 document of the HTTP API, generated
from the same pydantic models the functions parse and answer with.

Every HTTP route the app registers must have its operations listed in
`OPERATIONS` (a test compares the two), so the document cannot drift from the
functions.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import azure.functions as func
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from functions.billing import WebhookAck
from functions.http import PROBLEM_JSON, Problem
from shared import __version__
from shared.billing.service import BillingPublic, CheckoutCreate, CheckoutPublic, PortalPublic
from shared.exports import ExportPublic, ExportQuery
from shared.health import HealthPublic
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

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated

# Statuses every authenticated operation can answer.
AUTHENTICATED = (401, 503)
ON_A_TEAM = (*AUTHENTICATED, 404, 422)  # 404: not a member, or a malformed id


@dataclass(frozen=True)
class Operation:
    """One method on one path."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    ok: int = HTTPStatus.OK
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ON_A_TEAM
    authenticated: bool = True
    description: str = ""
    query: type[BaseModel] | None = None
    """A model of the query string; each field becomes a query parameter."""


TEAM = "/api/teams/{team_id}"
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/api/health",
        "getHealth",
        "Version and database reachability",
        "health",
        response=HealthPublic,
        errors=(503,),
        authenticated=False,
    ),
    Operation(
        "get",
        "/api/openapi.json",
        "getOpenApi",
        "This document",
        "meta",
        errors=(),
        authenticated=False,
    ),
    Operation(
        "post",
        "/api/teams",
        "createTeam",
        "Create a team; you become its owner",
        "teams",
        ok=201,
        body=TeamCreate,
        response=TeamPublic,
        errors=(*AUTHENTICATED, 400, 403, 413, 422),
    ),
    Operation(
        "get",
        "/api/teams",
        "listTeams",
        "The teams you belong to",
        "teams",
        response=TeamsPublic,
        errors=AUTHENTICATED,
    ),
    Operation("get", TEAM, "getTeam", "One of your teams", "teams", response=TeamPublic),
    Operation(
        "patch",
        TEAM,
        "updateTeam",
        "Rename the team or change its MFA rule (admins)",
        "teams",
        body=TeamUpdate,
        response=TeamPublic,
        errors=(*ON_A_TEAM, 400, 403, 413),
    ),
    Operation(
        "delete",
        TEAM,
        "deleteTeam",
        "Delete the team (owners)",
        "teams",
        ok=204,
        errors=(*ON_A_TEAM, 403),
    ),
    Operation(
        "get",
        f"{TEAM}/members",
        "listMembers",
        "The team's members",
        "members",
        response=MembersPublic,
    ),
    Operation(
        "patch",
        f"{TEAM}/members/{{user_id}}",
        "updateMember",
        "Change a member's role (admins: members and viewers; owners: anyone)",
        "members",
        body=MemberUpdate,
        response=MemberPublic,
        errors=(*ON_A_TEAM, 400, 403, 409, 413),
    ),
    Operation(
        "delete",
        f"{TEAM}/members/{{user_id}}",
        "removeMember",
        "Remove a member (admins: members and viewers; owners: anyone)",
        "members",
        ok=204,
        errors=(*ON_A_TEAM, 403, 409),
    ),
    Operation(
        "post",
        f"{TEAM}/leave",
        "leaveTeam",
        "Leave the team (not as its last owner)",
        "members",
        ok=204,
        errors=(*ON_A_TEAM, 409),
    ),
    Operation(
        "post",
        f"{TEAM}/invitations",
        "createInvitation",
        "Invite an address (admins); the answer carries the single-use link once",
        "invitations",
        ok=201,
        body=InvitationCreate,
        response=InvitationCreated,
        errors=(*ON_A_TEAM, 400, 403, 409, 413, 429),
    ),
    Operation(
        "get",
        f"{TEAM}/invitations",
        "listInvitations",
        "The team's invitations (admins)",
        "invitations",
        response=InvitationsPublic,
        errors=(*ON_A_TEAM, 403),
    ),
    Operation(
        "delete",
        f"{TEAM}/invitations/{{invitation_id}}",
        "revokeInvitation",
        "Revoke a pending invitation (admins)",
        "invitations",
        ok=204,
        errors=(*ON_A_TEAM, 403, 409),
    ),
    Operation(
        "post",
        "/api/invitations/accept",
        "acceptInvitation",
        "Join a team with an invitation's token, signed in with the invited address",
        "invitations",
        body=InvitationAccept,
        response=InvitationAccepted,
        errors=(*ON_A_TEAM, 400, 403, 409, 413),
    ),
    Operation(
        "post",
        f"{TEAM}/channels",
        "trackChannel",
        "Track a channel by URL, handle or id (members); Rumble needs the owner's API key",
        "channels",
        ok=201,
        body=ChannelCreate,
        response=TrackedChannelPublic,
        errors=(*ON_A_TEAM, 400, 403, 409, 413),
    ),
    Operation(
        "get",
        f"{TEAM}/channels",
        "listChannels",
        "The channels the team tracks",
        "channels",
        response=TrackedChannelsPublic,
    ),
    Operation(
        "delete",
        f"{TEAM}/channels/{{channel_id}}",
        "untrackChannel",
        "Stop tracking a channel (members); its history stays",
        "channels",
        ok=204,
        errors=(*ON_A_TEAM, 403),
    ),
    Operation(
        "get",
        f"{TEAM}/billing",
        "getBilling",
        "The team's plan, entitlements and subscription state (members)",
        "billing",
        response=BillingPublic,
    ),
    Operation(
        "post",
        f"{TEAM}/billing/checkout",
        "createCheckout",
        "A Stripe Checkout Session for a paid plan (owners)",
        "billing",
        ok=201,
        body=CheckoutCreate,
        response=CheckoutPublic,
        errors=(*ON_A_TEAM, 400, 403, 409, 413),
    ),
    Operation(
        "post",
        f"{TEAM}/billing/portal",
        "createPortal",
        "A Stripe customer portal session (owners)",
        "billing",
        ok=201,
        response=PortalPublic,
        errors=(*ON_A_TEAM, 403, 409),
    ),
    Operation(
        "post",
        "/api/stripe/webhook",
        "stripeWebhook",
        "Stripe events, verified by the Stripe-Signature header over the raw body",
        "billing",
        response=WebhookAck,
        errors=(400, 503),
        authenticated=False,
    ),
    Operation(
        "get",
        f"{TEAM}/exports",
        "createExport",
        "A CSV of the team's sessions and daily rollups, as a signed download URL (members)",
        "exports",
        response=ExportPublic,
        query=ExportQuery,
        errors=(*ON_A_TEAM, 403),
    ),
)


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once per process)."""
    models: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Problem, "serialization")}
    for op in OPERATIONS:
        if op.body:
            models.add((op.body, "validation"))
        if op.response:
            models.add((op.response, "serialization"))
    refs, defs = models_json_schema(
        sorted(models, key=lambda m: (m[0].__name__, m[1])),
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StreamTrack API",
            "version": __version__,
            "description": (
                "Teams, members, invitations and tracked channels. Authenticate with a "
                "Supabase access token: `Authorization: Bearer <token>`. Errors are "
                "RFC 9457 `application/problem+json`."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "supabase": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _operation(op: Operation, refs: Mapping[tuple[Any, Any], Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "security": [{"supabase": []}] if op.authenticated else [],
    }
    params = [p.strip("{}") for p in op.path.split("/") if p.startswith("{")]
    if params:
        spec["parameters"] = [
            {
                "name": p,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
            for p in params
        ]
    if op.query:
        schema = op.query.model_json_schema(by_alias=True)
        required = set(schema.get("required", []))
        spec.setdefault("parameters", []).extend(
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema["properties"].items()
        )
    if op.body:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    responses: dict[str, Any] = {}
    if op.response:
        responses[str(int(op.ok))] = {
            "description": HTTPStatus(op.ok).phrase,
            "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
        }
    elif op.operation_id == "getOpenApi":
        responses["200"] = {
            "description": "The OpenAPI document",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    else:
        responses[str(int(op.ok))] = {"description": HTTPStatus(op.ok).phrase}
    problem = {PROBLEM_JSON: {"schema": refs[(Problem, "serialization")]}}
    for status in sorted(set(op.errors)):
        content = problem
        if op.operation_id == "getHealth":  # the health report itself, with status degraded
            content = {"application/json": {"schema": refs[(HealthPublic, "serialization")]}}
        responses[str(status)] = {"description": HTTPStatus(status).phrase, "content": content}
    spec["responses"] = responses
    return spec


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(openapi_document(), separators=(",", ":")),
        mimetype="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )
