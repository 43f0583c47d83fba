"""The fake platforms: one module each, `localdev/sandbox/<name>.py`, registered here.

Each module exports `FAKE`, a `FakePlatform`: its routes and their fault
answers, the settings that point StreamTrack at it, how its channels are drawn
(ids, owner keys, habits only it has), how its broadcasts are announced and
identified, what its ground truth adds, and any state it keeps between
requests (tokens, a quota). The rest of the sandbox (server, population,
schedule, truth, faults, command line) asks this registry, so a new platform's
fake is its module plus its name in `REGISTERED` (which a test keeps equal to
`shared.platforms.registry.Platform`).

Every hook that draws from a channel's or a stream's generator is called at a
fixed point of the drawing, so the population and the schedules stay exactly
the same for the same seed whatever the registry holds.
"""

import importlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.faults import Decision
    from localdev.sandbox.messages import Request, Response
    from localdev.sandbox.population import Channel
    from localdev.sandbox.schedule import Stream

REGISTERED = ("twitch", "youtube", "kick", "rumble")
"""The fakes, in `shared.platforms.registry.Platform` order."""

Handler = Callable[["Context", "Request", "Decision"], "Response"]
Control = Callable[["Context", "Request"], "Response"]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint of the fake, counted under `counter`."""

    method: str
    path: str
    counter: str
    handler: Handler


@dataclass(frozen=True, slots=True)
class Option:
    """A setting of the fake: a `Sandbox(...)` keyword and a `--flag` of the command line."""

    name: str
    kind: type
    default: Any
    help: str


@dataclass(frozen=True, slots=True)
class FaultFlag:
    """A command-line switch that sets one fault in the platform's own scope."""

    flag: str
    setting: str
    help: str


@dataclass(frozen=True, slots=True)
class Announcement:
    """When a broadcast became visible, and when it was scheduled to start."""

    announced: float
    scheduled: float | None = None


@dataclass(frozen=True, slots=True)
class NoShow:
    """A broadcast announced for `scheduled` that never starts, gone at `gone`."""

    announced: float
    scheduled: float
    gone: float


def _never(rng: random.Random) -> bool:
    return False


def _no_key(rng: random.Random) -> str | None:
    return None


def _no_uploads(rng: random.Random, dormant: bool) -> float:
    return 0.0


def _always_shows(rng: random.Random, start: float) -> NoShow | None:
    return None


def _on_start(rng: random.Random, begin: float, first: bool) -> Announcement:
    return Announcement(begin)


def _nothing(channel: "Channel", stream: "Stream") -> dict[str, Any]:
    return {}


def _no_counters(state: Any) -> dict[str, int]:
    return {}


def _keep(state: Any) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class FakePlatform:
    """One fake platform, as the sandbox knows it."""

    name: str
    display_name: str
    share: float
    """Its share of the default population mix."""
    routes: tuple[Route, ...]
    fault: Callable[["Context", "Request", int, "Decision"], "Response"]
    """An injected 5xx or 429, as the platform answers it."""
    settings_env: Callable[[str], dict[str, str]]
    """The environment pointing StreamTrack's Settings at the fake at base URL."""
    make_id: Callable[[random.Random, int], str]
    """A channel's platform id from its generator and index."""
    public: Callable[["Channel"], dict[str, Any]]
    """What `/_sandbox/channels` adds about a channel (its login, key, ...)."""
    stream_id: Callable[[int, "Stream"], str]
    """A broadcast's platform id from the seed and the stream."""
    owner_key: Callable[[random.Random], str | None] = _no_key
    """The owner's API key, for platforms polled with one."""
    hides_viewers: Callable[[random.Random], bool] = _never
    hides_subscribers: Callable[[random.Random], bool] = _never
    upload_chance: Callable[[random.Random, bool], float] = _no_uploads
    """Chance of a plain (not live) upload a day; `dormant` channels upload nothing."""
    no_show: Callable[[random.Random, float], NoShow | None] = _always_shows
    announce: Callable[[random.Random, float, bool], Announcement] = _on_start
    """When a segment starting at `begin` was announced (`first`: not a restart)."""
    truth: Callable[["Channel", "Stream"], dict[str, Any]] = _nothing
    """What the ground truth adds about one of its streams."""
    options: tuple[Option, ...] = ()
    fault_flags: tuple[FaultFlag, ...] = ()
    state: Callable[[Mapping[str, Any]], Any] | None = None
    """Builds what the fake keeps between requests, from its options' values."""
    counters: Callable[[Any], dict[str, int]] = _no_counters
    """Figures from that state reported with the request counters."""
    extra_counters: tuple[str, ...] = ()
    """Counter names always reported (zero until counted)."""
    reset: Callable[[Any], None] = _keep
    """What resetting the counters does to that state."""
    controls: Mapping[tuple[str, str], Control] = field(default_factory=dict)
    """`/_sandbox/...` endpoints of its own."""


@lru_cache(maxsize=1)
def fakes() -> dict[str, FakePlatform]:
    """Every registered fake by name, in `REGISTERED` order."""
    found: dict[str, FakePlatform] = {}
    for name in REGISTERED:
        fake = getattr(importlib.import_module(f"localdev.sandbox.{name}"), "FAKE", None)
        if not isinstance(fake, FakePlatform) or fake.name != name:
            raise RuntimeError(f"localdev.sandbox.{name} must export FAKE, its FakePlatform")
        found[name] = fake
    return found


def fake(name: str) -> FakePlatform:
    return fakes()[name]


def routes() -> dict[tuple[str, str], tuple[str, Route]]:
    """(method, path) -> (platform, route), over every fake."""
    return {(r.method, r.path): (p.name, r) for p in fakes().values() for r in p.routes}


def endpoint_counters() -> tuple[str, ...]:
    return tuple(r.counter for p in fakes().values() for r in p.routes)


def default_mix() -> dict[str, float]:
    return {name: f.share for name, f in fakes().items()}
