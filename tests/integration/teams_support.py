"""Calling the teams API as the Functions host would: tokens minted the way
Supabase Auth signs them (legacy HS256 secret), requests routed to the
registered function by its route template, responses decoded."""

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import httpx
import jwt
import respx
from azure.functions.decorators.function_app import Function

from shared.db import Database
from tests.conftest import create_user

SUPABASE_URL = "http://127.0.0.1:54321"
INVITE_URL = f"{SUPABASE_URL}/auth/v1/invite"
OTP_URL = f"{SUPABASE_URL}/auth/v1/otp"
SECRET = "test-only-legacy-hs256-secret-0123456789abcdef"
ENCRYPTION_KEY = base64.b64encode(b"k" * 32).decode()


def mint(user: uuid.UUID, email: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user),
        "role": "authenticated",
        "aud": "authenticated",
        "iss": f"{SUPABASE_URL}/auth/v1",
        "exp": now + 3600,
        "iat": now,
        "aal": "aal1",
        "session_id": str(uuid.uuid4()),
        "email": email or f"{user.hex[:12]}@example.test",
        "is_anonymous": False,
        **overrides,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_problem(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/problem+json")


class Api:
    """Routes `METHOD /api/...` to the registered function, like the host."""

    def __init__(self, functions: dict[str, Function]) -> None:
        self._routes: list[tuple[re.Pattern[str], set[str], Any]] = []
        for fn in functions.values():
            for raw in fn.get_raw_bindings():
                binding = json.loads(raw)
                if binding["type"] != "httpTrigger":
                    continue
                pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", binding["route"])
                self._routes.append(
                    (
                        re.compile(f"^/api/{pattern}$"),
                        set(binding["methods"]),
                        fn.get_user_function(),
                    )
                )

    def __call__(
        self,
        method: str,
        path: str,
        user: uuid.UUID | None = None,
        *,
        body: Any = None,
        raw: bytes | None = None,
        token: str | None = None,
        aal: str = "aal1",
        headers: dict[str, str] | None = None,
    ) -> Response:
        found = [
            (match, handler)
            for pattern, methods, handler in self._routes
            if (match := pattern.match(path)) and method in methods
        ]
        if not found:
            raise AssertionError(f"no function serves {method} {path}")
        match, handler = found[0]
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is None and user is not None:
            token = mint(user, aal=aal)
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response: func.HttpResponse = handler(
            func.HttpRequest(
                method,
                f"http://localhost{path}",
                headers=sent,
                route_params=match.groupdict(),
                body=payload,
            )
        )
        return Response(
            response.status_code,
            {"content-type": response.mimetype or ""}
            | {k.lower(): v for k, v in response.headers.items()},
            response.get_body(),
        )


@dataclass
class Crew:
    """A team with one user per role, an extra member, and an outsider."""

    team_id: uuid.UUID
    owner: uuid.UUID
    admin: uuid.UUID
    member: uuid.UUID
    viewer: uuid.UUID
    extra: uuid.UUID
    outsider: uuid.UUID

    def user(self, role: str) -> uuid.UUID:
        return getattr(self, role)  # type: ignore[no-any-return]


def make_crew(database: Database, *, require_mfa: bool = False, plan: str = "pro") -> Crew:
    roles = ("owner", "admin", "member", "viewer", "extra", "outsider")
    # example.com: invitations validate addresses, and .test is a reserved name
    users = {r: create_user(database, f"{r}-{uuid.uuid4().hex[:10]}@example.com") for r in roles}
    team_id = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.teams (id, name, plan_id, require_mfa, created_by) "
            "values (%s, %s, %s, %s, %s)",
            (team_id, f"Crew {team_id.hex[:6]}", plan, require_mfa, users["owner"]),
        )
        for role in ("admin", "member", "viewer"):
            conn.execute(
                "insert into public.team_members (team_id, user_id, role) values (%s, %s, %s)",
                (team_id, users[role], role),
            )
        conn.execute(
            "insert into public.team_members (team_id, user_id, role) values (%s, %s, 'member')",
            (team_id, users["extra"]),
        )
    return Crew(team_id=team_id, **users)


def snapshot(database: Database, team_id: uuid.UUID) -> dict[str, Any]:
    """Everything a team operation could change, to compare before and after a refusal."""
    queries = {
        "team": "select name, require_mfa, plan_id from public.teams where id = %s",
        "members": "select user_id, role from public.team_members where team_id = %s order by 1",
        "invitations": "select id, email, role, accepted_at from public.team_invitations "
        "where team_id = %s order by 1",
        "channels": "select channel_id, paused_at from public.team_channels "
        "where team_id = %s order by 1",
        "audit": "select count(*) from public.audit_log where team_id = %s",
    }
    with database.service() as conn:
        return {k: conn.execute(q, (team_id,)).fetchall() for k, q in queries.items()}


def email_of(database: Database, user: uuid.UUID) -> str:
    with database.service() as conn:
        row = conn.execute("select email from auth.users where id = %s", (user,)).fetchone()
    assert row is not None
    return str(row[0])


def api_env() -> dict[str, str]:
    return {
        "SUPABASE_URL": SUPABASE_URL,
        "SUPABASE_JWT_SECRET": SECRET,
        "CREDENTIALS_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SUPABASE_SERVICE_ROLE_KEY": "test-service-role-key",
        "INVITATION_ACCEPT_URL": "https://app.example.test/invitations/accept",
    }


def supabase_user(email: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Supabase Auth's answer to POST /auth/v1/invite: the invited user."""
    now = "2026-11-24T12:00:00Z"
    return {
        "id": str(uuid.uuid4()), "aud": "authenticated", "role": "authenticated",
        "email": email, "invited_at": now, "confirmation_sent_at": now,
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": data or {}, "identities": [], "created_at": now, "updated_at": now,
        "is_anonymous": False,
    }  # fmt: skip


def _invited(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(200, json=supabase_user(body["email"], body.get("data")))


@dataclass
class AuthMail:
    """Supabase Auth's two mail endpoints, faked with respx at the HTTP boundary."""

    invite: respx.Route
    """`POST /auth/v1/invite` (admin): an address with no account."""
    otp: respx.Route
    """`POST /auth/v1/otp`: a sign-in link to an address with an account; GoTrue answers
    `{}` for an email."""

    @property
    def mails(self) -> int:
        return int(self.invite.call_count + self.otp.call_count)


def fake_auth_mail(router: respx.MockRouter) -> AuthMail:
    return AuthMail(
        invite=router.post(INVITE_URL).mock(side_effect=_invited),
        otp=router.post(OTP_URL).mock(return_value=httpx.Response(200, json={})),
    )
