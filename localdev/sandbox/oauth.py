"""A fake OAuth authorization server for the owners' connections (Twitch, Google).

One `OAuthServer` per provider keeps its grants in memory, on the sandbox
clock: authorization codes (single use, 10 minutes, bound to the client,
the redirect URI and, where sent, a PKCE S256 challenge), access tokens
that expire, refresh tokens that may rotate (Twitch) or expire (a Google app
in Testing status: `refresh_lifetime_s`), and revocation of a whole grant.

The consent page is not drawn: `GET <authorize>` answers the redirect at once,
for the account named by the sandbox-only parameter `sandbox_account` (a
channel's platform id, login or key; any channel of the population can
"sign in", which is how a test plays an account that does not own the
channel). `sandbox_deny=1` plays the owner clicking "Cancel"
(`error=access_denied`), `sandbox_drop_scope=<scope>` one unticking a
scope under granular consent. `/_sandbox/oauth/revoke` kills grants the way
an owner removing the app does: refresh answers `invalid_grant` from then on.
"""

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from localdev.sandbox.messages import Request, Response

CODE_LIFETIME_S = 600


@dataclass(slots=True)
class Grant:
    """What one owner consented to, for one client."""

    id: int
    client_id: str
    account: str
    """The channel's platform id (the account that signed in)."""
    scopes: tuple[str, ...]
    issued_at: float
    revoked: bool = False
    access: dict[str, float] = field(default_factory=dict)
    """Access token -> expiry (sandbox time)."""
    refresh: str | None = None


@dataclass(slots=True)
class Code:
    grant: Grant
    redirect_uri: str
    challenge: str | None
    expires: float
    used: bool = False


