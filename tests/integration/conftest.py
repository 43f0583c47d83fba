"""Fixtures of the teams API tests: the platform sandbox the channel endpoints
resolve against, and the API with its settings pointed at the test database."""

from collections.abc import Iterator

import pytest
from azure.functions.decorators.function_app import Function

from localdev.sandbox import Sandbox
from tests.integration.teams_support import Api, api_env, clear_caches


@pytest.fixture(scope="session")
def teams_sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        seed=51, channels=80, mix="twitch=0.5,youtube=0.3,rumble=0.2",
        start="2026-11-24T20:00:00Z", rate=0,
    ) as running:  # fmt: skip
        yield running


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
    clear_caches()
    yield Api(app_functions)
    clear_caches()
