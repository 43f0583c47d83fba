"""Fake Twitch: OAuth client credentials and Helix Get Streams, Get Users, Get Channel Followers.

Errors have Twitch's shape, `{"error": "Unauthorized", "status": 401, "message": "..."}`;
the token endpoint's are `{"status": 400, "message": "invalid client"}`.
"""

import base64
import binascii
import json
import random
import secrets
import string
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from localdev.sandbox import twitch_eventsub as eventsub
from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import h64, iso_z
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.oauth import OAuthServer, bearer, form_of, redirect
from localdev.sandbox.platforms import FakePlatform, Option, Route
from localdev.sandbox.population import CATEGORIES, Channel

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.schedule import Stream

TWITCH_CLIENT_ID = "sandbox-twitch-client-id"
TWITCH_CLIENT_SECRET = "sandbox-twitch-client-secret"

EVENTSUB = "/twitch/helix/eventsub/subscriptions"
PUSH = eventsub.PUSH
_LANGUAGE_TAG = {"en": "English", "es": "Español", "de": "Deutsch", "fr": "Français"}


class TwitchAuth:
    """App access tokens issued by the fake token endpoint, and their rate-limit buckets.

    Buckets refill on real time (they are about real request rates), and
    `Ratelimit-Reset` is wall-clock epoch seconds, as a client compares it
    with its own clock.
    """

    TOKEN_LIFETIME_S = 5_184_000
    USER_TOKEN_LIFETIME_S = 14_400
    """Twitch's user access tokens last about four hours."""

    def __init__(self, bucket: int) -> None:
        self.bucket = bucket
        self.oauth = OAuthServer(
            client_id=TWITCH_CLIENT_ID,
            client_secret=TWITCH_CLIENT_SECRET,
            access_lifetime_s=self.USER_TOKEN_LIFETIME_S,
            rotate_refresh=True,
        )
        """Owners' grants (the authorization code flow); Twitch rotates refresh tokens."""
        self.eventsub_max_cost = 10_000
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}
        self._buckets: dict[str, tuple[float, float]] = {}

    def issue(self, client_id: str) -> str:
        token = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(30))
        with self._lock:
            self._tokens[token] = client_id
        return token

    def client_of(self, token: str) -> str | None:
        with self._lock:
            return self._tokens.get(token)

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            self._buckets.clear()
            return count

    def take(self, token: str) -> tuple[bool, dict[str, str]]:
        """Spend one point; (allowed, Ratelimit-* headers)."""
        now = time.monotonic()
        refill = self.bucket / 60
        with self._lock:
            points, last = self._buckets.get(token, (float(self.bucket), now))
            points = min(float(self.bucket), points + (now - last) * refill)
            allowed = points >= 1
            if allowed:
                points -= 1
            self._buckets[token] = (points, now)
        reset = time.time() + (self.bucket - points) / refill
        return allowed, self.headers(int(points), reset)

    def headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {
            "Ratelimit-Limit": str(self.bucket),
            "Ratelimit-Remaining": str(max(0, remaining)),
            "Ratelimit-Reset": str(int(reset) + 1),
        }


def _auth(ctx: "Context") -> TwitchAuth:
    return cast(TwitchAuth, ctx.state["twitch"])


def stream_id(seed: int, s: "Stream") -> str:
    return str(10**10 + h64("twitch-stream", seed, s.channel, s.window, s.ordinal) % (9 * 10**10))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": HTTPStatus(status).phrase, "status": status, "message": message}
    return json_response(status, body, headers)


def fault(ctx: "Context", status: int, d: Decision) -> Response:
    """An injected 5xx or 429 (the latter with an empty bucket's Ratelimit-* headers)."""
    if status == 429:
        headers = _auth(ctx).headers(0, time.time() + d.retry_after_s)
        return error(429, "Too Many Requests", headers)
    return error(status, "")


_GRANT_ERRORS = {
    "authorization_code": "Invalid authorization code",
    "refresh_token": "Invalid refresh token",
}


