"""Microsoft Entra ID: an app token by client credentials (MSAL), and Microsoft
Graph's group delta query for the mapped groups.

    GET <graph>/groups/delta?$select=members&$filter=id eq '<g1>' or id eq '<g2>' ...

at most 50 ids per filter (Graph's limit), one delta chain per such set. A
round follows `@odata.nextLink` until a page carries `@odata.deltaLink`; the
same group may come back on several pages (its `members@delta` split), each
entry an added member or, with `@removed`, a removed one. A round from a
stored delta link returns changes only; 410 Gone or `syncStateNotFound`
(tokens last 7 days) means the chain is gone and a full round starts over.
Only the complete round counts: a page that fails fails the whole round.

MSAL sends its requests (authority discovery, token) through the same
httpx client as Graph, so tests fake both at the HTTP boundary.
"""

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import msal  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.config import Settings
from shared.directory.errors import (
    DeltaExpired,
    DirectoryAuthError,
    DirectoryError,
    DirectoryNotConfigured,
    DirectoryUnavailable,
    GroupNotFound,
    InvalidDirectoryResponse,
    Throttled,
)
from shared.directory.retry import RetryPolicy, retry_after_of, send

logger = logging.getLogger(__name__)

GRAPH_SCOPE: Final = "https://graph.microsoft.com/.default"
MAX_FILTER_IDS: Final = 50
"""Graph's limit of objects in a delta `$filter`."""
MAX_PAGES: Final = 10_000
USER_TYPE: Final = "#microsoft.graph.user"
_EXPIRED_CODES: Final = frozenset({"syncstatenotfound", "syncstateinvalid", "resyncrequired"})


# --- wire models --------------------------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Removed(_Wire):
    """`@removed`: `changed` (restorable) or `deleted`."""

    reason: str | None = None


class MemberRef(_Wire):
    """An entry of `members@delta`: a directory object by id."""

    id: str = Field(min_length=1, max_length=100)
    odata_type: str | None = Field(default=None, alias="@odata.type")
    removed: Removed | None = Field(default=None, alias="@removed")


class GroupDelta(_Wire):
    """One group on a delta page (possibly one of several slices of it)."""

    id: str = Field(min_length=1, max_length=100)
    members_delta: list[MemberRef] | None = Field(default=None, alias="members@delta")
    removed: Removed | None = Field(default=None, alias="@removed")


class DeltaPage(_Wire):
    """A page of `GET /groups/delta`: a next link, or the round's delta link."""

    value: list[GroupDelta]
    next_link: str | None = Field(default=None, alias="@odata.nextLink")
    delta_link: str | None = Field(default=None, alias="@odata.deltaLink")

    @model_validator(mode="after")
    def _one_link(self) -> "DeltaPage":
        if (self.next_link is None) == (self.delta_link is None):
            raise ValueError("a delta page has one of @odata.nextLink and @odata.deltaLink")
        return self


class _InnerError(_Wire):
    request_id: str | None = Field(default=None, alias="request-id")


class _ErrorDetail(_Wire):
    code: str | None = None
    message: str | None = None
    inner: _InnerError | None = Field(default=None, alias="innerError")


class GraphErrorBody(_Wire):
    """Graph's error envelope: `{"error": {"code", "message", "innerError"}}`."""

    error: _ErrorDetail


# --- the round's outcome ------------------------------------------------------------------


@dataclass(slots=True)
class GroupChanges:
    """What a round said about one group, in the order Graph said it."""

    entries: list[tuple[str, bool]] = field(default_factory=list)
    """(user object id, removed) for each user entry of `members@delta`."""
    deleted: bool = False
    """The group itself came back with `@removed`."""


@dataclass(slots=True)
class DeltaRound:
    """A complete round: every group Graph returned, and the link for the next round."""

    groups: dict[str, GroupChanges]
    delta_link: str
    full: bool
    pages: int
    ignored: int = 0
    """Entries that are not users (nested groups, devices, service principals)."""


# --- tokens -------------------------------------------------------------------------------


