"""Supabase Auth, through supabase-py (`supabase_auth`), with the project's
service-role key. Used to mail invitations: the admin invite for an address
that has no account yet (Supabase mails it and creates the user), and a
sign-in link (`POST /auth/v1/otp`, never creating a user) for an address that
has one, so both kinds of invitee get a mail and the API answers alike.

Errors: `AdminNotConfigured` (no SUPABASE_URL or service-role key) and
`AdminUnavailable` (Supabase Auth failed or refused), both `Unavailable`.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from supabase_auth import SyncGoTrueAdminAPI, SyncGoTrueClient
from supabase_auth.errors import AuthApiError, AuthError

from shared.config import Settings
from shared.errors import Unavailable

logger = logging.getLogger(__name__)

# One message whichever call failed and why (Supabase's status and code are
# logged, not answered): a different answer for an address with an account
# would tell the inviter that it has one.
COULD_NOT_MAIL = "Supabase Auth could not mail the invitation; try again later"


class AdminNotConfigured(Unavailable):
    """SUPABASE_URL or SUPABASE_SERVICE_ROLE_KEY is not set."""


class AdminUnavailable(Unavailable):
    """Supabase Auth did not do what was asked."""


class SupabaseAdmin:
    """The admin calls StreamTrack makes."""

    def __init__(self, api: SyncGoTrueAdminAPI, auth: SyncGoTrueClient | None = None) -> None:
        self._api = api
        self._auth = auth

    @classmethod
    def from_settings(
        cls, settings: Settings, http_client: httpx.Client | None = None
    ) -> "SupabaseAdmin":
        key = settings.supabase_service_role_key
        if not settings.supabase_url or key is None:
            raise AdminNotConfigured(
                "mailing invitations needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY on the server"
            )
        secret = key.get_secret_value()
        url = f"{settings.supabase_url.rstrip('/')}/auth/v1"
        headers = {"apikey": secret, "Authorization": f"Bearer {secret}"}
        client = http_client or httpx.Client(timeout=settings.platform_timeout_s)
        api = SyncGoTrueAdminAPI(url=url, headers=headers, http_client=client)
        auth = SyncGoTrueClient(
            url=url,
            headers=headers,
            http_client=client,
            auto_refresh_token=False,
            persist_session=False,
        )
        return cls(api, auth)

    def invite(self, email: str, redirect_to: str, data: dict[str, Any]) -> None:
        """Have Supabase Auth mail an invitation that signs the person up and lands on
        `redirect_to` (`POST /auth/v1/invite`)."""
        with _mailing("invite"):
            self._api.invite_user_by_email(email, {"redirect_to": redirect_to, "data": data})

    def send_sign_in_link(self, email: str, redirect_to: str) -> None:
        """Have Supabase Auth mail a sign-in (magic) link to an existing account that
        lands on `redirect_to` (`POST /auth/v1/otp`, `create_user: false`)."""
        if self._auth is None:
            raise AdminNotConfigured("no Supabase Auth client configured")
        with _mailing("sign-in link"):
            self._auth.sign_in_with_otp(
                {
                    "email": email,
                    "options": {"email_redirect_to": redirect_to, "should_create_user": False},
                }
            )


@contextmanager
def _mailing(what: str) -> Iterator[None]:
    """Supabase Auth's refusals and failures as AdminUnavailable, logged with their
    status and code, answered with one message."""
    try:
        yield
    except AuthApiError as exc:
        logger.warning("supabase %s refused: status=%s code=%s", what, exc.status, exc.code)
        raise AdminUnavailable(COULD_NOT_MAIL) from exc
    except AuthError as exc:
        logger.warning("supabase %s failed: %s", what, exc.__class__.__name__)
        raise AdminUnavailable(COULD_NOT_MAIL) from exc
