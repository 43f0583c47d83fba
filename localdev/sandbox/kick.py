"""Fake Kick public API: OAuth client credentials, `GET /public/v1/livestreams`, `/channels`.

Every answer is Kick's envelope, `{"data": ..., "message": "..."}`; the OAuth
server refuses with `{"error": "Invalid request"}`. What only Kick does here:
- a livestream has no id; StreamTrack derives one from the broadcaster user
  id and the start second (the truth gives it as `platform_stream_id`; its
  `id` is the sandbox's own name for the broadcast);
- `/livestreams` takes up to 50 repeated `broadcaster_user_id` (and `limit`,
  default 25, at most 100) and refuses the whole request, 400, when one of
  them names no channel or a banned one (`POST /_sandbox/kick/ban`);
- `/channels` takes up to 50 `broadcaster_user_id` or up to 50 `slug`, never
  both; unknown and banned channels are simply absent;
- no published rate limit and no rate-limit headers: with `kick_requests_per_s`
  set, requests past it are answered 429 without a Retry-After (injected 429s
  carry one unless `retry_after_s` is 0);
- no follower counts at all.
Tokens last `kick_token_lifetime_s` of real time (they are about real requests).
"""

import secrets
import string
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from localdev.sandbox import kick_events as events
from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import base36, h64, iso_z
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.platforms import FakePlatform, Option, Route
from localdev.sandbox.population import CATEGORIES, Channel

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.schedule import Stream

KICK_CLIENT_ID = "sandbox-kick-client-id"
KICK_CLIENT_SECRET = "sandbox-kick-client-secret"
MAX_IDS = 50
EVENT_SUBSCRIPTIONS = "/kick/public/v1/events/subscriptions"
PUSH = events.PUSH
MAX_SLUG = 25


class KickState:
    """Issued tokens (real-time expiry), banned channels and the unpublished request limit."""

    def __init__(self, token_lifetime_s: int, requests_per_s: float) -> None:
        self.token_lifetime_s = token_lifetime_s
        self.requests_per_s = requests_per_s
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self.banned: set[str] = set()
        self._bucket = (requests_per_s, time.monotonic())

    def issue(self) -> str:
        token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime_s
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            return self._tokens.get(token, 0.0) > time.monotonic()

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

    def take(self) -> bool:
        """Whether one more request fits the unpublished limit (always, when none is set)."""
        if self.requests_per_s <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            points, last = self._bucket
            points = min(self.requests_per_s, points + (now - last) * self.requests_per_s)
            allowed = points >= 1
            self._bucket = (points - 1 if allowed else points, now)
        return allowed


def _state(ctx: "Context") -> KickState:
    return cast(KickState, ctx.state["kick"])


def stream_id(seed: int, s: "Stream") -> str:
    """The sandbox's own name for a broadcast: Kick gives a livestream no id."""
    return "kick-" + base36(h64("kick-stream", seed, s.channel, s.window, s.ordinal))


def derived_id(ch: Channel, s: "Stream") -> str | None:
    """The id StreamTrack derives for the broadcast: `<broadcaster user id>-<start second>`."""
    return None if s.start is None else f"{ch.platform_id}-{int(s.start)}"


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(status, {"data": {}, "message": message}, headers)


def fault(status: int, d: Decision) -> Response:
    headers = {"Retry-After": str(d.retry_after_s)} if status == 429 and d.retry_after_s else {}
    return error(status, HTTPStatus(status).phrase, headers)


