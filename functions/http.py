"""HTTP plumbing shared by the blueprints: each operation declared once, in one place.

    api = Api("teams")
    TEAMS = api.path("/api/teams", function="teams")

    @TEAMS.post("createTeam", "Create a team", ok=201, response=TeamPublic,
                errors=(*AUTHENTICATED, 400, 403, 413, 422))
    def create_team(claims: AccessClaims, body: TeamCreate) -> Reply: ...

    bp = api.blueprint()

A declaration says the method, path, summary, success status, response model
and the error statuses the operation can answer; the request body and query
models are the handler's `body` and `query` annotations, path parameters its
arguments named like the template's (UUIDs), `claims` the verified token, `req`
the raw request. From the declarations come the Azure Functions routes (one
function per path, dispatching on the method) and the OpenAPI document
(`functions.openapi`); the errors a client can cause become RFC 9457
`application/problem+json` answers here, in `respond`, and nowhere else.
"""

import inspect
import json
import logging
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from uuid import UUID

import azure.functions as func
from pydantic import BaseModel, ValidationError

from shared import telemetry
from shared.auth import AccessClaims, AuthError, bearer_token, get_token_verifier
from shared.db import DatabaseError
from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    Unprocessable,
)

PROBLEM_JSON = "application/problem+json"
MAX_BODY_BYTES = 64 * 1024
TOO_DEEP = "the body is nested too deeply to be a request"
M = TypeVar("M", bound=BaseModel)
H = TypeVar("H", bound=Callable[..., object])
logger = logging.getLogger(__name__)

