"""Rollups and dashboard functions against an independent computation from raw samples.

Data is written the way the monitor writes it (`store.write_cycle`, one cycle
at a time), with irregular sample times, hidden counts, failures long enough
to exceed the max gap, stats samples, and hour and day boundaries crossed.
Every dashboard figure is then compared, exactly, with `oracle()` below, a
plain Python reading of the definitions in the analytics migration.
"""

import itertools
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from azure.functions.timer import TimerRequest

from shared.analytics.service import refresh_leaderboard
from shared.config import Settings
from shared.db import Database
from shared.monitor import store
from shared.monitor.service import rules_from
from shared.monitor.state import ChannelOutcome, PlatformUsage, RunInfo
from shared.monitor.stitching import Observation, Rules
from tests.factories.users import claims_for, create_user

# Not the default 600 s: the SQL side must follow the gap the monitor used,
# which each sample records (issue 12.5), not a figure of its own. The rules
# come from the setting the way the monitor builds them.
MAX_GAP = timedelta(minutes=7)
RULES = rules_from(Settings(monitor_grace_period_s=420))
assert RULES == Rules(grace=MAX_GAP, max_gap=MAX_GAP)
# Relative to today (the leaderboard's windows are): from yesterday 21:47 UTC
# over midnight into today, crossing hour boundaries at odd offsets.
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
T0 = TODAY - timedelta(hours=2, minutes=13, seconds=27, microseconds=250_000)
CYCLES = 300


@dataclass
class Figures:
    """The figures of one channel over one range, as the migration defines them."""

    live_seconds: Decimal
    viewer_seconds: Decimal
    peak_viewers: int | None
    viewer_count_sum: int
    known_viewer_sample_count: int
    live_sample_count: int
    followers_gained: int | None


Sample = tuple[datetime, int | None, bool]


