"""Fake YouTube Data API v3: videos.list, channels.list, search.list (feed: `youtube_feed`).

Errors have Google's shape, `{"error": {"code", "message", "errors": [{"message",
"domain", "reason"}]}}`. videos.list and channels.list cost 1 unit, search.list
100; over the daily quota every call answers 403 `quotaExceeded`.
"""

import threading
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import VideoIds, h64, iso_z
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.population import CATEGORIES, Channel
from localdev.sandbox.schedule import Stream

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.oauth import OAuthServer

YOUTUBE_API_KEY = "sandbox-youtube-api-key"

try:
    PACIFIC: timezone | ZoneInfo = ZoneInfo("America/Los_Angeles")
except ZoneInfoNotFoundError:  # no tz database: standard time is close enough
    PACIFIC = timezone(timedelta(hours=-8))


class Quota:
    """YouTube Data API units for the day, which resets at midnight Pacific (sandbox clock)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._day: str | None = None
        self.used = 0

    def charge(self, units: int, now: float) -> bool:
        """Spend units; False (and nothing spent) when they would exceed the limit."""
        day = datetime.fromtimestamp(now, UTC).astimezone(PACIFIC).date().isoformat()
        with self._lock:
            if day != self._day:
                self._day, self.used = day, 0
            if self.used + units > self.limit:
                return False
            self.used += units
            return True

    def reset(self) -> None:
        with self._lock:
            self.used = 0

    def state(self) -> dict[str, object]:
        return {"day": self._day, "limit": self.limit, "used": self.used}


class YouTubeState:
    """What the fake keeps between requests: the Data API quota and Google's OAuth grants."""

    def __init__(self, quota: Quota, oauth: "OAuthServer") -> None:
        self.quota = quota
        self.oauth = oauth


def quota(ctx: "Context") -> Quota:
    return cast(YouTubeState, ctx.state["youtube"]).quota


def oauth(ctx: "Context") -> "OAuthServer":
    return cast(YouTubeState, ctx.state["youtube"]).oauth


@lru_cache(maxsize=8)
def _video_ids(seed: int) -> VideoIds:
    return VideoIds(seed)


def video_id(seed: int, s: Stream) -> str:
    """The 11-character video id of a stream (it decodes back: see `stream_of`)."""
    return _video_ids(seed).encode(s.channel, s.window, s.ordinal)


def stream_of(ctx: "Context", vid: str) -> Stream | None:
    """The stream a video id names, if it is one of this sandbox's."""
    decoded = _video_ids(ctx.seed).decode(vid)
    if decoded is None:
        return None
    index, window, ordinal = decoded
    channels = ctx.population.channels
    if index >= len(channels) or channels[index].platform != "youtube":
        return None
    plan = ctx.schedule.plan(index, window)
    return plan[ordinal] if ordinal < len(plan) else None


QUOTA_MESSAGE = (
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def error(
    code: int, reason: str, message: str, domain: str = "global", status: bool = True
) -> Response:
    body: dict[str, object] = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
    }
    if status and code in _STATUS:
        body["status"] = _STATUS[code]
    return json_response(code, {"error": body})


def quota_exceeded() -> Response:
    return error(403, "quotaExceeded", QUOTA_MESSAGE, domain="youtube.quota", status=False)


