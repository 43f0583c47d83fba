"""Trace context across queue messages, and the ids every log record carries.

Timer and queue triggers are not correlated by the Functions host: the timer's
trace context travels in the shard message as a W3C `traceparent`
(`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`), and the queue function
continues that trace from it.

`log_context(cycle_id=..., shard_index=...)` puts fields on every log record
made inside the block, in this thread and in the threads the monitor hands the
context to (`contextvars.copy_context()`), so each line of a cycle can be
found by its run, cycle and shard ids, locally and as custom dimensions in
Application Insights.
"""

import contextvars
import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Final

from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT: Final = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")
"""A version-00 W3C traceparent with non-zero ids."""

LOG_FIELDS: Final = ("run_id", "cycle_id", "shard_index", "shard_count", "trigger")
"""The fields `log_context` may set."""

_propagator = TraceContextTextMapPropagator()
_fields: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar(
    "streamtrack_log_fields", default=MappingProxyType({})
)
_install_lock = threading.Lock()


def current_traceparent() -> str | None:
    """The active span's context as a W3C traceparent; None outside a recorded span."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    value = carrier.get("traceparent")
    return value if value and TRACEPARENT.match(value) else None


def context_from_traceparent(traceparent: str | None) -> Context | None:
    """The context to continue a trace in; None for a missing or malformed value."""
    if not traceparent or not TRACEPARENT.match(traceparent):
        return None
    return _propagator.extract({"traceparent": traceparent})


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add `fields` (names from LOG_FIELDS) to every log record made inside the block."""
    unknown = set(fields) - set(LOG_FIELDS)
    if unknown:
        raise ValueError(f"unknown log fields: {sorted(unknown)}")
    merged = {**_fields.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _fields.set(merged)
    try:
        yield
    finally:
        _fields.reset(token)


def set_log_field(name: str, value: object) -> None:
    """Set one field for the rest of the current `log_context` block (the run id, once
    the run row exists)."""
    if name not in LOG_FIELDS:
        raise ValueError(f"unknown log field: {name}")
    _fields.set({**_fields.get(), name: value})


class LogContextFilter(logging.Filter):
    """Adds the current `log_context` fields to a record that does not carry them already
    (an explicit `extra=` wins). A handler filter: it runs after the record is made, so
    it never collides with a caller's extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _fields.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def install_log_context(logger: logging.Logger | None = None) -> None:
    """Put a LogContextFilter on every handler of `logger` (the root logger): the
    Functions worker's and, once configured, Application Insights'. Idempotent."""
    target = logger or logging.getLogger()
    with _install_lock:
        for handler in target.handlers:
            if not any(isinstance(f, LogContextFilter) for f in handler.filters):
                handler.addFilter(LogContextFilter())
