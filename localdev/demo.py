"""`make demo`: the monitor's main job on local defaults, in accelerated simulated time.

A fresh `demo` database (compatibility layer, migrations by the Supabase CLI),
the platform sandbox with a few hundred channels over every registered platform, a
few demo teams on different plans tracking them, then monitoring cycles one
simulated minute apart through the same code the timer runs. It prints a
summary, writes `.localdev/report/index.html`, and leaves the database
running for inspection (`python -m localdev db psql --name demo`).
"""

import argparse
import base64
import math
import os
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from localdev import STATE_ROOT, demo_alerts, supabase
from localdev.alertsink import AlertSink
from localdev.postgres import Cluster
from localdev.report import load_series, write_report
from localdev.sandbox import Sandbox
from localdev.seeding import DemoTeam, register
from shared.alerts.delivery import Deliverer, DeliveryPolicy
from shared.alerts.service import client_for
from shared.config import Settings
from shared.crypto import SecretBox
from shared.db import Database
from shared.monitor.service import build_fetchers, tick
from shared.platforms.retry import RetryPolicy

# Channels are dealt round-robin within each plan's channel limit; when all
# are full, more teams on the last one's plan are added.
TEAMS = (
    DemoTeam("Weekend Streamers", "free"),
    DemoTeam("Indie Collective", "pro"),
    DemoTeam("Northwind Esports", "business"),
)
START = "2026-11-20T17:00:00Z"  # a Friday evening in Europe, afternoon in the Americas
REPORT = STATE_ROOT / "report" / "index.html"


def _settings(sandbox: Sandbox, url: str, key: bytes) -> Settings:
    return Settings(
        database_url=url,
        credentials_encryption_key=SecretStr(base64.b64encode(key).decode()),
        alerts_allow_loopback=True,  # the demo's alert sink listens on 127.0.0.1
        **{k.lower(): v for k, v in sandbox.settings_env().items()},
    )


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev demo")
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument("--minutes", type=int, default=180, help="simulated minutes to monitor")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--cluster", default="demo", help="local database name (rebuilt)")
    parser.add_argument("--report", type=Path, default=REPORT, help="where the HTML goes")
    args = parser.parse_args(argv)

    began = time.monotonic()
    cluster = Cluster(args.cluster)
    cluster.destroy()
    url = supabase.up(cluster, seed=False)
    print(f"database: {url}", file=sys.stderr)
    key = os.urandom(32)
    db = Database(url, max_size=4)
    deliverer: Deliverer | None = None
    try:
        with (
            AlertSink() as sink,
            Sandbox(
                seed=args.seed,
                channels=args.channels,
                mix=None,  # every registered platform, at its default share
                start=START,
                rate=0,
            ) as sandbox,
        ):
            settings = _settings(sandbox, url, key)
            registered = register(db, sandbox.channels(), TEAMS, SecretBox(key))
            print(
                f"sandbox: {sandbox.url}, {args.channels} channels tracked by "
                f"{len(registered.teams)} teams",
                file=sys.stderr,
            )
            fetchers = build_fetchers(
                settings,
                clock=sandbox.clock.now,
                # Rumble's 5-second rule is about real seconds; here a minute lasts less.
                key_interval_s=0,
                policy=RetryPolicy.from_settings(settings, sleep=lambda _s: None),
            )
            destinations = demo_alerts.configure(db, sink, settings)
            deliverer = Deliverer(db, SecretBox(key), client_for(settings),
                                  DeliveryPolicy.from_settings(settings))  # fmt: skip
            start = sandbox.clock.now()
            made: dict[str, int] = defaultdict(int)
            minimum: dict[str, int] = defaultdict(int)
            for minute in range(args.minutes):
                result = tick(settings=settings, database=db, fetchers=fetchers,
                              clock=sandbox.clock.now)  # fmt: skip
                report = result.report
                assert report is not None
                for platform, n in report.requests.items():
                    made[platform] += n
                    minimum[platform] += report.minimum_requests.get(platform, 0)
                if minute % 30 == 0:
                    print(
                        f"  {sandbox.clock.now():%H:%M} cycle: {report.channels_checked} checked, "
                        f"{report.samples_written} samples, {report.sessions_opened} opened, "
                        f"{report.sessions_closed} closed",
                        file=sys.stderr,
                    )
                # The delivery timer's job, once per cycle (in real time).
                deliverer.run_once()
                sandbox.clock.advance(60)
            deliverer.run(2.0, idle_s=0.2)  # what the last cycles wrote
            end = sandbox.clock.now()
            counters = sandbox.counters()
            alerts_note = demo_alerts.summary(db, sink, destinations)
        summary = _summary(db, start, end, made, minimum, counters)
        summary.notes.append(alerts_note)
        summary.text += "\n" + alerts_note
        print(summary.text)
        with db.service() as conn:
            series = load_series(conn, start, end)
        write_report(
            args.report,
            "StreamTrack demo",
            summary.rows,
            summary.header,
            series,
            start,
            end,
            notes=summary.notes,
        )
    finally:
        if deliverer is not None:
            deliverer.close()
        db.close()
    print(f"\nreport: {REPORT}")
    print("database left running: python -m localdev db psql --name demo  (stop: db down)")
    print(f"done in {time.monotonic() - began:.0f} s")
    return 0


