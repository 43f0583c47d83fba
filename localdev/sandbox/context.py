"""Everything a request handler may read or update, in one place."""

from dataclasses import dataclass

from localdev.sandbox.accounting import Counters, Quota, TwitchAuth
from localdev.sandbox.clock import SandboxClock
from localdev.sandbox.faults import Faults
from localdev.sandbox.population import Population
from localdev.sandbox.schedule import Schedule

TWITCH_CLIENT_ID = "sandbox-twitch-client-id"
TWITCH_CLIENT_SECRET = "sandbox-twitch-client-secret"
YOUTUBE_API_KEY = "sandbox-youtube-api-key"


@dataclass(frozen=True, slots=True)
class Context:
    seed: int
    population: Population
    schedule: Schedule
    clock: SandboxClock
    counters: Counters
    quota: Quota
    twitch: TwitchAuth
    faults: Faults

    def counter_snapshot(self) -> dict[str, int]:
        return self.counters.snapshot() | {"youtube.quota_used": self.quota.used}
