"""A self-contained HTML report of what the monitor recorded (inline SVG, no scripts)."""

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from shared.platforms.registry import spec

# Shades per platform, so the channels of one chart can be told apart.
COLORS = {
    "twitch": ("#6441a5", "#9146ff", "#b9a3e3", "#3a1f73"),
    "youtube": ("#cc0000", "#ff4e45", "#ff9d96", "#7a0000"),
    "kick": ("#53fc18", "#1f8f00", "#a8fd8b", "#0b3d00"),
    "rumble": ("#4f8a10", "#85c742", "#b5e08a", "#2d5206"),
}


def _name(platform: str) -> str:
    try:
        return spec(platform).display_name
    except ValueError:
        return platform


@dataclass
class Series:
    """One channel's viewer curve."""

    platform: str
    name: str
    points: list[tuple[datetime, int | None]]
    peak: int


def load_series(
    conn: psycopg.Connection[Any], start: datetime, end: datetime, per_platform: int = 4
) -> list[Series]:
    """The busiest channels of each platform, by peak viewers in the window."""
    top = conn.execute(
        """
        select platform, channel_id, name, peak from (
          select c.platform::text as platform, c.id as channel_id,
                 coalesce(c.display_name, c.handle, c.platform_channel_id) as name,
                 max(v.viewer_count) as peak,
                 row_number() over (partition by c.platform order by max(v.viewer_count) desc)
                   as rank
          from public.viewer_samples v join public.channels c on c.id = v.channel_id
          where v.observed_at between %s and %s and v.viewer_count is not null
          group by c.platform, c.id
        ) ranked where rank <= %s order by platform, peak desc
        """,
        (start, end, per_platform),
    ).fetchall()
    series = []
    for platform, channel_id, name, peak in top:
        points = conn.execute(
            "select observed_at, case when is_live then viewer_count end"
            " from public.viewer_samples where channel_id = %s and observed_at between %s and %s"
            " order by observed_at",
            (channel_id, start, end),
        ).fetchall()
        series.append(Series(platform, name, [(t, v) for t, v in points], peak))
    return series


def svg_chart(series: Sequence[Series], start: datetime, end: datetime) -> str:
    """A line chart; gaps (offline or hidden counts) break the line."""
    width, height, pad = 760, 220, 40
    span = max((end - start).total_seconds(), 1.0)
    top = max((s.peak for s in series), default=1) or 1
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - 10}" y2="{height - pad}" '
        'stroke="#999"/>',
        f'<text x="4" y="{pad - 8}" font-size="11">{top:,}</text>',
        f'<text x="4" y="{height - pad}" font-size="11">0</text>',
    ]
    for label, at in (("start", start), ("middle", start + (end - start) / 2), ("end", end)):
        x = pad + (at - start).total_seconds() / span * (width - pad - 10)
        anchor = {"start": "start", "middle": "middle", "end": "end"}[label]
        parts.append(
            f'<text x="{x:.0f}" y="{height - pad + 16}" font-size="11" '
            f'text-anchor="{anchor}">{at:%H:%M}</text>'
        )
    for index, s in enumerate(series):
        shades = COLORS.get(s.platform, ("#333",))
        color = shades[index % len(shades)]
        runs: list[list[str]] = [[]]
        for t, v in s.points:
            if v is None:
                runs.append([])
                continue
            x = pad + (t - start).total_seconds() / span * (width - pad - 10)
            y = height - pad - v / top * (height - 2 * pad)
            runs[-1].append(f"{x:.1f},{y:.1f}")
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
                    f'stroke-opacity="0.8" points="{" ".join(run)}"/>'
                )
    parts.append("</svg>")
    return "".join(parts)


def write_report(
    path: Path,
    title: str,
    summary_rows: Sequence[Sequence[object]],
    summary_header: Sequence[str],
    series: Sequence[Series],
    start: datetime,
    end: datetime,
    notes: Sequence[str] = (),
) -> None:
    def row(cells: Sequence[object], tag: str = "td") -> str:
        return "<tr>" + "".join(f"<{tag}>{html.escape(str(c))}</{tag}>" for c in cells) + "</tr>"

    platforms = sorted({s.platform for s in series})
    charts = []
    for platform in platforms:
        mine = [s for s in series if s.platform == platform]
        shades = COLORS.get(platform, ("#333",))
        legend = ", ".join(
            f'<span style="color:{shades[i % len(shades)]}">&#9632;</span> '
            f"{html.escape(s.name)} (peak {s.peak:,})"
            for i, s in enumerate(mine)
        )
        charts.append(
            f"<h2>{html.escape(_name(platform))}</h2><p class=legend>{legend}</p>"
            + svg_chart(mine, start, end)
        )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em auto; max-width: 820px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ddd; padding: 4px 10px; text-align: right; }}
th {{ background: #f4f4f4; }} td:first-child, th:first-child {{ text-align: left; }}
.legend {{ color: #555; font-size: 12px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(start.isoformat())} to {html.escape(end.isoformat())} (UTC)</p>
<table>{row(summary_header, "th")}{"".join(row(r) for r in summary_rows)}</table>
{"".join(f"<p>{html.escape(n)}</p>" for n in notes)}
{"".join(charts)}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