def seconds(delta: timedelta) -> Decimal:
    return Decimal(delta // timedelta(microseconds=1)) / Decimal(1_000_000)


def oracle(
    samples: Sequence[Sample],
    stats: Sequence[tuple[datetime, int]],
    lo: datetime,
    hi: datetime,
) -> Figures:
    """The hold rule over [lo, hi), written independently of the SQL: the boundary
    between two samples is the midpoint of their gap (each live count stands for
    the half-intervals on both sides of it, inside a stream and at its edges);
    nothing holds across a gap longer than MAX_GAP (the data has no platform
    start times)."""
    f = Figures(Decimal(0), Decimal(0), None, 0, 0, 0, None)

    def boundary(i: int) -> datetime:
        at = samples[i][0]
        if i > 0 and at - samples[i - 1][0] <= MAX_GAP:
            return samples[i - 1][0] + (at - samples[i - 1][0]) / 2
        return at

    for i, (at, viewers, is_live) in enumerate(samples):
        if not is_live:
            continue
        if lo <= at < hi:
            f.live_sample_count += 1
            if viewers is not None:
                f.known_viewer_sample_count += 1
                f.viewer_count_sum += viewers
                f.peak_viewers = max(f.peak_viewers or 0, viewers)
        spans = [(boundary(i), at)]
        if i + 1 < len(samples) and samples[i + 1][0] - at <= MAX_GAP:
            spans.append((at, boundary(i + 1)))
        for a, b in spans:
            start, end = max(a, lo), min(b, hi)
            if end > start:
                f.live_seconds += seconds(end - start)
                if viewers is not None:
                    f.viewer_seconds += viewers * seconds(end - start)
    inside = [followers for at, followers in stats if lo <= at < hi]
    before = [followers for at, followers in stats if at < lo]
    if inside:
        f.followers_gained = inside[-1] - (before[-1] if before else inside[0])
    return f


def add(a: Figures, b: Figures) -> Figures:
    peaks = [p for p in (a.peak_viewers, b.peak_viewers) if p is not None]
    gains = [g for g in (a.followers_gained, b.followers_gained) if g is not None]
    return Figures(
        a.live_seconds + b.live_seconds,
        a.viewer_seconds + b.viewer_seconds,
        max(peaks) if peaks else None,
        a.viewer_count_sum + b.viewer_count_sum,
        a.known_viewer_sample_count + b.known_viewer_sample_count,
        a.live_sample_count + b.live_sample_count,
        sum(gains) if gains else None,
    )


def avg(f: Figures) -> Decimal | None:
    if not f.known_viewer_sample_count:
        return None
    return Decimal(f.viewer_count_sum) / Decimal(f.known_viewer_sample_count)


def same_ratio(got: Decimal | None, expected: Decimal | None) -> bool:
    """Averages and hours are quotients of the exact figures returned beside them: the
    database rounds them to its numeric division scale (16+ digits), Python to 28."""
    if got is None or expected is None:
        return got is expected
    return abs(got - expected) <= Decimal("1e-12") * max(Decimal(1), abs(expected))


@dataclass
class Dataset:
    team: uuid.UUID
    member: uuid.UUID
    outsider: uuid.UUID
    channels: list[uuid.UUID]
    samples: dict[uuid.UUID, list[Sample]]
    stats: dict[uuid.UUID, list[tuple[datetime, int]]]

    def oracle(self, channel: uuid.UUID, lo: datetime, hi: datetime) -> Figures:
        return oracle(self.samples[channel], self.stats[channel], lo, hi)


def make_team(database: Database, owner: uuid.UUID) -> uuid.UUID:
    with database.service() as conn:
        row = conn.execute(
            "insert into public.teams (name, plan_id, created_by)"
            " values ('analytics', 'pro', %s) returning id",
            (owner,),
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def write_cycle(
    database: Database, outcomes: dict[uuid.UUID, ChannelOutcome], at: datetime
) -> store.CycleReport:
    with database.service() as conn:
        due = store.due_channels(conn, at, only=list(outcomes))
        usage = {"twitch": PlatformUsage(requests=1)}
        return store.write_cycle(conn, due, outcomes, usage, RULES, RunInfo(started_at=at))


def generate(database: Database, seed: int = 7) -> Dataset:
    """Four channels, 300 monitor cycles of irregular length."""
    rnd = random.Random(seed)
    member, outsider = create_user(database), create_user(database)
    team = make_team(database, member)
    channels = [uuid.uuid4() for _ in range(4)]
    with database.service() as conn:
        for cid in channels:
            conn.execute(
                "insert into public.channels (id, platform, platform_channel_id)"
                " values (%s, 'twitch', %s)",
                (cid, cid.hex),
            )
            conn.execute(
                "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
                (team, cid),
            )
    followers = {cid: rnd.randrange(1_000, 5_000) for cid in channels}
    live = {cid: rnd.random() < 0.7 for cid in channels}
    down_until: dict[uuid.UUID, int] = {}
    at = T0
    for k in range(CYCLES):
        at += timedelta(seconds=rnd.choice([45, 60, 60, 61.5, 75, 90]))
        outcomes: dict[uuid.UUID, ChannelOutcome] = {}
        for n, cid in enumerate(channels):
            if down_until.get(cid, -1) >= k:
                outcomes[cid] = ChannelOutcome(error="boom")  # no sample: a gap
                continue
            if rnd.random() < 0.01:
                down_until[cid] = k + rnd.randrange(3, 14)  # some gaps exceed max_gap
            if rnd.random() < 0.03:
                live[cid] = not live[cid]
            observed = at + timedelta(microseconds=rnd.randrange(0, 999_999))
            if live[cid]:
                # Channel 0 always hides its count; the others sometimes.
                hidden = n == 0 or rnd.random() < 0.15
                viewers = None if hidden else rnd.randrange(0, 2_000)
                obs = Observation(observed, True, f"s{n}", "title", "cat", viewers, None)
            else:
                obs = Observation(observed, False)
            outcome = ChannelOutcome(observation=obs)
            if rnd.random() < 0.05:
                followers[cid] += rnd.randrange(-3, 40)
                outcome.followers = followers[cid] if rnd.random() < 0.9 else None
                outcome.subscribers = 1
                outcome.stats_at = observed
            outcomes[cid] = outcome
        write_cycle(database, outcomes, at)
    samples: dict[uuid.UUID, list[Sample]] = {}
    stats: dict[uuid.UUID, list[tuple[datetime, int]]] = {}
    with database.service() as conn:
        for cid in channels:
            samples[cid] = conn.execute(
                "select observed_at, viewer_count, is_live from public.viewer_samples"
                " where channel_id = %s order by observed_at",
                (cid,),
            ).fetchall()
            stats[cid] = conn.execute(
                "select observed_at, followers from public.channel_stats"
                " where channel_id = %s and followers is not null order by observed_at",
                (cid,),
            ).fetchall()
    return Dataset(team, member, outsider, channels, samples, stats)


@pytest.fixture(scope="module")
def data(database: Database) -> Dataset:
    return generate(database)


def rollup_rows(database: Database, channels: Sequence[uuid.UUID]) -> dict[str, list[Any]]:
    columns = (
        "channel_id, {key}, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,"
        " known_viewer_sample_count, live_sample_count, followers_gained"
    )
    with database.service() as conn:
        return {
            table: conn.execute(
                f"select {columns.format(key=key)} from public.channel_rollups_{table}"
                f" where channel_id = any(%s) order by channel_id, {key}",
                (list(channels),),
            ).fetchall()
            for table, key in (("hourly", "hour"), ("daily", "day"))
        }


def figures(row: Sequence[Any]) -> Figures:
    """Figures from the tail of a row: live, viewer seconds, peak, sum, known, live n, gained."""
    return Figures(*row)


def hours(lo: datetime, hi: datetime) -> Iterator[datetime]:
    at = lo.replace(minute=0, second=0, microsecond=0)
    while at < hi:
        yield at
        at += timedelta(hours=1)


def test_data_covers_the_cases(data: Dataset) -> None:
    all_samples = [s for ss in data.samples.values() for s in ss]
    assert any(live and viewers is None for _, viewers, live in all_samples)
    assert any(not live for _, _, live in all_samples)
    gaps = [b[0] - a[0] for ss in data.samples.values() for a, b in itertools.pairwise(ss)]
    assert max(gaps) > MAX_GAP
    # Gaps the default 10 minutes would hold across and this grace does not.
    assert any(MAX_GAP < g <= timedelta(minutes=10) for g in gaps)
    assert min(s[0] for s in all_samples) < TODAY < max(s[0] for s in all_samples)
    assert all(len(st) >= 2 for st in data.stats.values())


def test_incremental_rollups_match_the_raw_samples(data: Dataset, database: Database) -> None:
    rows = rollup_rows(database, data.channels)
    first, last = T0 - timedelta(hours=1), T0 + timedelta(hours=8)
    for cid in data.channels:
        expected = {}
        for hour in hours(first, last):
            f = data.oracle(cid, hour, hour + timedelta(hours=1))
            if f.live_seconds or f.live_sample_count or f.followers_gained is not None:
                expected[hour] = f
        got = {r[1]: figures(r[2:]) for r in rows["hourly"] if r[0] == cid}
        assert got == expected
        days = {}
        for day in (TODAY - timedelta(days=1), TODAY):
            days[day.date()] = data.oracle(cid, day, day + timedelta(days=1))
        assert {r[1]: figures(r[2:]) for r in rows["daily"] if r[0] == cid} == days


def test_bulk_rebuild_equals_the_incremental_rollups(data: Dataset, database: Database) -> None:
    incremental = rollup_rows(database, data.channels)
    with database.service() as conn:
        conn.execute(
            "select analytics.rebuild_rollups(%s, %s, %s)",
            (data.channels, (TODAY - timedelta(days=1)).date(), (TODAY + timedelta(days=1)).date()),
        )
    assert rollup_rows(database, data.channels) == incremental


def test_a_repeated_cycle_adds_nothing_to_the_rollups(database: Database) -> None:
    owner = create_user(database)
    team = make_team(database, owner)
    cid = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id)"
            " values (%s, 'twitch', %s)",
            (cid, cid.hex),
        )
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)", (team, cid)
        )
    at = datetime(2026, 11, 10, 10, 55, tzinfo=UTC)
    for minute in (0, 1, 1):
        when = at + timedelta(minutes=minute)
        obs = Observation(when, True, "s", None, None, 10 * (minute + 1), None)
        write_cycle(
            database, {cid: ChannelOutcome(observation=obs, followers=5, stats_at=when)}, when
        )
    rows = rollup_rows(database, [cid])["hourly"]
    # Each count stands for the half-intervals either side of it: 10 over 10:55 to
    # 10:55:30, 20 over 10:55:30 to 10:56 (its forward half waits for the next sample).
    assert [r[2:] for r in rows] == [(Decimal(60), Decimal(10 * 30 + 20 * 30), 20, 30, 2, 2, 0)]


