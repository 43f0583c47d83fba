"""What a directory client raises. Every error names the provider, and the HTTP
status and request id when a response carried them.

    DirectoryError
     ├── DirectoryNotConfigured   a setting the provider needs is missing (no request made)
     ├── DirectoryAuthError       the token could not be had, or 401/403: consent, delegation
     ├── GroupNotFound            404 / a mapped group Graph did not return: check its id
     ├── DeltaExpired             410 Gone or `syncStateNotFound`: start a full round
     ├── InvalidDirectoryResponse a 2xx whose body is not the documented shape
     └── DirectoryUnavailable     transport failure, timeout, 5xx (retried)
          └── Throttled           429, or Google's 403 rate-limit reasons (retried,
                                  honouring Retry-After up to a cap)

A failure is never an empty group: callers mark the group unknown, and the
sync derives no removal from it.
"""

from typing import ClassVar, Literal

Provider = Literal["azure", "google"]


class DirectoryError(Exception):
    """A directory request failed."""

    retryable: ClassVar[bool] = False
    code: ClassVar[str] = "directory_error"

    def __init__(
        self,
        message: str,
        *,
        provider: Provider,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        where = f" (HTTP {self.status})" if self.status is not None else ""
        rid = f" [request {self.request_id}]" if self.request_id else ""
        return f"{self.provider}: {self.message}{where}{rid}"


class DirectoryNotConfigured(DirectoryError):
    """A setting the provider needs is missing."""

    code = "not_configured"


class DirectoryAuthError(DirectoryError):
    """No token, or the directory refused it (consent, delegation, permission)."""

    code = "unauthorized"


class GroupNotFound(DirectoryError):
    """The group does not exist or the app cannot see it."""

    code = "group_not_found"


class DeltaExpired(DirectoryError):
    """Graph no longer knows the delta link: a full round is needed."""

    code = "delta_expired"


class InvalidDirectoryResponse(DirectoryError):
    """A successful status with a body that is not the documented shape."""

    code = "invalid_response"


class DirectoryUnavailable(DirectoryError):
    """The directory did not answer usefully; worth another attempt."""

    retryable = True
    code = "unavailable"


class Throttled(DirectoryUnavailable):
    """The directory asked us to slow down."""

    code = "throttled"

    def __init__(
        self,
        message: str,
        *,
        provider: Provider,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status, request_id=request_id)
        self.retry_after = retry_after
        """Seconds the directory asked us to wait, when it said."""
