"""The synthetic population: who the channels are and their habits.

Built once from (seed, count, mix). Each channel's identity and habits come
from its own seeded generator, so a channel is the same in every sandbox with
the same seed, count and mix.
"""

import math
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from localdev.sandbox.ids import iso_z
from localdev.sandbox.platforms import REGISTERED, default_mix, fake

PLATFORMS = REGISTERED

_FIRST = (
    "Pixel Nova Iron Lucky Silent Rapid Cosmic Tiny Mighty Neon Rusty Velvet Frosty Shadow "
    "Sunny Lunar Wild Clever Brave Sleepy Crimson Golden Hidden Electric Quiet Stormy"
).split()
_SECOND = (
    "Otter Falcon Wizard Panda Ranger Pilot Knight Gecko Comet Badger Viking Ninja Raven "
    "Tiger Squid Phoenix Golem Fox Bard Mantis Yeti Lynx Hermit Kraken Moose Wren"
).split()
LANGUAGES = ("en", "en", "en", "es", "de", "fr", "pt", "ja")

# (a game id, its name, a category slug): each fake uses what it needs
CATEGORIES = (
    ("509658", "Just Chatting", "just-chatting"),
    ("32982", "Grand Theft Auto V", "gaming"),
    ("21779", "League of Legends", "gaming"),
    ("27471", "Minecraft", "gaming"),
    ("516575", "VALORANT", "gaming"),
    ("33214", "Fortnite", "gaming"),
    ("26936", "Music", "music"),
    ("509660", "Art", "art"),
    ("417752", "Talk Shows & Podcasts", "podcasts"),
    ("518203", "Sports", "sports"),
)


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel on one platform, with the habits its schedule is drawn from."""

    index: int
    platform: str
    key: str
    """`<platform>:<platform id>`, the sandbox's own name for the channel."""
    platform_id: str
    """The platform's id for the channel (its fake draws it)."""
    login: str
    """The name the platform knows the channel by: login, handle without `@`, username."""
    name: str
    owner_key: str | None
    """The owner's API key, on platforms polled with one."""
    created_at: float
    dormant: bool
    stream_p: float
    """Chance of streaming on a given day."""
    hour: float
    """Usual start hour, UTC."""
    duration_s: float
    peak: int
    """Typical peak viewers."""
    followers: int
    growth_per_day: float
    hide_viewers: bool
    """The owner hides the live viewer count (where the platform lets them)."""
    hide_subscribers: bool
    upload_p: float
    """Chance of a plain upload on a given day (where the platform has uploads)."""
    language: str
    category: int
    broadcaster_type: str
    mature: bool

    def public(self) -> dict[str, Any]:
        """What `GET /_sandbox/channels` tells tests and the demo about the channel."""
        out: dict[str, Any] = {
            "key": self.key,
            "index": self.index,
            "platform": self.platform,
            "id": self.platform_id,
            "name": self.name,
            "created_at": iso_z(self.created_at),
            "dormant": self.dormant,
        }
        out |= fake(self.platform).public(self)
        if self.owner_key is not None:
            out["owner_key"] = self.owner_key
        return out

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def parse_mix(mix: str | Mapping[str, float] | None) -> dict[str, float]:
    """`twitch=0.6,youtube=0.3,rumble=0.1` (or a mapping) as normalised shares."""
    if mix is None:
        raw: dict[str, float] = default_mix()
    elif isinstance(mix, str):
        raw = {}
        for part in filter(None, (p.strip() for p in mix.split(","))):
            name, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"mix entry {part!r} is not platform=share")
            raw[name.strip()] = float(value)
    else:
        raw = {k: float(v) for k, v in mix.items()}
    unknown = set(raw) - set(PLATFORMS)
    if unknown:
        raise ValueError(f"unknown platform(s) in mix: {', '.join(sorted(unknown))}")
    if any(v < 0 for v in raw.values()) or sum(raw.values()) <= 0:
        raise ValueError("mix shares must be non-negative and not all zero")
    total = sum(raw.values())
    return {p: raw.get(p, 0.0) / total for p in PLATFORMS}


