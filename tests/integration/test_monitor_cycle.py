"""Cycle orchestration: locking, platform isolation, failure records.

The platforms here are scripted stand-ins for our own `PlatformFetcher`
protocol (the database is real); the cycle against the platform sandbox is
tested in test_monitor_sandbox.py.
"""

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg
import pytest

from shared.db import Database
from shared.monitor import store
from shared.monitor.cycle import run_cycle
from shared.monitor.state import ChannelOutcome, DueChannel, PlatformUsage, RunInfo
from shared.monitor.stitching import Observation, Rules
from tests.factories.channels import make_channels
from tests.factories.teams import make_team

RULES = Rules()


class Scripted:
    """Answers every channel live (or raises), optionally waiting for a signal."""

    concurrency = 1

    def __init__(self, platform: str, *, fail: bool = False, gate: threading.Event | None = None):
        self.platform = platform
        self.fail = fail
        self.gate = gate
        self.entered = threading.Event()
        self.calls = 0

    def fetch(
        self, channels: Sequence[DueChannel], now: datetime, deadline: float
    ) -> tuple[dict[UUID, ChannelOutcome], PlatformUsage]:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError(f"{self.platform} is down")
        obs = Observation(now, True, "s1", viewer_count=7)
        return {c.id: ChannelOutcome(observation=obs) for c in channels}, PlatformUsage(requests=1)


def clock_at(at: datetime):  # type: ignore[no-untyped-def]
    return lambda: at


def test_one_platform_failing_does_not_stop_the_others(database: Database) -> None:
    team = make_team(database)
    twitch = make_channels(database, team, 2, "twitch")
    youtube = make_channels(database, team, 2, "youtube")
    at = datetime.now(UTC)
    report = run_cycle(
        database,
        {"twitch": Scripted("twitch"), "youtube": Scripted("youtube", fail=True)},
        RULES,
        budget_s=5,
        only=[*twitch, *youtube],
        clock=clock_at(at),
    )
    assert report.status == "partial"
    assert report.channels_checked == 2
    assert report.errors == [{"platform": "youtube", "message": "RuntimeError: youtube is down"}]
    with database.service() as conn:
        live = conn.execute(
            "select channel_id from public.channel_status where is_live and channel_id = any(%s)",
            ([*twitch, *youtube],),
        ).fetchall()
        run = conn.execute(
            "select status, errors from public.monitor_runs where id = %s", (report.run_id,)
        ).fetchone()
    assert {row[0] for row in live} == set(twitch)
    assert run is not None
    assert run[0] == "partial"
    assert run[1][0]["platform"] == "youtube"


def test_overlapping_cycles_do_not_both_run(database: Database) -> None:
    team = make_team(database)
    channels = make_channels(database, team, 1)
    gate = threading.Event()
    slow = Scripted("twitch", gate=gate)
    at = datetime.now(UTC)
    results = {}

    def first() -> None:
        results["first"] = run_cycle(
            database, {"twitch": slow}, RULES, budget_s=10, only=channels, clock=clock_at(at)
        )

    thread = threading.Thread(target=first)
    thread.start()
    assert slow.entered.wait(10)
    second = run_cycle(
        database,
        {"twitch": Scripted("twitch")},
        RULES,
        budget_s=5,
        only=channels,
        clock=clock_at(at + timedelta(seconds=1)),
    )
    gate.set()
    thread.join(10)
    assert second.skipped
    assert not results["first"].skipped
    assert results["first"].samples_written == 1


def test_shards_of_one_cycle_run_side_by_side(database: Database) -> None:
    team = make_team(database)
    a, b = make_channels(database, team, 2)
    gate = threading.Event()
    slow = Scripted("twitch", gate=gate)
    at = datetime.now(UTC)
    cycle_id = uuid.uuid4()
    results = {}

    def shard0() -> None:
        run = RunInfo(at, "queue", cycle_id, 0, 2)
        results[0] = run_cycle(database, {"twitch": slow}, RULES, budget_s=10, run=run, only=[a])

    thread = threading.Thread(target=shard0)
    thread.start()
    assert slow.entered.wait(10)
    run1 = RunInfo(at, "queue", cycle_id, 1, 2)
    results[1] = run_cycle(
        database, {"twitch": Scripted("twitch")}, RULES, budget_s=5, run=run1, only=[b]
    )
    gate.set()
    thread.join(10)
    assert not results[0].skipped
    assert not results[1].skipped
    with database.service() as conn:
        rows = conn.execute(
            "select shard_index, trigger from public.monitor_runs where cycle_id = %s order by 1",
            (cycle_id,),
        ).fetchall()
    assert rows == [(0, "queue"), (1, "queue")]


