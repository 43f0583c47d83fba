"""The monitor's write transaction against the real database."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from shared.db import Database
from shared.monitor import store
from shared.monitor.stitching import Observation
from tests.factories.channels import make_channels
from tests.factories.monitor import T0, cycle, live, off
from tests.factories.teams import make_team


def sessions(database: Database, channel: uuid.UUID) -> list[tuple[object, ...]]:
    with database.service() as conn:
        return conn.execute(
            "select started_at, ended_at, sample_count, peak_viewers, avg_viewers, viewer_seconds"
            " from public.stream_sessions where channel_id = %s order by started_at",
            (channel,),
        ).fetchall()


def samples(database: Database, channel: uuid.UUID) -> Sequence[tuple[object, ...]]:
    with database.service() as conn:
        return conn.execute(
            "select observed_at, viewer_count, session_id is not null, is_live"
            " from public.viewer_samples where channel_id = %s order by observed_at",
            (channel,),
        ).fetchall()


def status(database: Database, channel: uuid.UUID) -> tuple[object, ...] | None:
    with database.service() as conn:
        return conn.execute(
            "select is_live, viewer_count, session_id is not null, changed_at"
            " from public.channel_status where channel_id = %s",
            (channel,),
        ).fetchone()


def test_a_stream_from_start_to_end(database: Database) -> None:
    (ch,) = make_channels(database, make_team(database))
    cycle(database, {ch: live(0, 100)}, T0)
    assert status(database, ch) == (True, 100, True, T0)
    cycle(database, {ch: live(1, 300)}, T0 + timedelta(minutes=1))
    for minute in (2, 5, 11):
        cycle(database, {ch: off(minute)}, T0 + timedelta(minutes=minute))
        assert sessions(database, ch)[0][1] is None, "open within the grace"
    report = cycle(database, {ch: off(12)}, T0 + timedelta(minutes=12))
    assert report.sessions_closed == 1
    [(started, ended, count, peak, avg, secs)] = sessions(database, ch)
    assert started == T0 - timedelta(seconds=30)
    assert ended == T0 + timedelta(minutes=1)
    assert (count, peak, avg) == (2, 300, 200)
    # head: 30 s since the platform's start as a ramp from none to 100 (half of
    # 30 s x 100), 100 on to the midpoint towards the next sample (30 s), 300 back
    # to that midpoint (30 s) and on to the midpoint towards the first offline
    # one (30 s)
    assert secs == 100 * 15 + 100 * 30 + 300 * 30 + 300 * 30
    with database.service() as conn:
        rows = conn.execute(
            "select observed_at, holds_from, max_gap_s from public.viewer_samples"
            " where channel_id = %s order by observed_at limit 3",
            (ch,),
        ).fetchall()
    half = timedelta(seconds=30)
    assert rows == [
        (T0, T0 - half / 2, 600),  # the head's ramp: half-way from the platform's start
        (T0 + timedelta(minutes=1), T0 + half, 600),
        (T0 + timedelta(minutes=2), T0 + timedelta(minutes=1) + half, 600),
    ]
    assert [s[3] for s in samples(database, ch)] == [True, True, False, False, False, False]
    assert status(database, ch) == (False, None, False, T0 + timedelta(minutes=2))


def test_average_equals_the_raw_samples(database: Database) -> None:
    (ch,) = make_channels(database, make_team(database))
    for minute, viewers in enumerate([10, None, 11, 12, None, 13]):
        cycle(database, {ch: live(minute, viewers)}, T0 + timedelta(minutes=minute))
    with database.service() as conn:
        row = conn.execute(
            "select s.avg_viewers, (select avg(v.viewer_count) from public.viewer_samples v"
            "  where v.session_id = s.id), s.known_viewer_sample_count, s.sample_count"
            " from public.stream_sessions s where s.channel_id = %s",
            (ch,),
        ).fetchone()
    assert row is not None
    assert row[0] == row[1] == pytest.approx(11.5)
    assert row[2:] == (4, 6)


def test_a_failed_channel_keeps_its_state(database: Database) -> None:
    a, b = make_channels(database, make_team(database), 2)
    cycle(database, {a: live(0), b: live(0)}, T0)
    # 20 minutes of failures for `a`: no offline, no closed session.
    for minute in range(1, 21):
        report = cycle(database, {a: None, b: live(minute)}, T0 + timedelta(minutes=minute))
        assert report.status == "partial"
    assert status(database, a) == (True, 100, True, T0)
    assert sessions(database, a)[0][1] is None
    assert len(samples(database, a)) == 1
    with database.service() as conn:
        row = conn.execute(
            "select consecutive_failures, last_error from public.channel_poll_state"
            " where channel_id = %s",
            (a,),
        ).fetchone()
    assert row == (20, "boom")
    # And when it answers again the same broadcast continues.
    cycle(database, {a: live(21), b: live(21)}, T0 + timedelta(minutes=21))
    assert len(sessions(database, a)) == 1


def test_a_repeated_cycle_writes_nothing_twice(database: Database) -> None:
    (ch,) = make_channels(database, make_team(database))
    cycle(database, {ch: live(0)}, T0)
    cycle(database, {ch: live(1)}, T0 + timedelta(minutes=1))
    report = cycle(database, {ch: live(1)}, T0 + timedelta(minutes=1))
    assert report.samples_written == 0
    assert report.status_changes == 0
    assert len(samples(database, ch)) == 2
    assert sessions(database, ch)[0][2] == 2


def test_a_database_failure_leaves_no_partial_cycle(database: Database) -> None:
    a, b = make_channels(database, make_team(database), 2)
    bad = Observation(T0, True, "s", viewer_count=-5)  # violates a check constraint
    with pytest.raises(psycopg.errors.CheckViolation):
        cycle(database, {a: live(0), b: bad}, T0)
    assert sessions(database, a) == []
    assert samples(database, a) == []
    assert status(database, a) is None
    # The next cycle proceeds normally.
    cycle(database, {a: live(1), b: live(1)}, T0 + timedelta(minutes=1))
    assert len(sessions(database, a)) == 1


def test_due_channels_follow_the_shortest_plan_interval(database: Database) -> None:
    free_team, pro_team = make_team(database, "free"), make_team(database, "pro")
    (shared_channel,) = make_channels(database, free_team)
    (free_only,) = make_channels(database, free_team)
    (paused,) = make_channels(database, pro_team)
    with database.service() as conn:
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
            (pro_team, shared_channel),
        )
        conn.execute(
            "update public.team_channels set paused_at = now() where channel_id = %s", (paused,)
        )
    mine = {shared_channel, free_only, paused}

    def due(at: datetime) -> set[uuid.UUID]:
        with database.service() as conn:
            return {d.id for d in store.due_channels(conn, at)} & mine

    assert due(T0) == {shared_channel, free_only}
    with database.service() as conn:
        assert set(store.due_channel_ids(conn, T0)) & mine == {shared_channel, free_only}
    cycle(database, {shared_channel: off(0), free_only: off(0)}, T0)
    assert due(T0 + timedelta(seconds=30)) == set()
    assert due(T0 + timedelta(seconds=60)) == {shared_channel}  # pro: every 60 s
    assert due(T0 + timedelta(seconds=300)) == {shared_channel, free_only}  # free: 300 s
    with database.service() as conn:
        intervals = {
            d.id: d.interval_s for d in store.due_channels(conn, T0, only=[shared_channel])
        }
    assert intervals == {shared_channel: 60}


def test_quota_usage_and_run_rows(database: Database) -> None:
    (ch,) = make_channels(database, make_team(database))
    report = cycle(database, {ch: live(0)}, T0)
    with database.service() as conn:
        run = conn.execute(
            "select status, channels_checked, samples_written, requests from public.monitor_runs"
            " where id = %s",
            (report.run_id,),
        ).fetchone()
        usage = conn.execute(
            "select requests from public.platform_quota_usage"
            " where platform = 'twitch' and quota_day = %s",
            (T0.date(),),
        ).fetchone()
    assert run == ("succeeded", 1, 1, {"twitch": 1})
    assert usage is not None
    assert usage[0] >= 1


def test_youtube_quota_day_is_pacific() -> None:
    late_utc = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)  # 23:30 on the 24th in Los Angeles
    assert store.quota_day("youtube", late_utc) == "2026-11-24"
    assert store.quota_day("twitch", late_utc) == "2026-11-25"