class _MsalHttp:
    """MSAL's http_client interface over our httpx client."""

    def __init__(self, http: httpx.Client, timeout_s: float) -> None:
        self._http = http
        self._timeout = timeout_s

    def post(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        content = data if isinstance(data, str | bytes) else None
        form = data if isinstance(data, Mapping) else None
        return self._http.post(
            url, params=params, data=form, content=content, headers=headers, timeout=self._timeout
        )

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        return self._http.get(url, params=params, headers=headers, timeout=self._timeout)

    def close(self) -> None:
        """The httpx client belongs to the caller."""


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def client_credential(settings: Settings) -> str | dict[str, str]:
    """MSAL's client credential: the certificate (key, thumbprint) if set, else the secret."""
    if settings.entra_client_certificate is not None:
        pem = settings.entra_client_certificate.get_secret_value()
        blocks = {m.group(1): m.group(0) for m in _PEM_BLOCK.finditer(pem)}
        cert = blocks.get("CERTIFICATE")
        key = next((v for k, v in blocks.items() if k.endswith("PRIVATE KEY")), None)
        if cert is None or key is None:
            raise DirectoryNotConfigured(
                "ENTRA_CLIENT_CERTIFICATE must hold the certificate and its private key (PEM)",
                provider="azure",
            )
        try:
            certificate = x509.load_pem_x509_certificate(cert.encode())
        except ValueError:
            raise DirectoryNotConfigured(
                "ENTRA_CLIENT_CERTIFICATE's certificate is not valid PEM", provider="azure"
            ) from None
        # SHA-1 is what Entra's x5t thumbprint is, not a choice of ours.
        thumbprint = certificate.fingerprint(hashes.SHA1()).hex()
        return {"private_key": key, "thumbprint": thumbprint, "public_certificate": cert}
    if settings.entra_client_secret is not None:
        return settings.entra_client_secret.get_secret_value()
    raise DirectoryNotConfigured(
        "set ENTRA_CLIENT_SECRET or ENTRA_CLIENT_CERTIFICATE", provider="azure"
    )


class EntraTokens:
    """App-only Graph tokens per tenant (one MSAL app each; MSAL caches the token)."""

    def __init__(self, settings: Settings, http: httpx.Client) -> None:
        if not settings.entra_client_id:
            raise DirectoryNotConfigured("set ENTRA_CLIENT_ID", provider="azure")
        self._client_id = settings.entra_client_id
        self._credential = client_credential(settings)
        self._host = settings.entra_authority_host.rstrip("/")
        self._http = _MsalHttp(http, settings.directory_timeout_s)
        self._apps: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _app(self, tenant: str) -> Any:
        with self._lock:
            app = self._apps.get(tenant)
            if app is None:
                app = msal.ConfidentialClientApplication(
                    self._client_id,
                    client_credential=self._credential,
                    authority=f"{self._host}/{tenant}",
                    http_client=self._http,
                )
                self._apps[tenant] = app
            return app

    def token(self, tenant: str) -> str:
        """A Graph access token for the tenant (cached by MSAL until near expiry)."""
        try:
            result = self._app(tenant).acquire_token_for_client(scopes=[GRAPH_SCOPE])
        except httpx.HTTPError as exc:
            raise DirectoryUnavailable(
                f"token endpoint unreachable: {type(exc).__name__}", provider="azure"
            ) from None
        except ValueError as exc:  # MSAL: the authority's discovery document failed
            raise DirectoryAuthError(
                f"tenant {tenant} could not be discovered: {str(exc)[:200]}", provider="azure"
            ) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if isinstance(token, str) and token:
            return token
        error = result.get("error", "no_token") if isinstance(result, dict) else "no_token"
        description = str(result.get("error_description", "") if isinstance(result, dict) else "")
        raise DirectoryAuthError(
            f"no Graph token for tenant {tenant}: {error}: {description.splitlines()[0][:200]}"
            if description
            else f"no Graph token for tenant {tenant}: {error}",
            provider="azure",
        )


# --- Graph --------------------------------------------------------------------------------


def classify(response: httpx.Response, wall_now: float) -> DirectoryError:
    """The error for a non-2xx Graph response."""
    status = response.status_code
    code, message, rid = None, response.reason_phrase, response.headers.get("request-id")
    try:
        body = GraphErrorBody.model_validate_json(response.content)
        code, message = body.error.code, body.error.message or message
        rid = rid or (body.error.inner.request_id if body.error.inner else None)
    except ValidationError:
        pass
    text = f"{code}: {message}" if code else str(message)
    kw: dict[str, Any] = {"provider": "azure", "status": status, "request_id": rid}
    if status == 410 or (code or "").lower() in _EXPIRED_CODES:
        return DeltaExpired(f"the delta link expired ({text}); a full sync follows", **kw)
    if status == 429 or (status == 503 and "retry-after" in response.headers):
        return Throttled(text, retry_after=retry_after_of(response.headers, wall_now), **kw)
    if status in (401, 403):
        return DirectoryAuthError(
            f"{text}; grant the app GroupMember.Read.All (application) with admin consent", **kw
        )
    if status == 404:
        return GroupNotFound(text, **kw)
    if status == 408 or status >= 500:
        return DirectoryUnavailable(text, **kw)
    return DirectoryError(text, **kw)


class GraphDirectory:
    """Delta rounds over Microsoft Graph for one set of groups at a time."""

    def __init__(
        self,
        http: httpx.Client,
        token: Callable[[str], str],
        policy: RetryPolicy,
        api_url: str = "https://graph.microsoft.com/v1.0",
    ) -> None:
        self._http = http
        self._token = token
        self._policy = policy
        self._base = api_url.rstrip("/")
        self._origin = urlsplit(self._base)[:2]

    def first_url(self, group_ids: list[str]) -> str:
        if not 1 <= len(group_ids) <= MAX_FILTER_IDS:
            raise ValueError(f"a delta round covers 1 to {MAX_FILTER_IDS} groups")
        ids = " or ".join(f"id eq '{g}'" for g in group_ids)
        return str(
            httpx.URL(f"{self._base}/groups/delta", params={"$select": "members", "$filter": ids})
        )

    def delta_round(
        self,
        tenant: str,
        group_ids: list[str],
        delta_link: str | None = None,
        *,
        deadline: float | None = None,
    ) -> DeltaRound:
        """One complete round: from `delta_link` (changes) or from scratch (full)."""
        url = delta_link or self.first_url(group_ids)
        wanted = set(group_ids)
        groups: dict[str, GroupChanges] = {}
        ignored = 0
        for page_number in range(1, MAX_PAGES + 1):
            page = self._page(tenant, url, deadline)
            for group in page.value:
                if group.id.lower() not in wanted:
                    continue  # Graph answers for the filtered ids only; be strict anyway
                changes = groups.setdefault(group.id.lower(), GroupChanges())
                if group.removed is not None:
                    changes.deleted = True
                for ref in group.members_delta or ():
                    if ref.odata_type is not None and ref.odata_type != USER_TYPE:
                        ignored += 1
                        continue
                    changes.entries.append((ref.id.lower(), ref.removed is not None))
            if page.delta_link is not None:
                return DeltaRound(groups, page.delta_link, delta_link is None, page_number, ignored)
            assert page.next_link is not None
            url = page.next_link
        raise InvalidDirectoryResponse(f"no delta link after {MAX_PAGES} pages", provider="azure")

    def _page(self, tenant: str, url: str, deadline: float | None) -> DeltaPage:
        if urlsplit(url)[:2] != self._origin:
            # The bearer token goes to Graph only, whatever a link says.
            raise InvalidDirectoryResponse(f"a link left Graph: {url[:100]}", provider="azure")
        response = send(
            self._http,
            "GET",
            url,
            provider="azure",
            policy=self._policy,
            classify=lambda r: classify(r, self._policy.wall()),
            headers=lambda: {"Authorization": f"Bearer {self._token(tenant)}"},
            deadline=deadline,
        )
        try:
            return DeltaPage.model_validate_json(response.content)
        except ValidationError as exc:
            raise InvalidDirectoryResponse(
                f"unexpected delta page: {exc.errors(include_url=False)[0]['msg']}",
                provider="azure",
                status=response.status_code,
                request_id=response.headers.get("request-id"),
            ) from None
