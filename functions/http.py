"""JSON and RFC 9457 problem responses shared by the HTTP blueprints."""

from http import HTTPStatus

import azure.functions as func
from pydantic import BaseModel

PROBLEM_JSON = "application/problem+json"


def json_response(model: BaseModel, status: int = HTTPStatus.OK) -> func.HttpResponse:
    return func.HttpResponse(
        model.model_dump_json(),
        status_code=status,
        mimetype="application/json",
    )


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


def problem_response(status: int, detail: str | None = None) -> func.HttpResponse:
    """A problem+json response whose title is the status phrase."""
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail)
    return func.HttpResponse(
        body.model_dump_json(exclude_none=True),
        status_code=status,
        mimetype=PROBLEM_JSON,
    )
