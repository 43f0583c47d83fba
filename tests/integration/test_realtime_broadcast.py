"""Broadcast batching: the monitor's write transaction sends one private message
per team per cycle, carrying exactly that team's changed channels."""

import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from shared.db import Database
from shared.monitor import store
from shared.monitor.state import ChannelOutcome, PlatformUsage, RunInfo
from shared.monitor.stitching import Observation
from shared.realtime import STATUS_EVENT, broadcast_status_changes, status_topic
from tests.factories.monitor import RULES, T0, cycle, live, off
from tests.factories.teams import make_team


def track(database: Database, channel: uuid.UUID, *teams: uuid.UUID) -> None:
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id)"
            " values (%s, 'twitch', %s) on conflict do nothing",
            (channel, channel.hex),
        )
        for team in teams:
            conn.execute(
                "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
                (team, channel),
            )


def messages(database: Database, team: uuid.UUID) -> list[dict[str, Any]]:
    """The broadcasts sent to a team's topic, oldest first."""
    with database.service() as conn:
        rows = conn.execute(
            "select payload, event, private, extension from realtime.messages"
            " where topic = %s order by inserted_at, id",
            (status_topic(team),),
        ).fetchall()
    for _, event, private, extension in rows:
        assert (event, private, extension) == (STATUS_EVENT, True, "broadcast")
    return [row[0] for row in rows]


def channel_ids(message: dict[str, Any]) -> set[uuid.UUID]:
    return {uuid.UUID(c["channel_id"]) for c in message["channels"]}


def test_one_message_per_team_per_cycle_with_exactly_its_changed_channels(
    database: Database,
) -> None:
    team_a, team_b, team_free = (
        make_team(database, "pro"),
        make_team(database, "business"),
        make_team(database, "free"),
    )
    a1, a2, b1, shared, free1 = (uuid.uuid4() for _ in range(5))
    track(database, a1, team_a)
    track(database, a2, team_a)
    track(database, b1, team_b)
    track(database, shared, team_a, team_b)
    track(database, free1, team_free)
    everyone = [a1, a2, b1, shared, free1]

    def observe(minute: int, viewers: dict[uuid.UUID, int]) -> dict[uuid.UUID, Observation | None]:
        return {c: live(minute, viewers.get(c, 100)) for c in everyone}

    # Cycle 1: every channel goes live.
    cycle(database, observe(0, {}), T0)
    [first_a] = messages(database, team_a)
    [first_b] = messages(database, team_b)
    assert channel_ids(first_a) == {a1, a2, shared}
    assert channel_ids(first_b) == {b1, shared}
    assert first_a["team_id"] == str(team_a)
    assert {c["is_live"] for c in first_a["channels"]} == {True}
    assert messages(database, team_free) == [], "the free plan has no realtime feature"

    # Cycle 2: nothing changed, nothing sent.
    report = cycle(database, observe(1, {}), T0 + timedelta(minutes=1))
    assert report.status_changes == 0
    assert len(messages(database, team_a)) == 1
    assert len(messages(database, team_b)) == 1

    # Cycle 3: two of A's channels change (one of them shared with B).
    cycle(database, observe(2, {a2: 250, shared: 7}), T0 + timedelta(minutes=2))
    second_a = messages(database, team_a)[1]
    assert channel_ids(second_a) == {a2, shared}
    assert {c["channel_id"]: c["viewer_count"] for c in second_a["channels"]} == {
        str(a2): 250,
        str(shared): 7,
    }
    [_, second_b] = messages(database, team_b)
    assert channel_ids(second_b) == {shared}

    # Cycle 4: one channel goes offline; only its team hears of it.
    cycle(database, {**observe(3, {a2: 250, shared: 7}), b1: off(3)}, T0 + timedelta(minutes=3))
    assert len(messages(database, team_a)) == 2
    third_b = messages(database, team_b)[2]
    assert channel_ids(third_b) == {b1}
    assert third_b["channels"][0]["is_live"] is False


def test_a_rolled_back_cycle_broadcasts_nothing(database: Database) -> None:
    team = make_team(database, "pro")
    channel = uuid.uuid4()
    track(database, channel, team)

    def failing_cycle() -> None:
        with database.service() as conn:
            due = store.due_channels(conn, T0, only=[channel])
            outcomes = {channel: ChannelOutcome(observation=live(0))}
            report = store.write_cycle(
                conn, due, outcomes, {"twitch": PlatformUsage()}, RULES, RunInfo(started_at=T0)
            )
            assert report.status_changes == 1
            raise RuntimeError("the cycle fails after writing")

    with pytest.raises(RuntimeError):
        failing_cycle()
    assert messages(database, team) == []


def live_status(database: Database, channel: uuid.UUID) -> None:
    with database.service() as conn:
        conn.execute(
            "insert into public.channel_status (channel_id, is_live, viewer_count, last_checked_at)"
            " values (%s, true, 10, now())",
            (channel,),
        )


def test_a_broadcast_with_no_partition_to_go_to_is_reported_as_lost(
    database: Database, admin_database_url: str
) -> None:
    """Supabase keeps realtime.messages in daily partitions made by Realtime's
    janitor, with no default one: when today's is missing, realtime.send only
    warns and the message is gone. The count must say so."""
    team_a, team_b = make_team(database, "pro"), make_team(database, "business")
    channel = uuid.uuid4()
    track(database, channel, team_a, team_b)
    live_status(database, channel)
    warnings: list[str] = []
    # One transaction, rolled back: the superuser only plays Realtime (today's
    # partition not made yet); the broadcast itself runs as postgres.
    with psycopg.connect(admin_database_url) as conn:
        conn.add_notice_handler(lambda diag: warnings.append(diag.message_primary or ""))
        row = conn.execute("select to_char(now()::timestamp, 'YYYY_MM_DD')").fetchone()
        assert row is not None
        today = sql.Identifier(f"messages_{row[0]}")
        conn.execute(
            sql.SQL("alter table realtime.messages detach partition realtime.{}").format(today)
        )
        conn.execute("set local role postgres")
        sent = broadcast_status_changes(conn, [channel])
        stored = conn.execute(
            "select count(*) from realtime.messages where topic = any(%s)",
            ([status_topic(team_a), status_topic(team_b)],),
        ).fetchone()
        conn.rollback()
    assert sent == 0, "two lost broadcasts were reported as sent"
    assert stored == (0,)
    assert len(warnings) == 2
    lost = "WarnSendingBroadcastMessage: no partition of relation"
    assert all(w.startswith(lost) for w in warnings), warnings


def test_the_count_is_what_was_stored(database: Database) -> None:
    team_a, team_b = make_team(database, "pro"), make_team(database, "business")
    channel = uuid.uuid4()
    track(database, channel, team_a, team_b)
    live_status(database, channel)
    with database.service() as conn:
        assert broadcast_status_changes(conn, [channel]) == 2
    assert len(messages(database, team_a)) == 1
    assert len(messages(database, team_b)) == 1