def test_an_hour_boundary_inside_a_half_interval_splits_it(database: Database) -> None:
    # Samples at 10:58 (100) and 11:01 (300): the boundary between them is their
    # midpoint, 10:59:30, and 11:00 falls inside the second sample's half, which
    # splits between the hours; the session, the incremental rollups, the bulk
    # rebuild and the raw computation agree.
    owner = create_user(database)
    team = make_team(database, owner)
    cid = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id)"
            " values (%s, 'twitch', %s)",
            (cid, cid.hex),
        )
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)", (team, cid)
        )
    at = datetime(2026, 11, 12, 10, 58, tzinfo=UTC)
    for minute, viewers in ((0, 100), (3, 300), (4, 300)):
        when = at + timedelta(minutes=minute)
        obs = Observation(when, True, "s", None, None, viewers, None)
        write_cycle(database, {cid: ChannelOutcome(observation=obs)}, when)
    ten, eleven = at.replace(minute=0), at.replace(hour=11, minute=0)
    # 10:00: 100 over 10:58 to 10:59:30, 300 over 10:59:30 to 11:00;
    # 11:00: 300 over 11:00 to 11:02 (the rest of 11:01 to 11:02's gap).
    expected = {ten: (Decimal(120), Decimal(100 * 90 + 300 * 30)),
                eleven: (Decimal(120), Decimal(300 * 120))}  # fmt: skip
    rows = rollup_rows(database, [cid])["hourly"]
    assert {r[1]: (r[2], r[3]) for r in rows} == expected
    with database.service() as conn:
        raw = conn.execute(
            "select bucket, live_seconds, viewer_seconds from analytics.raw_buckets(%s, %s, %s,"
            " interval '1 hour') order by bucket",
            ([cid], ten - timedelta(hours=1), eleven + timedelta(hours=2)),
        ).fetchall()
        session = conn.execute(
            "select viewer_seconds from public.stream_sessions where channel_id = %s", (cid,)
        ).fetchone()
        conn.execute(
            "select analytics.rebuild_rollups(%s, %s, %s)",
            ([cid], ten.date(), ten.date() + timedelta(days=1)),
        )
    assert {r[0]: (r[1], r[2]) for r in raw} == expected
    assert session is not None
    assert float(session[0]) == float(sum(v for _, v in expected.values()))
    assert {r[1]: (r[2], r[3]) for r in rollup_rows(database, [cid])["hourly"]} == expected


