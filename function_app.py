"""Azure Functions entry point (Python v2 model): create the app, register blueprints."""

import azure.functions as func

from functions import (
    analytics,
    billing,
    directory,
    exports,
    health,
    monitor,
    openapi,
    push,
    retention,
    teams,
)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(analytics.bp)
app.register_functions(billing.bp)
app.register_functions(health.bp)
app.register_functions(exports.bp)
app.register_functions(monitor.bp)
app.register_functions(retention.bp)
app.register_functions(teams.bp)
app.register_functions(directory.bp)
app.register_functions(openapi.bp)
app.register_functions(push.bp)
