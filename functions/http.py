"""HTTP plumbing shared by the blueprints: authentication, JSON bodies, and
RFC 9457 problem responses for every error a client can cause."""

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import TypeVar
from uuid import UUID

import azure.functions as func
from pydantic import BaseModel, ValidationError

from shared.auth import AccessClaims, AuthError, bearer_token, get_token_verifier
from shared.db import DatabaseError
from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    TooManyRequests,
    Unavailable,
    Unprocessable,
)

PROBLEM_JSON = "application/problem+json"
MAX_BODY_BYTES = 64 * 1024
M = TypeVar("M", bound=BaseModel)
logger = logging.getLogger(__name__)


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class ClientError(Exception):
    """A request the client must change; carries the HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def json_response(
    model: BaseModel, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    return func.HttpResponse(
        model.model_dump_json(), status_code=status, mimetype="application/json", headers=headers
    )


def problem_response(
    status: int, detail: str | None = None, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    """A problem+json response whose title is the status phrase."""
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail)
    return func.HttpResponse(
        body.model_dump_json(exclude_none=True),
        status_code=status,
        mimetype=PROBLEM_JSON,
        headers=headers,
    )


def authenticate(req: func.HttpRequest) -> AccessClaims:
    """The verified claims of the request's bearer token (raises AuthError)."""
    return get_token_verifier().verify(bearer_token(req.headers.get("Authorization")))


def parse_body(req: func.HttpRequest, model: type[M]) -> M:
    """The JSON body as `model`; anything else is a ClientError saying what to fix."""
    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise ClientError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body exceeds {MAX_BODY_BYTES} bytes"
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ClientError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ClientError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
    try:
        # From the JSON text, so strict models still read enums, UUIDs and dates
        # from their JSON strings.
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise _unprocessable(exc, "body") from None


def parse_query(req: func.HttpRequest, model: type[M]) -> M:
    """The query string as `model`; a ClientError (422) naming what to fix."""
    try:
        return model.model_validate(dict(req.params))
    except ValidationError as exc:
        raise _unprocessable(exc, "query") from None


def _unprocessable(exc: ValidationError, where: str) -> ClientError:
    detail = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or where}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    )
    return ClientError(HTTPStatus.UNPROCESSABLE_ENTITY, detail)


_SERVICE_STATUS: dict[type[ServiceError], HTTPStatus] = {
    Forbidden: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    Unprocessable: HTTPStatus.UNPROCESSABLE_ENTITY,
    TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}


def respond(handler: Callable[[], func.HttpResponse]) -> func.HttpResponse:
    """Run a handler, mapping every error a client can cause to problem+json."""
    try:
        return handler()
    except AuthError as exc:
        headers = {}
        if exc.status == HTTPStatus.UNAUTHORIZED:
            challenge = "Bearer"
            if exc.error_code:
                challenge += f' error="{exc.error_code}"'
            headers["WWW-Authenticate"] = challenge
        return problem_response(exc.status, str(exc), headers)
    except ClientError as exc:
        return problem_response(exc.status, exc.detail)
    except ServiceError as exc:
        status = next(
            (code for kind, code in _SERVICE_STATUS.items() if isinstance(exc, kind)),
            HTTPStatus.BAD_REQUEST,
        )
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            logger.warning("service unavailable: %s", exc)
        return problem_response(status, str(exc), exc.headers)
    except DatabaseError:
        logger.exception("database unavailable")
        return problem_response(
            HTTPStatus.SERVICE_UNAVAILABLE, "the database is unavailable; retry"
        )


def route_uuid(req: func.HttpRequest, name: str) -> UUID:
    """A UUID path parameter. Anything else names no resource: 404, saying why."""
    value = req.route_params.get(name, "")
    try:
        return UUID(value)
    except ValueError:
        raise ClientError(
            HTTPStatus.NOT_FOUND, f"{name} must be a UUID, got {value[:60]!r}"
        ) from None


def no_content() -> func.HttpResponse:
    return func.HttpResponse(status_code=HTTPStatus.NO_CONTENT)
