"""The streaming platforms: one package each, behind one registry.

registry.py  the `Platform` enum and the lookups everything else asks (spec, clients)
spec.py      what a package declares: `PlatformSpec` (batches, credential, quota, factories)
base.py      the client Protocol and the normalised models (ChannelRef, LiveBatch, ...)
polling.py   the monitor-fetcher contract (PollTarget, ChannelOutcome, PlatformUsage)
             and the rules spreading periodic work over cycles
batch.py     the generic fetcher: live checks in batches, stats when due
errors.py    the one error tree
retry.py     the one retry policy and HTTP send helper
pacing.py    slowing down before a platform says so (points bucket, per-key interval)
parsing.py   payloads into models at the boundary, item by item for batches
twitch/, youtube/, rumble/   a platform each: client, wire models, reference
             parsing, fetcher where it needs its own, and its `SPEC`

Adding a platform: docs/platforms.md.
"""

from shared.platforms.base import (
    Channel,
    ChannelRef,
    ChannelStats,
    ChannelTarget,
    InvalidChannelRef,
    LiveBatch,
    LiveObservation,
    PlatformClient,
    RefKind,
    StatsBatch,
)
from shared.platforms.errors import (
    AuthError,
    DeadlineExceeded,
    InvalidResponse,
    NotFound,
    PlatformError,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
)
from shared.platforms.registry import (
    Platform,
    build_clients,
    default_clients,
    needing_credentials,
    parse_channel_ref,
    quota_day,
    spec,
    specs,
)
from shared.platforms.retry import RetryPolicy

__all__ = [
    "AuthError",
    "Channel",
    "ChannelRef",
    "ChannelStats",
    "ChannelTarget",
    "DeadlineExceeded",
    "InvalidChannelRef",
    "InvalidResponse",
    "LiveBatch",
    "LiveObservation",
    "NotFound",
    "Platform",
    "PlatformClient",
    "PlatformError",
    "PlatformUnavailable",
    "QuotaExhausted",
    "RateLimited",
    "RefKind",
    "RetryPolicy",
    "StatsBatch",
    "build_clients",
    "default_clients",
    "needing_credentials",
    "parse_channel_ref",
    "quota_day",
    "spec",
    "specs",
]