def overview(database: Database, user: uuid.UUID, team: uuid.UUID,
             lo: datetime, hi: datetime) -> list[tuple[Any, ...]]:  # fmt: skip
    with database.user(claims_for(user)) as conn:
        return conn.execute(
            "select channel_id, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,"
            " known_viewer_sample_count, live_sample_count, followers_gained, avg_viewers,"
            " hours_streamed, hours_watched"
            " from public.analytics_team_overview(%s, %s, %s)",
            (team, lo, hi),
        ).fetchall()


RANGES = [
    # whole hours, partial edges, within one hour, across midnight, outside the data
    (T0.replace(minute=0, second=0, microsecond=0), TODAY + timedelta(hours=3)),
    (T0 + timedelta(minutes=7, seconds=3, microseconds=17), TODAY + timedelta(minutes=41)),
    (TODAY + timedelta(minutes=5), TODAY + timedelta(minutes=50, microseconds=1)),
    (TODAY - timedelta(days=3, minutes=1), TODAY + timedelta(days=2, seconds=1)),
    (TODAY - timedelta(minutes=1, seconds=30), TODAY + timedelta(seconds=30)),
    (TODAY - timedelta(days=10), TODAY - timedelta(days=9)),
]


@pytest.mark.parametrize(("lo", "hi"), RANGES)
def test_team_overview_equals_raw(data: Dataset, database: Database,
                                  lo: datetime, hi: datetime) -> None:  # fmt: skip
    rows = overview(database, data.member, data.team, lo, hi)
    assert [r[0] for r in rows] == [None, *sorted(data.channels)]
    total = Figures(Decimal(0), Decimal(0), None, 0, 0, 0, None)
    for row in rows[1:]:
        expected = data.oracle(row[0], lo, hi)
        total = add(total, expected)
        assert figures(row[1:8]) == expected
        assert same_ratio(row[8], avg(expected))
        assert same_ratio(row[9], expected.live_seconds / 3600)
        assert same_ratio(row[10], expected.viewer_seconds / 3600)
    assert figures(rows[0][1:8]) == total
    assert same_ratio(rows[0][8], avg(total))
    # The raw-sample computation the benchmark uses agrees too.
    with database.service() as conn:
        raw = conn.execute(
            "select channel_id, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,"
            " known_viewer_sample_count, live_sample_count, followers_gained"
            " from analytics.raw_buckets(%s, %s, %s) order by channel_id",
            (data.channels, lo, hi),
        ).fetchall()
    by_channel = {r[0]: figures(r[1:]) for r in raw}
    for row in rows[1:]:
        assert by_channel.get(row[0], Figures(Decimal(0), Decimal(0), None, 0, 0, 0, None)) == (
            figures(row[1:8])
        )


