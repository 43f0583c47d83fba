"""`make bench-analytics`: the dashboard SQL functions over 30 days of samples, measured.

On its own throwaway cluster (removed at the end, whatever happens):

1. 500 channels x 30 days of 1-minute samples (21.6 M rows, generated in SQL
   with generate_series, one daily partition at a time: filled, then
   attached, so the primary key is built once per day instead of row by row).
   Channels stream a few hours a day; every tenth hides its count, others
   hide it now and then; single samples are missing here and there and some
   channels have a 15-minute hole a day (longer than the max gap). Followers
   are sampled hourly.
2. The rollups, built by `analytics.rebuild_rollups` day by day: the bulk
   path the tests prove equal to the monitor's incremental one.
3. 50 runs each, as a member through `Database.user` (what supabase.rpc
   does): the team overview (a team of 50 channels, 30 days) and the channel
   timeline (30 days), the range starting and ending mid-hour so the raw edge
   pieces are exercised; next to the same answers computed straight from the
   raw samples (`analytics.raw_buckets`) in the same run.

Prints progress to stderr and, on the last line, one JSON object with `rows`,
`overview_p50_ms`, `overview_p95_ms`, `overview_raw_p95_ms`, `timeline_p50_ms`,
`timeline_p95_ms`, `timeline_raw_p95_ms`, `identical` (every answer equal to
raw, exactly), the speedups and `targets_met`.
"""

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from localdev import supabase
from localdev.postgres import Cluster
from shared.analytics.service import refresh_leaderboard
from shared.db import Database

Row = tuple[Any, ...]
ZERO = (Decimal(0), Decimal(0), None, 0, 0, 0, None)

# One day of one channel's samples. n: the channel's number, m: the minute of
# the day, g: the minute since the first day (pseudo-random but reproducible).
DAY_SQL = """
insert into partitions.{table} (channel_id, observed_at, viewer_count, session_id, is_live)
select c.id,
       %(day)s::timestamptz + make_interval(mins => m.m, secs => c.n %% 60 + 0.25),
       case when x.live and c.n %% 10 <> 0 and (c.n * 13 + x.g * 29) %% 53 <> 0
            then 50 + (c.n * 97) %% 5000 + (x.g * 37 + c.n * 11) %% 300 end,
       null,
       x.live
from bench_channels c
cross join generate_series(0, %(minutes)s::int - 1) as m(m)
cross join lateral (
  select %(day_index)s::int * %(minutes)s::int + m.m as g,
         ((m.m - (c.n * 53) %% 1440 + 1440) %% 1440) < 120 + (c.n * 17) %% 240 as live
) as x
where (c.n * 31 + x.g * 17) %% 211 <> 0
  and not (c.n %% 7 = 0 and m.m between 600 and 614)
"""


def ms(values: Sequence[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return round(statistics.median(ordered) * 1000, 2), round(p95 * 1000, 2)


def timed(runs: int, call: Callable[[], list[Row]]) -> tuple[list[float], list[Row]]:
    times: list[float] = []
    answer: list[Row] = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - started)
    return times, answer


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(db: Database, channels: int, days: int, first: date) -> tuple[list[uuid.UUID], int]:
    ids = [uuid.uuid4() for _ in range(channels)]
    with db.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id)"
            " select id, 'twitch', 'bench' || n"
            " from unnest(%s::uuid[]) with ordinality as u(id, n)",
            (ids,),
        )
        conn.execute(
            "create unlogged table public.bench_channels as"
            " select id, n::int from unnest(%s::uuid[]) with ordinality as u(id, n)",
            (ids,),
        )
        conn.execute("alter table public.bench_channels enable row level security")
    rows = 0
    started = time.perf_counter()
    for i in range(days):
        day = first + timedelta(days=i)
        table = f"viewer_samples_bench_{day:%Y%m%d}"
        lo = datetime.combine(day, datetime.min.time(), UTC)
        with db.service() as conn:
            conn.execute(
                f"create table partitions.{table}"
                " (like public.viewer_samples including defaults including constraints)"
            )
            cur = conn.execute(
                DAY_SQL.format(table=table),
                {"day": lo, "minutes": 1440, "day_index": i},
            )
            rows += cur.rowcount
            conn.execute(f"alter table partitions.{table} enable row level security")
            conn.execute(
                f"alter table public.viewer_samples attach partition partitions.{table}"
                " for values from (%s) to (%s)" % (f"'{lo.isoformat()}'",
                                                   f"'{(lo + timedelta(days=1)).isoformat()}'")
            )  # fmt: skip
        log(f"day {i + 1}/{days}: {rows:,} samples, {time.perf_counter() - started:.0f} s")
    with db.service() as conn:
        # Followers sampled hourly, mostly growing.
        conn.execute(
            """
            insert into public.channel_stats (channel_id, observed_at, followers, subscribers)
            select c.id, %s::timestamptz + make_interval(hours => h, secs => c.n %% 3600),
                   1000 + c.n * 10 + h * (c.n %% 5) + (h * 7 + c.n) %% 3, null
            from bench_channels c cross join generate_series(0, %s - 1) as h
            """,
            (datetime.combine(first, datetime.min.time(), UTC), days * 24),
        )
    return ids, rows


