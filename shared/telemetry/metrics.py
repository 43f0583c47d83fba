"""The metrics, one instrument each, and the helpers that record them.

| instrument | kind | attributes |
|---|---|---|
| `streamtrack.monitor.cycle.duration` (s) | histogram | trigger, status |
| `streamtrack.monitor.cycles` | counter | trigger, status |
| `streamtrack.monitor.channels` | counter | platform, outcome (checked, failed, pending) |
| `streamtrack.monitor.samples` | counter | trigger |
| `streamtrack.monitor.status_changes` | counter | trigger |
| `streamtrack.monitor.sessions` | counter | change (opened, closed) |
| `streamtrack.platform.requests` | counter | platform |
| `streamtrack.platform.failures` | counter | platform, error (the error class) |
| `streamtrack.platform.quota.used` | counter | platform |
| `streamtrack.platform.quota.remaining` | gauge | platform |
| `streamtrack.webhook.verification_failures` | counter | source, reason |
| `streamtrack.alert.deliveries` | counter | destination, outcome |
| `streamtrack.alert.delivery.duration` (s) | histogram | destination, outcome |

Attributes are low-cardinality on purpose (no channel or team ids): each distinct
set is a separate time series in Application Insights.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from opentelemetry import metrics

from shared import __version__

METER_NAME: Final = "streamtrack"


@dataclass(frozen=True, slots=True)
class Instruments:
    """Every instrument, made from one meter."""

    cycle_duration: metrics.Histogram
    cycles: metrics.Counter
    channels: metrics.Counter
    samples: metrics.Counter
    status_changes: metrics.Counter
    sessions: metrics.Counter
    requests: metrics.Counter
    failures: metrics.Counter
    quota_used: metrics.Counter
    quota_remaining: metrics._Gauge  # the API names the synchronous gauge privately
    webhook_failures: metrics.Counter
    alert_deliveries: metrics.Counter
    alert_duration: metrics.Histogram

    @classmethod
    def from_meter(cls, meter: metrics.Meter) -> "Instruments":
        return cls(
            cycle_duration=meter.create_histogram(
                "streamtrack.monitor.cycle.duration", unit="s", description="Monitor run time"
            ),
            cycles=meter.create_counter(
                "streamtrack.monitor.cycles", description="Monitor runs (cycles and shards)"
            ),
            channels=meter.create_counter(
                "streamtrack.monitor.channels", description="Channels polled, by outcome"
            ),
            samples=meter.create_counter(
                "streamtrack.monitor.samples", description="Viewer samples written"
            ),
            status_changes=meter.create_counter(
                "streamtrack.monitor.status_changes", description="channel_status rows changed"
            ),
            sessions=meter.create_counter(
                "streamtrack.monitor.sessions", description="Stream sessions opened and closed"
            ),
            requests=meter.create_counter(
                "streamtrack.platform.requests", description="Requests made to a platform API"
            ),
            failures=meter.create_counter(
                "streamtrack.platform.failures", description="Distinct platform errors a run met"
            ),
            quota_used=meter.create_counter(
                "streamtrack.platform.quota.used", unit="{unit}", description="Quota units spent"
            ),
            quota_remaining=meter.create_gauge(
                "streamtrack.platform.quota.remaining",
                unit="{unit}",
                description="Quota units left in the platform's current quota day",
            ),
            webhook_failures=meter.create_counter(
                "streamtrack.webhook.verification_failures",
                description="Webhook deliveries refused for their signature or timestamp",
            ),
            alert_deliveries=meter.create_counter(
                "streamtrack.alert.deliveries", description="Alert deliveries, by outcome"
            ),
            alert_duration=meter.create_histogram(
                "streamtrack.alert.delivery.duration", unit="s", description="Alert delivery time"
            ),
        )


_instruments = Instruments.from_meter(metrics.get_meter(METER_NAME, __version__))


def bind(meter: metrics.Meter) -> None:
    """Make the instruments from `meter` (setup.use_providers)."""
    global _instruments
    _instruments = Instruments.from_meter(meter)


def record_cycle(
    *,
    trigger: str,
    status: str,
    duration_s: float,
    samples: int = 0,
    status_changes: int = 0,
    sessions_opened: int = 0,
    sessions_closed: int = 0,
) -> None:
    """One monitor run (a cycle, or a shard of one), as its `monitor_runs` row says."""
    m = _instruments
    run = {"trigger": trigger, "status": status}
    m.cycles.add(1, run)
    m.cycle_duration.record(max(0.0, duration_s), run)
    m.samples.add(samples, {"trigger": trigger})
    m.status_changes.add(status_changes, {"trigger": trigger})
    m.sessions.add(sessions_opened, {"change": "opened"})
    m.sessions.add(sessions_closed, {"change": "closed"})


def record_platform(
    platform: str,
    *,
    requests: int,
    quota_units: int = 0,
    checked: int = 0,
    failed: int = 0,
    pending: int = 0,
    errors: Iterable[str] = (),
) -> None:
    """One platform's part of a run: requests, quota, channel outcomes, error classes."""
    m = _instruments
    m.requests.add(requests, {"platform": platform})
    m.quota_used.add(quota_units, {"platform": platform})
    for outcome, count in (("checked", checked), ("failed", failed), ("pending", pending)):
        m.channels.add(count, {"platform": platform, "outcome": outcome})
    for error in errors:
        m.failures.add(1, {"platform": platform, "error": error})


def record_quota_remaining(platform: str, units: int) -> None:
    """Quota units left today on `platform` (never below 0)."""
    _instruments.quota_remaining.set(max(0, units), {"platform": platform})


def webhook_verification_failed(source: str, reason: str) -> None:
    """A webhook delivery refused before parsing: `source` such as "stripe" or a
    platform's push source, `reason` a short fixed word (bad_signature, stale,
    missing_header, not_configured); never the header or the body."""
    _instruments.webhook_failures.add(1, {"source": source, "reason": reason})


def alert_delivery(destination: str, outcome: str, duration_s: float | None = None) -> None:
    """One alert delivery attempt: `destination` the kind (discord, slack, teams,
    email), `outcome` delivered, retried, failed or dropped."""
    attrs = {"destination": destination, "outcome": outcome}
    _instruments.alert_deliveries.add(1, attrs)
    if duration_s is not None:
        _instruments.alert_duration.record(max(0.0, duration_s), attrs)
