import json

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import Function

from localdev.postgres import free_port
from shared.config import get_settings
from shared.db import Database, reset_database
from shared.health import check_health


def test_unreachable_database_is_reported_not_raised() -> None:
    db = Database(f"postgresql://postgres:x@127.0.0.1:{free_port()}/postgres", timeout=1)
    try:
        report = check_health(db)
    finally:
        db.close()
    assert report.status == "degraded"
    assert report.database == "unreachable"


def test_health_without_database_url(
    monkeypatch: pytest.MonkeyPatch, app_functions: dict[str, Function]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    reset_database()
    health = app_functions["health"].get_user_function()
    response = health(func.HttpRequest("GET", "/api/health", body=b""))
    get_settings.cache_clear()
    assert response.status_code == 503
    body = json.loads(response.get_body())
    assert body["database"] == "not_configured"
    assert set(body) == {"status", "version", "database"}
