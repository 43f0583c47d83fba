"""Kick's public API: app access token, `GET /livestreams`, `GET /channels`.

Costs (Kick publishes no rate limit and sends no rate-limit headers):
- `fetch_live`: one `GET /livestreams` per 50 broadcaster user ids (repeated
  `broadcaster_user_id`, `limit=100` so no live one is cut off); offline
  channels are simply absent. A batch Kick refuses because of one channel is
  bisected to find it (`isolation.py`): about two requests per halving, all
  counted; the channel refused on its own is then set aside (failing without
  a request) for `SET_ASIDE_S` before it is tried in its batch again.
- `fetch_stats`: nothing. The public API has no follower count (the spec says
  `StatsCadence.NONE`, so the monitor never asks).
- `resolve`: one `GET /channels` (by id, then by slug for an all-digit text),
  plus one `GET /livestreams` for the channel alone: a channel Kick refuses
  live checks for is turned away when it is added, not discovered in a batch.
- The app token (`auth.py`) is cached until shortly before it expires; a 401
  refreshes it once and the request is sent again.

Kick gives a livestream no id: `live.stream_id` derives one from the
broadcaster and the start instant. Pacing is adaptive (`pacing.AdaptivePacer`):
none until Kick answers 429, then spaced out (honouring a Retry-After) and eased
off again.
"""

import logging
import threading
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.platforms.base import (
    Channel,
    ChannelRef,
    ChannelTarget,
    LiveBatch,
    RefKind,
    StatsBatch,
    chunks,
    each_group,
    log_batch,
)
from shared.platforms.errors import AuthError, NotFound, PlatformError
from shared.platforms.kick.auth import AppToken, error_message
from shared.platforms.kick.isolation import isolate, refused
from shared.platforms.kick.live import Found, observation, user_id_of
from shared.platforms.kick.models import ChannelsPage, KickChannel, KickLivestream, LivestreamsPage
from shared.platforms.pacing import AdaptivePacer
from shared.platforms.parsing import invalid, parse_batch, parse_json
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender, error_for_status

logger = logging.getLogger(__name__)

BATCH = 50
"""Broadcaster user ids per `GET /livestreams` (and per `GET /channels`)."""
LIMIT = "100"
"""The most streams one answer lists (Kick's default is 25)."""
ISOLATION_BUDGET = 24
"""Extra requests one refused batch may spend finding its refused channels (two for a
batch of 50 each cost about 12)."""
SET_ASIDE_S = 900.0


