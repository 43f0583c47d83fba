"""State that is not ground truth: counters, YouTube quota, Twitch tokens and buckets."""

import secrets
import string
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENDPOINTS = (
    "twitch.token",
    "twitch.streams",
    "twitch.users",
    "twitch.followers",
    "youtube.feed",
    "youtube.videos",
    "youtube.channels",
    "youtube.search",
    "rumble.get_data",
)
EXTRA = (
    "youtube.quota_used",
    "twitch.rate_limited",
    "fault.latency",
    "fault.5xx",
    "fault.429",
    "fault.timeout",
    "fault.malformed",
    "fault.quota",
    "not_found",
)

try:
    PACIFIC: timezone | ZoneInfo = ZoneInfo("America/Los_Angeles")
except ZoneInfoNotFoundError:  # no tz database: standard time is close enough
    PACIFIC = timezone(timedelta(hours=-8))


class Counters:
    """Requests per endpoint and other tallies, all zero until counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {name: self._counts[name] for name in (*ENDPOINTS, *EXTRA)} | dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class Quota:
    """YouTube Data API units for the day, which resets at midnight Pacific (sandbox clock)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._day: str | None = None
        self.used = 0

    def charge(self, units: int, now: float) -> bool:
        """Spend units; False (and nothing spent) when they would exceed the limit."""
        day = datetime.fromtimestamp(now, UTC).astimezone(PACIFIC).date().isoformat()
        with self._lock:
            if day != self._day:
                self._day, self.used = day, 0
            if self.used + units > self.limit:
                return False
            self.used += units
            return True

    def reset(self) -> None:
        with self._lock:
            self.used = 0

    def state(self) -> dict[str, object]:
        return {"day": self._day, "limit": self.limit, "used": self.used}


class TwitchAuth:
    """App access tokens issued by the fake token endpoint, and their rate-limit buckets.

    Buckets refill on real time (they are about real request rates), and
    `Ratelimit-Reset` is wall-clock epoch seconds, as a client compares it
    with its own clock.
    """

    TOKEN_LIFETIME_S = 5_184_000

    def __init__(self, bucket: int) -> None:
        self.bucket = bucket
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}
        self._buckets: dict[str, tuple[float, float]] = {}

    def issue(self, client_id: str) -> str:
        token = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(30))
        with self._lock:
            self._tokens[token] = client_id
        return token

    def client_of(self, token: str) -> str | None:
        with self._lock:
            return self._tokens.get(token)

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            self._buckets.clear()
            return count

    def take(self, token: str) -> tuple[bool, dict[str, str]]:
        """Spend one point; (allowed, Ratelimit-* headers)."""
        now = time.monotonic()
        refill = self.bucket / 60
        with self._lock:
            points, last = self._buckets.get(token, (float(self.bucket), now))
            points = min(float(self.bucket), points + (now - last) * refill)
            allowed = points >= 1
            if allowed:
                points -= 1
            self._buckets[token] = (points, now)
        reset = time.time() + (self.bucket - points) / refill
        return allowed, self.headers(int(points), reset)

    def headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {
            "Ratelimit-Limit": str(self.bucket),
            "Ratelimit-Remaining": str(max(0, remaining)),
            "Ratelimit-Reset": str(int(reset) + 1),
        }
