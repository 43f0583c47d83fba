"""Configuring OpenTelemetry once per worker process, and the spans everything opens.

`configure()` does nothing without APPLICATIONINSIGHTS_CONNECTION_STRING: no
exporter, no instrumentation, the OpenTelemetry API stays a no-op (a span costs
about a microsecond). With it, `azure-monitor-opentelemetry` sets the global
tracer, meter and logger providers, instruments httpx (the platform, Stripe and
directory calls) and the Azure SDK (the shard queue), and authenticates as the
managed identity when AZURE_CLIENT_ID is set (the component accepts Entra tokens
only). host.json's `telemetryMode: OpenTelemetry` and `PYTHON_ENABLE_OPENTELEMETRY`
make the host and the worker share the invocation's trace.

Our spans and instruments come from `_tracer` and `metrics._instruments`, bound to
the global providers through the API's proxies; `use_providers()` binds them to
given providers instead (tests use the SDK's in-memory exporter and reader).
"""

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from opentelemetry import metrics, trace
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.util.types import AttributeValue

from shared import __version__
from shared.config import Settings, get_settings
from shared.telemetry import metrics as instruments
from shared.telemetry.context import context_from_traceparent, install_log_context

logger = logging.getLogger(__name__)

TRACER_NAME: Final = "streamtrack"
METER_NAME: Final = instruments.METER_NAME
SERVICE_NAME: Final = "streamtrack"
OWN_LOGGERS: Final = ("shared", "functions", "function_app")

_TRIGGER_KINDS: Final = {
    "http": SpanKind.SERVER,
    "pubsub": SpanKind.CONSUMER,  # a queue message
    "timer": SpanKind.INTERNAL,
}

_lock = threading.Lock()
_configured = False
_tracer: trace.Tracer = trace.get_tracer(TRACER_NAME, __version__)

Exporter = Callable[..., None]


def _azure_monitor(**kwargs: Any) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(**kwargs)


def configure(settings: Settings | None = None, *, exporter: Exporter | None = None) -> bool:
    """Export to Application Insights when its connection string is set; True if it is.

    Idempotent. `exporter` replaces `configure_azure_monitor` (tests)."""
    global _configured  # once per worker process
    settings = settings or get_settings()
    for name in OWN_LOGGERS:  # LOG_LEVEL: ours only, the libraries' stay as they are
        logging.getLogger(name).setLevel(settings.log_level)
    install_log_context()
    connection = (settings.applicationinsights_connection_string or "").strip()
    if not connection:
        return False
    with _lock:
        if _configured:
            return True
        from opentelemetry.sdk.resources import Resource

        kwargs: dict[str, Any] = {
            "connection_string": connection,
            "resource": Resource.create(
                {"service.name": SERVICE_NAME, "service.version": __version__}
            ),
        }
        if settings.azure_client_id:
            from azure.identity import ManagedIdentityCredential

            kwargs["credential"] = ManagedIdentityCredential(client_id=settings.azure_client_id)
        (exporter or _azure_monitor)(**kwargs)
        # The fetchers' own executors (a platform's feed or per-key requests) then
        # keep the cycle's trace, so their httpx spans are not traces of their own.
        from opentelemetry.instrumentation.threading import ThreadingInstrumentor

        ThreadingInstrumentor().instrument()
        _configured = True
    install_log_context()  # the exporter's log handler joined the root logger
    logger.info("telemetry: exporting to Application Insights")
    return True


def is_configured() -> bool:
    return _configured


def use_providers(
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> None:
    """Bind our spans and instruments to these providers (None: the global ones)."""
    global _tracer
    _tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(TRACER_NAME, __version__)
    instruments.bind((meter_provider or metrics.get_meter_provider()).get_meter(METER_NAME))


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, AttributeValue] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    traceparent: str | None = None,
    links: tuple[Link, ...] = (),
) -> Iterator[Span]:
    """A span around the block; an exception marks it failed (and is re-raised).

    `traceparent`: continue that trace (a queue message's) instead of the current one."""
    context = context_from_traceparent(traceparent)
    with _tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes, links=links
    ) as current:
        yield current


@contextmanager
def invocation(
    function: str,
    trigger: str,
    *,
    traceparent: str | None = None,
    invocation_id: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Iterator[Span]:
    """The span of one function invocation (`faas.trigger`: http, timer, pubsub).

    With `traceparent` (a shard message's) the invocation continues the timer's trace,
    linked to the host's own invocation span when there is one."""
    attrs: dict[str, AttributeValue] = {"faas.name": function, "faas.trigger": trigger}
    if invocation_id:
        attrs["faas.invocation_id"] = invocation_id
    attrs.update(attributes or {})
    host = trace.get_current_span().get_span_context()
    links = (Link(host),) if traceparent and host.is_valid else ()
    with span(
        f"invoke {function}",
        attrs,
        kind=_TRIGGER_KINDS.get(trigger, SpanKind.INTERNAL),
        traceparent=traceparent,
        links=links,
    ) as current:
        yield current