def _allocate(count: int, shares: Mapping[str, float]) -> list[str]:
    exact = {p: shares[p] * count for p in PLATFORMS}
    counts = {p: math.floor(v) for p, v in exact.items()}
    by_remainder = sorted(PLATFORMS, key=lambda p: exact[p] - counts[p], reverse=True)
    for p in by_remainder[: count - sum(counts.values())]:
        counts[p] += 1
    return [p for p in PLATFORMS for _ in range(counts[p])]


class Population:
    """All channels, with the lookups the platform handlers need."""

    def __init__(self, seed: int, count: int, mix: str | Mapping[str, float] | None = None):
        if not 0 <= count < 1 << 20:
            raise ValueError("channel count must be between 0 and 1,048,575")
        self.seed = seed
        self.mix = parse_mix(mix)
        platforms = _allocate(count, self.mix)
        random.Random(f"mix:{seed}").shuffle(platforms)
        taken: set[str] = set()
        self.channels = [self._make(i, p, taken) for i, p in enumerate(platforms)]
        self.by_key = {c.key: c for c in self.channels}
        self.by_id: dict[str, dict[str, Channel]] = {p: {} for p in PLATFORMS}
        """By platform, then platform id."""
        self.by_login: dict[str, dict[str, Channel]] = {p: {} for p in PLATFORMS}
        """By platform, then login (lower case, no `@`)."""
        for c in self.channels:
            self.by_id[c.platform][c.platform_id] = c
            self.by_login[c.platform][c.login] = c
        self.by_owner_key = {c.owner_key: c for c in self.channels if c.owner_key}
        self.by_platform_id = {c.platform_id: c for c in self.channels}

    def find(self, ref: str) -> Channel | None:
        """A channel by key, platform id, owner key, login or @handle."""
        ref = ref.strip()
        name = ref.removeprefix("@").lower()
        return (
            self.by_key.get(ref)
            or self.by_platform_id.get(ref)
            or self.by_owner_key.get(ref)
            or next((by[name] for by in self.by_login.values() if name in by), None)
        )

    def _make(self, index: int, platform: str, taken: set[str]) -> Channel:
        rng = random.Random(f"channel:{self.seed}:{index}")
        name = rng.choice(_FIRST) + rng.choice(_SECOND)
        if rng.random() < 0.5:
            name += str(rng.randint(1, 999))
        login = name.lower()
        while login in taken:
            login = f"{login}_{rng.randint(0, 9)}"
        taken.add(login)
        habits = fake(platform)
        platform_id = habits.make_id(rng, index)
        dormant = rng.random() < 0.08
        peak = min(150_000, int(rng.lognormvariate(math.log(40), 1.7)))
        followers = int(max(peak, 1) * rng.uniform(20, 200)) + rng.randint(0, 500)
        return Channel(
            index=index,
            platform=platform,
            key=f"{platform}:{platform_id}",
            platform_id=platform_id,
            login=login,
            name=name,
            owner_key=habits.owner_key(rng),
            created_at=rng.uniform(1_325_376_000, 1_640_995_200),  # 2012 .. 2022
            dormant=dormant,
            stream_p=0.0 if dormant else rng.uniform(0.25, 0.95),
            hour=rng.uniform(0, 24),
            duration_s=min(9 * 3600, max(1800, rng.lognormvariate(math.log(2.5 * 3600), 0.45))),
            peak=peak,
            followers=followers,
            growth_per_day=followers * rng.uniform(-0.0005, 0.004),
            hide_viewers=habits.hides_viewers(rng),
            hide_subscribers=habits.hides_subscribers(rng),
            upload_p=habits.upload_chance(rng, dormant),
            language=rng.choice(LANGUAGES),
            category=rng.randrange(len(CATEGORIES)),
            broadcaster_type=rng.choice(("", "affiliate", "affiliate", "partner")),
            mature=rng.random() < 0.1,
        )
