"""Supabase Auth's mail endpoints, faked with respx at the HTTP boundary, and the
invited user its invite endpoint answers with (GoTrue's wire format)."""

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import respx

from tests.factories.tokens import SUPABASE_URL

INVITE_URL = f"{SUPABASE_URL}/auth/v1/invite"
OTP_URL = f"{SUPABASE_URL}/auth/v1/otp"


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
