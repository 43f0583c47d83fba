"""Fake YouTube channel feed (Atom), `feeds/videos.xml?channel_id=UC...`: quota-free, no key."""

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from localdev.sandbox.faults import Decision
from localdev.sandbox.ids import iso_z
from localdev.sandbox.messages import Request, Response
from localdev.sandbox.youtube_api import video_id

if TYPE_CHECKING:
    from localdev.sandbox.context import Context


def not_found() -> Response:
    body = b"<!DOCTYPE html><html><title>Error 404 (Not Found)</title><p>Not Found</p></html>"
    return Response(404, body, "text/html; charset=UTF-8")


def feed(ctx: "Context", req: Request, _d: Decision) -> Response:
    """The ~15 latest videos by publish time, live and upcoming broadcasts included."""
    ch = ctx.population.by_id["youtube"].get(req.arg("channel_id") or "")
    if ch is None:
        return not_found()
    t = ctx.clock.time()
    url = f"https://www.youtube.com/channel/{ch.platform_id}"
    author = f"<author><name>{escape(ch.name)}</name><uri>{url}</uri></author>"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015"'
        ' xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">',
        f' <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={ch.platform_id}"/>',
        # The feed-level ids leave out the "UC" prefix; the entries carry the full id.
        f" <id>yt:channel:{ch.platform_id[2:]}</id>",
        f" <yt:channelId>{ch.platform_id[2:]}</yt:channelId>",
        f" <title>{escape(ch.name)}</title>",
        f' <link rel="alternate" href="{url}"/>',
        f" {author}",
        f" <published>{_atom_time(ch.created_at)}</published>",
    ]
    for s in ctx.schedule.visible(ch, t):
        vid = video_id(ctx.seed, s)
        updated = max(x for x in (s.announced, s.start, s.end) if x is not None and x <= t)
        views = 0 if s.start is None else s.peak * 3
        out += [
            " <entry>",
            f"  <id>yt:video:{vid}</id>",
            f"  <yt:videoId>{vid}</yt:videoId>",
            f"  <yt:channelId>{ch.platform_id}</yt:channelId>",
            f"  <title>{escape(s.title)}</title>",
            f'  <link rel="alternate" href="https://www.youtube.com/watch?v={vid}"/>',
            f"  {author}",
            f"  <published>{_atom_time(s.announced)}</published>",
            f"  <updated>{_atom_time(updated)}</updated>",
            "  <media:group>",
            f"   <media:title>{escape(s.title)}</media:title>",
            f'   <media:content url="https://www.youtube.com/v/{vid}?version=3"'
            ' type="application/x-shockwave-flash" width="640" height="390"/>',
            f"   <media:thumbnail url={quoteattr(f'https://i1.ytimg.com/vi/{vid}/hqdefault.jpg')}"
            ' width="480" height="360"/>',
            f"   <media:description>{escape(ch.name)}</media:description>",
            '   <media:community><media:starRating count="0" average="0.00" min="1" max="5"/>'
            f'<media:statistics views="{views}"/></media:community>',
            "  </media:group>",
            " </entry>",
        ]
    out.append("</feed>\n")
    return Response(200, "\n".join(out).encode(), "application/atom+xml; charset=UTF-8")


def _atom_time(ts: float) -> str:
    return iso_z(ts).replace("Z", "+00:00")
