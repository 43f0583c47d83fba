"""Telemetry of the real monitor: a cycle against the platform sandbox and the real
database recorded by the SDK's in-memory exporters, and the timer's trace carried
through a real (Azurite) queue message into the shard invocation."""

import base64
import json
import os
import zlib
from collections.abc import Iterator

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import Function
from azure.functions.timer import TimerRequest
from azure.storage.queue import QueueClient
from pydantic import SecretStr

from localdev.azurite import Azurite
from localdev.sandbox import Sandbox
from localdev.seeding import DemoTeam, register
from shared.config import Settings
from shared.crypto import SecretBox
from shared.db import Database
from shared.monitor import service
from shared.monitor.cycle import run_cycle
from shared.monitor.service import build_fetchers, rules_from
from shared.platforms.retry import RetryPolicy
from tests.factories.telemetry import attrs, children, recording
from tests.integration.teams_support import clear_caches

START = "2026-11-24T12:00:00Z"
QUEUE = "monitor-shards-telemetry"


def test_a_cycle_is_traced_and_measured(database: Database, request: pytest.FixtureRequest) -> None:
    seed = zlib.crc32(request.node.name.encode())
    key = os.urandom(32)
    with Sandbox(
        seed=seed, channels=60, mix="twitch=0.5,youtube=0.3,rumble=0.2", start=START, rate=0
    ) as sb:
        settings = Settings(
            **{k.lower(): v for k, v in sb.settings_env().items()},
            credentials_encryption_key=SecretStr(base64.b64encode(key).decode()),
        )
        registered = register(
            database, sb.channels(), [DemoTeam("Otel", "business")], SecretBox(key)
        )
        fetchers = build_fetchers(
            settings, clock=sb.clock.now, key_interval_s=0,
            policy=RetryPolicy.from_settings(settings, sleep=lambda _s: None),
        )  # fmt: skip
        mine = list(registered.channels.values())
        with recording() as rec:
            reports = []
            for _ in range(2):  # the second cycle checks the videos the first feeds listed
                reports.append(
                    run_cycle(
                        database,
                        fetchers,
                        rules_from(settings),
                        budget_s=30,
                        only=mine,
                        clock=sb.clock.now,
                    )
                )
                sb.clock.advance(60)
            spans = rec.spans()
            cycles = rec.spans("monitor.cycle")
            assert len(cycles) == 2
            last = cycles[-1]
            assert attrs(last)["streamtrack.status"] == reports[-1].status
            assert attrs(last)["streamtrack.run_id"] == reports[-1].run_id
            under = children(spans, last)
            fetches = [s for s in under if s.name == "monitor.fetch"]
            assert {attrs(s)["streamtrack.platform"] for s in fetches} == {
                "twitch",
                "youtube",
                "rumble",
            }
            assert sum(attrs(s)["streamtrack.requests"] for s in fetches) == sum(
                reports[-1].requests.values()
            )
            writes = [s for s in under if s.name == "db.write monitor"]
            assert [attrs(w)["streamtrack.samples"] for w in writes] == [
                reports[-1].samples_written
            ]
            # Request batches are children of their platform's fetch span, in its thread.
            twitch = next(s for s in fetches if attrs(s)["streamtrack.platform"] == "twitch")
            batches = [s for s in children(spans, twitch) if s.name == "platform.batch"]
            assert batches
            assert all(attrs(b)["streamtrack.platform"] == "twitch" for b in batches)
            assert {b.context.trace_id for b in batches if b.context} == {
                last.context.trace_id if last.context else 0
            }

            samples = sum(r.samples_written for r in reports)
            assert rec.total("streamtrack.monitor.samples") == samples
            assert rec.total("streamtrack.monitor.cycles") == 2
            assert rec.total("streamtrack.monitor.cycle.duration") == 2
            for platform in ("twitch", "youtube", "rumble"):
                expected = sum(r.requests.get(platform, 0) for r in reports)
                assert rec.total("streamtrack.platform.requests", platform=platform) == expected
            checked = rec.total("streamtrack.monitor.channels", outcome="checked")
            assert checked == sum(r.channels_checked for r in reports)
            units = sum(r.quota_units.get("youtube", 0) for r in reports)
            assert units > 0
            assert rec.total("streamtrack.platform.quota.used", platform="youtube") == units
            # The gauge is what platform_quota_usage says is left today (other tests
            # spend YouTube quota too, on the same simulated day).
            with database.service() as conn:
                row = conn.execute(
                    "select units from public.platform_quota_usage where platform = 'youtube'"
                    " and quota_day = (%s::timestamptz at time zone 'America/Los_Angeles')::date",
                    (sb.clock.now(),),
                ).fetchone()
            assert row is not None
            remaining = rec.points("streamtrack.platform.quota.remaining")
            assert remaining == [({"platform": "youtube"}, max(0, 10_000 - int(row[0])))]


@pytest.fixture
def azurite() -> Iterator[Azurite]:
    with Azurite() as running:
        yield running


def test_the_timer_trace_reaches_the_shard_invocations(
    database: Database,
    database_url: str,
    azurite: Azurite,
    app_functions: dict[str, Function],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Sandbox(seed=91, channels=25, mix="twitch=1", rate=0) as sb:
        env = {
            **sb.settings_env(),
            "DATABASE_URL": database_url,
            "AzureWebJobsStorage": azurite.connection_string,
            "MONITOR_QUEUE_NAME": QUEUE,
            "MONITOR_SHARD_SIZE": "10",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        clear_caches()
        try:
            box = SecretBox(os.urandom(32))
            registered = register(
                database, sb.channels(), [DemoTeam("OtelShards", "business")], box
            )
            mine = list(registered.channels.values())
            monkeypatch.setattr(service, "due_channel_ids", lambda _db, _now: mine)
            with recording() as rec:
                app_functions["monitor"].get_user_function()(TimerRequest(past_due=False))
                queue = QueueClient.from_connection_string(azurite.connection_string, QUEUE)
                bodies = [
                    base64.b64decode(m.content) for m in queue.receive_messages(max_messages=32)
                ]
                assert len(bodies) == 3  # 25 channels, 10 a shard
                assert all(json.loads(b)["traceparent"] for b in bodies)
                shard_fn = app_functions["monitor_shard"].get_user_function()
                for i, body in enumerate(bodies):
                    shard_fn(func.QueueMessage(id=f"m-{i}", body=body))
                timer = rec.span("invoke monitor")
                dispatch = rec.span("monitor.dispatch")
                shards = rec.spans("invoke monitor_shard")
                spans = rec.spans()
            assert dispatch.parent is not None
            assert timer.context is not None
            assert dispatch.parent.span_id == timer.context.span_id
            assert len(shards) == 3
            for shard in shards:
                assert shard.context is not None
                assert dispatch.context is not None
                assert shard.context.trace_id == timer.context.trace_id
                assert shard.parent is not None
                assert shard.parent.span_id == dispatch.context.span_id
                (cycle,) = [s for s in children(spans, shard) if s.name == "monitor.cycle"]
                assert attrs(cycle)["faas.trigger"] == "queue"
            assert sorted(
                attrs(c)["streamtrack.shard_index"] for c in rec.spans("monitor.cycle")
            ) == [0, 1, 2]
        finally:
            clear_caches()
