"""`GET /api/openapi.json`: the OpenAPI 3.1 document of the HTTP API, generated
from the operations the blueprints declare (`functions.http`), with the same
pydantic models the functions parse and answer with. There is no second list:
the routes the app registers and the document come from the same declarations.
"""

import json
from collections.abc import Mapping
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import azure.functions as func
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from functions import alerts, billing, connections, directory, exports, health, push, teams
from functions.http import PROBLEM_JSON, Api, Operation, Problem, RawResponse
from shared import __version__

api = Api("meta")
DOCUMENT = api.path("/api/openapi.json", function="openapi")

APIS: tuple[Api, ...] = (
    health.api,
    api,
    teams.api,
    connections.api,
    directory.api,
    billing.api,
    exports.api,
    alerts.api,
    push.api,
)
"""Every blueprint's declarations, in the document's order."""


def operations() -> tuple[Operation, ...]:
    return tuple(op for declared in APIS for op in declared.operations)


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once per process)."""
    models: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Problem, "serialization")}
    for op in OPERATIONS:
        if op.body:
            models.add((op.body, "validation"))
        for model in (op.response, op.error_body):
            if model:
                models.add((model, "serialization"))
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
    if op.path_parameters:
        spec["parameters"] = [
            {
                "name": p,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
            for p in op.path_parameters
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
        responses[str(op.ok)] = {
            "description": HTTPStatus(op.ok).phrase,
            "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
        }
    elif op.raw_response:
        responses[str(op.ok)] = {
            "description": op.raw_response.description,
            "content": {"application/json": {"schema": dict(op.raw_response.schema)}},
        }
    else:
        responses[str(op.ok)] = {"description": HTTPStatus(op.ok).phrase}
    error = {PROBLEM_JSON: {"schema": refs[(Problem, "serialization")]}}
    if op.error_body:
        error = {"application/json": {"schema": refs[(op.error_body, "serialization")]}}
    for status in sorted(set(op.errors)):
        responses[str(status)] = {"description": HTTPStatus(status).phrase, "content": error}
    spec["responses"] = responses
    return spec


@DOCUMENT.get(
    "getOpenApi",
    "This document",
    errors=(),
    authenticated=False,
    raw_response=RawResponse("The OpenAPI document", {"type": "object"}),
)
def openapi() -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(openapi_document(), separators=(",", ":")),
        mimetype="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


bp = api.blueprint()
OPERATIONS: tuple[Operation, ...] = operations()
"""Every declared operation (the tests compare them with the registered routes)."""
