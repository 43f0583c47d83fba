import json

import azure.functions as func
import pytest

from functions.http import PROBLEM_JSON, problem_response, respond
from functions.openapi import OPERATIONS
from shared.errors import ServiceError, TooManyRequests, Unauthenticated


def test_problem_response_is_rfc9457() -> None:
    response = problem_response(422, "name: must not be empty")
    assert response.status_code == 422
    assert response.mimetype == PROBLEM_JSON
    assert json.loads(response.get_body()) == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "name: must not be empty",
    }


def refusing(exc: ServiceError) -> func.HttpResponse:
    def handler() -> func.HttpResponse:
        raise exc

    return respond(handler)


def test_a_rate_limit_is_a_429_with_retry_after() -> None:
    response = refusing(TooManyRequests("slow down", 42))
    assert response.status_code == 429
    assert response.mimetype == PROBLEM_JSON
    assert response.headers["Retry-After"] == "42"
    assert json.loads(response.get_body())["detail"] == "slow down"


def test_an_account_gone_is_a_401_with_a_bearer_challenge() -> None:
    response = refusing(Unauthenticated("sign in again"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(("operation_id", "status"), [("createInvitation", 429)])
def test_the_document_declares_the_refusals_a_service_raises(
    operation_id: str, status: int
) -> None:
    (operation,) = (op for op in OPERATIONS if op.operation_id == operation_id)
    assert status in operation.errors
