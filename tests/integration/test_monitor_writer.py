"""`CycleWriter`: a cycle written part by part (each platform as its fetch ends)
writes exactly what the same cycle written in one go writes, against the real
database; a database error part-way loses the whole cycle, never half of it."""

import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from shared.db import Database
from shared.monitor import store
from shared.monitor.state import ChannelOutcome, PlatformUsage, PollState, RunInfo
from shared.monitor.stitching import Observation
from tests.factories.channels import make_channels
from tests.factories.monitor import RULES, T0, cycle, live, off
from tests.factories.teams import make_team

# Per channel, the observations of three cycles (a minute apart): a session
# opened in the last cycle (its sample and poll state wait for the new id),
# one continued, one closed after the grace, one offline throughout, one whose
# platform failed, one never answered at all (no outcome).
SCRIPT: list[list[Observation | None]] = [
    [off(0), off(1), live(2)],
    [live(0), live(1), live(2)],
    [live(0), off(1), off(12)],
    [off(0), off(1), off(2)],
    [live(0), live(1), None],
]
TWITCH, YOUTUBE = slice(0, 3), slice(3, 5)


def _channels(database: Database) -> tuple[list[uuid.UUID], uuid.UUID]:
    team = make_team(database)
    ids = make_channels(database, team, 3, platform="twitch")
    ids += make_channels(database, team, 3, platform="youtube")
    return ids[:5], ids[5]


def _outcomes(ids: list[uuid.UUID], step: int) -> dict[uuid.UUID, ChannelOutcome]:
    outcomes = {}
    for cid, script in zip(ids, SCRIPT, strict=True):
        obs = script[step]
        poll = PollState(candidate_video_ids=("v1", 'q"x'), feed_checked_at=T0) if obs else None
        outcomes[cid] = ChannelOutcome(observation=obs, error=None if obs else "boom", poll=poll)
    return outcomes


def _last_minute(step: int) -> int:
    return 12 if step == 2 else step


def _state(database: Database, ids: list[uuid.UUID]) -> list[Any]:
    """Everything the cycles wrote for these channels, with ids replaced by positions."""
    pos = {cid: i for i, cid in enumerate(ids)}
    with database.service() as conn:
        sessions = conn.execute(
            "select id, channel_id, platform_stream_id, started_at, last_seen_at, ended_at,"
            " peak_viewers, viewer_count_sum, viewer_seconds, sample_count"
            " from public.stream_sessions where channel_id = any(%s) order by id",
            (ids,),
        ).fetchall()
        sid = {row[0]: (pos[row[1]], row[3]) for row in sessions}
        samples = conn.execute(
            "select channel_id, observed_at, viewer_count, session_id, is_live, holds_from,"
            " max_gap_s from public.viewer_samples where channel_id = any(%s)",
            (ids,),
        ).fetchall()
        polls = conn.execute(
            "select channel_id, last_polled_at, consecutive_failures, last_error,"
            " last_sample_at, last_sample_live, last_session_id, candidate_video_ids,"
            " feed_checked_at from public.channel_poll_state where channel_id = any(%s)",
            (ids,),
        ).fetchall()
        statuses = conn.execute(
            "select channel_id, is_live, platform_stream_id, viewer_count, session_id"
            " from public.channel_status where channel_id = any(%s)",
            (ids,),
        ).fetchall()
    return [
        sorted((pos[r[1]], *r[2:]) for r in sessions),
        sorted((pos[r[0]], r[1], r[2], sid.get(r[3]), *r[4:]) for r in samples),
        sorted((pos[r[0]], r[1], r[2], r[3], r[4], r[5], sid.get(r[6]), *r[7:]) for r in polls),
        sorted((pos[r[0]], r[1], r[2], r[3], sid.get(r[4])) for r in statuses),
    ]


