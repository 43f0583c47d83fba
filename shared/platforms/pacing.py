"""Slowing down before a platform has to tell us to.

`RatePacer` follows a points bucket's `Ratelimit-Remaining`/`Ratelimit-Reset`
headers; `KeyInterval` keeps a one-request-per-key-per-interval rule. Both are
thread-safe, sleep through the retry policy's injectable `sleep`, and raise
DeadlineExceeded rather than sleep past the caller's deadline.
"""

import hashlib
import logging
import threading

import httpx

from shared.platforms.errors import DeadlineExceeded
from shared.platforms.registry import Platform
from shared.platforms.retry import RetryPolicy

logger = logging.getLogger(__name__)


def _sleep_within(
    policy: RetryPolicy, platform: Platform, wait: float, deadline: float | None, why: str
) -> None:
    if wait <= 0:
        return
    if deadline is not None and policy.monotonic() + wait >= deadline:
        raise DeadlineExceeded(f"{why}: next request in {wait:.1f} s", platform=platform)
    logger.info(
        "%s: waiting %.2f s (%s)",
        platform.value,
        wait,
        why,
        extra={"platform": platform.value, "wait_s": round(wait, 3)},
    )
    policy.sleep(wait)


class RatePacer:
    """Spreads what is left of a rate-limit bucket over the time until it refills.

    The platform reports `Ratelimit-Remaining` and `Ratelimit-Reset` (epoch
    seconds, when the bucket is full again) on every answer. Once the points left drop
    to `pace_below`, each request waits its share of the time until the reset,
    so the client slows down before the platform answers 429. Every request
    reserves a point, so concurrent threads do not all spend the last one.
    """

    def __init__(self, policy: RetryPolicy, platform: Platform, pace_below: int = 10) -> None:
        self._policy = policy
        self._platform = platform
        self._pace_below = pace_below
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset: float | None = None

    def before(self, deadline: float | None) -> None:
        """Wait, if the bucket is nearly empty, before the next request."""
        with self._lock:
            wait = self._reserve()
        _sleep_within(self._policy, self._platform, wait, deadline, "rate limit nearly spent")

    def _reserve(self) -> float:
        if self._remaining is None or self._reset is None:
            return 0.0
        until_reset = self._reset - self._policy.wall()
        if until_reset <= 0:
            self._remaining, self._reset = self._limit, None
            return 0.0
        remaining = self._remaining
        self._remaining = max(0, remaining - 1)
        return 0.0 if remaining > self._pace_below else until_reset / (remaining + 1)

    def observe(self, response: httpx.Response) -> None:
        """Learn the bucket's state from an answer's headers."""
        try:
            remaining = int(response.headers["ratelimit-remaining"])
            reset = float(response.headers["ratelimit-reset"])
            limit = int(response.headers.get("ratelimit-limit", remaining))
        except (KeyError, ValueError):
            return
        with self._lock:
            self._limit = limit
            # Answers arrive out of order across threads: within one window keep the
            # lowest count seen; a later reset means a new window.
            if self._remaining is None or self._reset is None or reset > self._reset:
                self._remaining, self._reset = remaining, reset
            else:
                self._remaining = min(self._remaining, remaining)


class KeyInterval:
    """At most one request per key per `interval_s`; keys are held only as hashes."""

    def __init__(self, policy: RetryPolicy, platform: Platform, interval_s: float) -> None:
        self._policy = policy
        self._platform = platform
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def before(self, key: str, deadline: float | None) -> None:
        """Wait until this key may be used again, and book its next free slot."""
        digest = self.digest(key)
        with self._lock:
            now = self._policy.monotonic()
            slot = max(now, self._next.get(digest, now))
            self._next[digest] = slot + self._interval_s
        try:
            _sleep_within(self._policy, self._platform, slot - now, deadline, "per-key interval")
        except DeadlineExceeded:
            with self._lock:
                # The booked slot goes unused: hand it back.
                if self._next.get(digest) == slot + self._interval_s:
                    self._next[digest] = slot
            raise
