"""Slowing down before a platform has to tell us to.

`RatePacer` follows a points bucket's `Ratelimit-Remaining`/`Ratelimit-Reset`
headers; `KeyInterval` keeps a one-request-per-key-per-interval rule;
`AdaptivePacer` serves a platform that publishes no limit at all, learning one
from its 429s. All are thread-safe, sleep through the retry policy's injectable
`sleep`, and raise DeadlineExceeded rather than sleep past the caller's deadline.
"""

import hashlib
import logging
import threading

import httpx

from shared.platforms.errors import DeadlineExceeded
from shared.platforms.registry import Platform
from shared.platforms.retry import RetryPolicy, retry_after_of

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


class AdaptivePacer:
    """Spaces requests out once the platform has answered 429, and eases off again.

    For a platform that publishes no rate limit and sends no rate-limit
    headers: requests go out unpaced until a 429, then at least `interval`
    apart across every thread (starting at `initial_s`, doubling with each
    further 429 up to `max_s`); `ease_after` successes in a row halve it, and
    below `initial_s` it is dropped. A `Retry-After` on the 429 holds every
    thread until it has passed, not only the one the retry policy makes wait.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        platform: Platform,
        *,
        initial_s: float = 0.25,
        max_s: float = 8.0,
        ease_after: int = 20,
    ) -> None:
        self._policy = policy
        self._platform = platform
        self._initial_s = initial_s
        self._max_s = max_s
        self._ease_after = ease_after
        self._lock = threading.Lock()
        self._interval = 0.0
        self._next = 0.0
        self._streak = 0

    @property
    def interval_s(self) -> float:
        """The current spacing between requests (0: unpaced)."""
        with self._lock:
            return self._interval

    def before(self, deadline: float | None) -> None:
        """Wait for this request's slot, if requests are being spaced out."""
        with self._lock:
            now = self._policy.monotonic()
            if self._interval <= 0 and self._next <= now:
                return
            slot = max(now, self._next)
            self._next = slot + self._interval
        try:
            _sleep_within(self._policy, self._platform, slot - now, deadline, "adaptive pacing")
        except DeadlineExceeded:
            with self._lock:
                if self._next == slot + self._interval:
                    self._next = slot
            raise

    def observe(self, response: httpx.Response) -> None:
        """Slow down on a 429 (honouring its Retry-After); ease off after a run of successes."""
        with self._lock:
            if response.status_code == 429:
                self._streak = 0
                self._interval = min(self._max_s, max(self._initial_s, self._interval * 2))
                now = self._policy.monotonic()
                wait = retry_after_of(response.headers, self._policy.wall())
                self._next = max(self._next, now + min(wait or 0.0, self._policy.retry_after_cap_s))
                interval = self._interval
            elif response.is_success and self._interval > 0:
                self._streak += 1
                if self._streak >= self._ease_after:
                    self._streak = 0
                    self._interval /= 2
                    if self._interval < self._initial_s:
                        self._interval = 0.0
                return
            else:
                return
        logger.warning(
            "%s: answered 429; requests now at least %.2f s apart",
            self._platform.value,
            interval,
            extra={"platform": self._platform.value, "interval_s": round(interval, 3)},
        )
