"""Fake YouTube: its registration. The Data API is `youtube_api`, the feed `youtube_feed`.

What only YouTube channels do: `UC…` ids, hidden viewer and subscriber
counts, plain uploads besides broadcasts, broadcasts announced hours ahead
(and now and then one that never starts), and a daily unit quota that resets
at midnight Pacific.
"""

import random
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from localdev.sandbox import youtube_websub as websub
from localdev.sandbox.ids import b64url, iso_z
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.oauth import OAuthServer
from localdev.sandbox.platforms import Announcement, FakePlatform, FaultFlag, NoShow, Option, Route
from localdev.sandbox.youtube_analytics import (
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    authorize,
    reports,
    revoke,
    token,
    truth_report,
)
from localdev.sandbox.youtube_api import (
    QUOTA_MESSAGE,
    YOUTUBE_API_KEY,
    Quota,
    YouTubeState,
    channels,
    fault,
    oauth,
    quota,
    search,
    subscriber_count,
    video_id,
    videos,
)
from localdev.sandbox.youtube_feed import feed

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.population import Channel
    from localdev.sandbox.schedule import Stream

__all__ = ["FAKE", "PUSH", "QUOTA_MESSAGE", "YOUTUBE_API_KEY", "subscriber_count"]
PUSH = websub.PUSH


def _settings_env(url: str) -> dict[str, str]:
    return {
        "YOUTUBE_API_KEY": YOUTUBE_API_KEY,
        "YOUTUBE_API_URL": f"{url}/youtube/v3",
        "YOUTUBE_FEED_URL": f"{url}/youtube/feeds/videos.xml",
        "YOUTUBE_ANALYTICS_URL": f"{url}/youtube/analytics/v2",
        "GOOGLE_OAUTH_CLIENT_ID": GOOGLE_CLIENT_ID,
        "GOOGLE_OAUTH_CLIENT_SECRET": GOOGLE_CLIENT_SECRET,
        "GOOGLE_AUTHORIZE_URL": f"{url}/youtube/oauth2/auth",
        "GOOGLE_TOKEN_URL": f"{url}/youtube/oauth2/token",
        "GOOGLE_REVOKE_URL": f"{url}/youtube/oauth2/revoke",
        "YOUTUBE_WEBSUB_HUB_URL": f"{url}/youtube/hub/subscribe",
    }


def _public(ch: "Channel") -> dict[str, Any]:
    return {
        "handle": "@" + ch.login,
        "hide_viewers": ch.hide_viewers,
        "hide_subscribers": ch.hide_subscribers,
        "feed_url_path": f"/youtube/feeds/videos.xml?channel_id={ch.platform_id}",
    }


def _no_show(rng: random.Random, start: float) -> NoShow | None:
    if rng.random() >= 0.05:
        return None
    return NoShow(start - rng.uniform(1800, 30 * 3600), start, start + 4 * 3600)


def _announce(rng: random.Random, begin: float, first: bool) -> Announcement:
    if not first:
        # A restart: the new broadcast is set up a minute before it goes live.
        return Announcement(begin - 60, begin - 20)
    scheduled = begin - rng.uniform(0, 300)
    return Announcement(scheduled - rng.uniform(1800, 30 * 3600), scheduled)


def _truth(ch: "Channel", s: "Stream") -> dict[str, Any]:
    def iso(ts: float | None) -> str | None:
        return None if ts is None else iso_z(ts)

    return {
        "published": iso(s.announced),
        "scheduled_start": iso(s.scheduled),
        "deleted": iso(s.gone),
        "viewers_hidden": ch.hide_viewers,
    }


def _state(options: Mapping[str, Any]) -> YouTubeState:
    grants = OAuthServer(
        client_id=GOOGLE_CLIENT_ID,
        client_secret=GOOGLE_CLIENT_SECRET,
        access_lifetime_s=3599,
        rotate_refresh=False,
        refresh_lifetime_s=float(options["google_refresh_lifetime_s"]),
    )
    return YouTubeState(Quota(int(options["youtube_quota"])), grants)


def _quota_control(ctx: "Context", req: Request) -> Response:
    state = quota(ctx)
    if req.method == "POST":
        body = req.json()
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        if "limit" in body:
            state.limit = int(body["limit"])
        if "used" in body:
            state.used = int(body["used"])
    return json_response(200, state.state())


def _revoke_grants(ctx: "Context", req: Request) -> Response:
    """An owner removing the app from their Google account: refresh answers invalid_grant."""
    body = req.json() if req.body else {}
    account = body.get("account") if isinstance(body, dict) else None
    return json_response(200, {"revoked": oauth(ctx).revoke_account(account)})


def _analytics_truth(ctx: "Context", req: Request) -> Response:
    """The final (settled) daily report of a channel: `?channel=&from=&to=` (dates)."""
    ch = ctx.population.find(req.arg("channel") or "")
    if ch is None or ch.platform != "youtube":
        return json_response(404, {"error": "no such YouTube channel"})
    first = date.fromisoformat(req.arg("from") or "")
    last = date.fromisoformat(req.arg("to") or "")
    return json_response(200, {"days": truth_report(ctx, ch, first, last)})


FAKE = FakePlatform(
    name="youtube",
    display_name="YouTube",
    share=0.3,
    routes=(
        Route("GET", "/youtube/feeds/videos.xml", "youtube.feed", feed),
        Route("GET", "/youtube/v3/videos", "youtube.videos", videos),
        Route("GET", "/youtube/v3/channels", "youtube.channels", channels),
        Route("GET", "/youtube/v3/search", "youtube.search", search),
        Route("GET", "/youtube/oauth2/auth", "youtube.oauth_authorize", authorize),
        Route("POST", "/youtube/oauth2/token", "youtube.oauth_token", token),
        Route("POST", "/youtube/oauth2/revoke", "youtube.oauth_revoke", revoke),
        Route("GET", "/youtube/analytics/v2/reports", "youtube.analytics_reports", reports),
        Route("POST", "/youtube/hub/subscribe", "youtube.hub_subscribe", websub.subscribe),
    ),
    fault=lambda ctx, req, status, d: fault(req.path, status, d),
    settings_env=_settings_env,
    make_id=lambda rng, index: "UC" + b64url(rng.randbytes(16)),
    public=_public,
    stream_id=video_id,
    hides_viewers=lambda rng: rng.random() < 0.15,
    hides_subscribers=lambda rng: rng.random() < 0.05,
    upload_chance=lambda rng, dormant: 0.0 if dormant else rng.uniform(0, 0.6),
    no_show=_no_show,
    announce=_announce,
    truth=_truth,
    options=(
        Option("youtube_quota", int, 10_000, "YouTube units per day"),
        Option(
            "google_refresh_lifetime_s",
            float,
            0.0,
            "Google refresh token lifetime (604800: an app in Testing status); 0: until revoked",
        ),
    ),
    fault_flags=(
        FaultFlag("--quota-exhausted", "quota_exhausted", "YouTube answers quotaExceeded"),
    ),
    state=_state,
    counters=lambda state: {"youtube.quota_used": state.quota.used},
    extra_counters=("youtube.quota_used",),
    reset=lambda state: state.quota.reset(),
    controls={
        ("GET", "/_sandbox/quota"): _quota_control,
        ("POST", "/_sandbox/quota"): _quota_control,
        ("POST", "/_sandbox/youtube/oauth/revoke"): _revoke_grants,
        ("GET", "/_sandbox/youtube/oauth"): lambda ctx, req: json_response(200, oauth(ctx).state()),
        ("GET", "/_sandbox/youtube/analytics"): _analytics_truth,
    },
)