def build_rollups(db: Database, ids: list[uuid.UUID], days: int, first: date) -> None:
    started = time.perf_counter()
    for i in range(days):
        day = first + timedelta(days=i)
        with db.service() as conn:
            conn.execute(
                "select analytics.rebuild_rollups(%s, %s, %s)", (ids, day, day + timedelta(days=1))
            )
        log(f"rollups day {i + 1}/{days}: {time.perf_counter() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/analytics.py")
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--team-channels", type=int, default=50)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--raw-runs", type=int, default=50)
    parser.add_argument("--cluster", default="bench-analytics")
    parser.add_argument(
        "--keep", action="store_true", help="leave the cluster running (to investigate)"
    )
    args = parser.parse_args(argv)
    if args.team_channels > min(args.channels, 200):
        parser.error("--team-channels must be at most --channels and 200 (business plan)")

    today = datetime.now(UTC).date()
    first = today - timedelta(days=args.days)
    # Mid-hour edges: the functions must combine rollups with raw edge pieces.
    lo = datetime.combine(first, datetime.min.time(), UTC) + timedelta(minutes=17, seconds=13)
    hi = datetime.combine(today, datetime.min.time(), UTC) - timedelta(minutes=5)
    cluster = Cluster(args.cluster)
    cluster.destroy()
    url = supabase.up(cluster, seed=False)
    db = Database(url, max_size=2)
    try:
        began = time.perf_counter()
        ids, rows = generate(db, args.channels, args.days, first)
        generate_s = time.perf_counter() - began
        began = time.perf_counter()
        build_rollups(db, ids, args.days, first)
        rollups_s = time.perf_counter() - began
        with db.service() as conn:
            conn.execute("analyze")
            user = uuid.uuid4()
            conn.execute(
                "insert into auth.users (id, email, aud, role)"
                " values (%s, 'bench@example.test', 'authenticated', 'authenticated')",
                (user,),
            )
            team_row = conn.execute(
                "insert into public.teams (name, plan_id, created_by)"
                " values ('Bench', 'business', %s) returning id",
                (user,),
            ).fetchone()
            assert team_row is not None
            team = team_row[0]
            conn.execute(
                "insert into public.team_channels (team_id, channel_id)"
                " select %s, unnest(%s::uuid[])",
                (team, ids[: args.team_channels]),
            )
        refresh_s = refresh_leaderboard(db)
        team_ids = sorted(ids[: args.team_channels])
        channel = ids[1]  # streams daily, counts mostly known
        claims = {"sub": str(user), "role": "authenticated", "aud": "authenticated",
                  "aal": "aal2"}  # fmt: skip

        def as_member(sql: str, params: tuple[Any, ...]) -> Callable[[], list[Row]]:
            def call() -> list[Row]:
                with db.user(claims) as conn:
                    return conn.execute(sql, params).fetchall()

            return call

        def as_service(sql: str, params: tuple[Any, ...]) -> Callable[[], list[Row]]:
            def call() -> list[Row]:
                with db.service() as conn:
                    return conn.execute(sql, params).fetchall()

            return call

        figures = ("live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,"
                   " known_viewer_sample_count, live_sample_count, followers_gained")  # fmt: skip
        overview = as_member(
            f"select channel_id, {figures} from public.analytics_team_overview(%s, %s, %s)",
            (team, lo, hi),
        )
        overview_raw = as_service(
            f"select channel_id, {figures} from analytics.raw_buckets(%s, %s, %s)",
            (team_ids, lo, hi),
        )
        timeline = as_member(
            f"select bucket_start, {figures} from public.analytics_channel_timeline(%s, %s, %s)",
            (channel, lo, hi),
        )
        with db.service() as conn:
            bin_row = conn.execute(
                "select public.analytics_timeline_bucket(%s, %s)", (lo, hi)
            ).fetchone()
        assert bin_row is not None
        timeline_raw = as_service(
            f"select greatest(bucket, %s), {figures} from analytics.raw_buckets(%s, %s, %s, %s)",
            (lo, [channel], lo, hi, bin_row[0]),
        )
        leaderboard = as_member(
            "select channel_id from public.analytics_leaderboard(%s, '30d')", (team,)
        )
        log("measuring")
        overview_t, overview_rows = timed(args.runs, overview)
        overview_raw_t, overview_raw_rows = timed(args.raw_runs, overview_raw)
        timeline_t, timeline_rows = timed(args.runs, timeline)
        timeline_raw_t, timeline_raw_rows = timed(args.raw_runs, timeline_raw)
        leaderboard_t, leaderboard_rows = timed(args.runs, leaderboard)
    finally:
        db.close()
        if not args.keep:
            cluster.destroy()

    # The same answers: per channel figures (and the totals row, summed here
    # from the raw per-channel figures), per bucket figures.
    raw_by_channel = {r[0]: r[1:] for r in overview_raw_rows}
    expected_overview = [(c, *raw_by_channel.get(c, ZERO)) for c in team_ids]
    totals = total_of([r[1:] for r in expected_overview])
    overview_identical = overview_rows == [(None, *totals), *expected_overview]
    raw_by_bucket = {r[0]: r[1:] for r in timeline_raw_rows}
    expected_timeline = [(r[0], *raw_by_bucket.get(r[0], ZERO)) for r in timeline_rows]
    timeline_identical = timeline_rows == expected_timeline and set(raw_by_bucket) <= {
        r[0] for r in timeline_rows
    }
    overview_p50, overview_p95 = ms(overview_t)
    overview_raw_p50, overview_raw_p95 = ms(overview_raw_t)
    timeline_p50, timeline_p95 = ms(timeline_t)
    timeline_raw_p50, timeline_raw_p95 = ms(timeline_raw_t)
    leaderboard_p50, leaderboard_p95 = ms(leaderboard_t)
    result = {
        "rows": rows,
        "channels": args.channels,
        "days": args.days,
        "team_channels": args.team_channels,
        "runs": args.runs,
        "range": [lo.isoformat(), hi.isoformat()],
        "overview_p50_ms": overview_p50,
        "overview_p95_ms": overview_p95,
        "overview_raw_p50_ms": overview_raw_p50,
        "overview_raw_p95_ms": overview_raw_p95,
        "overview_speedup_p95": round(overview_raw_p95 / overview_p95, 1),
        "timeline_points": len(timeline_rows),
        "timeline_p50_ms": timeline_p50,
        "timeline_p95_ms": timeline_p95,
        "timeline_raw_p50_ms": timeline_raw_p50,
        "timeline_raw_p95_ms": timeline_raw_p95,
        "timeline_speedup_p95": round(timeline_raw_p95 / timeline_p95, 1),
        "leaderboard_p50_ms": leaderboard_p50,
        "leaderboard_p95_ms": leaderboard_p95,
        "leaderboard_channels": len(leaderboard_rows),
        "generate_s": round(generate_s, 1),
        "rollups_build_s": round(rollups_s, 1),
        "leaderboard_refresh_s": round(refresh_s, 3),
        "overview_identical": overview_identical,
        "timeline_identical": timeline_identical,
        "identical": overview_identical and timeline_identical,
    }
    result["targets_met"] = {
        "p95_within_50_ms": overview_p95 <= 50 and timeline_p95 <= 50,
        "at_least_20x_faster_than_raw": result["overview_speedup_p95"] >= 20
        and result["timeline_speedup_p95"] >= 20,
        "identical": result["identical"],
    }
    print(json.dumps(result))
    return 0


def total_of(per_channel: Sequence[Row]) -> Row:
    """The totals row of analytics_team_overview, from per-channel figures."""
    peaks = [r[2] for r in per_channel if r[2] is not None]
    gains = [r[6] for r in per_channel if r[6] is not None]
    return (
        sum((r[0] for r in per_channel), Decimal(0)),
        sum((r[1] for r in per_channel), Decimal(0)),
        max(peaks) if peaks else None,
        sum(r[3] for r in per_channel),
        sum(r[4] for r in per_channel),
        sum(r[5] for r in per_channel),
        sum(gains) if gains else None,
    )


if __name__ == "__main__":
    sys.exit(main())
