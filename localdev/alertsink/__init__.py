"""A local stand-in for alert destinations that records what it receives.

    with AlertSink(latency_s=0.08, rate_limit_share=0.05) as sink:
        url = sink.url("/api/webhooks/1/demo")   # what a destination is pointed at
        ...
        sink.received("/api/webhooks/1/demo")    # every request that got through

It answers every POST after `latency_s`: 204 like Discord's execute-webhook,
or a 429 for a share of requests (`rate_limit_share`, drawn from `seed`) in
Discord's shape: `Retry-After`, `X-RateLimit-Reset-After`, the body's
`retry_after` (`limit_next(path, n)` limits the next n requests to a path).
`set_status(path, status)` makes a path answer something
else (404, 401, 500) until cleared. It listens on 127.0.0.1 only, on a free
port, and stops when the block ends. Tests and `make demo` use it; the
benchmark too (`make bench-alerts`).
"""

from localdev.alertsink.server import AlertSink, Received

__all__ = ["AlertSink", "Received"]