# Statuses every authenticated operation can answer.
AUTHENTICATED = (401, 503)
ON_A_TEAM = (*AUTHENTICATED, 404, 422)  # 404: not a member, or a malformed id
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token is the authentication
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""The order methods are listed in a route's binding."""


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
    model: BaseModel, status: int = HTTPStatus.OK, headers: Mapping[str, str] | None = None
) -> func.HttpResponse:
    return func.HttpResponse(
        model.model_dump_json(),
        status_code=status,
        mimetype="application/json",
        headers=dict(headers) if headers else None,
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
    """The verified claims of the request's bearer token (raises AuthError).

    The header is read first: a request with no token, or one that is not even
    a JWT, is refused without the verifier's keys, even when they cannot be had.
    """
    token = bearer_token(req.headers.get("Authorization"))
    return get_token_verifier().verify(token)


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
    except RecursionError:
        raise ClientError(HTTPStatus.BAD_REQUEST, TOO_DEEP) from None
    if not isinstance(data, dict):
        raise ClientError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
    try:
        # From the JSON text, so strict models still read enums, UUIDs and dates
        # from their JSON strings.
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any("recursion limit" in e["msg"] for e in exc.errors() if e["type"] == "json_invalid"):
            # Valid JSON to Python, but deeper than pydantic's parser goes.
            raise ClientError(HTTPStatus.BAD_REQUEST, TOO_DEEP) from None
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


_SERVICE_STATUS: dict[type[ServiceError], HTTPStatus] = {
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    Unprocessable: HTTPStatus.UNPROCESSABLE_ENTITY,
    TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}


def _challenge(error_code: str | None) -> dict[str, str]:
    challenge = "Bearer"
    if error_code:
        challenge += f' error="{error_code}"'
    return {"WWW-Authenticate": challenge}


def respond(handler: Callable[[], func.HttpResponse]) -> func.HttpResponse:
    """Run a handler, mapping every error a client can cause to problem+json."""
    try:
        return handler()
    except AuthError as exc:
        headers = _challenge(exc.error_code) if exc.status == HTTPStatus.UNAUTHORIZED else {}
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
        headers = dict(exc.headers)  # Retry-After of a rate limit, say
        if status == HTTPStatus.UNAUTHORIZED:
            headers.update(_challenge("invalid_token"))
        return problem_response(status, str(exc), headers or None)
    except DatabaseError:
        logger.exception("database unavailable")
        return problem_response(
            HTTPStatus.SERVICE_UNAVAILABLE, "the database is unavailable; retry"
        )


# --- declaring operations ---------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A handler's answer when the status or headers differ from the declaration's."""

    model: BaseModel
    status: int | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class RawResponse:
    """An operation answering something other than a model (documented as given)."""

    description: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class _Argument:
    name: str
    kind: str
    """`req`, `claims`, `path`, `body` or `query`, the order they are read in."""
    model: type[BaseModel] | None = None


_ORDER = {"req": 0, "claims": 1, "path": 2, "body": 3, "query": 4}


@dataclass(frozen=True)
class Operation:
    """One method on one path: everything the route, the handler and the document need."""

    method: str
    """Lower case, as OpenAPI writes it."""
    path: str
    """The public path, `/api/...`, with `{name}` parameters."""
    operation_id: str
    summary: str
    tag: str
    ok: int
    response: type[BaseModel] | None
    errors: tuple[int, ...]
    authenticated: bool
    error_body: type[BaseModel] | None
    """The model error statuses answer with, when not a Problem (a health report)."""
    raw_response: RawResponse | None
    handler: Callable[..., object] = field(repr=False)
    arguments: tuple[_Argument, ...] = field(repr=False)

    @property
    def body(self) -> type[BaseModel] | None:
        return next((a.model for a in self.arguments if a.kind == "body"), None)

    @property
    def query(self) -> type[BaseModel] | None:
        return next((a.model for a in self.arguments if a.kind == "query"), None)

    @property
    def path_parameters(self) -> list[str]:
        return [p.strip("{}") for p in self.path.split("/") if p.startswith("{")]

    def __call__(self, req: func.HttpRequest) -> func.HttpResponse:
        """Answer the request: authenticate, parse, run the handler, map errors."""

        def handle() -> func.HttpResponse:
            claims = authenticate(req) if self.authenticated else None
            values: dict[str, object] = {}
            for argument in self.arguments:
                if argument.kind == "req":
                    values[argument.name] = req
                elif argument.kind == "claims":
                    values[argument.name] = claims
                elif argument.kind == "path":
                    values[argument.name] = route_uuid(req, argument.name)
                elif argument.kind == "body" and argument.model is not None:
                    values[argument.name] = parse_body(req, argument.model)
                elif argument.model is not None:
                    values[argument.name] = parse_query(req, argument.model)
            return self._render(self.handler(**values))

        return respond(handle)

    def _render(self, result: object) -> func.HttpResponse:
        if isinstance(result, func.HttpResponse):
            return result
        if isinstance(result, Reply):
            return json_response(result.model, result.status or self.ok, result.headers)
        if isinstance(result, BaseModel):
            return json_response(result, self.ok)
        if result is None:
            return func.HttpResponse(status_code=self.ok)
        raise TypeError(f"{self.operation_id} answered a {type(result).__name__}")


def _arguments(handler: Callable[..., object], path: str, authenticated: bool) -> list[_Argument]:
    """What the handler asks for, by parameter name and annotation."""
    hints = typing.get_type_hints(handler)
    template = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
    found: list[_Argument] = []
    for name in inspect.signature(handler).parameters:
        annotation = hints.get(name)
        if name == "req":
            found.append(_Argument(name, "req"))
        elif name == "claims":
            if not authenticated:
                raise TypeError(f"{handler.__name__}: claims of an unauthenticated operation")
            found.append(_Argument(name, "claims"))
        elif name in template:
            found.append(_Argument(name, "path"))
        elif name in ("body", "query"):
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                raise TypeError(f"{handler.__name__}: {name} must be annotated with a model")
            found.append(_Argument(name, name, annotation))
        else:
            raise TypeError(f"{handler.__name__}: nothing supplies parameter {name!r}")
    missing = set(template) - {a.name for a in found}
    if missing:
        raise TypeError(f"{handler.__name__}: path parameters {sorted(missing)} are not taken")
    found.sort(key=lambda a: (_ORDER[a.kind], template.index(a.name) if a.kind == "path" else 0))
    return found


class Route:
    """A path and the one Azure function that answers it; its methods are declared on it."""

    def __init__(self, api: "Api", path: str, function: str) -> None:
        if not path.startswith("/api/"):
            raise ValueError(f"{path!r}: routes live under /api/")
        self.api = api
        self.path = path
        self.function = function
        self.operations: dict[str, Operation] = {}

    def get(self, operation_id: str, summary: str, **spec: Any) -> Callable[[H], H]:
        return self._declare("get", operation_id, summary, **spec)

    def post(self, operation_id: str, summary: str, **spec: Any) -> Callable[[H], H]:
        return self._declare("post", operation_id, summary, **spec)

    def patch(self, operation_id: str, summary: str, **spec: Any) -> Callable[[H], H]:
        return self._declare("patch", operation_id, summary, **spec)

    def delete(self, operation_id: str, summary: str, **spec: Any) -> Callable[[H], H]:
        return self._declare("delete", operation_id, summary, **spec)

    def _declare(
        self,
        method: str,
        operation_id: str,
        summary: str,
        *,
        ok: int = HTTPStatus.OK,
        response: type[BaseModel] | None = None,
        errors: tuple[int, ...] = ON_A_TEAM,
        authenticated: bool = True,
        tag: str | None = None,
        error_body: type[BaseModel] | None = None,
        raw_response: RawResponse | None = None,
    ) -> Callable[[H], H]:
        if method in self.operations:
            raise ValueError(f"{method.upper()} {self.path} is declared twice")

        def register(handler: H) -> H:
            self.operations[method] = Operation(
                method=method,
                path=self.path,
                operation_id=operation_id,
                summary=summary,
                tag=tag or self.api.tag,
                ok=int(ok),
                response=response,
                errors=errors,
                authenticated=authenticated,
                error_body=error_body,
                raw_response=raw_response,
                handler=handler,
                arguments=tuple(_arguments(handler, self.path, authenticated)),
            )
            return handler

        return register

    def endpoint(self) -> Callable[[func.HttpRequest], func.HttpResponse]:
        """The Azure function: the declared operation of the request's method."""
        operations = {method.upper(): op for method, op in self.operations.items()}

        def endpoint(req: func.HttpRequest) -> func.HttpResponse:
            method = req.method.upper()
            attributes = {"http.request.method": method, "http.route": self.path}
            with telemetry.invocation(self.function, "http", attributes=attributes) as span:
                operation = operations.get(method)
                if operation is None:  # the host routes declared methods only
                    response = problem_response(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
                else:
                    response = operation(req)
                span.set_attribute("http.response.status_code", response.status_code)
                return response

        endpoint.__name__ = endpoint.__qualname__ = self.function
        return endpoint


class Api:
    """A blueprint's routes, and their operations for the OpenAPI document."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.routes: list[Route] = []

    def path(self, path: str, *, function: str) -> Route:
        route = Route(self, path, function)
        self.routes.append(route)
        return route

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(op for route in self.routes for op in route.operations.values())

    def blueprint(self, bp: func.Blueprint | None = None) -> func.Blueprint:
        """An Azure Functions blueprint with one anonymous HTTP function per route."""
        # azure-functions leaves Blueprint.__init__ unannotated
        bp = bp or func.Blueprint()  # type: ignore[no-untyped-call]
        for route in self.routes:
            methods = sorted((m.upper() for m in route.operations), key=lambda m: METHODS.index(m))
            fn = bp.route(
                route=route.path.removeprefix("/api/"), methods=methods, auth_level=ANONYMOUS
            )(route.endpoint())
            bp.function_name(route.function)(fn)
        return bp
