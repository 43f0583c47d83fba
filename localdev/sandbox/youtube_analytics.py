"""Fake YouTube Analytics API v2 (`GET /youtube/analytics/v2/reports`) and Google's OAuth.

Reports are computed from the sandbox's ground truth where the figures
overlap, and drawn deterministically where the truth has nothing to say:

- live watch time is the truth's viewer curve integrated exactly: a stream's
  minutes watched on a day = the sum over its live seconds that day of the
  viewers at that minute / 60, which is what hours watched from the truth's
  `viewers` gives (x 60);
- `averageConcurrentViewers` of a stream = those minutes / its live minutes;
  `peakConcurrentViewers` = the truth's `peak_viewers`;
- `subscribersGained - subscribersLost` of a day = the truth's followers at
  the end of the day minus at its start; the churn on both sides is drawn;
- on-demand minutes and views of uploads are drawn per day (no truth);
- days are Pacific. Figures settle late: a day that ended less than 24 hours
  ago is absent; until 72 hours it is reported at a growing share
  (50 % to 100 %) of its final figures; after that it is final.

Requests need the owner's bearer token with `yt-analytics.readonly`
(401 `authError` without a live token, 403 `insufficientPermissions`
without the scope); `ids` must be `channel==MINE`.
"""

import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import h64
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.oauth import bearer, form_of, redirect
from localdev.sandbox.population import Channel
from localdev.sandbox.schedule import Stream
from localdev.sandbox.youtube_api import (
    PACIFIC,
    _unauthenticated,
    error,
    oauth,
    stream_of,
    video_id,
)

if TYPE_CHECKING:
    from localdev.sandbox.context import Context

GOOGLE_CLIENT_ID = "sandbox-google-client.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "sandbox-google-client-secret"
ANALYTICS_SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"
SETTLE_START_S = 24 * 3600
SETTLED_S = 72 * 3600
LIVE_VIEW_MINUTES = 12
"""Minutes a live view lasts on average (live views = minutes watched / this)."""
DAY_METRICS = {
    "views",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "subscribersGained",
    "subscribersLost",
}
VIDEO_METRICS = {
    "views",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "averageConcurrentViewers",
    "peakConcurrentViewers",
}


# --- Google's OAuth endpoints ------------------------------------------------------------


def _account(ctx: "Context", ref: str) -> str | None:
    ch = ctx.population.find(ref) if ref else None
    return ch.platform_id if ch is not None and ch.platform == "youtube" else None


def authorize(ctx: "Context", req: Request, _d: Decision) -> Response:
    status, query = oauth(ctx).authorize(req, ctx.clock.time(), lambda ref: _account(ctx, ref))
    return redirect(status, req.arg("redirect_uri") or "", query)


def token(ctx: "Context", req: Request, _d: Decision) -> Response:
    status, body = oauth(ctx).token(form_of(req), ctx.clock.time())
    if status == 200:
        # Google: scope is one space-separated string, and refresh answers carry no
        # refresh_token (it keeps the one it issued).
        body = dict(body, scope=" ".join(body["scope"]), token_type="Bearer")
        if form_of(req).get("grant_type") == "refresh_token":
            body.pop("refresh_token", None)
        return json_response(200, body)
    descriptions = {
        "invalid_client": "Unauthorized",
        "unsupported_grant_type": "Invalid grant_type",
    }
    body.setdefault("error_description", descriptions.get(body["error"], "Bad Request"))
    return json_response(status, body)


def revoke(ctx: "Context", req: Request, _d: Decision) -> Response:
    if not oauth(ctx).revoke_token(form_of(req).get("token", "")):
        return json_response(
            400, {"error": "invalid_token", "error_description": "Token expired or revoked"}
        )
    return json_response(200, {})


