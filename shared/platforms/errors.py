"""The one error tree of the platform clients.

    PlatformError                  anything a platform call can fail with
     ├── PlatformUnavailable       5xx, timeouts, transport errors (retried)
     │    └── DeadlineExceeded     the caller's time budget ran out first
     ├── RateLimited               429 or a per-user rate limit (retried; `retry_after`)
     ├── QuotaExhausted            a daily unit quota is spent (not retried)
     ├── AuthError                 credentials missing, wrong or revoked
     ├── NotFound                  the channel, video or key does not exist
     └── InvalidResponse           a payload that is malformed or not what the API documents

Every error carries the platform, the HTTP status (None when no response
arrived) and the request id when the platform sent one. Messages never contain
credentials: some URLs carry API keys, so no message includes one.
A bare `PlatformError` is an answer none of the branches fits, such as a 400
for a request this code should not have sent.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.platforms.registry import Platform


class PlatformError(Exception):
    """A platform call failed."""

    retryable: bool = False
    """Whether the retry policy tries the same request again."""

    def __init__(
        self,
        message: str,
        *,
        platform: "Platform",
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [f"{self.platform.value}: {self.message}"]
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary for run records and structured logs."""
        return {
            "platform": self.platform.value,
            "error": type(self).__name__,
            "status": self.status,
            "request_id": self.request_id,
            "message": self.message[:300],
        }


class PlatformUnavailable(PlatformError):
    """The platform did not answer usefully: 5xx, timeout or a transport failure."""

    retryable = True


class DeadlineExceeded(PlatformUnavailable):
    """The caller's time budget ran out before an answer arrived."""

    retryable = False


class RateLimited(PlatformError):
    """The platform asked us to slow down."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        platform: "Platform",
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, platform=platform, status=status, request_id=request_id)
        self.retry_after = retry_after
        """Seconds the platform asked us to wait (Retry-After, Ratelimit-Reset), if it said."""


class QuotaExhausted(PlatformError):
    """The daily quota is spent; nothing helps until the quota day turns."""


class AuthError(PlatformError):
    """The credentials are missing, wrong, expired or revoked."""


class NotFound(PlatformError):
    """The channel, video or key does not exist (or is not visible to us)."""


class InvalidResponse(PlatformError):
    """The answer is malformed or does not have the documented shape."""
