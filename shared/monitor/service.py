"""The monitor's entry points for the blueprints: a timer tick and a queue shard."""

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import httpx

from shared import telemetry
from shared.clock import Clock, utc_now
from shared.config import Settings, get_settings
from shared.crypto import CredentialError, SecretBox
from shared.db import Database, get_database
from shared.monitor.cycle import PlatformFetcher, due_channel_ids, run_cycle, shard_channels
from shared.monitor.shards import (
    ShardMessage,
    enqueue,
    normalize_connection_string,
    queue_client,
)
from shared.monitor.state import CycleReport, RunInfo
from shared.monitor.stitching import Rules
from shared.platforms.base import PlatformClient
from shared.platforms.registry import Platform, build_clients, default_clients, spec
from shared.platforms.retry import RetryPolicy
from shared.platforms.spec import ClientOptions, FetcherContext
from shared.push.selection import Selector

logger = logging.getLogger(__name__)


def storage_connection(settings: Settings) -> str:
    value = settings.azure_storage_connection
    if not value:
        raise RuntimeError("AzureWebJobsStorage is not set: the monitor cannot shard")
    return normalize_connection_string(value)


def rules_from(settings: Settings) -> Rules:
    grace = timedelta(seconds=settings.monitor_grace_period_s)
    return Rules(grace=grace, max_gap=grace)


def build_fetchers(
    settings: Settings,
    *,
    http: httpx.Client | None = None,
    clock: Clock | None = None,
    key_interval_s: float | None = None,
    policy: RetryPolicy | None = None,
    clients: Mapping[Platform, PlatformClient] | None = None,
) -> dict[str, PlatformFetcher]:
    """A fetcher for each platform this server is configured for, as its spec builds it.

    `clients`: poll with these (the process's shared clients) instead of new
    ones. `clock` and `key_interval_s` exist for simulated time (the demo): a
    per-key interval such as one request per 5 seconds is about real seconds.
    """
    if clients is None:
        options = ClientOptions(
            http=http, clock=clock, policy=policy, key_interval_s=key_interval_s
        )
        clients = build_clients(settings, options)
    try:
        secrets: SecretBox | None = SecretBox.from_settings(settings)
    except CredentialError:
        secrets = None  # channels polled with a credential then fail one by one, saying why
    fetchers: dict[str, PlatformFetcher] = {}
    for platform, client in clients.items():
        declared = spec(platform)
        context = FetcherContext(
            spec=declared, client=client, settings=settings, clock=clock, secrets=secrets
        )
        fetchers[platform.value] = declared.fetcher(context)
    return fetchers


@lru_cache(maxsize=1)
def default_fetchers() -> dict[str, PlatformFetcher]:
    """The process's fetchers, built once around the process's clients
    (`registry.default_clients`, which the teams API resolves channels with), so HTTP
    pools and app tokens live across timer invocations."""
    return build_fetchers(get_settings(), clients=default_clients())


@dataclass(frozen=True, slots=True)
class TickResult:
    """What a timer tick did: ran a cycle, or dispatched shards."""

    report: CycleReport | None = None
    dispatched: tuple[ShardMessage, ...] = ()


def tick(
    *,
    past_due: bool = False,
    settings: Settings | None = None,
    database: Database | None = None,
    fetchers: Mapping[str, PlatformFetcher] | None = None,
    clock: Clock = utc_now,
) -> TickResult:
    """The timer: run one cycle, or split it into queue shards when it is too big.

    A late (`past_due`) tick simply runs now: samples are keyed by channel and
    time, so nothing is written twice, and the missed minutes cannot be
    observed after the fact anyway.
    """
    settings = settings or get_settings()
    db = database or get_database()
    now = clock()
    if past_due:
        logger.warning("monitor: timer is past due; running one catch-up cycle")
    due = due_channel_ids(db, now)
    if len(due) > settings.monitor_shard_size:
        cycle_id = uuid.uuid4()
        parts = shard_channels(due, settings.monitor_shard_size)
        attributes: dict[str, str | int] = {
            "streamtrack.cycle_id": str(cycle_id),
            "streamtrack.shards": len(parts),
        }
        with telemetry.span("monitor.dispatch", attributes):
            traceparent = telemetry.current_traceparent()  # each shard continues this trace
            messages = tuple(
                ShardMessage(
                    cycle_id=cycle_id, shard_index=i, shard_count=len(parts), scheduled_at=now,
                    channel_ids=part, past_due=past_due, traceparent=traceparent,
                )
                for i, part in enumerate(parts)
            )  # fmt: skip
            client = queue_client(storage_connection(settings), settings.monitor_queue_name)
            enqueue(client, list(messages))
        logger.info(
            "monitor: %d due channels dispatched as %d shards", len(due), len(messages),
            extra={"cycle_id": str(cycle_id), "channel_count": len(due)},
        )  # fmt: skip
        return TickResult(dispatched=messages)
    report = run_cycle(
        db,
        fetchers if fetchers is not None else default_fetchers(),
        rules_from(settings),
        budget_s=settings.monitor_time_budget_s,
        run=RunInfo(started_at=now, trigger="timer", past_due=past_due),
        clock=clock,
        select=Selector(settings),
    )
    return TickResult(report=report)


def process_shard(
    message: ShardMessage,
    *,
    settings: Settings | None = None,
    database: Database | None = None,
    fetchers: Mapping[str, PlatformFetcher] | None = None,
    clock: Clock = utc_now,
) -> CycleReport:
    """The queue function: one shard of a cycle, restricted to its channels."""
    settings = settings or get_settings()
    run = RunInfo(
        started_at=clock(), trigger="queue", cycle_id=message.cycle_id,
        shard_index=message.shard_index, shard_count=message.shard_count,
        past_due=message.past_due,
    )  # fmt: skip
    return run_cycle(
        database or get_database(),
        fetchers if fetchers is not None else default_fetchers(),
        rules_from(settings),
        budget_s=settings.monitor_time_budget_s,
        run=run,
        only=message.channel_ids,
        clock=clock,
        select=Selector(settings),
    )
