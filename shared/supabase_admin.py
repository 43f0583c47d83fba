"""Supabase Auth's admin API, through supabase-py (`supabase_auth`), with the
project's service-role key. Used for one thing: inviting an address that has
no account yet, so Supabase mails the invitation and creates the user.

Errors: `AdminNotConfigured` (no SUPABASE_URL or service-role key) and
`AdminUnavailable` (Supabase Auth failed or refused), both `Unavailable`.
"""

import logging
from typing import Any

import httpx
from supabase_auth import SyncGoTrueAdminAPI
from supabase_auth.errors import AuthApiError, AuthError

from shared.config import Settings
from shared.errors import Unavailable

logger = logging.getLogger(__name__)


class AdminNotConfigured(Unavailable):
    """SUPABASE_URL or SUPABASE_SERVICE_ROLE_KEY is not set."""


class AdminUnavailable(Unavailable):
    """Supabase Auth did not do what was asked."""


class SupabaseAdmin:
    """The admin calls StreamTrack makes."""

    def __init__(self, api: SyncGoTrueAdminAPI) -> None:
        self._api = api

    @classmethod
    def from_settings(
        cls, settings: Settings, http_client: httpx.Client | None = None
    ) -> "SupabaseAdmin":
        key = settings.supabase_service_role_key
        if not settings.supabase_url or key is None:
            raise AdminNotConfigured(
                "inviting an address without an account needs SUPABASE_URL and "
                "SUPABASE_SERVICE_ROLE_KEY on the server"
            )
        secret = key.get_secret_value()
        api = SyncGoTrueAdminAPI(
            url=f"{settings.supabase_url.rstrip('/')}/auth/v1",
            headers={"apikey": secret, "Authorization": f"Bearer {secret}"},
            http_client=http_client or httpx.Client(timeout=settings.platform_timeout_s),
        )
        return cls(api)

    def invite(self, email: str, redirect_to: str, data: dict[str, Any]) -> None:
        """Have Supabase Auth mail an invitation that signs the person up and lands on
        `redirect_to` (`POST /auth/v1/invite`)."""
        try:
            self._api.invite_user_by_email(email, {"redirect_to": redirect_to, "data": data})
        except AuthApiError as exc:
            logger.warning("supabase invite refused: status=%s code=%s", exc.status, exc.code)
            raise AdminUnavailable(
                f"Supabase Auth refused the invitation ({exc.status} {exc.code or ''}); "
                "try again later"
            ) from exc
        except AuthError as exc:
            logger.warning("supabase invite failed: %s", exc.__class__.__name__)
            raise AdminUnavailable("Supabase Auth is unavailable; try again later") from exc
