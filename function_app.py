"""Azure Functions entry point (Python v2 model): create the app, register blueprints."""

import logging

import azure.functions as func

from functions import (
    alerts,
    analytics,
    billing,
    connections,
    directory,
    exports,
    health,
    monitor,
    openapi,
    push,
    retention,
    teams,
)
from shared import telemetry

try:  # exports only when APPLICATIONINSIGHTS_CONNECTION_STRING is set
    telemetry.configure()
except Exception:  # a bad setting must not stop the functions from loading
    logging.getLogger("function_app").exception("telemetry: not configured")

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(analytics.bp)
app.register_functions(billing.bp)
app.register_functions(health.bp)
app.register_functions(exports.bp)
app.register_functions(monitor.bp)
app.register_functions(retention.bp)
app.register_functions(teams.bp)
app.register_functions(directory.bp)
app.register_functions(connections.bp)
app.register_functions(alerts.bp)
app.register_functions(openapi.bp)
app.register_functions(push.bp)