# --- reports -------------------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[float, float]:
    # Pacific days are 23 or 25 hours long at the DST changes.
    after = day + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, tzinfo=PACIFIC)
    end = datetime(after.year, after.month, after.day, tzinfo=PACIFIC)
    return start.timestamp(), end.timestamp()


def settle_share(day: date, now: float) -> float | None:
    """How much of a day's figures are reported at `now` (None: not yet)."""
    age = now - _day_bounds(day)[1]
    if age < SETTLE_START_S:
        return None
    if age >= SETTLED_S:
        return 1.0
    return 0.5 + 0.5 * (age - SETTLE_START_S) / (SETTLED_S - SETTLE_START_S)


def live_minutes(ctx: "Context", s: Stream, t0: float, t1: float) -> float:
    """Minutes watched of stream `s` within [t0, t1): the truth's viewers, integrated."""
    if s.start is None or s.end is None:
        return 0.0
    lo, hi = max(s.start, t0), min(s.end, t1)
    total = 0.0
    for minute in range(int(lo // 60), -int(-hi // 60)):
        a, b = max(lo, minute * 60), min(hi, minute * 60 + 60)
        if b > a:
            total += ctx.schedule.viewers_at_minute(s, minute) * (b - a) / 60
    return total


def _live_seconds(s: Stream, t0: float, t1: float) -> float:
    if s.start is None or s.end is None:
        return 0.0
    return max(0.0, min(s.end, t1) - max(s.start, t0))


def final_day(ctx: "Context", ch: Channel, day: date) -> dict[str, int]:
    """A day's final figures."""
    t0, t1 = _day_bounds(day)
    live = sum(live_minutes(ctx, s, t0, t1) for s in ctx.schedule.between(ch, t0, t1))
    seed = (ctx.seed, ch.index, day.isoformat())
    vod = 0 if ch.dormant else h64("yt-vod-minutes", *seed) % (1 + ch.followers // 40)
    minutes = round(live + vod)
    views = math.ceil(live / LIVE_VIEW_MINUTES) + vod // 4
    net = ctx.schedule.followers(ch, t1) - ctx.schedule.followers(ch, t0)
    churn = h64("yt-churn", *seed) % (2 + abs(net) // 5)
    return {
        "views": views,
        "estimatedMinutesWatched": minutes,
        "averageViewDuration": round(minutes * 60 / views) if views else 0,
        "subscribersGained": max(net, 0) + churn,
        "subscribersLost": max(-net, 0) + churn,
    }


def reported_day(ctx: "Context", ch: Channel, day: date, now: float) -> dict[str, int] | None:
    """What the API answers for a day at `now` (None: the day is not reported yet)."""
    share = settle_share(day, now)
    if share is None:
        return None
    final = final_day(ctx, ch, day)
    if share >= 1.0:
        return final
    out = {k: int(v * share) for k, v in final.items()}
    out["averageViewDuration"] = final["averageViewDuration"]
    # The net change is right from the first report; gains and losses fill in.
    out["subscribersLost"] = out["subscribersGained"] - (
        final["subscribersGained"] - final["subscribersLost"]
    )
    if out["subscribersLost"] < 0:
        out["subscribersGained"] -= out["subscribersLost"]
        out["subscribersLost"] = 0
    return out


def reported_video(
    ctx: "Context", s: Stream, first: date, last: date, now: float
) -> dict[str, Any] | None:
    """A live stream's figures over [first, last] as reported at `now`."""
    minutes = 0.0
    live_s = 0.0
    day = first
    while day <= last:
        share = settle_share(day, now)
        if share is not None:
            t0, t1 = _day_bounds(day)
            minutes += live_minutes(ctx, s, t0, t1) * share
            live_s += _live_seconds(s, t0, t1)
        day += timedelta(days=1)
    if live_s <= 0:
        return None
    views = math.ceil(minutes / LIVE_VIEW_MINUTES)
    whole = live_minutes(ctx, s, s.start or 0, s.end or 0)
    live_minutes_total = _live_seconds(s, s.start or 0, s.end or 0) / 60
    return {
        "views": views,
        "estimatedMinutesWatched": round(minutes),
        "averageViewDuration": round(minutes * 60 / views) if views else 0,
        "averageConcurrentViewers": round(whole / live_minutes_total, 1)
        if live_minutes_total
        else 0.0,
        "peakConcurrentViewers": ctx.schedule.peak(s),
    }


def _header(name: str) -> dict[str, str]:
    kind = "DIMENSION" if name in ("day", "video") else "METRIC"
    data = {"day": "STRING", "video": "STRING", "averageConcurrentViewers": "FLOAT"}
    return {"name": name, "columnType": kind, "dataType": data.get(name, "INTEGER")}


def _dates(req: Request) -> tuple[date, date] | Response:
    try:
        first = date.fromisoformat(req.arg("startDate") or "")
        last = date.fromisoformat(req.arg("endDate") or "")
    except ValueError:
        return error(400, "badRequest", "Required: startDate and endDate as YYYY-MM-DD.")
    if last < first:
        return error(400, "badRequest", "The endDate must be on or after the startDate.")
    return first, last


def reports(ctx: "Context", req: Request, _d: Decision) -> Response:
    grant = oauth(ctx).who(bearer(req) or "", ctx.clock.time())
    if grant is None:
        return _unauthenticated()
    if ANALYTICS_SCOPE not in grant.scopes:
        return error(403, "insufficientPermissions", "Insufficient permission.", status=False)
    if req.arg("ids") != "channel==MINE":
        return error(403, "forbidden", "Forbidden", status=False)
    ch = ctx.population.by_id["youtube"].get(grant.account)
    dates = _dates(req)
    if isinstance(dates, Response):
        return dates
    first, last = dates
    metrics = [m for m in (req.arg("metrics") or "").split(",") if m]
    dimension = req.arg("dimensions") or ""
    now = ctx.clock.time()
    if ch is None or not metrics:
        return error(400, "badRequest", "Required: metrics.")
    if dimension == "day":
        if set(metrics) - DAY_METRICS:
            return error(400, "badRequest", "Unknown identifier in metrics.")
        rows = []
        day = first
        while day <= last and (last - first).days <= 400:
            found = reported_day(ctx, ch, day, now)
            if found is not None:
                rows.append([day.isoformat(), *(found[m] for m in metrics)])
            day += timedelta(days=1)
        return _table(["day", *metrics], rows)
    if dimension == "video":
        if set(metrics) - VIDEO_METRICS:
            return error(400, "badRequest", "Unknown identifier in metrics.")
        wanted = (req.arg("filters") or "").removeprefix("video==").split(",")
        rows = []
        for vid in (v for v in wanted if v):
            s = stream_of(ctx, vid)
            if s is None or ctx.population.channels[s.channel].platform_id != ch.platform_id:
                continue
            found_video = reported_video(ctx, s, first, last, now)
            if found_video is not None:
                rows.append([video_id(ctx.seed, s), *(found_video[m] for m in metrics)])
        rows.sort(key=lambda r: -int(r[1]) if metrics[0] == "views" else 0)
        return _table(["video", *metrics], rows)
    return error(400, "badRequest", "The query is not supported.")


def _table(names: list[str], rows: list[list[Any]]) -> Response:
    body: dict[str, Any] = {
        "kind": "youtubeAnalytics#resultTable",
        "columnHeaders": [_header(n) for n in names],
    }
    if rows:
        body["rows"] = rows
    return json_response(200, body)


def truth_report(ctx: "Context", ch: Channel, first: date, last: date) -> list[dict[str, Any]]:
    """The final figures of each day, for tests (`/_sandbox/youtube/analytics`)."""
    out = []
    day = first
    while day <= last:
        out.append({"day": day.isoformat(), **final_day(ctx, ch, day)})
        day += timedelta(days=1)
    return out