class _Summary:
    def __init__(self) -> None:
        self.header = ("platform", "channels", "live now", "sessions", "peak viewers",
                       "avg viewers", "hours watched", "requests", "minimum")  # fmt: skip
        self.rows: list[tuple[object, ...]] = []
        self.notes: list[str] = []
        self.text = ""


def _summary(
    db: Database,
    start: datetime,
    end: datetime,
    made: dict[str, int],
    minimum: dict[str, int],
    counters: dict[str, int],
) -> _Summary:
    out = _Summary()
    with db.service() as conn:
        rows = conn.execute(
            """
            select c.platform::text,
                   count(distinct c.id),
                   count(distinct c.id) filter (where st.is_live),
                   count(distinct s.id),
                   max(s.peak_viewers),
                   round(sum(s.viewer_count_sum)::numeric
                         / nullif(sum(s.known_viewer_sample_count), 0), 1),
                   round(coalesce(sum(s.viewer_seconds), 0) / 3600, 1)
            from public.channels c
            left join public.channel_status st on st.channel_id = c.id
            left join public.stream_sessions s on s.channel_id = c.id
            group by 1 order by 1
            """
        ).fetchall()
        runs = conn.execute(
            "select count(*), count(*) filter (where status = 'succeeded'),"
            " (select count(*) from public.viewer_samples)"
            " from public.monitor_runs"
        ).fetchone()
    assert runs is not None
    for platform, channels, live, sessions, peak, avg, hours in rows:
        out.rows.append((platform, channels, live, sessions, peak or 0, avg or 0, hours,
                         made.get(platform, 0), minimum.get(platform, 0)))  # fmt: skip
    width = [max(len(str(x)) for x in col) for col in zip(out.header, *out.rows, strict=True)]
    lines = ["  ".join(str(c).rjust(w) for c, w in zip(r, width, strict=True))
             for r in (out.header, *out.rows)]  # fmt: skip
    minutes = math.ceil((end - start) / timedelta(minutes=1))
    out.notes = [
        f"{runs[0]} monitoring cycles ({runs[1]} fully succeeded) over {minutes} simulated "
        f"minutes wrote {runs[2]:,} viewer samples.",
        f"YouTube: {counters.get('youtube.feed', 0):,} quota-free feed reads, "
        f"{counters.get('youtube.videos', 0):,} videos.list calls "
        f"({counters.get('youtube.quota_used', 0):,} quota units), "
        f"{counters.get('youtube.search', 0)} search.list calls.",
        f"Kick: {counters.get('kick.livestreams', 0):,} GET /livestreams calls; no follower "
        "counts (its public API has none).",
        "requests: sent to the platforms, retries included; minimum: full batches "
        "(100 Twitch ids, 50 YouTube videos, 50 Kick broadcasters) and one request per "
        "Rumble key, no retries; Twitch's and Kick's one extra request is the app token.",
    ]
    out.text = "\n".join([*lines, "", *out.notes])
    return out
