"""The function app indexes: every function registered with the bindings declared."""

import json
from typing import Any

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import Function

from function_app import app

# function name -> the bindings the host must see, as the worker reports them.
EXPECTED: dict[str, list[dict[str, Any]]] = {
    "health": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["GET"],
            "authLevel": "ANONYMOUS",
            "route": "health",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    "teams": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["GET", "POST"],
            "authLevel": "ANONYMOUS",
            "route": "teams",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    "analytics_refresh": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "%ANALYTICS_REFRESH_SCHEDULE%",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "monitor": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "%MONITOR_SCHEDULE%",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "monitor_shard": [
        {
            "direction": "IN",
            "type": "queueTrigger",
            "name": "message",
            "queueName": "%MONITOR_QUEUE_NAME%",
            "connection": "AzureWebJobsStorage",
        }
    ],
}


def test_every_function_is_registered(app_functions: dict[str, Function]) -> None:
    assert set(app_functions) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bindings(app_functions: dict[str, Function], name: str) -> None:
    bindings = [json.loads(raw) for raw in app_functions[name].get_raw_bindings()]
    assert bindings == EXPECTED[name]


def test_app_default_auth_level_is_function_keys() -> None:
    """A function that forgets its auth level must not become public."""
    assert app.auth_level == func.AuthLevel.FUNCTION