class KickClient:
    """Kick public API client (app access token)."""

    platform = Platform.KICK

    def __init__(
        self,
        http: httpx.Client,
        *,
        client_id: str,
        client_secret: SecretStr,
        auth_url: str = "https://id.kick.com",
        api_url: str = "https://api.kick.com/public/v1",
        timeout_s: float = 10.0,
        policy: RetryPolicy | None = None,
        clock: Clock = utc_now,
        token_margin_s: float = 300.0,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._policy = policy or RetryPolicy()
        self.clock = clock
        self.token = AppToken(
            http,
            client_id=client_id,
            client_secret=client_secret,
            auth_url=auth_url,
            policy=self._policy,
            timeout_s=timeout_s,
            margin_s=token_margin_s,
        )
        self.pacer = AdaptivePacer(self._policy, self.platform)
        self._api = Sender(
            http,
            self.platform,
            self._policy,
            timeout_s,
            self._api_error,
            before_attempt=self.pacer.before,
            after_response=self.pacer.observe,
            secrets=self.token.secrets,
        )
        self._lock = threading.Lock()
        self._set_aside: dict[str, tuple[float, PlatformError]] = {}
        self._unisolated_until = 0.0

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        http_client: httpx.Client | None = None,
        clock: Clock = utc_now,
        **kwargs: Any,
    ) -> "KickClient":
        if not settings.kick_client_id or settings.kick_client_secret is None:
            raise ValueError("KICK_CLIENT_ID and KICK_CLIENT_SECRET must be set")
        kwargs.setdefault("policy", RetryPolicy.from_settings(settings))
        return cls(
            http_client or httpx.Client(),
            client_id=settings.kick_client_id,
            client_secret=settings.kick_client_secret,
            auth_url=settings.kick_auth_url,
            api_url=settings.kick_api_url,
            timeout_s=settings.platform_timeout_s,
            clock=clock,
            **kwargs,
        )

    # --- the Protocol ---------------------------------------------------------

    def resolve(self, ref: ChannelRef, *, deadline: float | None = None) -> Channel:
        if ref.platform is not Platform.KICK or ref.kind not in (RefKind.ID, RefKind.LOGIN):
            raise ValueError(f"not a Kick id or slug reference: {ref.kind}")
        cost, found = Cost(), None
        if ref.kind is RefKind.ID:
            found = self._channel("broadcaster_user_id", str(int(ref.value)), cost, deadline)
        if found is None and len(ref.value) <= 25:
            # A slug, or all digits that are no broadcaster's id but may be a slug.
            found = self._channel("slug", ref.value.lower(), cost, deadline)
        if found is None:
            raise NotFound(f"no Kick channel {ref.value!r}", platform=self.platform)
        try:
            # Turned away now rather than refused in a batch of 49 others later.
            self._streams([str(found.broadcaster_user_id)], cost, deadline)
        except PlatformError as exc:
            if not refused(exc):
                raise
            raise NotFound(
                f"Kick refuses live checks for {found.slug!r}: {exc.message}",
                platform=self.platform,
                status=exc.status,
                request_id=exc.request_id,
            ) from None
        return Channel(
            platform=self.platform,
            platform_channel_id=str(found.broadcaster_user_id),
            handle=found.slug,
            url=f"https://kick.com/{found.slug}",
        )

    def fetch_live(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> LiveBatch:
        cost, batch = Cost(), LiveBatch()
        ids = self._valid_ids(channels, batch.failures)

        def check(chunk: Sequence[str]) -> None:
            now = self._policy.monotonic()
            budget = ISOLATION_BUDGET if now >= self._unisolated_until else 0
            found = isolate(
                chunk, lambda group: self._streams(group, cost, deadline), budget=budget
            )
            if found.asks > 1:
                logger.warning(
                    "kick: a batch was refused; %d requests isolated %d channel(s)",
                    found.asks,
                    len(found.refused),
                    extra={"platform": "kick", "requests": found.asks},
                )
            if found.systemic:
                self._unisolated_until = now + SET_ASIDE_S
            at = self.clock()
            for group, page in found.answers:
                for user_id in group:
                    failure = page.failed.get(user_id)
                    stream = page.valid.get(user_id)
                    if failure is None and stream is None:
                        failure = page.unattributed
                    if failure is not None:
                        batch.failures[user_id] = failure
                    else:
                        batch.observations[user_id] = observation(user_id, stream, at)
            batch.failures.update(found.failed)
            for user_id, exc in found.refused.items():
                batch.failures[user_id] = self._put_aside(user_id, exc, now)

        each_group(chunks(ids, BATCH), check, batch.failures)
        batch.requests, batch.quota_units = cost.requests, cost.quota_units
        log_batch(self.platform, "live", len(ids), batch)
        return batch

    def fetch_stats(
        self, channels: Sequence[ChannelTarget], *, deadline: float | None = None
    ) -> StatsBatch:
        """No request: Kick's public API has no follower or subscriber count."""
        return StatsBatch()

    # --- Kick calls -----------------------------------------------------------

    def _streams(self, user_ids: Sequence[str], cost: Cost, deadline: float | None) -> Found:
        params = [("broadcaster_user_id", i) for i in user_ids] + [("limit", LIMIT)]
        response = self._get("/livestreams", params, cost, deadline)
        _, items = parse_batch(
            LivestreamsPage, "data", KickLivestream, user_id_of, response, self.platform
        )
        found = Found(items)
        if not found.about() <= set(user_ids):
            # Not a bad item but a wrong answer: nothing in it can be trusted.
            raise invalid(
                "GET /livestreams answered for a broadcaster not asked for", response, self.platform
            )
        return found

    def _channel(
        self, name: str, value: str, cost: Cost, deadline: float | None
    ) -> KickChannel | None:
        """The channel with that broadcaster user id or slug, or None when Kick has none."""
        try:
            response = self._get("/channels", [(name, value)], cost, deadline)
        except PlatformError as exc:
            if refused(exc):
                return None  # e.g. an id out of Kick's range
            raise
        page = parse_json(ChannelsPage, response, self.platform)
        wanted = [
            c
            for c in page.data
            if (str(c.broadcaster_user_id) if name != "slug" else c.slug.lower()) == value
        ]
        if len(page.data) > len(wanted):
            raise invalid(
                "GET /channels answered for a channel not asked for", response, self.platform
            )
        return wanted[0] if wanted else None

    def _get(
        self, path: str, params: Sequence[tuple[str, str]], cost: Cost, deadline: float | None
    ) -> httpx.Response:
        return self.call("GET", path, params, cost, deadline=deadline)

    def call(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]],
        cost: Cost,
        *,
        json: Any = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """One API request with the app token (refreshed once on 401), e.g. event subscriptions."""

        def send(token: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            url = f"{self._api_url}{path}"
            extra = {"json": json} if json is not None else {}
            return self._api.send(
                method, url, params=params, headers=headers, cost=cost, deadline=deadline, **extra
            )

        token = self.token.get(cost, deadline)
        try:
            return send(token)
        except AuthError as exc:
            if exc.status != 401:
                raise
            logger.info("kick: app token rejected; refreshing once", extra={"platform": "kick"})
            self.token.drop(token)
        return send(self.token.get(cost, deadline))

    def _valid_ids(
        self, channels: Sequence[ChannelTarget], failures: dict[str, PlatformError]
    ) -> list[str]:
        ids = list(dict.fromkeys(c.platform_channel_id for c in channels))
        now = self._policy.monotonic()
        with self._lock:
            aside = {i: e for i, (until, e) in self._set_aside.items() if until > now}
            self._set_aside = {i: v for i, v in self._set_aside.items() if v[0] > now}
        valid = []
        for user_id in ids:
            if not (user_id.isdigit() and int(user_id) > 0):
                failures[user_id] = NotFound(
                    f"{user_id!r} is not a Kick broadcaster user id", platform=self.platform
                )
            elif user_id in aside:
                failures[user_id] = aside[user_id]
            else:
                valid.append(user_id)
        return valid

    def _put_aside(self, user_id: str, exc: PlatformError, now: float) -> PlatformError:
        error = NotFound(
            f"Kick refuses live checks for broadcaster {user_id} (unknown or banned; "
            f"set aside for {SET_ASIDE_S / 60:.0f} min): {exc.message}",
            platform=self.platform,
            status=exc.status,
            request_id=exc.request_id,
        )
        with self._lock:
            self._set_aside[user_id] = (now + SET_ASIDE_S, error)
        return error

    def _api_error(self, response: httpx.Response) -> PlatformError:
        return error_for_status(
            self.platform, response, error_message(response), wall_now=self._policy.wall()
        )