def token(ctx: "Context", req: Request, _d: Decision) -> Response:
    form = {k: v[-1] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
    if (
        form.get("client_id") != KICK_CLIENT_ID
        or form.get("client_secret") != KICK_CLIENT_SECRET
        or form.get("grant_type") != "client_credentials"
    ):
        return json_response(400, {"error": "Invalid request"})
    body = {
        "access_token": _state(ctx).issue(),
        "token_type": "Bearer",
        "expires_in": _state(ctx).token_lifetime_s,
    }
    return json_response(200, body)


def _authorize(ctx: "Context", req: Request) -> Response | None:
    scheme, _, value = (req.header("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not _state(ctx).valid(value.strip()):
        return error(401, "Unauthorized")
    if not _state(ctx).take():
        ctx.counters.add("kick.rate_limited")
        return error(429, "Too Many Requests")
    return None


def _ids(req: Request) -> list[str] | Response:
    ids = req.args("broadcaster_user_id")
    if len(ids) > MAX_IDS:
        return error(400, f"Invalid request: at most {MAX_IDS} broadcaster_user_id")
    if not all(i.isdigit() and int(i) > 0 for i in ids):
        return error(400, "Invalid request: broadcaster_user_id must be a positive integer")
    return ids


def _category(ch: Channel) -> dict[str, Any]:
    game_id, name, slug = CATEGORIES[ch.category]
    return {
        "id": int(game_id),
        "name": name,
        "thumbnail": f"https://files.kick.com/images/subcategories/{slug}/banner.webp",
    }


def _livestream(ctx: "Context", ch: Channel, s: "Stream", at: float) -> dict[str, Any]:
    assert s.start is not None
    return {
        "broadcaster_user_id": int(ch.platform_id),
        "channel_id": int(ch.platform_id) + 7,
        "slug": ch.login,
        "stream_title": s.title,
        "language": ch.language,
        "has_mature_content": ch.mature,
        "viewer_count": ctx.schedule.viewers(s, at),
        "thumbnail": f"https://images.kick.com/video_thumbnails/{ch.login}/{int(s.start)}/480.webp",
        "started_at": iso_z(s.start),
        "category": _category(ch),
        "custom_tags": [],
        "profile_picture": f"https://files.kick.com/images/user/{ch.platform_id}/profile.webp",
    }


def livestreams(ctx: "Context", req: Request, d: Decision) -> Response:
    if denied := _authorize(ctx, req):
        return denied
    ids = _ids(req)
    if isinstance(ids, Response):
        return ids
    raw_limit = req.arg("limit") or "25"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        return error(400, "Invalid request: limit must be between 1 and 100")
    sort = req.arg("sort") or "viewer_count"
    if sort not in ("viewer_count", "started_at"):
        return error(400, "Invalid request: sort must be viewer_count or started_at")
    by_id, banned = ctx.population.by_id["kick"], _state(ctx).banned
    if refused := next((i for i in ids if i not in by_id or i in banned), None):
        ctx.counters.add("kick.refused")
        return error(400, f"Invalid request: broadcaster_user_id {refused} is not available")
    chosen = [by_id[i] for i in dict.fromkeys(ids)] if ids else list(by_id.values())
    now = ctx.clock.time()
    entries = []
    for ch in chosen:
        if ch.platform_id in banned:
            continue
        s, at = ctx.schedule.live(ch, now), now
        if s is None and d.stale_s > 0:
            s = ctx.schedule.ended_within(ch, now, d.stale_s)
            at = s.end - 1 if s is not None and s.end is not None else now
        if s is not None and s.start is not None:
            entries.append(_livestream(ctx, ch, s, at))
    category, language = req.arg("category_id"), req.arg("language")
    entries = [
        e
        for e in entries
        if (category is None or str(e["category"]["id"]) == category)
        and (language is None or e["language"] == language)
    ]
    entries.sort(key=lambda e: (-e["viewer_count"], e["broadcaster_user_id"]))
    if sort == "started_at":
        entries.sort(key=lambda e: e["started_at"], reverse=True)
    return json_response(200, {"data": entries[: int(raw_limit)], "message": "OK"})


def channels(ctx: "Context", req: Request, _d: Decision) -> Response:
    if denied := _authorize(ctx, req):
        return denied
    ids, slugs = _ids(req), req.args("slug")
    if isinstance(ids, Response):
        return ids
    if ids and slugs:
        return error(400, "Invalid parameters: broadcaster_user_id and slug cannot be mixed")
    if not ids and not slugs:
        return error(400, "Invalid parameters: an app access token has no channel of its own")
    if len(slugs) > MAX_IDS or any(len(s) > MAX_SLUG for s in slugs):
        return error(400, f"Invalid parameters: at most {MAX_IDS} slugs of {MAX_SLUG} characters")
    pop, banned = ctx.population, _state(ctx).banned
    found = [pop.by_id["kick"].get(i) for i in ids] + [
        pop.by_login["kick"].get(s.lower()) for s in slugs
    ]
    now = ctx.clock.time()
    data = []
    for ch in dict.fromkeys(c for c in found if c is not None and c.platform_id not in banned):
        s = ctx.schedule.live(ch, now)
        live = s is not None and s.start is not None
        data.append(
            {
                "banner_picture": f"https://files.kick.com/images/channel/{ch.platform_id}/banner",
                "broadcaster_user_id": int(ch.platform_id),
                "category": _category(ch),
                "channel_description": f"{ch.name} streams {CATEGORIES[ch.category][1]}.",
                "slug": ch.login,
                "stream": {
                    "is_live": live,
                    "is_mature": ch.mature,
                    "key": "",
                    "language": ch.language,
                    "start_time": iso_z(s.start) if s and s.start else "0001-01-01T00:00:00Z",
                    "thumbnail": "",
                    "url": "",
                    "viewer_count": ctx.schedule.viewers(s, now) if s and live else 0,
                },
                "stream_title": s.title if s else "",
                "custom_tags": [],
            }
        )
    return json_response(200, {"data": data, "message": "OK"})


def _ban(ctx: "Context", req: Request) -> Response:
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise ValueError('the body must be {"id": "<broadcaster user id>", "banned": true}')
    state = _state(ctx)
    (state.banned.add if body.get("banned", True) else state.banned.discard)(body["id"])
    return json_response(200, {"banned": sorted(state.banned)})


def _revoke(ctx: "Context", req: Request) -> Response:
    return json_response(200, {"revoked": _state(ctx).revoke_all()})


def _settings_env(url: str) -> dict[str, str]:
    return {
        "KICK_CLIENT_ID": KICK_CLIENT_ID,
        "KICK_CLIENT_SECRET": KICK_CLIENT_SECRET,
        "KICK_AUTH_URL": f"{url}/kick/id",
        "KICK_API_URL": f"{url}/kick/public/v1",
    }


def _new_state(options: Mapping[str, Any]) -> KickState:
    return KickState(int(options["kick_token_lifetime_s"]), float(options["kick_requests_per_s"]))


FAKE = FakePlatform(
    name="kick",
    display_name="Kick",
    share=0.15,
    routes=(
        Route("POST", "/kick/id/oauth/token", "kick.token", token),
        Route("GET", "/kick/public/v1/livestreams", "kick.livestreams", livestreams),
        Route("GET", "/kick/public/v1/channels", "kick.channels", channels),
        Route("GET", "/kick/public/v1/public-key", "kick.public_key", events.public_key),
        Route("POST", EVENT_SUBSCRIPTIONS, "kick.events_create", events.create),
        Route("GET", EVENT_SUBSCRIPTIONS, "kick.events_list", events.listing),
        Route("DELETE", EVENT_SUBSCRIPTIONS, "kick.events_delete", events.delete),
    ),
    fault=lambda ctx, req, status, d: fault(status, d),
    settings_env=_settings_env,
    make_id=lambda rng, index: str(10**10 + index * 7919 + rng.randint(0, 7918)),
    public=lambda ch: {"login": ch.login, "slug": ch.login},
    stream_id=stream_id,
    truth=lambda ch, s: {"platform_stream_id": derived_id(ch, s)},
    options=(
        Option("kick_token_lifetime_s", int, 7200, "Kick app token lifetime (real seconds)"),
        Option("kick_requests_per_s", float, 0.0, "Kick's unpublished limit (0: none)"),
    ),
    state=_new_state,
    counters=lambda state: {"kick.banned": len(state.banned)},
    extra_counters=("kick.refused", "kick.rate_limited"),
    reset=lambda state: None,
    controls={
        ("POST", "/_sandbox/kick/ban"): _ban,
        ("POST", "/_sandbox/kick/revoke"): _revoke,
    },
)
