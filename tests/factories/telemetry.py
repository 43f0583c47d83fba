"""Recording our spans and metrics with the OpenTelemetry SDK's in-memory exporters."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import telemetry


@dataclass
class Recorded:
    """What the code under test emitted."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        found = list(self.exporter.get_finished_spans())
        return [s for s in found if name is None or s.name == name]

    def span(self, name: str) -> ReadableSpan:
        found = self.spans(name)
        assert len(found) == 1, (
            f"{len(found)} spans named {name!r}: {[s.name for s in self.spans()]}"
        )
        return found[0]

    def points(self, metric: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, value) of each data point of `metric` (sum, gauge value or
        histogram count), cumulative since recording began."""
        data = self.reader.get_metrics_data()
        out: list[tuple[dict[str, Any], Any]] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name != metric:
                        continue
                    for p in m.data.data_points:
                        value = getattr(p, "value", None)
                        if value is None:
                            value = getattr(p, "count", None)
                        out.append((dict(p.attributes or {}), value))
        return out

    def total(self, metric: str, **attributes: Any) -> Any:
        """The sum over data points whose attributes include `attributes`."""
        return sum(
            v for a, v in self.points(metric) if all(a.get(k) == x for k, x in attributes.items())
        )


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    parent_id = parent.context.span_id if parent.context else None
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent_id]


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    return dict(span.attributes or {})


@contextmanager
def recording() -> Iterator[Recorded]:
    """Bind StreamTrack's tracer and meter to in-memory providers for the block."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry.use_providers(tracer_provider, meter_provider)
    try:
        yield Recorded(exporter, reader)
    finally:
        telemetry.use_providers(None, None)
        tracer_provider.shutdown()
        meter_provider.shutdown()