def _write_in_parts(database: Database, ids: list[uuid.UUID], silent: uuid.UUID, step: int) -> None:
    at = T0 + timedelta(minutes=_last_minute(step))
    with database.service() as conn:
        due = store.due_channels(conn, at, only=[*ids, silent])
        by_id = {d.id: d for d in due}
        outcomes = _outcomes(ids, step)
        writer = store.CycleWriter(conn, RULES, RunInfo(started_at=at))
        # YouTube's part ends first; Twitch's next; the silent channel is never
        # added (its platform had no fetcher): `finish` adds it.
        writer.add([by_id[c] for c in ids[YOUTUBE]], {c: outcomes[c] for c in ids[YOUTUBE]})
        writer.add([by_id[c] for c in ids[TWITCH]], {c: outcomes[c] for c in ids[TWITCH]})
        usage = {"twitch": PlatformUsage(requests=1), "youtube": PlatformUsage(requests=1)}
        report = writer.finish(due, outcomes, usage)
    assert report.channels_due == 6
    assert report.channels_checked == sum(o.observation is not None for o in outcomes.values())


def _write_at_once(database: Database, ids: list[uuid.UUID], silent: uuid.UUID, step: int) -> None:
    at = T0 + timedelta(minutes=_last_minute(step))
    with database.service() as conn:
        due = store.due_channels(conn, at, only=[*ids, silent])
        usage = {"twitch": PlatformUsage(requests=1), "youtube": PlatformUsage(requests=1)}
        report = store.write_cycle(conn, due, _outcomes(ids, step), usage, RULES,
                                   RunInfo(started_at=at))  # fmt: skip
    assert report.channels_due == 6


def test_parts_write_what_one_go_writes(database: Database) -> None:
    whole, whole_silent = _channels(database)
    parts, parts_silent = _channels(database)
    for step in range(3):
        _write_at_once(database, whole, whole_silent, step)
        _write_in_parts(database, parts, parts_silent, step)
        assert _state(database, parts) == _state(database, whole)
    sessions, samples, polls, statuses = _state(database, parts)
    # The session opened in the last cycle got its id into its sample, poll
    # state and status (held back until the session was inserted).
    opened = [s for s in sessions if s[0] == 0]
    assert len(opened) == 1
    key = (0, opened[0][2])
    assert any(s[0] == 0 and s[3] == key for s in samples)
    assert next(p for p in polls if p[0] == 0)[6] == key
    assert next(s for s in statuses if s[0] == 0)[4] == key
    # The channel that never answered failed three times over.
    with database.service() as conn:
        row = conn.execute(
            "select consecutive_failures, last_error from public.channel_poll_state"
            " where channel_id = %s",
            (parts_silent,),
        ).fetchone()
    assert row == (3, "no answer")


def _failing_cycle(database: Database, good: uuid.UUID, bad: uuid.UUID) -> None:
    at = T0 + timedelta(minutes=1)
    with database.service() as conn:
        due = {d.id: d for d in store.due_channels(conn, at, only=[good, bad])}
        writer = store.CycleWriter(conn, RULES, RunInfo(started_at=at))
        writer.add([due[good]], {good: ChannelOutcome(observation=off(1))})
        # A count no integer column holds: the part's COPY fails...
        writer.add([due[bad]], {bad: ChannelOutcome(observation=live(1, viewers=2**40))})
        # ...later parts are not written on top of the aborted transaction...
        writer.add([], {})
        # ...and `finish` raises the error (the caller's transaction rolls back).
        writer.finish(list(due.values()), {}, {})


def test_a_database_error_in_a_part_loses_the_whole_cycle(database: Database) -> None:
    (good, bad) = make_channels(database, make_team(database), 2)
    before = cycle(database, {good: off(0), bad: live(0)}, T0)
    assert before.samples_written == 2
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):
        _failing_cycle(database, good, bad)
    with database.service() as conn:
        counts = conn.execute(
            "select count(*) filter (where channel_id = %s), count(*) from public.viewer_samples"
            " where channel_id = any(%s)",
            (good, [good, bad]),
        ).fetchone()
        polled = conn.execute(
            "select max(last_polled_at) from public.channel_poll_state where channel_id = any(%s)",
            ([good, bad],),
        ).fetchone()
    assert counts == (1, 2)  # only the first cycle's samples
    assert polled == (T0,)
