"""Ground truth: what each channel really did over a range, for checking the monitor's numbers.

Viewer counts are per minute: `[minute, n]` means n viewers from `minute` to
the next minute, exactly what every endpoint answers during that minute (the
platform may leave the count out when the channel hides it; `viewers_hidden`
says so, and the true count is here all the same).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from localdev.sandbox.context import Context
from localdev.sandbox.ids import iso_z
from localdev.sandbox.platforms import fake
from localdev.sandbox.population import Channel
from localdev.sandbox.schedule import Stream

MAX_RANGE_S = 31 * 86_400


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso_z(ts)


def _stream(
    ctx: Context, ch: Channel, s: Stream, t0: float, t1: float, viewers: bool
) -> dict[str, Any]:
    sched = ctx.schedule
    plan = sched.plan(s.channel, s.window)
    out: dict[str, Any] = {
        "id": sched.stream_id(s),
        "title": s.title,
        "start": _iso(s.start),
        "end": _iso(s.end),
        "no_show": s.start is None,
        "restart_of": None if s.restart_of is None else sched.stream_id(plan[s.restart_of]),
    }
    out |= fake(ch.platform).truth(ch, s)
    if s.start is not None and s.end is not None:
        out["peak_viewers"] = sched.peak(s)
        if viewers:
            lo, hi = int(max(s.start, t0) // 60), -int(-min(s.end, t1) // 60)
            out["viewers"] = [[iso_z(m * 60), sched.viewers_at_minute(s, m)] for m in range(lo, hi)]
    return out


def truth(
    ctx: Context,
    t0: float,
    t1: float,
    channel: str | None = None,
    viewers: bool = True,
    platform: str | None = None,
) -> dict[str, Any]:
    """Every stream that existed in [t0, t1), per channel (all, one, or one platform's)."""
    if not t0 < t1 or t1 - t0 > MAX_RANGE_S:
        raise ValueError("need from < to, at most 31 days apart")
    if channel is None:
        chosen = [c for c in ctx.population.channels if platform in (None, c.platform)]
    else:
        found = ctx.population.find(channel)
        if found is None:
            raise LookupError(f"no channel {channel!r}")
        chosen = [found]
    channels = []
    for ch in chosen:
        streams = ctx.schedule.between(ch, t0, t1)
        if not streams and channel is None:
            continue
        streams.sort(key=lambda s: s.start if s.start is not None else s.announced)
        channels.append(
            {
                "key": ch.key,
                "platform": ch.platform,
                "id": ch.platform_id,
                "name": ch.name,
                "followers": {
                    "from": ctx.schedule.followers(ch, t0),
                    "to": ctx.schedule.followers(ch, t1),
                },
                "streams": [_stream(ctx, ch, s, t0, t1, viewers) for s in streams],
            }
        )
    return {"seed": ctx.seed, "from": iso_z(t0), "to": iso_z(t1), "channels": channels}


def _when(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError("a truth time is an ISO 8601 string")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def true_viewer_seconds(streams: Iterable[dict[str, Any]], since: datetime | None = None) -> float:
    """Viewer-seconds the given truth streams (as `truth` lists them) really had, after
    `since` if given: each minute's count over the part of that minute the stream was
    live, the figure the monitor's hours watched estimate."""
    total = 0.0
    for stream in streams:
        lo, hi = _when(stream["start"]), _when(stream["end"])
        if since is not None:
            lo = max(lo, since)
        for minute, viewers in stream.get("viewers") or []:
            at = _when(minute)
            overlap = (min(at + timedelta(minutes=1), hi) - max(at, lo)).total_seconds()
            if viewers is not None and overlap > 0:
                total += viewers * overlap
    return total
