"""The monitor's entry points for the blueprints: a timer tick and a queue shard."""

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx

from shared.config import Settings, get_settings
from shared.crypto import CredentialError, SecretBox
from shared.db import Database, get_database
from shared.monitor.cycle import PlatformFetcher, due_channel_ids, run_cycle, shard_channels
from shared.monitor.fetchers import BatchFetcher, YouTubeFetcher
from shared.monitor.shards import (
    ShardMessage,
    enqueue,
    queue_client,
    resolve_connection_string,
)
from shared.monitor.state import CycleReport, RunInfo
from shared.monitor.stitching import Rules
from shared.platforms.retry import RetryPolicy
from shared.platforms.rumble import RumbleClient
from shared.platforms.twitch import TwitchClient
from shared.platforms.youtube import YouTubeClient

logger = logging.getLogger(__name__)


def storage_connection(settings: Settings) -> str:
    value = settings.azure_storage_connection
    if not value:
        raise RuntimeError("AzureWebJobsStorage is not set: the monitor cannot shard")
    return resolve_connection_string(value)


def rules_from(settings: Settings) -> Rules:
    grace = timedelta(seconds=settings.monitor_grace_period_s)
    return Rules(grace=grace, max_gap=grace)


def build_fetchers(
    settings: Settings,
    *,
    http: httpx.Client | None = None,
    clock: Callable[[], datetime] | None = None,
    rumble_key_interval_s: float | None = None,
    policy: RetryPolicy | None = None,
) -> dict[str, PlatformFetcher]:
    """A fetcher for each platform that has credentials configured.

    `clock` and `rumble_key_interval_s` exist for simulated time (the demo):
    Rumble's one-request-per-5-seconds rule is about real seconds.
    """

    def client_for(concurrency: int) -> httpx.Client:
        # One pool per platform, as large as its concurrency: httpcore scans a
        # pool's idle connections under its lock on every request, so one big
        # pool shared by every platform's threads halved the cycle's speed.
        return http or httpx.Client(
            timeout=settings.platform_timeout_s,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )

    extra: dict[str, Any] = {"clock": clock} if clock else {}
    if policy is not None:
        extra["policy"] = policy
    stats = timedelta(seconds=settings.stats_interval_s)
    fetchers: dict[str, PlatformFetcher] = {}
    if settings.twitch_client_id and settings.twitch_client_secret:
        fetchers["twitch"] = BatchFetcher(
            TwitchClient.from_settings(
                settings, http_client=client_for(settings.monitor_concurrency_twitch), **extra
            ),
            concurrency=settings.monitor_concurrency_twitch,
            live_batch=100,
            stats_batch=10,
            stats_interval=stats,
        )
    if settings.youtube_api_key:
        fetchers["youtube"] = YouTubeFetcher(
            YouTubeClient.from_settings(
                settings, http_client=client_for(settings.monitor_concurrency_youtube), **extra
            ),
            concurrency=settings.monitor_concurrency_youtube,
            feed_interval=timedelta(seconds=settings.youtube_feed_interval_s),
            stats_interval=stats,
            **({"clock": clock} if clock else {}),
        )
    rumble_extra: dict[str, Any] = {}
    if rumble_key_interval_s is not None:
        rumble_extra["interval_s"] = rumble_key_interval_s
    try:
        secrets: SecretBox | None = SecretBox.from_settings(settings)
    except CredentialError:
        secrets = None  # Rumble channels then fail with a clear per-channel error
    fetchers["rumble"] = BatchFetcher(
        RumbleClient.from_settings(
            settings,
            http_client=client_for(settings.monitor_concurrency_rumble),
            **extra,
            **rumble_extra,
        ),
        concurrency=settings.monitor_concurrency_rumble,
        live_batch=1,
        stats_batch=1,
        stats_interval=stats,
        secrets=secrets,
        paired_stats=True,
    )
    return fetchers


@lru_cache(maxsize=1)
def default_fetchers() -> dict[str, PlatformFetcher]:
    """The process's fetchers, built once: HTTP pools and the Twitch app token
    then live across timer invocations instead of being made anew each minute."""
    return build_fetchers(get_settings())


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
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
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
        messages = tuple(
            ShardMessage(
                cycle_id=cycle_id, shard_index=i, shard_count=len(parts), scheduled_at=now,
                channel_ids=part, past_due=past_due,
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
    )
    return TickResult(report=report)


def process_shard(
    message: ShardMessage,
    *,
    settings: Settings | None = None,
    database: Database | None = None,
    fetchers: Mapping[str, PlatformFetcher] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
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
    )
