"""Telemetry: OpenTelemetry traces, metrics and log context, exported to Application
Insights through azure-monitor-opentelemetry when APPLICATIONINSIGHTS_CONNECTION_STRING
is set (and to nothing otherwise: the API calls below are then no-ops).

    configure(settings)          once per worker process (function_app.py)
    invocation(name, trigger)    a span per function invocation
    span(name, attributes)       any other span (cycle, platform batch, database write)
    current_traceparent()        the W3C traceparent to carry in a queue message
    log_context(cycle_id=...)    fields added to every log record in the block
    record_* / alert_delivery / webhook_verification_failed   the metrics

Nothing here imports the rest of the backend (only config): monitor, platforms and
webhooks call in, never the other way round.
"""

from shared.telemetry.context import (
    LOG_FIELDS,
    LogContextFilter,
    context_from_traceparent,
    current_traceparent,
    install_log_context,
    log_context,
    set_log_field,
)
from shared.telemetry.metrics import (
    alert_delivery,
    record_cycle,
    record_platform,
    record_quota_remaining,
    webhook_verification_failed,
)
from shared.telemetry.setup import (
    METER_NAME,
    TRACER_NAME,
    configure,
    invocation,
    is_configured,
    span,
    use_providers,
)

__all__ = [
    "LOG_FIELDS",
    "METER_NAME",
    "TRACER_NAME",
    "LogContextFilter",
    "alert_delivery",
    "configure",
    "context_from_traceparent",
    "current_traceparent",
    "install_log_context",
    "invocation",
    "is_configured",
    "log_context",
    "record_cycle",
    "record_platform",
    "record_quota_remaining",
    "set_log_field",
    "span",
    "use_providers",
    "webhook_verification_failed",
]
