"""The function app indexes: every function registered with the bindings declared."""

import json
from typing import Any

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import Function

from function_app import app
from shared.platforms.registry import specs

# function name -> the bindings the host must see, as the worker reports them.


def _http(route: str, *methods: str) -> list[dict[str, Any]]:
    """An anonymous HTTP trigger (the bearer token is checked by the function)."""
    return [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": list(methods),
            "authLevel": "ANONYMOUS",
            "route": route,
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ]


EXPECTED: dict[str, list[dict[str, Any]]] = {
    "team": _http("teams/{team_id}", "GET", "PATCH", "DELETE"),
    "team_members": _http("teams/{team_id}/members", "GET"),
    "team_member": _http("teams/{team_id}/members/{user_id}", "PATCH", "DELETE"),
    "team_leave": _http("teams/{team_id}/leave", "POST"),
    "team_invitations": _http("teams/{team_id}/invitations", "GET", "POST"),
    "team_invitation": _http("teams/{team_id}/invitations/{invitation_id}", "DELETE"),
    "invitation_accept": _http("invitations/accept", "POST"),
    "team_channels": _http("teams/{team_id}/channels", "GET", "POST"),
    "team_channel": _http("teams/{team_id}/channels/{channel_id}", "DELETE"),
    "openapi": _http("openapi.json", "GET"),
    "directory_mappings": _http("teams/{team_id}/directory/mappings", "GET", "POST"),
    "directory_mapping": _http(
        "teams/{team_id}/directory/mappings/{mapping_id}", "PATCH", "DELETE"
    ),
    "directory_sync_now": _http("teams/{team_id}/directory/sync", "POST"),
    "directory_runs": _http("teams/{team_id}/directory/runs", "GET"),
    "directory_run": _http("teams/{team_id}/directory/runs/{run_id}", "GET"),
    "directory_pending": _http("teams/{team_id}/directory/pending", "GET"),
    "directory_sync": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "%DIRECTORY_SCHEDULE%",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "team_exports": _http("teams/{team_id}/exports", "GET"),
    "channel_connection": _http(
        "teams/{team_id}/channels/{channel_id}/connection", "POST", "DELETE"
    ),
    "team_connections": _http("teams/{team_id}/connections", "GET"),
    "connection_callback": _http("connections/callback", "GET"),
    "connection_upkeep": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "%CONNECTIONS_SCHEDULE%",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "analytics_import": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "%ANALYTICS_IMPORT_SCHEDULE%",
            "runOnStartup": False,
            "useMonitor": True,
        }
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
    "retention": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "%RETENTION_SCHEDULE%",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
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
    "billing": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["GET"],
            "authLevel": "ANONYMOUS",
            "route": "teams/{team_id}/billing",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    "billing_checkout": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["POST"],
            "authLevel": "ANONYMOUS",
            "route": "teams/{team_id}/billing/checkout",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    "billing_portal": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["POST"],
            "authLevel": "ANONYMOUS",
            "route": "teams/{team_id}/billing/portal",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    "stripe_webhook": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["POST"],
            "authLevel": "ANONYMOUS",
            "route": "stripe/webhook",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    "billing_reconcile": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "%STRIPE_RECONCILE_SCHEDULE%",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "alert_destinations": _http("teams/{team_id}/alerts/destinations", "GET", "POST"),
    "alert_destination": _http(
        "teams/{team_id}/alerts/destinations/{destination_id}", "PATCH", "DELETE"
    ),
    "alert_destination_test": _http(
        "teams/{team_id}/alerts/destinations/{destination_id}/test", "POST"
    ),
    "alert_rules": _http("teams/{team_id}/alerts/rules", "GET", "POST"),
    "alert_rule": _http("teams/{team_id}/alerts/rules/{rule_id}", "PATCH", "DELETE"),
    "alert_deliveries": _http("teams/{team_id}/alerts/deliveries", "GET"),
    "alerts_deliver": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "%ALERTS_SCHEDULE%",
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

# Push (issue 14): a callback per platform that pushes, its timers.
EXPECTED |= {
    f"push_{s.platform.value}": _http(f"push/{s.platform.value}", "GET", "POST")
    for s in specs()
    if s.push is not None
}
EXPECTED |= {
    name: [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": f"%{setting}%",
            "runOnStartup": False,
            "useMonitor": monitor,
        }
    ]
    for name, setting, monitor in (
        ("push_apply", "PUSH_SCHEDULE", False),
        ("push_subscriptions", "PUSH_SUBSCRIPTIONS_SCHEDULE", True),
    )
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


def test_openapi_lists_every_http_route_and_method(app_functions: dict[str, Function]) -> None:
    """The document and the routes come from the same declarations: they must agree."""
    from functions.openapi import OPERATIONS

    registered = set()
    for fn in app_functions.values():
        for raw in fn.get_raw_bindings():
            binding = json.loads(raw)
            if binding["type"] == "httpTrigger":
                for method in binding["methods"]:
                    registered.add((method.lower(), "/api/" + binding["route"]))
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert registered == documented
