"""The platforms' owner OAuth providers and reports, built from the registry."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import httpx

from shared.clock import Clock, utc_now
from shared.config import Settings, get_settings
from shared.platforms.oauth import OwnerOAuth, OwnerReports
from shared.platforms.registry import Platform, specs
from shared.platforms.retry import RetryPolicy


@dataclass(frozen=True)
class Providers:
    """What this server can connect, and read with the owners' tokens."""

    oauth: Mapping[Platform, OwnerOAuth] = field(default_factory=dict)
    """A provider per platform whose OAuth client this server is configured with."""
    reports: Mapping[Platform, OwnerReports] = field(default_factory=dict)
    clock: Clock = utc_now


def build_providers(
    settings: Settings,
    *,
    http: httpx.Client | None = None,
    policy: RetryPolicy | None = None,
    clock: Clock = utc_now,
) -> Providers:
    http = http or httpx.Client(timeout=settings.platform_timeout_s)
    policy = policy or RetryPolicy.from_settings(settings)
    oauth: dict[Platform, OwnerOAuth] = {}
    reports: dict[Platform, OwnerReports] = {}
    for declared in specs():
        connect = declared.connect
        if connect is None or not connect.configured(settings):
            continue
        oauth[declared.platform] = connect.provider(settings, http, policy, clock)
        if connect.reports is not None:
            reports[declared.platform] = connect.reports(settings, http, policy, clock)
    return Providers(oauth=oauth, reports=reports, clock=clock)


@lru_cache(maxsize=1)
def default_providers() -> Providers:
    """The process's providers (one HTTP pool), from `get_settings()`."""
    return build_providers(get_settings())
