import json

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import Function

from shared import __version__


@pytest.mark.usefixtures("app_env")
def test_health_reports_a_reachable_database(app_functions: dict[str, Function]) -> None:
    health = app_functions["health"].get_user_function()
    response = health(func.HttpRequest("GET", "/api/health", body=b""))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json.loads(response.get_body()) == {
        "status": "ok",
        "version": __version__,
        "database": "reachable",
    }
