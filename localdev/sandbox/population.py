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

from localdev.sandbox.ids import b64url, base36, iso_z

PLATFORMS = ("twitch", "youtube", "rumble")
DEFAULT_MIX = {"twitch": 0.6, "youtube": 0.3, "rumble": 0.1}

_FIRST = (
    "Pixel Nova Iron Lucky Silent Rapid Cosmic Tiny Mighty Neon Rusty Velvet Frosty Shadow "
    "Sunny Lunar Wild Clever Brave Sleepy Crimson Golden Hidden Electric Quiet Stormy"
).split()
_SECOND = (
    "Otter Falcon Wizard Panda Ranger Pilot Knight Gecko Comet Badger Viking Ninja Raven "
    "Tiger Squid Phoenix Golem Fox Bard Mantis Yeti Lynx Hermit Kraken Moose Wren"
).split()
LANGUAGES = ("en", "en", "en", "es", "de", "fr", "pt", "ja")

# (Twitch game id, name, Rumble category slug)
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
    """Twitch user id, YouTube `UC…` channel id, Rumble user id (base 36)."""
    login: str
    """Twitch login, YouTube handle without `@`, Rumble username."""
    name: str
    rumble_key: str | None
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
    """YouTube: the owner hides the live viewer count."""
    hide_subscribers: bool
    upload_p: float
    """YouTube: chance of a plain upload on a given day."""
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
        if self.platform == "twitch":
            out["login"] = self.login
        elif self.platform == "youtube":
            out["handle"] = "@" + self.login
            out["hide_viewers"] = self.hide_viewers
            out["hide_subscribers"] = self.hide_subscribers
            out["feed_url_path"] = f"/youtube/feeds/videos.xml?channel_id={self.platform_id}"
        else:
            out["username"] = self.login
            out["rumble_key"] = self.rumble_key
        return out

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def parse_mix(mix: str | Mapping[str, float] | None) -> dict[str, float]:
    """`twitch=0.6,youtube=0.3,rumble=0.1` (or a mapping) as normalised shares."""
    if mix is None:
        raw: dict[str, float] = dict(DEFAULT_MIX)
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
        self.twitch_by_id = {c.platform_id: c for c in self.channels if c.platform == "twitch"}
        self.twitch_by_login = {c.login: c for c in self.channels if c.platform == "twitch"}
        self.youtube_by_id = {c.platform_id: c for c in self.channels if c.platform == "youtube"}
        self.youtube_by_handle = {c.login: c for c in self.channels if c.platform == "youtube"}
        self.rumble_by_key = {c.rumble_key: c for c in self.channels if c.rumble_key}
        self.by_platform_id = {c.platform_id: c for c in self.channels}

    def find(self, ref: str) -> Channel | None:
        """A channel by key, platform id, login, @handle or Rumble key."""
        ref = ref.strip()
        return (
            self.by_key.get(ref)
            or self.by_platform_id.get(ref)
            or self.rumble_by_key.get(ref)
            or self.twitch_by_login.get(ref.lower())
            or self.youtube_by_handle.get(ref.removeprefix("@").lower())
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
        if platform == "twitch":
            platform_id = str(10_000_000 + index * 7919 + rng.randint(0, 7918))
        elif platform == "youtube":
            platform_id = "UC" + b64url(rng.randbytes(16))
        else:
            platform_id = base36(36**4 + index * 1297 + rng.randint(0, 1296))
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
            rumble_key=b64url(rng.randbytes(48)) if platform == "rumble" else None,
            created_at=rng.uniform(1_325_376_000, 1_640_995_200),  # 2012 .. 2022
            dormant=dormant,
            stream_p=0.0 if dormant else rng.uniform(0.25, 0.95),
            hour=rng.uniform(0, 24),
            duration_s=min(9 * 3600, max(1800, rng.lognormvariate(math.log(2.5 * 3600), 0.45))),
            peak=peak,
            followers=followers,
            growth_per_day=followers * rng.uniform(-0.0005, 0.004),
            hide_viewers=platform == "youtube" and rng.random() < 0.15,
            hide_subscribers=platform == "youtube" and rng.random() < 0.05,
            upload_p=0.0 if dormant or platform != "youtube" else rng.uniform(0, 0.6),
            language=rng.choice(LANGUAGES),
            category=rng.randrange(len(CATEGORIES)),
            broadcaster_type=rng.choice(("", "affiliate", "affiliate", "partner")),
            mature=rng.random() < 0.1,
        )