def test_overview_totals_see_hidden_counts_as_unknown(data: Dataset, database: Database) -> None:
    hidden = data.channels[0]  # hides its count throughout
    lo, hi = RANGES[0]
    [row] = [r for r in overview(database, data.member, data.team, lo, hi) if r[0] == hidden]
    assert row[1] > 0, "it streamed"
    assert (row[2], row[3], row[5], row[8]) == (0, None, 0, None)


TIMELINE_RANGES = [
    *RANGES[:3],
    (T0, T0 + timedelta(hours=3, minutes=2)),  # 1 minute buckets
    (T0 - timedelta(hours=20), T0 + timedelta(hours=9)),  # 15 minute buckets
    (T0 - timedelta(days=2), T0 + timedelta(days=2, minutes=13)),  # 1 hour buckets
    (T0 - timedelta(days=40), T0 + timedelta(days=3)),  # 6 hours
    (T0 - timedelta(days=100), T0 + timedelta(days=1)),  # 12 hours
    (T0 - timedelta(days=200), T0 + timedelta(days=1)),  # 1 day, daily rollups
    (T0 - timedelta(days=900), T0 + timedelta(days=1)),  # 7 days
]


@pytest.mark.parametrize(("lo", "hi"), TIMELINE_RANGES)
def test_channel_timeline_equals_raw(data: Dataset, database: Database,
                                     lo: datetime, hi: datetime) -> None:  # fmt: skip
    for cid in data.channels[:2]:
        with database.user(claims_for(data.member)) as conn:
            rows = conn.execute(
                "select bucket_start, bucket_end, live_seconds, viewer_seconds, peak_viewers,"
                " viewer_count_sum, known_viewer_sample_count, live_sample_count,"
                " followers_gained, avg_viewers"
                " from public.analytics_channel_timeline(%s, %s, %s)",
                (cid, lo, hi),
            ).fetchall()
        assert 1 <= len(rows) <= 301
        assert rows[0][0] == lo
        assert rows[-1][1] == hi
        assert all(a[1] == b[0] for a, b in itertools.pairwise(rows))
        for row in rows:
            expected = data.oracle(cid, row[0], row[1])
            assert figures(row[2:9]) == expected, row[0]
            assert same_ratio(row[9], avg(expected))


def test_timeline_bucket_ladder(database: Database) -> None:
    with database.service() as conn:
        got = [
            conn.execute(
                "select extract(epoch from public.analytics_timeline_bucket(%s, %s))::int",
                (T0, T0 + span),
            ).fetchone()
            for span in (
                timedelta(hours=1),
                timedelta(days=1),
                timedelta(days=30),
                timedelta(days=365),
            )
        ]
    assert got == [(60,), (300,), (3 * 3600,), (7 * 86400,)]


def test_channel_sessions_match_their_samples(data: Dataset, database: Database) -> None:
    lo, hi = T0, T0 + timedelta(days=1)
    for cid in data.channels:
        with database.user(claims_for(data.member)) as conn:
            rows = conn.execute(
                "select session_id, sample_count, known_viewer_sample_count, peak_viewers,"
                " viewer_count_sum, avg_viewers, started_at"
                " from public.analytics_channel_sessions(%s, %s, %s)",
                (cid, lo, hi),
            ).fetchall()
        with database.service() as conn:
            raw = conn.execute(
                "select session_id, count(*), count(viewer_count), max(viewer_count),"
                " coalesce(sum(viewer_count), 0), avg(viewer_count), min(observed_at)"
                " from public.viewer_samples where channel_id = %s and session_id is not null"
                " group by session_id order by min(observed_at) desc",
                (cid,),
            ).fetchall()
        assert [r[:6] for r in rows] == [r[:6] for r in raw]
        assert all(r[6] <= q[6] for r, q in zip(rows, raw, strict=True))


