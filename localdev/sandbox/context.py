"""Everything a request handler may read or update, in one place."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localdev.sandbox.accounting import Counters
from localdev.sandbox.clock import SandboxClock
from localdev.sandbox.faults import Faults
from localdev.sandbox.platforms import fakes
from localdev.sandbox.population import Population
from localdev.sandbox.schedule import Schedule


@dataclass(frozen=True, slots=True)
class Context:
    seed: int
    population: Population
    schedule: Schedule
    clock: SandboxClock
    counters: Counters
    faults: Faults
    state: Mapping[str, Any]
    """By platform: what its fake keeps between requests (tokens, a quota...)."""

    def counter_snapshot(self) -> dict[str, int]:
        snapshot = self.counters.snapshot()
        for name, fake in fakes().items():
            if name in self.state:
                snapshot |= fake.counters(self.state[name])
        return snapshot

    def reset_counters(self) -> None:
        self.counters.reset()
        for name, fake in fakes().items():
            if name in self.state:
                fake.reset(self.state[name])
