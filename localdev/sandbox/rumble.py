"""Fake Rumble Livestream API (beta): `-livestream-api/get-data?key=KEY`.

One key covers one account. Times are ISO 8601 in US Eastern time with its
offset (`-04:00`/`-05:00`), as Rumble writes them. A stream is listed from its
creation (`is_live` false until it goes live) until it ends.
"""

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import b64url, base36, h64, unit
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.platforms import Announcement, FakePlatform, Route
from localdev.sandbox.population import CATEGORIES, Channel
from localdev.sandbox.schedule import Stream

if TYPE_CHECKING:
    from localdev.sandbox.context import Context

try:
    EASTERN: timezone | ZoneInfo = ZoneInfo("America/New_York")
except ZoneInfoNotFoundError:
    EASTERN = timezone(timedelta(hours=-5))

_WORDS = "hello gg nice lol wow first great stream love this clip let's go".split()


def rumble_time(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).astimezone(EASTERN).isoformat()


def _username(seed: int, *parts: object) -> str:
    return (
        f"{_WORDS[h64(seed, 'u', *parts) % len(_WORDS)]}_{base36(h64(seed, 'n', *parts) % 36**4)}"
    )


def stream_id(seed: int, s: Stream) -> str:
    return base36(36**5 + h64("rumble-stream", seed, s.channel, s.window, s.ordinal) % (35 * 36**5))


def fault(status: int, d: Decision) -> Response:
    headers = {"Retry-After": str(d.retry_after_s)} if status == 429 else {}
    body = f"<html><head><title>{status}</title></head><body>error code: {status}</body></html>"
    return Response(status, body.encode(), "text/html; charset=UTF-8", headers)


def account_type(ctx: "Context", ch: Channel) -> tuple[str, str | None]:
    """("user", None) for most keys, ("channel", channel id) for some."""
    if unit("rumble-type", ctx.seed, ch.index) < 0.2:
        return "channel", str(1_000_000 + ch.index)
    return "user", None


def _followers(ctx: "Context", ch: Channel, t: float) -> dict[str, object]:
    count = ctx.schedule.followers(ch, t)
    hour = int(t // 3600)
    # One synthetic follower an hour, newest first, none in the future.
    times = [
        (h, (h + unit(ctx.seed, "follow", ch.index, h)) * 3600) for h in range(hour, hour - 7, -1)
    ]
    recent = [
        {"username": _username(ctx.seed, ch.index, h), "followed_on": rumble_time(at)}
        for h, at in times
        if at <= t
    ][: min(5, count)]
    return {
        "num_followers": count,
        "num_followers_total": count + ch.followers // 10,
        "latest_follower": recent[0] if recent else None,
        "recent_followers": recent,
    }


def _chat(ctx: "Context", s: Stream, t: float) -> dict[str, object]:
    messages, rants = [], []
    if s.start is not None and s.start <= t:
        now_minute = int(t // 60)
        for minute in range(max(int(s.start // 60), now_minute - 2), now_minute + 1):
            for i in range(h64(ctx.seed, "chat", s.channel, s.window, minute) % 4):
                at = minute * 60 + unit(ctx.seed, "at", s.channel, minute, i) * 60
                if not s.start <= at <= t:
                    continue
                message = {
                    "username": _username(ctx.seed, s.channel, minute, i),
                    "badges": ["premium"] if i == 0 else [],
                    "text": " ".join(_WORDS[(minute + i + k) % len(_WORDS)] for k in range(3)),
                    "created_on": rumble_time(at),
                }
                messages.append(message)
                if unit(ctx.seed, "rant", s.channel, minute, i) < 0.03:
                    cents = 100 * (1 + h64(ctx.seed, "cents", minute) % 20)
                    rants.append(
                        message
                        | {
                            "expires_on": rumble_time(at + 120),
                            "amount_cents": cents,
                            "amount_dollars": cents // 100,
                        }
                    )
    return {
        "latest_message": messages[-1] if messages else None,
        "recent_messages": messages[-50:],
        "latest_rant": rants[-1] if rants else None,
        "recent_rants": rants,
    }


def _livestream(ctx: "Context", ch: Channel, s: Stream, t: float) -> dict[str, object]:
    live = s.live_at(t)
    sid = stream_id(ctx.seed, s)
    slug = CATEGORIES[ch.category][2]
    elapsed = 0.0
    if s.start is not None and s.end is not None and s.start <= t:
        elapsed = min(1.0, (t - s.start) / (s.end - s.start))
    return {
        "id": sid,
        "title": s.title,
        "created_on": rumble_time(s.announced),
        "scheduled_on": rumble_time(s.announced),
        "is_live": live,
        "visibility": "public",
        "categories": {
            "primary": {"slug": slug, "title": slug.replace("-", " ").title()},
            "secondary": {"slug": "entertainment", "title": "Entertainment"},
        },
        "stream_key": f"sandbox-{sid}",
        "server_url": "rtmp://sandbox.invalid/live",
        "likes": int(s.peak * 0.08 * elapsed),
        "dislikes": int(s.peak * 0.004 * elapsed),
        "watching_now": ctx.schedule.viewers(s, t) if live else 0,
        "chat": _chat(ctx, s, t),
    }


def get_data(ctx: "Context", req: Request, _d: Decision) -> Response:
    ch = ctx.population.by_owner_key.get(req.arg("key") or "")
    if ch is None:
        return json_response(401, {"error": "Invalid API key"})
    t = ctx.clock.time()
    kind, channel_id = account_type(ctx, ch)
    k = int(t // 86_400)
    listed = [
        s
        for w in range(k - 1, k + 2)
        for s in ctx.schedule.plan(ch.index, w)
        if s.end is not None and s.announced <= t < s.end
    ]
    return json_response(
        200,
        {
            "now": int(t),
            "type": kind,
            "user_id": ch.platform_id,
            "username": ch.login,
            "channel_id": channel_id,
            "channel_name": ch.name if channel_id else None,
            "since": None,
            "max_num_results": 50,
            "followers": _followers(ctx, ch, t),
            "subscribers": {
                "num_subscribers": ch.followers // 200,
                "latest_subscriber": None,
                "recent_subscribers": [],
            },
            "gifted_subs": {
                "num_gifted_subs": 0,
                "latest_gifted_sub": None,
                "recent_gifted_subs": [],
            },
            "livestreams": [_livestream(ctx, ch, s, t) for s in listed],
        },
    )


def _announce(rng: random.Random, begin: float, first: bool) -> Announcement:
    # A livestream is created a few minutes before it goes live (a restart: just before).
    return Announcement(begin - (rng.uniform(120, 900) if first else 30))


def _public(ch: Channel) -> dict[str, Any]:
    return {"username": ch.login, "rumble_key": ch.owner_key}


FAKE = FakePlatform(
    name="rumble",
    display_name="Rumble",
    share=0.1,
    routes=(Route("GET", "/rumble/-livestream-api/get-data", "rumble.get_data", get_data),),
    fault=lambda ctx, req, status, d: fault(status, d),
    settings_env=lambda url: {"RUMBLE_API_URL": f"{url}/rumble/-livestream-api/get-data"},
    make_id=lambda rng, index: base36(36**4 + index * 1297 + rng.randint(0, 1296)),
    owner_key=lambda rng: b64url(rng.randbytes(48)),
    public=_public,
    stream_id=stream_id,
    announce=_announce,
    truth=lambda ch, s: {"created_on": rumble_time(s.announced)},
)
