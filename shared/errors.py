"""Service errors: what a service in `shared/` raises when it refuses a request.
The blueprints map each kind to one HTTP status (`functions/http.respond`), so
every service speaks the same language and no blueprint grows its own mapping.

    ServiceError
     ├── Unauthenticated the token is sound but its account is gone            401
     ├── Forbidden       the caller may not do this (role, MFA rule, ownership)   403
     ├── NotFound        no such resource, or not one the caller can see         404
     ├── Conflict        the resource's state forbids it (last owner, duplicate) 409
     ├── Unprocessable   well-formed input the service cannot act on             422
     ├── TooManyRequests a rate limit is reached; carries Retry-After            429
     └── Unavailable     a dependency is down or not configured; retry later     503
"""


class ServiceError(Exception):
    """A request a service refuses; the message is shown to the client."""

    @property
    def headers(self) -> dict[str, str]:
        """Response headers the refusal needs (none by default)."""
        return {}


class Unauthenticated(ServiceError):
    """The token verified, but the account it names no longer exists (deleted)."""


class Forbidden(ServiceError):
    """The caller may not do this (their role, the team's MFA rule)."""


class NotFound(ServiceError):
    """No such resource, or not one the caller may see."""


class Conflict(ServiceError):
    """The current state forbids the change (last owner, duplicate, plan limit)."""


class Unprocessable(ServiceError):
    """Input that parses but cannot be acted on (an unknown channel, say)."""


class Unavailable(ServiceError):
    """A dependency is down or not configured; the client may retry later."""


class TooManyRequests(ServiceError):
    """A rate limit is reached; the client may retry after `retry_after_s` seconds."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}
