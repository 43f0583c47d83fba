"""Kick's app access token: client credentials, cached until shortly before expiry.

`POST <auth_url>/oauth/token` (form-encoded `client_id`, `client_secret`,
`grant_type=client_credentials`) answers `{"access_token", "token_type",
"expires_in"}`; a refusal is a 4xx with `{"error": "..."}`. One token serves
every thread: a lock makes sure only one of them fetches a new one while the
others wait for it.
"""

import logging
import threading

import httpx
from pydantic import SecretStr, ValidationError

from shared.platforms.errors import PlatformError
from shared.platforms.kick.models import KickError, KickToken
from shared.platforms.parsing import parse_json
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status

logger = logging.getLogger(__name__)


def error_message(response: httpx.Response) -> str:
    """What a Kick error answer says, or the status phrase when it says nothing readable."""
    fallback = response.reason_phrase or f"HTTP {response.status_code}"
    try:
        body = KickError.model_validate_json(response.content)
    except ValidationError:
        return fallback
    return body.message or body.error_description or body.error or fallback


class AppToken:
    """The cached app access token (thread-safe)."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        client_id: str,
        client_secret: SecretStr,
        auth_url: str,
        policy: RetryPolicy,
        timeout_s: float,
        margin_s: float = 300.0,
    ) -> None:
        self._client_id = client_id
        self._secret = client_secret
        self._url = f"{auth_url.rstrip('/')}/oauth/token"
        self._policy = policy
        self._margin_s = margin_s
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._sender = Sender(
            http, Platform.KICK, policy, timeout_s, self._error, secrets=self.secrets
        )

    def get(self, cost: Cost, deadline: float | None) -> str:
        """The current token, fetching a new one when there is none or it is about to expire."""
        with self._lock:
            if self._token is not None and self._policy.monotonic() < self._expires:
                return self._token
            form = {
                "client_id": self._client_id,
                "client_secret": self._secret.get_secret_value(),
                "grant_type": "client_credentials",
            }
            response = self._sender.send("POST", self._url, data=form, cost=cost, deadline=deadline)
            token = parse_json(KickToken, response, Platform.KICK)
            # Refresh early, but never spend more than half a (short) lifetime doing so.
            margin = min(self._margin_s, token.expires_in / 2)
            self._token = token.access_token
            self._expires = self._policy.monotonic() + token.expires_in - margin
            logger.info(
                "kick: new app token", extra={"platform": "kick", "expires_in": token.expires_in}
            )
            return self._token

    def drop(self, rejected: str) -> None:
        """Forget a token Kick rejected (unless another thread already replaced it)."""
        with self._lock:
            if self._token == rejected:
                self._token = None

    def secrets(self) -> tuple[str, ...]:
        return (self._secret.get_secret_value(), self._token or "")

    def _error(self, response: httpx.Response) -> PlatformError:
        # The OAuth server answers a wrong client id or secret with a 400 or 401.
        return error_for_status(
            Platform.KICK,
            response,
            error_message(response),
            wall_now=self._policy.wall(),
            auth_4xx=True,
        )
