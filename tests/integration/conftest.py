"""Fixtures of the teams API tests: the platform sandbox the channel endpoints
resolve against, and the API with its settings pointed at the test database."""

from collections.abc import Iterator

import pytest
from azure.functions.decorators.function_app import Function

from localdev.sandbox import Sandbox
from shared.auth import get_token_verifier
from shared.config import get_settings
from shared.db import reset_database
from shared.monitor.service import default_fetchers
from shared.teams.channels import default_resolvers
from tests.integration.teams_support import Api, api_env


@pytest.fixture(scope="session")
def teams_sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        seed=51, channels=80, mix="twitch=0.5,youtube=0.3,rumble=0.2",
        start="2026-11-24T20:00:00Z", rate=0,
    ) as running:  # fmt: skip
        yield running


def _clear_caches() -> None:
    get_settings.cache_clear()
    get_token_verifier.cache_clear()
    default_fetchers.cache_clear()
    default_resolvers.cache_clear()
    reset_database()


@pytest.fixture
def api(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    app_functions: dict[str, Function],
    teams_sandbox: Sandbox,
) -> Iterator[Api]:
    teams_sandbox.set_faults(reset=True)
    env = {**teams_sandbox.settings_env(), **api_env(), "DATABASE_URL": database_url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _clear_caches()
    yield Api(app_functions)
    _clear_caches()
