"""Telemetry on the SDK's in-memory exporters: configuration only with a connection
string, invocation spans, the trace carried through a queue message, the batch spans
of the platform fan-out, log context, and each metric helper."""

import contextvars
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from shared import telemetry
from shared.config import Settings
from shared.platforms.base import LiveBatch
from shared.platforms.polling import submit_each
from shared.platforms.registry import Platform
from shared.telemetry import setup
from tests.factories.telemetry import attrs, recording

CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/"


class CapturedExporter:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(setup, "_configured", False)


@pytest.mark.usefixtures("unconfigured")
def test_nothing_is_configured_without_a_connection_string() -> None:
    exporter = CapturedExporter()
    assert telemetry.configure(Settings(), exporter=exporter) is False
    assert (
        telemetry.configure(Settings(applicationinsights_connection_string="  "), exporter=exporter)
        is False
    )
    assert exporter.calls == []
    assert not telemetry.is_configured()


@pytest.mark.usefixtures("unconfigured")
def test_a_connection_string_configures_azure_monitor_once_as_the_identity() -> None:
    exporter = CapturedExporter()
    settings = Settings(
        applicationinsights_connection_string=CONNECTION,
        azure_client_id="11111111-2222-3333-4444-555555555555",
    )
    assert telemetry.configure(settings, exporter=exporter) is True
    assert telemetry.configure(settings, exporter=exporter) is True
    assert len(exporter.calls) == 1
    call = exporter.calls[0]
    assert call["connection_string"] == CONNECTION
    assert call["resource"].attributes["service.name"] == "streamtrack"
    credential = call["credential"]
    assert type(credential).__name__ == "ManagedIdentityCredential"
    assert telemetry.is_configured()
    # and the trace follows work into any executor thread from then on
    from opentelemetry.instrumentation.threading import ThreadingInstrumentor

    instrumentor = ThreadingInstrumentor()
    try:
        assert instrumentor.is_instrumented_by_opentelemetry
        with recording() as rec:
            with telemetry.span("cycle") as parent, ThreadPoolExecutor(2) as ex:
                ex.submit(_feed_span).result()
            feed = rec.span("feed")
        assert feed.parent is not None
        assert feed.parent.span_id == parent.get_span_context().span_id
    finally:
        instrumentor.uninstrument()


def _feed_span() -> None:
    with telemetry.span("feed"):
        pass


@pytest.mark.usefixtures("unconfigured")
def test_without_an_identity_the_connection_string_alone_is_used() -> None:
    exporter = CapturedExporter()
    telemetry.configure(
        Settings(applicationinsights_connection_string=CONNECTION), exporter=exporter
    )
    assert "credential" not in exporter.calls[0]


