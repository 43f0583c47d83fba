"""The generic monitor fetcher: live status in batches, stats for the cycle's share.

`BatchFetcher` polls any `PlatformClient` the way its spec says: one
`fetch_live` per `live_batch_size` channels every cycle, and `fetch_stats`
(`stats_batch_size` channels a call) for the channels whose followers are due,
at most the cycle's share of them (see `polling.stats_quota`). It owns the
platform's `ThreadPoolExecutor`, capped at the platform's concurrency, and
opens owner credentials for platforms that poll with them. A platform whose
answers do not fit this shape brings its own fetcher in its package (or
subclasses this one, overriding `minimum_requests` and `poll`).
"""

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import SecretStr

from shared.crypto import CredentialError, SecretBox
from shared.platforms.base import ChannelTarget, LiveBatch, PlatformClient, StatsBatch, chunks
from shared.platforms.polling import (
    ChannelOutcome,
    PlatformUsage,
    PollTarget,
    add_stats,
    most_overdue,
    stats_quota,
    submit_each,
    to_observation,
)
from shared.platforms.spec import FetcherContext, PlatformSpec, StatsCadence

Targets = dict[str, tuple[PollTarget, ChannelTarget]]
"""By platform channel id: the due channel and what the client is asked about."""


class BatchFetcher:
    """Polls one platform with `fetch_live` on batches and `fetch_stats` when due."""

    def __init__(
        self,
        client: PlatformClient,
        spec: PlatformSpec,
        *,
        concurrency: int,
        stats_interval: timedelta,
        secrets: SecretBox | None = None,
    ) -> None:
        self.client = client
        self.spec = spec
        self.platform = client.platform.value
        self.concurrency = concurrency
        self.stats_interval = stats_interval
        self.secrets = secrets

    @classmethod
    def from_context(cls, ctx: FetcherContext) -> "BatchFetcher":
        """The factory a spec's `fetcher` points at."""
        return cls(
            ctx.client,
            ctx.spec,
            concurrency=ctx.spec.concurrency(ctx.settings),
            stats_interval=timedelta(seconds=ctx.settings.stats_interval_s),
            secrets=ctx.secrets,
        )

    def minimum_requests(self, live: int, stats: int) -> int:
        """The fewest requests that answer `live` live checks and `stats` stats samples."""
        return math.ceil(live / self.spec.live_batch_size) + math.ceil(
            stats / self.spec.stats_per_request
        )

    def poll(
        self,
        ex: ThreadPoolExecutor,
        live: list[ChannelTarget],
        stats: list[ChannelTarget],
        deadline: float,
    ) -> tuple[list[LiveBatch], list[StatsBatch]]:
        """Every live batch and stats batch of the cycle, run on the executor."""
        live_calls = submit_each(
            ex, self.client.fetch_live, chunks(live, self.spec.live_batch_size), deadline
        )
        stats_calls = submit_each(
            ex, self.client.fetch_stats, chunks(stats, self.spec.stats_batch_size), deadline
        )
        return [c.result() for c in live_calls], [c.result() for c in stats_calls]

    def fetch(
        self, channels: Sequence[PollTarget], now: datetime, deadline: float
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        outcomes: dict[UUID, ChannelOutcome] = {}
        usage = PlatformUsage()
        targets = self._targets(channels, outcomes)
        wanted = [c for c, _ in targets.values()]
        sampled = self.spec.capabilities.stats is not StatsCadence.NONE
        share = stats_quota(wanted, self.stats_interval) if sampled else 0
        stats_due = most_overdue(
            wanted, lambda c: c.poll.stats_checked_at, now, self.stats_interval, share
        )
        live_targets = [t for _, t in targets.values()]
        stats_targets = [targets[c.platform_channel_id][1] for c in stats_due]
        usage.minimum_requests = self.minimum_requests(len(live_targets), len(stats_targets))
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix=self.platform) as ex:
            lives, stats = self.poll(ex, live_targets, stats_targets, deadline)
        for batch in lives:
            usage.add(batch)
            for pcid, live in batch.observations.items():
                if pcid in targets:
                    outcomes[targets[pcid][0].id] = ChannelOutcome(observation=to_observation(live))
            for pcid, exc in batch.failures.items():
                if pcid in targets:
                    outcomes[targets[pcid][0].id] = ChannelOutcome(error=str(exc)[:300])
        for stats_batch in stats:
            usage.add(stats_batch)
            for pcid, found in stats_batch.stats.items():
                if pcid in targets:
                    add_stats(outcomes, targets[pcid][0], found)
        return outcomes, usage

    def _targets(
        self, channels: Sequence[PollTarget], outcomes: dict[UUID, ChannelOutcome]
    ) -> Targets:
        """What to ask the client; a channel whose credential cannot be opened fails here."""
        targets: Targets = {}
        for channel in channels:
            key: SecretStr | None = None
            if channel.credential is not None:
                try:
                    if self.secrets is None:
                        raise CredentialError("CREDENTIALS_ENCRYPTION_KEY is not set")
                    key = SecretStr(self.secrets.open(channel.credential, channel.id))
                except CredentialError as exc:
                    outcomes[channel.id] = ChannelOutcome(error=f"credential: {exc}")
                    continue
            target = ChannelTarget(platform_channel_id=channel.platform_channel_id, api_key=key)
            targets[channel.platform_channel_id] = (channel, target)
        return targets