class OAuthServer:
    """Grants of one provider (thread-safe)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        access_lifetime_s: int,
        rotate_refresh: bool,
        refresh_lifetime_s: float = 0.0,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_lifetime_s = access_lifetime_s
        self.rotate_refresh = rotate_refresh
        self.refresh_lifetime_s = refresh_lifetime_s
        """0: refresh tokens live until revoked."""
        self._lock = threading.Lock()
        self._grants: list[Grant] = []
        self._codes: dict[str, Code] = {}
        self._by_refresh: dict[str, Grant] = {}
        self._by_access: dict[str, Grant] = {}
        self.counts = {"codes": 0, "exchanges": 0, "refreshes": 0, "revocations": 0}

    # --- the authorize redirect ------------------------------------------------------

    def authorize(
        self, req: Request, now: float, find_account: Callable[[str], str | None]
    ) -> tuple[int, dict[str, str]]:
        """(status, query) of the redirect to `redirect_uri`; status 400 means no redirect
        and the query holds `message`."""
        if req.arg("client_id") != self.client_id:
            return 400, {"message": "invalid client_id"}
        redirect = req.arg("redirect_uri") or ""
        if not redirect.startswith(("http://", "https://")):
            return 400, {"message": "redirect_uri is required"}
        if req.arg("response_type") != "code":
            return 400, {"message": "response_type must be code"}
        state = req.arg("state") or ""
        if req.arg("sandbox_deny"):
            return 302, {"error": "access_denied", "state": state}
        account = find_account(req.arg("sandbox_account") or "")
        if account is None:
            return 400, {
                "message": "the sandbox has no sign-in page: add sandbox_account=<channel id> "
                "(any channel of the population) to say who signs in"
            }
        requested = tuple((req.arg("scope") or "").split())
        dropped = set(req.args("sandbox_drop_scope"))
        scopes = tuple(s for s in requested if s not in dropped)
        challenge = req.arg("code_challenge")
        if challenge is not None and req.arg("code_challenge_method") != "S256":
            return 400, {"message": "code_challenge_method must be S256"}
        code = secrets.token_urlsafe(24)
        with self._lock:
            grant = Grant(len(self._grants) + 1, self.client_id, account, scopes, now)
            self._grants.append(grant)
            self._codes[code] = Code(grant, redirect, challenge, now + CODE_LIFETIME_S)
            self.counts["codes"] += 1
        return 302, {"code": code, "state": state, "scope": " ".join(scopes)}

    # --- the token endpoint ------------------------------------------------------------

    def token(self, form: dict[str, str], now: float) -> tuple[int, dict[str, Any]]:
        """(status, body) in RFC 6749's vocabulary; the fakes translate errors."""
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client"}
        if form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client"}
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(form, now)
        if grant_type == "refresh_token":
            return self._refresh(form.get("refresh_token") or "", now)
        return 400, {"error": "unsupported_grant_type"}

    def _exchange(self, form: dict[str, str], now: float) -> tuple[int, dict[str, Any]]:
        with self._lock:
            code = self._codes.get(form.get("code") or "")
            if code is None or code.used or now >= code.expires:
                if code is not None and code.used:
                    # A code used twice: RFC 6749 10.5 says revoke what it granted.
                    code.grant.revoked = True
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
            if form.get("redirect_uri") != code.redirect_uri:
                return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
            if code.challenge is not None:
                verifier = form.get("code_verifier") or ""
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if not verifier or expected != code.challenge:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "code_verifier does not match",
                    }
            code.used = True
            self.counts["exchanges"] += 1
            return 200, self._issue(code.grant, now, new_refresh=True)

    def _refresh(self, token: str, now: float) -> tuple[int, dict[str, Any]]:
        with self._lock:
            grant = self._by_refresh.get(token)
            expired = (
                grant is not None
                and self.refresh_lifetime_s > 0
                and now >= grant.issued_at + self.refresh_lifetime_s
            )
            if grant is None or grant.revoked or grant.refresh != token or expired:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                }
            self.counts["refreshes"] += 1
            return 200, self._issue(grant, now, new_refresh=self.rotate_refresh)

    def _issue(self, grant: Grant, now: float, *, new_refresh: bool) -> dict[str, Any]:
        access = secrets.token_urlsafe(30)
        grant.access[access] = now + self.access_lifetime_s
        self._by_access[access] = grant
        if new_refresh or grant.refresh is None:
            if grant.refresh is not None:
                self._by_refresh.pop(grant.refresh, None)
            grant.refresh = secrets.token_urlsafe(36)
            self._by_refresh[grant.refresh] = grant
        return {
            "access_token": access,
            "refresh_token": grant.refresh,
            "expires_in": self.access_lifetime_s,
            "scope": list(grant.scopes),
            "token_type": "bearer",
        }

    # --- revocation and introspection --------------------------------------------------

    def revoke_token(self, token: str) -> bool:
        """Revoke the grant a token belongs to; False when the token is unknown or dead."""
        with self._lock:
            grant = self._by_access.get(token) or self._by_refresh.get(token)
            if grant is None or grant.revoked:
                return False
            grant.revoked = True
            self.counts["revocations"] += 1
            return True

    def revoke_account(self, account: str | None) -> int:
        """Revoke every live grant (of one account): the owner removed the app."""
        with self._lock:
            hit = [g for g in self._grants if not g.revoked and account in (None, g.account)]
            for g in hit:
                g.revoked = True
            return len(hit)

    def who(self, token: str, now: float) -> Grant | None:
        """The live grant an access token belongs to."""
        with self._lock:
            grant = self._by_access.get(token)
            if grant is None or grant.revoked or now >= grant.access.get(token, 0):
                return None
            return grant

    def expires_in(self, token: str, now: float) -> int:
        with self._lock:
            grant = self._by_access.get(token)
            return 0 if grant is None else max(0, int(grant.access.get(token, 0) - now))

    def state(self) -> dict[str, Any]:
        with self._lock:
            live = sum(1 for g in self._grants if not g.revoked)
            return {"grants": len(self._grants), "live_grants": live, **self.counts}


def form_of(req: Request) -> dict[str, str]:
    """A form body (and query parameters not in it), last value wins."""
    form = {k: v[-1] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
    return form | {k: v[-1] for k, v in req.query.items() if k not in form}


def redirect(status: int, target: str, query: dict[str, str]) -> Response:
    """The authorize answer: 302 to the client's redirect URI, or a 400 page."""
    if status != 302:
        body = f"<!DOCTYPE html><title>Sandbox sign-in</title><p>{query['message']}</p>"
        return Response(400, body.encode(), "text/html; charset=utf-8")
    joiner = "&" if "?" in target else "?"
    params = {k: v for k, v in query.items() if v != ""}
    return Response(302, b"", "text/plain", {"Location": f"{target}{joiner}{urlencode(params)}"})


def bearer(req: Request, scheme: str = "bearer") -> str | None:
    kind, _, token = (req.header("authorization") or "").partition(" ")
    return token.strip() or None if kind.lower() == scheme else None