def test_the_real_distro_accepts_what_configure_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure_azure_monitor's own checks pass on our arguments (its exporters are
    built but nothing is sent: the providers are shut down before any export)."""
    from azure.monitor.opentelemetry._utils.configurations import _get_configurations

    settings = Settings(applicationinsights_connection_string=CONNECTION)
    captured = CapturedExporter()
    monkeypatch.setattr(setup, "_configured", False)
    telemetry.configure(settings, exporter=captured)
    configurations = _get_configurations(**captured.calls[0])
    assert configurations["connection_string"] == CONNECTION
    assert configurations["resource"].attributes["service.version"]


def test_invocation_spans_name_the_function_and_trigger() -> None:
    with recording() as rec:
        with telemetry.invocation("monitor", "timer"):
            pass
        with telemetry.invocation("getHealth", "http", attributes={"http.route": "/api/health"}):
            pass
        with (
            pytest.raises(RuntimeError),
            telemetry.invocation("monitor_shard", "pubsub", invocation_id="m-1"),
        ):
            raise RuntimeError("boom")
    timer, http, queue = rec.spans()
    assert timer.name == "invoke monitor"
    assert timer.kind is SpanKind.INTERNAL
    assert attrs(timer)["faas.trigger"] == "timer"
    assert http.kind is SpanKind.SERVER
    assert attrs(http)["http.route"] == "/api/health"
    assert queue.kind is SpanKind.CONSUMER
    assert attrs(queue)["faas.invocation_id"] == "m-1"
    assert queue.status.status_code is StatusCode.ERROR
    assert any(e.name == "exception" for e in queue.events)


def test_a_traceparent_carries_the_trace_to_another_invocation() -> None:
    with recording() as rec:
        with telemetry.span("monitor.dispatch") as dispatch:
            traceparent = telemetry.current_traceparent()
        assert traceparent is not None
        trace_id = dispatch.get_span_context().trace_id
        span_id = dispatch.get_span_context().span_id
        assert traceparent.startswith(f"00-{trace_id:032x}-{span_id:016x}-")
        # The host's own invocation span is current when the queue function runs.
        with (
            telemetry.span("host invocation") as host,
            telemetry.invocation("monitor_shard", "pubsub", traceparent=traceparent),
        ):
            pass
    shard = rec.span("invoke monitor_shard")
    assert shard.context is not None
    assert shard.context.trace_id == trace_id
    assert shard.parent is not None
    assert shard.parent.span_id == dispatch.get_span_context().span_id
    assert [link.context.span_id for link in shard.links] == [host.get_span_context().span_id]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # unknown version
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # zero span id
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  # upper case
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
    ],
)
def test_a_missing_or_malformed_traceparent_starts_a_new_trace(value: str | None) -> None:
    assert telemetry.context_from_traceparent(value) is None
    with recording() as rec, telemetry.invocation("monitor_shard", "pubsub", traceparent=value):
        pass
    assert rec.span("invoke monitor_shard").parent is None


def test_outside_a_recorded_span_there_is_no_traceparent() -> None:
    assert telemetry.current_traceparent() is None


class FakeClient:
    platform = Platform.TWITCH

    def fetch_live(self, group: list[str], *, deadline: float) -> LiveBatch:
        batch = LiveBatch(requests=1)
        if "bad" in group:
            batch.failures["bad"] = ValueError("bad")  # type: ignore[assignment]
        return batch


def test_each_request_batch_is_a_span_of_the_callers_trace() -> None:
    client = FakeClient()
    with recording() as rec:
        with (
            telemetry.span("monitor.fetch") as parent,
            ThreadPoolExecutor(4) as ex,
        ):
            futures = submit_each(ex, client.fetch_live, [["a", "b"], ["c"], ["bad"]], 1e12)
            assert [f.result().requests for f in futures] == [1, 1, 1]
        batches = rec.spans("platform.batch")
    assert len(batches) == 3
    assert all(b.parent is not None for b in batches)
    assert {b.parent.span_id for b in batches if b.parent} == {parent.get_span_context().span_id}
    assert sorted(attrs(b)["streamtrack.batch_size"] for b in batches) == [1, 1, 2]
    assert {attrs(b)["streamtrack.platform"] for b in batches} == {"twitch"}
    assert {attrs(b)["streamtrack.operation"] for b in batches} == {"fetch_live"}
    assert sorted(attrs(b)["streamtrack.failures"] for b in batches) == [0, 0, 1]


def test_log_records_carry_the_cycle_ids_in_every_thread(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(telemetry.LogContextFilter())
    log = logging.getLogger("shared.test")
    with caplog.at_level(logging.INFO, logger="shared.test"):
        with telemetry.log_context(cycle_id="c-1", shard_index=2, shard_count=3, trigger="queue"):
            log.info("in the cycle")
            log.info("explicit", extra={"cycle_id": "mine"})
            telemetry.set_log_field("run_id", 42)
            context = contextvars.copy_context()
            worker = threading.Thread(target=context.run, args=(log.info, "in a worker"))
            worker.start()
            worker.join()
        log.info("after")
    by_message = {r.getMessage(): r for r in caplog.records}
    inside = by_message["in the cycle"]
    assert (inside.cycle_id, inside.shard_index, inside.shard_count, inside.trigger) == (  # type: ignore[attr-defined]
        "c-1",
        2,
        3,
        "queue",
    )
    assert by_message["explicit"].cycle_id == "mine"  # type: ignore[attr-defined]
    assert by_message["in a worker"].run_id == 42  # type: ignore[attr-defined]
    assert by_message["in a worker"].cycle_id == "c-1"  # type: ignore[attr-defined]
    assert not hasattr(by_message["after"], "cycle_id")


def test_log_context_refuses_fields_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="team_id"), telemetry.log_context(team_id="x"):
        pass
    with pytest.raises(ValueError, match="email"):
        telemetry.set_log_field("email", "a@b.c")


def test_install_log_context_filters_each_handler_once() -> None:
    logger = logging.getLogger("shared.test.install")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        telemetry.install_log_context(logger)
        telemetry.install_log_context(logger)
        assert sum(isinstance(f, telemetry.LogContextFilter) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)


def test_the_metric_helpers_record_what_they_are_given() -> None:
    with recording() as rec:
        telemetry.record_cycle(
            trigger="timer", status="succeeded", duration_s=1.5, samples=10,
            status_changes=3, sessions_opened=2, sessions_closed=1,
        )  # fmt: skip
        telemetry.record_cycle(trigger="queue", status="failed", duration_s=0.2)
        telemetry.record_platform(
            "youtube", requests=7, quota_units=7, checked=40, failed=2, pending=5,
            errors=["QuotaExceeded", "QuotaExceeded", "Unavailable"],
        )  # fmt: skip
        telemetry.record_quota_remaining("youtube", 9_000)
        telemetry.record_quota_remaining("youtube", -5)  # over the allowance: 0 left
        telemetry.webhook_verification_failed("stripe", "bad_signature")
        telemetry.webhook_verification_failed("twitch-eventsub", "stale")
        telemetry.alert_delivery("discord", "delivered", 0.25)
        telemetry.alert_delivery("discord", "retried")

        assert rec.total("streamtrack.monitor.cycles", trigger="timer", status="succeeded") == 1
        assert rec.total("streamtrack.monitor.cycles", status="failed") == 1
        assert rec.total("streamtrack.monitor.cycle.duration") == 2  # two recorded runs
        assert rec.total("streamtrack.monitor.samples") == 10
        assert rec.total("streamtrack.monitor.status_changes") == 3
        assert rec.total("streamtrack.monitor.sessions", change="opened") == 2
        assert rec.total("streamtrack.monitor.sessions", change="closed") == 1
        assert rec.total("streamtrack.platform.requests", platform="youtube") == 7
        assert rec.total("streamtrack.platform.quota.used", platform="youtube") == 7
        assert rec.total("streamtrack.monitor.channels", outcome="checked") == 40
        assert rec.total("streamtrack.monitor.channels", outcome="failed") == 2
        assert rec.total("streamtrack.monitor.channels", outcome="pending") == 5
        assert rec.total("streamtrack.platform.failures", error="QuotaExceeded") == 2
        assert rec.total("streamtrack.platform.failures", error="Unavailable") == 1
        assert rec.points("streamtrack.platform.quota.remaining") == [({"platform": "youtube"}, 0)]
        assert rec.total("streamtrack.webhook.verification_failures", source="stripe") == 1
        assert rec.total("streamtrack.webhook.verification_failures", reason="stale") == 1
        assert rec.total("streamtrack.alert.deliveries", destination="discord") == 2
        assert rec.total("streamtrack.alert.deliveries", outcome="retried") == 1
        assert rec.total("streamtrack.alert.delivery.duration") == 1


def test_without_providers_the_helpers_are_harmless_no_ops() -> None:
    telemetry.record_cycle(trigger="timer", status="succeeded", duration_s=1)
    telemetry.webhook_verification_failed("stripe", "bad_signature")
    telemetry.alert_delivery("slack", "failed", 1.0)
    with telemetry.span("nothing") as span:
        assert not span.get_span_context().is_valid


SHARD = {
    "cycle_id": "00000000-0000-0000-0000-000000000001",
    "shard_index": 0,
    "shard_count": 2,
    "scheduled_at": "2026-11-24T12:00:00Z",
    "channel_ids": ["00000000-0000-0000-0000-000000000002"],
}


def test_a_shard_message_carries_a_valid_traceparent_or_none() -> None:
    from shared.monitor.shards import ShardMessage

    assert ShardMessage.model_validate(SHARD).traceparent is None  # older messages
    good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert ShardMessage.model_validate({**SHARD, "traceparent": good}).traceparent == good
    for bad in ("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", "x" * 55, "x" * 56):
        with pytest.raises(ValueError, match="traceparent"):
            ShardMessage.model_validate({**SHARD, "traceparent": bad})


def test_every_http_operation_is_an_invocation_span_with_its_status(
    monkeypatch: pytest.MonkeyPatch, app_functions: dict[str, Any]
) -> None:
    import azure.functions as func

    from shared.config import get_settings
    from shared.db import reset_database

    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    reset_database()
    try:
        with recording() as rec:
            fn = app_functions["health"].get_user_function()
            fn(func.HttpRequest("GET", "/api/health", body=b""))
    finally:
        get_settings.cache_clear()
    span = rec.span("invoke health")
    assert span.kind is SpanKind.SERVER
    assert attrs(span)["http.request.method"] == "GET"
    assert attrs(span)["http.route"] == "/api/health"
    assert attrs(span)["http.response.status_code"] == 503


def test_log_level_applies_to_our_loggers_only(monkeypatch: pytest.MonkeyPatch) -> None:
    ours, library = logging.getLogger("shared"), logging.getLogger("azure")
    monkeypatch.setattr(ours, "level", ours.level)
    monkeypatch.setattr(library, "level", library.level)
    before = library.level
    telemetry.configure(Settings(log_level="WARNING"))
    assert ours.level == logging.WARNING
    assert logging.getLogger("functions").getEffectiveLevel() == logging.WARNING
    assert library.level == before
    telemetry.configure(Settings(log_level="DEBUG"))
    assert ours.level == logging.DEBUG
