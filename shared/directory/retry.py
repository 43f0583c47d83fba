"""The directory clients' retry policy: the shape of the platforms' one
(`shared.platforms.retry`), without its platform vocabulary.

One logical request is retried on `DirectoryUnavailable` (transport errors,
timeouts, 5xx) and `Throttled` (429, Google's rate-limit 403s) with
full-jitter exponential backoff; a `Retry-After` under the cap is waited
exactly, a longer one is not waited at all (the error goes to the caller,
which reports the group as failed this run); never past the caller's
deadline; at most `max_attempts`. Waits go through `sleep`, so tests record
them instead of sleeping.
"""

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception

from shared.config import Settings
from shared.directory.errors import DirectoryError, DirectoryUnavailable, Provider, Throttled

logger = logging.getLogger(__name__)

Classifier = Callable[[httpx.Response], DirectoryError]
"""Turns a non-2xx response into the error tree's branch (reads the error body)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a directory request is retried."""

    max_attempts: int = 4
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_cap_s: float = 60.0
    timeout_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    jitter: Callable[[float, float], float] = random.uniform

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "RetryPolicy":
        values: dict[str, Any] = {
            "max_attempts": settings.directory_max_attempts,
            "retry_after_cap_s": settings.directory_retry_after_cap_s,
            "timeout_s": settings.directory_timeout_s,
        }
        return cls(**{**values, **overrides})

    def backoff(self, error: DirectoryError, attempt: int) -> float | None:
        """Seconds to wait after failed attempt `attempt`; None: do not retry."""
        if isinstance(error, Throttled) and error.retry_after is not None:
            return None if error.retry_after > self.retry_after_cap_s else error.retry_after
        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))
        return self.jitter(0.0, ceiling)


def retry_after_of(headers: Mapping[str, str], wall_now: float) -> float | None:
    """Seconds from `Retry-After`: delta-seconds or an HTTP date."""
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - wall_now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    provider: Provider,
    policy: RetryPolicy,
    classify: Classifier,
    headers: Callable[[], Mapping[str, str]],
    params: Mapping[str, str | int] | None = None,
    deadline: float | None = None,
) -> httpx.Response:
    """The 2xx response, or the last error once retrying is pointless.

    `headers` is called before every attempt, so a refreshed token is used.
    """

    def attempt() -> httpx.Response:
        remaining = None if deadline is None else deadline - policy.monotonic()
        if remaining is not None and remaining <= 0:
            raise DirectoryUnavailable("time budget spent before the request", provider=provider)
        timeout = policy.timeout_s if remaining is None else min(policy.timeout_s, remaining)
        try:
            response = http.request(
                method, url, params=params, headers=dict(headers()), timeout=timeout
            )
        except httpx.TimeoutException as exc:
            message = f"timed out ({type(exc).__name__})"
            raise DirectoryUnavailable(message, provider=provider) from None
        except httpx.HTTPError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise DirectoryUnavailable(message, provider=provider) from None
        if response.is_success:
            return response
        raise classify(response)

    def wait(rs: RetryCallState) -> float:
        error = rs.outcome.exception() if rs.outcome else None
        if not isinstance(error, DirectoryError):
            return 0.0
        seconds = policy.backoff(error, rs.attempt_number)
        return float("inf") if seconds is None else seconds

    def stop(rs: RetryCallState) -> bool:
        if rs.attempt_number >= policy.max_attempts or rs.upcoming_sleep == float("inf"):
            return True
        return deadline is not None and policy.monotonic() + rs.upcoming_sleep >= deadline

    def log_retry(rs: RetryCallState) -> None:
        error = rs.outcome.exception() if rs.outcome else None
        logger.warning(
            "%s: retrying after %s in %.2f s",
            provider,
            type(error).__name__,
            rs.upcoming_sleep,
            extra={
                "provider": provider,
                "attempt": rs.attempt_number,
                "wait_s": round(rs.upcoming_sleep, 3),
                "status": getattr(error, "status", None),
            },
        )

    retrying = Retrying(
        retry=retry_if_exception(lambda exc: isinstance(exc, DirectoryError) and exc.retryable),
        wait=wait,
        stop=stop,
        sleep=policy.sleep,
        before_sleep=log_retry,
        reraise=True,
    )
    response: httpx.Response = retrying(attempt)
    return response
