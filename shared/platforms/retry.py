"""The one retry policy, and the one way a platform request is sent.

`Sender.send` makes one logical request: it retries 429s, 5xx, timeouts and
transport errors with full-jitter exponential backoff, waits what the platform
asked for (`Retry-After`, or a `Ratelimit-Reset` epoch) when that is under a cap
and gives up when it is not, stops after `max_attempts`, and never sleeps past
the caller's deadline: when the next wait would cross it, the last error is
raised instead. Every attempt counts as a request (and costs quota where the
platform charges: some bill invalid and retried calls too), in the caller's `Cost`.

Waits go through `RetryPolicy.sleep`, so tests record them instead of sleeping.
tenacity runs them, entered only once an attempt failed worth a retry (that
failure replayed as its first attempt); each attempt goes out through
`shared.platforms.exchange.send`.
"""

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception

from shared.config import Settings
from shared.platforms import exchange
from shared.platforms.errors import (
    AuthError,
    DeadlineExceeded,
    InvalidResponse,
    NotFound,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
)
from shared.platforms.parsing import request_id_of
from shared.platforms.registry import Platform
from shared.platforms.transport import RequestUrls

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a platform request is retried and paced."""

    max_attempts: int = 4
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_cap_s: float = 30.0
    """A platform asking for a longer wait gets no retry: the caller tries next cycle."""
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    """Epoch seconds, to read `Ratelimit-Reset` (a wall-clock instant)."""
    jitter: Callable[[float, float], float] = random.uniform

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "RetryPolicy":
        return cls(**{"max_attempts": settings.platform_max_attempts, **overrides})

    def backoff(self, error: PlatformError, attempt: int) -> float | None:
        """Seconds to wait after failed attempt number `attempt`; None: do not retry."""
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > self.retry_after_cap_s:
                return None
            return max(0.0, error.retry_after)
        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))
        return self.jitter(0.0, ceiling)


class Cost:
    """Requests and quota units spent by one logical operation (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.quota_units = 0

    def add(self, requests: int = 0, quota_units: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.quota_units += quota_units


def retry_after_of(headers: Mapping[str, str], wall_now: float) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `Ratelimit-Reset` (epoch)."""
    if raw := headers.get("retry-after"):
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(raw).timestamp() - wall_now)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    if raw := headers.get("ratelimit-reset"):
        try:
            return max(0.0, float(raw) - wall_now)
        except ValueError:
            pass
    return None


def error_for_status(
    platform: Platform,
    response: httpx.Response,
    message: str,
    *,
    wall_now: float,
    auth_4xx: bool = False,
) -> PlatformError:
    """The error tree's branch for a non-2xx status (the platforms refine it).

    `auth_4xx`: every other 4xx is an AuthError too (credential endpoints).
    """
    status, rid = response.status_code, request_id_of(response)
    kwargs: dict[str, Any] = {"platform": platform, "status": status, "request_id": rid}
    if status == 429:
        return RateLimited(
            message, retry_after=retry_after_of(response.headers, wall_now), **kwargs
        )
    if status in (401, 403) or (auth_4xx and 400 <= status < 500):
        return AuthError(message, **kwargs)
    if status == 404:
        return NotFound(message, **kwargs)
    if status == 408 or status >= 500:
        return PlatformUnavailable(message, **kwargs)
    if 200 <= status < 300:
        return InvalidResponse(message, **kwargs)
    return PlatformError(message, **kwargs)


Classifier = Callable[[httpx.Response], PlatformError]


@dataclass(slots=True)
class Sender:
    """Sends one platform's requests under the retry policy."""

    http: httpx.Client
    platform: Platform
    policy: RetryPolicy
    timeout_s: float
    classify: Classifier
    """Turns a non-2xx response into an error (reads the platform's error body)."""
    before_attempt: Callable[[float | None], None] | None = None
    """Called before every attempt with the deadline (pacing; may sleep or raise)."""
    after_response: Callable[[httpx.Response], None] | None = None
    secrets: Callable[[], Iterable[str]] = field(default=lambda: ())
    """Credentials that must never appear in an error message."""
    urls: RequestUrls = field(default_factory=RequestUrls)
    """Builds each request's URL from its base (parsed once) and params."""

    def send(
        self,
        method: str,
        url: str,
        *,
        cost: Cost,
        deadline: float | None = None,
        params: Any = None,
        headers: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        quota_cost: int = 0,
        extra_secrets: Iterable[str] = (),
        pace: Callable[[float | None], None] | None = None,
    ) -> httpx.Response:
        """The 2xx response, or the last error once retrying is pointless.

        `pace` runs before every attempt, after the sender's own `before_attempt`.
        """
        secrets = [s for s in (*self.secrets(), *extra_secrets) if s]
        last: list[PlatformError] = []
        final = False

        def attempt() -> httpx.Response:
            nonlocal final
            try:
                self._check_deadline(deadline)
                for wait in (self.before_attempt, pace):
                    if wait is not None:
                        wait(deadline)
            except DeadlineExceeded as exc:
                # Out of time before a retry: the platform's last answer says more.
                final = True
                raise (last[-1] if last else exc) from None
            try:
                return self._once(
                    method, url, params, headers, data, deadline, cost, quota_cost, json, secrets
                )
            except PlatformError as exc:
                exc.message = _redact(exc.message, secrets)
                exc.args = (exc.message,)
                last.append(exc)
                raise

        # Most requests succeed first time: tenacity only once an attempt failed
        # worth a retry, replaying that failure as its own first attempt (same
        # attempt numbers, waits, stop and log as if it had made it).
        try:
            return attempt()
        except PlatformError as exc:
            if not exc.retryable or final:
                raise
            first: PlatformError | None = exc

        def replay() -> httpx.Response:
            nonlocal first
            if first is not None:
                failed, first = first, None
                raise failed
            return attempt()

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, PlatformError) and exc.retryable and not final

        retrying = Retrying(
            retry=retry_if_exception(retryable),
            wait=self._wait,
            stop=lambda rs: self._stop(rs, deadline),
            sleep=self.policy.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        response: httpx.Response = retrying(replay)
        return response

    def _once(
        self,
        method: str,
        url: str,
        params: Any,
        headers: Mapping[str, str] | Callable[[], Mapping[str, str]] | None,
        data: Mapping[str, str] | None,
        deadline: float | None,
        cost: Cost,
        quota_cost: int,
        json: Any = None,
        secrets: Sequence[str] = (),
    ) -> httpx.Response:
        hdrs = headers() if callable(headers) else headers
        cost.add(requests=1)
        try:
            response = exchange.send(
                self.http,
                method,
                self.urls(url, params),
                headers=hdrs,
                data=data,
                json=json,
                timeout=self._timeout(deadline),
                redact=lambda text: _redact(text, secrets, limit=None),
            )
        except httpx.TimeoutException as exc:
            message = f"timed out ({type(exc).__name__})"
            raise PlatformUnavailable(message, platform=self.platform) from None
        except httpx.HTTPError as exc:
            # Transport failures are worth a retry; a body that cannot be decoded is not.
            transport = isinstance(exc, httpx.TransportError)
            kind = PlatformUnavailable if transport else InvalidResponse
            raise kind(f"{type(exc).__name__}: {exc}", platform=self.platform) from None
        cost.add(quota_units=quota_cost)
        if self.after_response is not None:
            self.after_response(response)
        if response.is_success:
            return response
        raise self.classify(response)

    def _check_deadline(self, deadline: float | None) -> None:
        if deadline is not None and self.policy.monotonic() >= deadline:
            raise DeadlineExceeded("time budget spent before the request", platform=self.platform)

    def _timeout(self, deadline: float | None) -> float:
        if deadline is None:
            return self.timeout_s
        return max(0.001, min(self.timeout_s, deadline - self.policy.monotonic()))

    def _wait(self, rs: RetryCallState) -> float:
        error = rs.outcome.exception() if rs.outcome else None
        if not isinstance(error, PlatformError):
            return 0.0
        wait = self.policy.backoff(error, rs.attempt_number)
        return float("inf") if wait is None else wait

    def _stop(self, rs: RetryCallState, deadline: float | None) -> bool:
        if rs.attempt_number >= self.policy.max_attempts or rs.upcoming_sleep == float("inf"):
            return True
        return deadline is not None and self.policy.monotonic() + rs.upcoming_sleep >= deadline

    def _log_retry(self, rs: RetryCallState) -> None:
        error = rs.outcome.exception() if rs.outcome else None
        logger.warning(
            "%s: retrying after %s in %.2f s",
            self.platform.value,
            type(error).__name__,
            rs.upcoming_sleep,
            extra={
                "platform": self.platform.value,
                "attempt": rs.attempt_number,
                "wait_s": round(rs.upcoming_sleep, 3),
                "status": getattr(error, "status", None),
            },
        )


def _redact(text: str, secrets: Iterable[str], *, limit: int | None = 300) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text[:limit]