def token(ctx: "Context", req: Request, _d: Decision) -> Response:
    form = {k: v[-1] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
    form |= {k: v[-1] for k, v in req.query.items() if k not in form}
    grant_type = form.get("grant_type", "")
    if grant_type in _GRANT_ERRORS:
        status, body = _auth(ctx).oauth.token(form, ctx.clock.time())
        if status == 200:
            return json_response(200, body)
        if body.get("error") == "invalid_client":
            return json_response(403, {"status": 403, "message": "invalid client secret"})
        return json_response(400, {"status": 400, "message": _GRANT_ERRORS[grant_type]})
    if form.get("client_id") != TWITCH_CLIENT_ID:
        return json_response(400, {"status": 400, "message": "invalid client"})
    if form.get("client_secret") != TWITCH_CLIENT_SECRET:
        return json_response(403, {"status": 403, "message": "invalid client secret"})
    if form.get("grant_type") != "client_credentials":
        return json_response(400, {"status": 400, "message": "unsupported grant type"})
    return json_response(
        200,
        {
            "access_token": _auth(ctx).issue(form["client_id"]),
            "expires_in": _auth(ctx).TOKEN_LIFETIME_S,
            "token_type": "bearer",
        },
    )


def _authorize(ctx: "Context", req: Request) -> tuple[Response | None, dict[str, str]]:
    """None and the rate-limit headers when the request may go on, else the error to answer."""
    auth = req.header("authorization") or ""
    scheme, _, token_value = auth.partition(" ")
    if scheme.lower() != "bearer" or not token_value.strip():
        return error(401, "OAuth token is missing"), {}
    client = _auth(ctx).client_of(token_value.strip())
    if client is None:
        return error(401, "Invalid OAuth token"), {}
    client_id = req.header("client-id")
    if not client_id:
        return error(401, "Client-Id header required"), {}
    if client_id != client:
        return error(401, "Client ID and OAuth token do not match"), {}
    allowed, headers = _auth(ctx).take(token_value.strip())
    if not allowed:
        ctx.counters.add("twitch.rate_limited")
        return error(429, "Too Many Requests", headers), headers
    return None, headers


def _first(req: Request, default: int = 20) -> int | Response:
    raw = req.arg("first")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        return error(
            400, 'The parameter "first" was malformed: the value must be between 1 and 100'
        )
    return int(raw)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, int) and value >= 0 else None


def _lookup(ctx: "Context", req: Request) -> list[Channel] | Response:
    ids, logins = req.args("user_id") + req.args("id"), req.args("user_login") + req.args("login")
    if len(ids) + len(logins) > 100:
        return error(400, "The number of ids and logins must not exceed 100")
    by_id, by_login = ctx.population.by_id["twitch"], ctx.population.by_login["twitch"]
    found = [by_id.get(i) for i in ids] + [by_login.get(n.lower()) for n in logins]
    seen: dict[int, Channel] = {c.index: c for c in found if c is not None}
    return list(seen.values())


def streams(ctx: "Context", req: Request, d: Decision) -> Response:
    denied, headers = _authorize(ctx, req)
    if denied:
        return denied
    first = _first(req)
    if isinstance(first, Response):
        return first
    offset = _offset(req.arg("after"))
    if offset is None:
        return error(400, "Invalid cursor")
    filtered = bool(req.args("user_id") or req.args("user_login"))
    chosen = _lookup(ctx, req) if filtered else list(ctx.population.by_id["twitch"].values())
    if isinstance(chosen, Response):
        return chosen
    now = ctx.clock.time()
    entries: list[dict[str, Any]] = []
    for ch in chosen:
        s = ctx.schedule.live(ch, now)
        at = now
        if s is None and d.stale_s > 0:
            # Helix caches: a stream that just ended can still be listed for a while.
            s = ctx.schedule.ended_within(ch, now, d.stale_s)
            at = s.end - 1 if s is not None and s.end is not None else now
        if s is None or s.start is None:
            continue
        game_id, game_name, _ = CATEGORIES[ch.category]
        entries.append(
            {
                "id": stream_id(ctx.seed, s),
                "user_id": ch.platform_id,
                "user_login": ch.login,
                "user_name": ch.name,
                "game_id": game_id,
                "game_name": game_name,
                "type": "live",
                "title": s.title,
                "tags": [_LANGUAGE_TAG.get(ch.language, "English"), "sandbox"],
                "viewer_count": ctx.schedule.viewers(s, at),
                "started_at": iso_z(s.start),
                "language": ch.language,
                "thumbnail_url": "https://static-cdn.jtvnw.net/previews-ttv/"
                f"live_user_{ch.login}-{{width}}x{{height}}.jpg",
                "tag_ids": [],
                "is_mature": ch.mature,
            }
        )
    entries.sort(key=lambda e: (-e["viewer_count"], e["user_id"]))
    page = entries[offset : offset + first]
    more = offset + first < len(entries)
    pagination = {"cursor": _cursor(offset + first)} if more else {}
    return json_response(200, {"data": page, "pagination": pagination}, headers)


def users(ctx: "Context", req: Request, _d: Decision) -> Response:
    denied, headers = _authorize(ctx, req)
    if denied:
        return denied
    if not (req.args("id") or req.args("login")):
        return error(400, "Must provide an id or login parameter with an app access token")
    chosen = _lookup(ctx, req)
    if isinstance(chosen, Response):
        return chosen
    data = [
        {
            "id": ch.platform_id,
            "login": ch.login,
            "display_name": ch.name,
            "type": "",
            "broadcaster_type": ch.broadcaster_type,
            "description": f"{ch.name} streams {CATEGORIES[ch.category][1]}.",
            "profile_image_url": f"https://static-cdn.jtvnw.net/jtv_user_pictures/{ch.login}-profile_image-300x300.png",
            "offline_image_url": "",
            "view_count": 0,
            "created_at": iso_z(ch.created_at),
        }
        for ch in chosen
    ]
    return json_response(200, {"data": data}, headers)


