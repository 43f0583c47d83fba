"""Google Workspace: a service account with domain-wide delegation (google-auth,
impersonating the admin in GOOGLE_DELEGATED_ADMIN), and the Admin SDK
Directory API's members.list for each mapped group:

    GET <directory>/groups/{groupKey}/members?maxResults=200&includeDerivedMembership=true

paged by `pageToken` until a page has no `nextPageToken`. The API has no
change feed, so every run reads every mapped group whole; a page that fails
fails the group. Users only (nested groups are expanded by
includeDerivedMembership), active ones only.

google-auth's token exchange goes through our httpx client (a
`google.auth.transport.Request` adapter), so tests fake it at HTTP too.
"""

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

import httpx
from google.auth import exceptions as google_exceptions
from google.auth import transport
from google.oauth2 import service_account
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.config import Settings
from shared.directory.errors import (
    DirectoryAuthError,
    DirectoryError,
    DirectoryNotConfigured,
    DirectoryUnavailable,
    GroupNotFound,
    InvalidDirectoryResponse,
    Throttled,
)
from shared.directory.retry import RetryPolicy, retry_after_of, send

SCOPE: Final = "https://www.googleapis.com/auth/admin.directory.group.member.readonly"
PAGE_SIZE: Final = 200
"""members.list's largest maxResults."""
MAX_PAGES: Final = 5_000
_RATE_REASONS: Final = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"})


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Member(_Wire):
    """A member resource (`admin#directory#member`)."""

    id: str | None = Field(default=None, max_length=100)
    """The member's unique id (a user's Google account id); absent for some external ones."""
    email: str | None = Field(default=None, max_length=320)
    role: str | None = None
    """OWNER, MANAGER or MEMBER (of the group)."""
    type: str | None = None
    """USER, GROUP, CUSTOMER or EXTERNAL."""
    status: str | None = None


class MembersPage(_Wire):
    """A page of members.list."""

    kind: str | None = None
    members: list[Member] = Field(default_factory=list)
    next_page_token: str | None = Field(default=None, alias="nextPageToken")


class _ErrorItem(_Wire):
    reason: str | None = None
    message: str | None = None


class _ErrorDetail(_Wire):
    code: int | None = None
    message: str | None = None
    errors: list[_ErrorItem] = Field(default_factory=list)


class GoogleErrorBody(_Wire):
    """Google's error envelope: `{"error": {"code", "message", "errors": [{"reason"}]}}`."""

    error: _ErrorDetail


class _Response(transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class _Request(transport.Request):
    """google-auth's transport over our httpx client."""

    def __init__(self, http: httpx.Client, timeout_s: float) -> None:
        self._http = http
        self._timeout = timeout_s

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **_: Any,
    ) -> _Response:
        try:
            response = self._http.request(
                method, url, content=body, headers=headers, timeout=timeout or self._timeout
            )
        except httpx.HTTPError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise google_exceptions.TransportError(message) from None  # type: ignore[no-untyped-call]
        return _Response(response)


class GoogleTokens:
    """Access tokens of the service account, as the delegated admin."""

    def __init__(self, settings: Settings, http: httpx.Client) -> None:
        if settings.google_service_account_json is None or not settings.google_delegated_admin:
            raise DirectoryNotConfigured(
                "set GOOGLE_SERVICE_ACCOUNT_JSON and GOOGLE_DELEGATED_ADMIN", provider="google"
            )
        try:
            info = json.loads(settings.google_service_account_json.get_secret_value())
            # google-auth leaves this factory unannotated
            self._credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=[SCOPE], subject=settings.google_delegated_admin
            )
        except (ValueError, KeyError, TypeError):
            raise DirectoryNotConfigured(
                "GOOGLE_SERVICE_ACCOUNT_JSON is not a service account key", provider="google"
            ) from None
        self._request = _Request(http, settings.directory_timeout_s)
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if not self._credentials.valid:
                try:
                    self._credentials.refresh(self._request)
                except google_exceptions.RefreshError as exc:
                    raise DirectoryAuthError(
                        f"no token for the delegated admin: {str(exc)[:200]}; check the "
                        "domain-wide delegation of the service account's client id",
                        provider="google",
                    ) from None
                except google_exceptions.TransportError as exc:
                    raise DirectoryUnavailable(
                        f"token endpoint unreachable: {str(exc)[:200]}", provider="google"
                    ) from None
            return str(self._credentials.token)


def classify(response: httpx.Response, wall_now: float) -> DirectoryError:
    """The error for a non-2xx Directory API response."""
    status, message, reasons = response.status_code, response.reason_phrase, set[str]()
    try:
        body = GoogleErrorBody.model_validate_json(response.content)
        message = body.error.message or message
        reasons = {e.reason for e in body.error.errors if e.reason}
    except ValidationError:
        pass
    kw: dict[str, Any] = {"provider": "google", "status": status}
    if status == 429 or (status == 403 and reasons & _RATE_REASONS):
        return Throttled(message, retry_after=retry_after_of(response.headers, wall_now), **kw)
    if status in (401, 403):
        return DirectoryAuthError(
            f"{message}; the delegated admin needs to read groups, and the service account "
            f"domain-wide delegation with scope {SCOPE}",
            **kw,
        )
    if status == 404:
        return GroupNotFound(message, **kw)
    if status == 408 or status >= 500:
        return DirectoryUnavailable(message, **kw)
    return DirectoryError(message, **kw)


class GoogleDirectory:
    """members.list over the Admin SDK Directory API."""

    def __init__(
        self,
        http: httpx.Client,
        token: Callable[[], str],
        policy: RetryPolicy,
        api_url: str = "https://admin.googleapis.com/admin/directory/v1",
    ) -> None:
        self._http = http
        self._token = token
        self._policy = policy
        self._base = api_url.rstrip("/")

    def members(self, group_key: str, *, deadline: float | None = None) -> dict[str, str | None]:
        """Every active user of the group, direct or through nested groups: id -> email."""
        url = f"{self._base}/groups/{quote(group_key, safe='@')}/members"
        found: dict[str, str | None] = {}
        token: str | None = None
        seen_tokens: set[str] = set()
        for _ in range(MAX_PAGES):
            params: dict[str, str | int] = {
                "maxResults": PAGE_SIZE,
                "includeDerivedMembership": "true",
            }
            if token:
                params["pageToken"] = token
            response = send(
                self._http,
                "GET",
                url,
                provider="google",
                policy=self._policy,
                classify=lambda r: classify(r, self._policy.wall()),
                headers=lambda: {"Authorization": f"Bearer {self._token()}"},
                params=params,
                deadline=deadline,
            )
            try:
                page = MembersPage.model_validate_json(response.content)
            except ValidationError as exc:
                raise InvalidDirectoryResponse(
                    f"unexpected members page: {exc.errors(include_url=False)[0]['msg']}",
                    provider="google",
                    status=response.status_code,
                ) from None
            for member in page.members:
                if member.type == "USER" and member.id and member.status in (None, "ACTIVE"):
                    email = member.email.lower() if member.email else None
                    found[member.id.lower()] = email
            token = page.next_page_token
            if not token:
                return found
            if token in seen_tokens:
                raise InvalidDirectoryResponse(
                    "members.list repeated a page token", provider="google"
                )
            seen_tokens.add(token)
        raise InvalidDirectoryResponse(f"more than {MAX_PAGES} pages", provider="google")