def test_sessions_hours_watched_equal_the_rollups_and_raw(
    data: Dataset, database: Database
) -> None:
    # One hold rule in three places: the monitor's running session total, the
    # incremental rollups and the raw computation (each channel here streams one
    # broadcast, so its sessions cover all its live samples).
    lo, hi = T0 - timedelta(hours=1), T0 + timedelta(days=1)
    for cid in data.channels:
        with database.service() as conn:
            row = conn.execute(
                "select coalesce(sum(viewer_seconds), 0) from public.stream_sessions"
                " where channel_id = %s",
                (cid,),
            ).fetchone()
            raw = conn.execute(
                "select coalesce(sum(viewer_seconds), 0) from analytics.raw_buckets(%s, %s, %s)",
                ([cid], lo, hi),
            ).fetchone()
            rolled = conn.execute(
                "select coalesce(sum(viewer_seconds), 0) from public.channel_rollups_hourly"
                " where channel_id = %s",
                (cid,),
            ).fetchone()
        assert row is not None
        assert raw is not None
        assert rolled is not None
        expected = data.oracle(cid, lo, hi).viewer_seconds
        assert raw[0] == rolled[0] == expected
        # Sessions add floats: equal to the microsecond-exact figure within rounding.
        assert float(row[0]) == pytest.approx(float(expected), rel=1e-9, abs=1e-3)


def test_leaderboard_ranks_the_team_from_the_refreshed_view(
    data: Dataset, database: Database
) -> None:
    refresh_leaderboard(database)
    with database.user(claims_for(data.member)) as conn:
        rows = conn.execute(
            "select rank, channel_id, window_start, window_end, live_seconds, viewer_seconds,"
            " peak_viewers, viewer_count_sum, known_viewer_sample_count, live_sample_count,"
            " followers_gained, avg_viewers"
            " from public.analytics_leaderboard(%s, '7d', 'hours_watched')",
            (data.team,),
        ).fetchall()
    assert sorted(r[1] for r in rows) == sorted(data.channels)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    watched = [r[5] for r in rows]
    assert watched == sorted(watched, reverse=True)
    for row in rows:
        assert row[3] - row[2] == timedelta(days=7)
        lo = datetime.combine(row[2], datetime.min.time(), UTC)
        hi = datetime.combine(row[3], datetime.min.time(), UTC)
        expected = data.oracle(row[1], lo, hi)
        assert figures(row[4:11]) == expected
        assert same_ratio(row[11], avg(expected))


def test_non_members_get_nothing(data: Dataset, database: Database) -> None:
    refresh_leaderboard(database)
    lo, hi = RANGES[0]
    cid = data.channels[1]
    with database.user(claims_for(data.outsider)) as conn:
        for sql, args in (
            ("select * from public.analytics_team_overview(%s, %s, %s)", (data.team, lo, hi)),
            ("select * from public.analytics_channel_timeline(%s, %s, %s)", (cid, lo, hi)),
            ("select * from public.analytics_channel_sessions(%s, %s, %s)", (cid, lo, hi)),
            ("select * from public.analytics_leaderboard(%s)", (data.team,)),
        ):
            assert conn.execute(sql, args).fetchall() == [], sql
    # ... while a member sees data through every one of them.
    with database.user(claims_for(data.member)) as conn:
        assert conn.execute(
            "select count(*) from public.analytics_channel_sessions(%s, %s, %s)", (cid, lo, hi)
        ).fetchone() != (0,)


@pytest.mark.usefixtures("app_env")
def test_the_timer_refreshes_the_leaderboard(
    data: Dataset, database: Database, app_functions: dict[str, Any]
) -> None:
    cid = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id)"
            " values (%s, 'twitch', %s)",
            (cid, cid.hex),
        )
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
            (data.team, cid),
        )

    def watched() -> Decimal:
        with database.user(claims_for(data.member)) as conn:
            rows = conn.execute(
                "select channel_id, viewer_seconds"
                " from public.analytics_leaderboard(%s, '30d', 'hours_watched', 50)",
                (data.team,),
            ).fetchall()
        return dict(rows)[cid]

    refresh_leaderboard(database)
    assert watched() == 0
    at = TODAY + timedelta(hours=5, seconds=7)
    for minute in range(3):
        when = at + timedelta(minutes=minute)
        obs = Observation(when, True, "late", None, None, 1_000, None)
        write_cycle(database, {cid: ChannelOutcome(observation=obs)}, when)
    assert watched() == 0, "the view only changes when refreshed"
    app_functions["analytics_refresh"].get_user_function()(TimerRequest(past_due=False))
    assert watched() == 1_000 * 120
