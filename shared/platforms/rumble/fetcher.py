"""The monitor's Rumble fetcher: one answer per owner key carries live status and
followers alike, so the stats come from the live request when they are due."""

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from shared.crypto import SecretBox
from shared.platforms.base import ChannelTarget, LiveBatch, StatsBatch
from shared.platforms.batch import BatchFetcher
from shared.platforms.rumble.client import RumbleClient
from shared.platforms.spec import FetcherContext, PlatformSpec


class PairedFetcher(BatchFetcher):
    """One request per key per cycle; followers taken from it for the channels due."""

    client: RumbleClient

    def __init__(
        self,
        client: RumbleClient,
        spec: PlatformSpec,
        *,
        concurrency: int,
        stats_interval: timedelta,
        secrets: SecretBox | None = None,
    ) -> None:
        super().__init__(
            client, spec, concurrency=concurrency, stats_interval=stats_interval, secrets=secrets
        )

    @classmethod
    def from_context(cls, ctx: FetcherContext) -> "PairedFetcher":
        if not isinstance(ctx.client, RumbleClient):
            raise TypeError("the Rumble fetcher polls with a RumbleClient")
        return cls(
            ctx.client,
            ctx.spec,
            concurrency=ctx.spec.concurrency(ctx.settings),
            stats_interval=timedelta(seconds=ctx.settings.stats_interval_s),
            secrets=ctx.secrets,
        )

    def minimum_requests(self, live: int, stats: int) -> int:
        return math.ceil(live / self.spec.live_batch_size)  # the stats ride along

    def poll(
        self,
        ex: ThreadPoolExecutor,
        live: list[ChannelTarget],
        stats: list[ChannelTarget],
        deadline: float,
    ) -> tuple[list[LiveBatch], list[StatsBatch]]:
        wants_stats = {t.platform_channel_id for t in stats}
        pairs = [
            ex.submit(self._one, target, target.platform_channel_id in wants_stats, deadline)
            for target in live
        ]
        answers = [pair.result() for pair in pairs]
        return [found for found, _ in answers], [s for _, s in answers if s is not None]

    def _one(
        self, target: ChannelTarget, with_stats: bool, deadline: float
    ) -> tuple[LiveBatch, StatsBatch | None]:
        if not with_stats:
            return self.client.fetch_live([target], deadline=deadline), None
        return self.client.fetch_live_and_stats([target], deadline=deadline)