def followers(ctx: "Context", req: Request, _d: Decision) -> Response:
    denied, headers = _authorize(ctx, req)
    if denied:
        return denied
    broadcaster = req.arg("broadcaster_id")
    if not broadcaster:
        return error(400, 'Missing required parameter "broadcaster_id"')
    first = _first(req)
    if isinstance(first, Response):
        return first
    ch = ctx.population.by_id["twitch"].get(broadcaster)
    total = ctx.schedule.followers(ch, ctx.clock.time()) if ch else 0
    # With an app access token Helix returns only the total, never the follower list.
    return json_response(200, {"total": total, "data": [], "pagination": {}}, headers)


def _account(ctx: "Context", ref: str) -> str | None:
    ch = ctx.population.find(ref) if ref else None
    return ch.platform_id if ch is not None and ch.platform == "twitch" else None


def authorize(ctx: "Context", req: Request, _d: Decision) -> Response:
    """The consent page, answered at once for `sandbox_account` (see `oauth`)."""
    status, query = _auth(ctx).oauth.authorize(
        req, ctx.clock.time(), lambda ref: _account(ctx, ref)
    )
    return redirect(status, req.arg("redirect_uri") or "", query)


def revoke(ctx: "Context", req: Request, _d: Decision) -> Response:
    form = form_of(req)
    if form.get("client_id") != TWITCH_CLIENT_ID:
        return json_response(404, {"status": 404, "message": "client does not exist"})
    if not _auth(ctx).oauth.revoke_token(form.get("token", "")):
        return json_response(400, {"status": 400, "message": "Invalid token"})
    return Response(200, b"", "text/plain")


def validate(ctx: "Context", req: Request, _d: Decision) -> Response:
    token_value = bearer(req, "oauth") or bearer(req) or ""
    oauth, now = _auth(ctx).oauth, ctx.clock.time()
    grant = oauth.who(token_value, now)
    if grant is None:
        return json_response(401, {"status": 401, "message": "invalid access token"})
    ch = ctx.population.by_id["twitch"].get(grant.account)
    return json_response(
        200,
        {
            "client_id": grant.client_id,
            "login": ch.login if ch else "",
            "scopes": list(grant.scopes) or None,
            "user_id": grant.account,
            "expires_in": oauth.expires_in(token_value, now),
        },
    )


def _settings_env(url: str) -> dict[str, str]:
    return {
        "TWITCH_CLIENT_ID": TWITCH_CLIENT_ID,
        "TWITCH_CLIENT_SECRET": TWITCH_CLIENT_SECRET,
        "TWITCH_AUTH_URL": f"{url}/twitch/oauth2",
        "TWITCH_API_URL": f"{url}/twitch/helix",
    }


def _make_id(rng: random.Random, index: int) -> str:
    return str(10_000_000 + index * 7919 + rng.randint(0, 7918))


def _state(options: Mapping[str, Any]) -> TwitchAuth:
    auth = TwitchAuth(int(options["twitch_bucket"]))
    auth.eventsub_max_cost = int(options["twitch_eventsub_max_cost"])
    return auth


def _revoke(ctx: "Context", req: Request) -> Response:
    return json_response(200, {"revoked": _auth(ctx).revoke_all()})


def _revoke_grants(ctx: "Context", req: Request) -> Response:
    """An owner removing the app: their grants die (refresh: invalid_grant)."""
    body = req.json() if req.body else {}
    account = body.get("account") if isinstance(body, dict) else None
    return json_response(200, {"revoked": _auth(ctx).oauth.revoke_account(account)})


FAKE = FakePlatform(
    name="twitch",
    display_name="Twitch",
    share=0.6,
    routes=(
        Route("POST", "/twitch/oauth2/token", "twitch.token", token),
        Route("GET", "/twitch/oauth2/authorize", "twitch.authorize", authorize),
        Route("POST", "/twitch/oauth2/revoke", "twitch.revoke", revoke),
        Route("GET", "/twitch/oauth2/validate", "twitch.validate", validate),
        Route("GET", "/twitch/helix/streams", "twitch.streams", streams),
        Route("GET", "/twitch/helix/users", "twitch.users", users),
        Route("GET", "/twitch/helix/channels/followers", "twitch.followers", followers),
        Route("POST", EVENTSUB, "twitch.eventsub_create", eventsub.create),
        Route("GET", EVENTSUB, "twitch.eventsub_list", eventsub.listing),
        Route("DELETE", EVENTSUB, "twitch.eventsub_delete", eventsub.delete),
    ),
    fault=lambda ctx, req, status, d: fault(ctx, status, d),
    settings_env=_settings_env,
    make_id=_make_id,
    public=lambda ch: {"login": ch.login},
    stream_id=stream_id,
    options=(
        Option("twitch_bucket", int, 800, "Twitch points per minute"),
        Option("twitch_eventsub_max_cost", int, 10_000, "EventSub max_total_cost"),
    ),
    state=_state,
    extra_counters=("twitch.rate_limited",),
    controls={
        ("POST", "/_sandbox/twitch/revoke"): _revoke,
        ("POST", "/_sandbox/twitch/oauth/revoke"): _revoke_grants,
        ("GET", "/_sandbox/twitch/oauth"): lambda ctx, req: json_response(
            200, _auth(ctx).oauth.state()
        ),
    },
)
