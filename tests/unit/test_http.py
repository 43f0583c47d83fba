import json

from functions.http import PROBLEM_JSON, problem_response


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