def test_a_database_failure_is_recorded_and_the_next_cycle_proceeds(database: Database) -> None:
    team = make_team(database)
    channels = make_channels(database, team, 1)

    class Broken(Scripted):
        def fetch(self, channels, now, deadline):  # type: ignore[no-untyped-def]
            outcomes, usage = super().fetch(channels, now, deadline)
            for outcome in outcomes.values():
                assert outcome.observation is not None
                outcome.observation = Observation(now, True, "s1", viewer_count=-1)
            return outcomes, usage

    at = datetime.now(UTC)
    with pytest.raises(psycopg.errors.CheckViolation):
        run_cycle(
            database, {"twitch": Broken("twitch")}, RULES, budget_s=5, only=channels,
            clock=clock_at(at),
        )  # fmt: skip
    with database.service() as conn:
        failed = conn.execute(
            "select status, errors->0->>'message' from public.monitor_runs"
            " where started_at = %s order by id desc limit 1",
            (at,),
        ).fetchone()
        samples = conn.execute(
            "select count(*) from public.viewer_samples where channel_id = %s", (channels[0],)
        ).fetchone()
    assert failed is not None
    assert failed[0] == "failed"
    assert "CheckViolation" in failed[1]
    assert samples == (0,)
    report = run_cycle(
        database, {"twitch": Scripted("twitch")}, RULES, budget_s=5, only=channels,
        clock=clock_at(at + timedelta(minutes=1)),
    )  # fmt: skip
    assert report.samples_written == 1


def test_a_failed_cycle_still_accounts_for_what_it_spent(database: Database) -> None:
    # The write rolls back, but the requests were sent and the quota units spent.
    team = make_team(database)
    channels = make_channels(database, team, 1, "youtube")

    class Spending(Scripted):
        def fetch(self, channels, now, deadline):  # type: ignore[no-untyped-def]
            outcomes, _ = super().fetch(channels, now, deadline)
            for outcome in outcomes.values():
                outcome.observation = Observation(now, True, "s1", viewer_count=-1)
            return outcomes, PlatformUsage(requests=3, quota_units=2, minimum_requests=2)

    at = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)  # a quota day of its own

    def spent() -> tuple[int, int] | None:
        with database.service() as conn:
            row = conn.execute(
                "select requests, units from public.platform_quota_usage"
                " where platform = 'youtube' and quota_day = %s",
                (store.quota_day("youtube", at),),
            ).fetchone()
        return None if row is None else (row[0], row[1])

    assert spent() is None
    with pytest.raises(psycopg.errors.CheckViolation):
        run_cycle(
            database, {"youtube": Spending("youtube")}, RULES, budget_s=5, only=channels,
            clock=clock_at(at),
        )  # fmt: skip
    assert spent() == (3, 2)
    with database.service() as conn:
        run = conn.execute(
            "select status, requests, quota_units from public.monitor_runs"
            " where started_at = %s order by id desc limit 1",
            (at,),
        ).fetchone()
    assert run == ("failed", {"youtube": 3}, {"youtube": 2})


def test_a_past_due_run_catches_up_without_double_writing(database: Database) -> None:
    team = make_team(database)
    channels = make_channels(database, team, 2)
    at = datetime.now(UTC)
    first = run_cycle(
        database, {"twitch": Scripted("twitch")}, RULES, budget_s=5, only=channels,
        clock=clock_at(at),
    )  # fmt: skip
    # The host fires the missed occurrence late; the platforms answer for the
    # same instant (a retried delivery, say): nothing is written twice.
    late = run_cycle(
        database, {"twitch": Scripted("twitch")}, RULES, budget_s=5, only=channels,
        run=RunInfo(started_at=at, past_due=True), clock=clock_at(at),
    )  # fmt: skip
    assert first.samples_written == 2
    assert late.samples_written == 0
    assert late.sessions_opened == 0
    with database.service() as conn:
        row = conn.execute(
            "select past_due from public.monitor_runs where id = %s", (late.run_id,)
        ).fetchone()
        samples = conn.execute(
            "select count(*) from public.viewer_samples where channel_id = any(%s)", (channels,)
        ).fetchone()
    assert row == (True,)
    assert samples == (2,)