def _html(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    body = f"<!DOCTYPE html><html><title>Error {status}</title><p>{text}</p></html>".encode()
    return Response(status, body, "text/html; charset=UTF-8", dict(headers or {}))


def fault(path: str, status: int, d: Decision) -> Response:
    """An injected 5xx or 429 as Google's front end or the API answers it."""
    if path.endswith("videos.xml") or status == 502:
        retry = {"Retry-After": str(d.retry_after_s)} if status == 429 else {}
        return _html(status, "That's an error.", retry)
    if status == 429:
        r = error(429, "rateLimitExceeded", "Resource has been exhausted (e.g. check quota).")
        r.headers["Retry-After"] = str(d.retry_after_s)
        return r
    if status == 503:
        return error(503, "backendError", "The service is currently unavailable.")
    return error(500, "backendError", "Internal error encountered.")


def _gate(ctx: "Context", req: Request, d: Decision, units: int) -> Response | None:
    """Key check, then quota: None when the call may go on."""
    key = req.arg("key")
    if not key:
        return error(403, "forbidden", "The request is missing a valid API key.")
    if key != YOUTUBE_API_KEY:
        return error(400, "badRequest", "API key not valid. Please pass a valid API key.")
    if d.quota_exhausted:
        ctx.counters.add("fault.quota")
        return quota_exceeded()
    if not quota(ctx).charge(units, ctx.clock.time()):
        return quota_exceeded()
    return None


def _split(req: Request, name: str) -> list[str]:
    return [v.strip() for raw in req.args(name) for v in raw.split(",") if v.strip()]


def _etag(*parts: object) -> str:
    return f"sbx{h64('etag', *parts):016x}"


def _thumbnails(video_id: str) -> dict[str, object]:
    base = f"https://i.ytimg.com/vi/{video_id}"
    return {
        "default": {"url": f"{base}/default.jpg", "width": 120, "height": 90},
        "medium": {"url": f"{base}/mqdefault.jpg", "width": 320, "height": 180},
        "high": {"url": f"{base}/hqdefault.jpg", "width": 480, "height": 360},
    }


def broadcast_content(s: Stream, t: float) -> str:
    if s.kind != "live":
        return "none"
    if s.start is None or t < s.start:
        return "upcoming"
    return "live" if s.live_at(t) else "none"


def _video(ctx: "Context", ch: Channel, s: Stream, parts: set[str], t: float) -> dict[str, object]:
    vid = video_id(ctx.seed, s)
    item: dict[str, object] = {"kind": "youtube#video", "etag": _etag(vid, int(t // 60)), "id": vid}
    description = f"{ch.name} - {CATEGORIES[ch.category][1]}"
    if "snippet" in parts:
        item["snippet"] = {
            "publishedAt": iso_z(s.announced),
            "channelId": ch.platform_id,
            "title": s.title,
            "description": description,
            "thumbnails": _thumbnails(vid),
            "channelTitle": ch.name,
            "categoryId": "20",
            "liveBroadcastContent": broadcast_content(s, t),
            "defaultAudioLanguage": ch.language,
            "localized": {"title": s.title, "description": description},
        }
    if "liveStreamingDetails" in parts and s.kind == "live":
        details: dict[str, str] = {}
        if s.start is not None and s.start <= t:
            details["actualStartTime"] = iso_z(s.start)
        if s.end is not None and s.end <= t:
            details["actualEndTime"] = iso_z(s.end)
        if s.scheduled is not None:
            details["scheduledStartTime"] = iso_z(s.scheduled)
        if s.live_at(t):
            viewers = ctx.schedule.viewers(s, t)
            # Missing when the owner hides the count or nobody watches: unknown, not 0.
            if not ch.hide_viewers and viewers > 0:
                details["concurrentViewers"] = str(viewers)
        if s.end is None or t < s.end:
            details["activeLiveChatId"] = f"Cg0KC{vid}"
        item["liveStreamingDetails"] = details
    if "statistics" in parts:
        views = 0 if s.start is None else s.peak * 3
        item["statistics"] = {
            "viewCount": str(views),
            "likeCount": str(views // 20),
            "favoriteCount": "0",
            "commentCount": str(views // 50),
        }
    return item


def videos(ctx: "Context", req: Request, d: Decision) -> Response:
    denied = _gate(ctx, req, d, 1)
    if denied:
        return denied
    parts, ids = set(_split(req, "part")), _split(req, "id")
    if not parts:
        return error(400, "required", "Required parameter: part", domain="global")
    if len(ids) > 50:
        return error(
            400,
            "invalidValue",
            "Too many video ids: at most 50 per request.",
            domain="youtube.parameter",
        )
    t = ctx.clock.time()
    items = []
    for vid in ids:
        s = stream_of(ctx, vid)
        if s is not None and s.visible_at(t):
            items.append(_video(ctx, ctx.population.channels[s.channel], s, parts, t))
    page = {"totalResults": len(items), "resultsPerPage": len(items)}
    body = {"kind": "youtube#videoListResponse", "etag": _etag(*ids, int(t // 60))}
    return json_response(200, body | {"items": items, "pageInfo": page})


def subscriber_count(followers: int) -> int:
    """Rounded down to three significant figures, as the API shows it."""
    if followers < 1000:
        return followers
    scale: int = 10 ** (len(str(followers)) - 3)
    return followers // scale * scale


def _user_gate(ctx: "Context", req: Request, d: Decision, units: int) -> "str | Response":
    """An OAuth call (`Authorization: Bearer`): the account's channel id, or the refusal."""
    kind, _, token = (req.header("authorization") or "").partition(" ")
    grant = oauth(ctx).who(token.strip(), ctx.clock.time()) if kind.lower() == "bearer" else None
    if grant is None:
        return _unauthenticated()
    if d.quota_exhausted or not quota(ctx).charge(units, ctx.clock.time()):
        return quota_exceeded()
    return grant.account


def _unauthenticated() -> Response:
    body = {
        "code": 401,
        "message": "Request had invalid authentication credentials. Expected OAuth 2 access "
        "token, login cookie or other valid authentication credential.",
        "errors": [
            {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
    return json_response(401, {"error": body})


def channels(ctx: "Context", req: Request, d: Decision) -> Response:
    mine: str | None = None
    if req.arg("mine") == "true":
        found_account = _user_gate(ctx, req, d, 1)
        if isinstance(found_account, Response):
            return found_account
        mine = found_account
    else:
        denied = _gate(ctx, req, d, 1)
        if denied:
            return denied
    parts, ids, handle = set(_split(req, "part")), _split(req, "id"), req.arg("forHandle")
    if mine is not None:
        ids, handle = [mine], None
    if not parts:
        return error(400, "required", "Required parameter: part")
    if not ids and not handle:
        return error(
            400,
            "missingRequiredParameter",
            "No filter selected. Expected one of: forHandle, forUsername, id, mine",
            domain="youtube.parameter",
        )
    pop, t = ctx.population, ctx.clock.time()
    by_id, by_handle = pop.by_id["youtube"], pop.by_login["youtube"]
    found = [by_id.get(i) for i in ids[:50]]
    if handle:
        found.append(by_handle.get(handle.strip().removeprefix("@").lower()))
    items = []
    for ch in (c for c in found if c is not None):
        item: dict[str, object] = {
            "kind": "youtube#channel",
            "etag": _etag(ch.key, t // 3600),
            "id": ch.platform_id,
        }
        if "snippet" in parts:
            item["snippet"] = {
                "title": ch.name,
                "description": f"{ch.name} streams {CATEGORIES[ch.category][1]}.",
                "customUrl": "@" + ch.login,
                "publishedAt": iso_z(ch.created_at),
                "thumbnails": {
                    size: {
                        "url": f"https://yt3.ggpht.com/sandbox/{ch.platform_id}=s{px}",
                        "width": px,
                        "height": px,
                    }
                    for size, px in (("default", 88), ("medium", 240), ("high", 800))
                },
                "localized": {"title": ch.name, "description": ""},
            }
        if "statistics" in parts:
            stats: dict[str, object] = {"viewCount": str(ch.followers * 37)}
            if not ch.hide_subscribers:
                stats["subscriberCount"] = str(subscriber_count(ctx.schedule.followers(ch, t)))
            stats |= {
                "hiddenSubscriberCount": ch.hide_subscribers,
                "videoCount": str(ch.index % 900),
            }
            item["statistics"] = stats
        items.append(item)
    body: dict[str, object] = {
        "kind": "youtube#channelListResponse",
        "etag": _etag(*ids, handle, t // 3600),
        "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
    }
    if items:  # channels.list leaves `items` out altogether when nothing matches
        body["items"] = items
    return json_response(200, body)


def search(ctx: "Context", req: Request, d: Decision) -> Response:
    """search.list: 100 units a call. Answers a channel's live/upcoming broadcasts only."""
    denied = _gate(ctx, req, d, 100)
    if denied:
        return denied
    t, items = ctx.clock.time(), []
    ch = ctx.population.by_id["youtube"].get(req.arg("channelId") or "")
    event = req.arg("eventType")
    if ch is not None and event in ("live", "upcoming"):
        for s in ctx.schedule.visible(ch, t):
            if broadcast_content(s, t) == event:
                vid = video_id(ctx.seed, s)
                snippet = {
                    "publishedAt": iso_z(s.announced),
                    "channelId": ch.platform_id,
                    "title": s.title,
                    "description": "",
                    "thumbnails": _thumbnails(vid),
                    "channelTitle": ch.name,
                    "liveBroadcastContent": event,
                    "publishTime": iso_z(s.announced),
                }
                items.append(
                    {
                        "kind": "youtube#searchResult",
                        "etag": _etag(vid),
                        "id": {"kind": "youtube#video", "videoId": vid},
                        "snippet": snippet,
                    }
                )
    body = {
        "kind": "youtube#searchListResponse",
        "etag": _etag("search", t // 60),
        "regionCode": "US",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
    }
    return json_response(200, body | {"items": items})
