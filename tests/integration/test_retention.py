"""The retention timer: upcoming partitions created, raw samples no team keeps dropped.

The rule itself (free 7 d, pro 90 d, business 365 d, shared, paused and
untracked channels, the default partition, rollups) is tested in pgTAP
(supabase/tests/database/10_sample_retention.test.sql); here the timer
function runs it for real against the shared test database.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest
from azure.functions.decorators.function_app import Function
from azure.functions.timer import TimerRequest

from shared.db import Database, DatabaseError
from shared.retention import run_retention
from tests.factories.teams import make_team


def today() -> date:
    return datetime.now(UTC).date()


def partition_name(day: date) -> str:
    return f"viewer_samples_p{day:%Y%m%d}"


def partition_exists(database: Database, day: date) -> bool:
    with database.service() as conn:
        row = conn.execute(
            "select to_regclass(%s) is not null", (f"partitions.{partition_name(day)}",)
        ).fetchone()
    return bool(row and row[0])


def make_past_partition(database: Database, day: date) -> None:
    """A past day's partition, built the way the maintenance function builds one."""
    name = partition_name(day)
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    with database.service() as conn:
        if conn.execute("select to_regclass(%s)", (f"partitions.{name}",)).fetchone() != (None,):
            return
        conn.execute(
            f"create table partitions.{name}"
            " (like public.viewer_samples including defaults including constraints)"
        )
        conn.execute(
            f"with moved as (delete from partitions.viewer_samples_default d"
            f" where d.observed_at >= %s and d.observed_at < %s returning d.*)"
            f" insert into partitions.{name} select * from moved",
            (start, end),
        )
        conn.execute(
            f"alter table public.viewer_samples attach partition partitions.{name}"
            f" for values from ('{start.isoformat()}') to ('{end.isoformat()}')"
        )


def track_with_sample(database: Database, plan: str, day: date) -> uuid.UUID:
    team = make_team(database, plan)
    channel = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id)"
            " values (%s, 'youtube', %s)",
            (channel, channel.hex),
        )
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
            (team, channel),
        )
        conn.execute(
            "insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live)"
            " values (%s, %s, 3, true)",
            (channel, datetime.combine(day, time(12), UTC)),
        )
        conn.execute(
            "insert into public.channel_rollups_daily (channel_id, day, live_seconds)"
            " values (%s, %s, 60)",
            (channel, day),
        )
    return channel


def sample_count(database: Database, channel: uuid.UUID, table: str) -> int:
    with database.service() as conn:
        row = conn.execute(
            f"select count(*) from public.{table} where channel_id = %s", (channel,)
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.usefixtures("app_env")
def test_the_timer_drops_what_no_team_keeps_and_creates_partitions_ahead(
    database: Database, app_functions: dict[str, Function]
) -> None:
    pro_day, business_day = today() - timedelta(days=121), today() - timedelta(days=122)
    make_past_partition(database, pro_day)
    make_past_partition(database, business_day)
    pro_channel = track_with_sample(database, "pro", pro_day)
    business_channel = track_with_sample(database, "business", business_day)

    timer = TimerRequest(past_due=False, schedule_status={}, schedule={})
    app_functions["retention"].get_user_function()(timer)

    assert not partition_exists(database, pro_day), "pro keeps 90 days"
    assert sample_count(database, pro_channel, "viewer_samples") == 0
    assert sample_count(database, pro_channel, "channel_rollups_daily") == 1, "rollups stay"
    assert partition_exists(database, business_day), "business keeps 365 days"
    assert sample_count(database, business_channel, "viewer_samples") == 1
    assert all(partition_exists(database, today() + timedelta(days=i)) for i in range(8))


def test_the_report_names_what_was_dropped_and_created(database: Database) -> None:
    free_day = today() - timedelta(days=131)
    make_past_partition(database, free_day)
    track_with_sample(database, "free", free_day)
    ahead = today() + timedelta(days=12)
    existed = partition_exists(database, ahead)

    report = run_retention(database, days_ahead=12)

    assert partition_name(free_day) in report.dropped
    assert (partition_name(ahead) in report.created) is not existed
    assert partition_exists(database, ahead)
    assert run_retention(database, days_ahead=12).dropped == [], "nothing left to drop"


def test_a_busy_viewer_samples_table_changes_nothing(database: Database, database_url: str) -> None:
    free_day = today() - timedelta(days=141)
    make_past_partition(database, free_day)
    track_with_sample(database, "free", free_day)
    with psycopg.connect(database_url) as reader:
        # A long reader (a monitor cycle, a dashboard query) holds viewer_samples.
        reader.execute("lock table public.viewer_samples in access share mode")
        with pytest.raises(DatabaseError, match="busy"):
            run_retention(database, lock_timeout_s=0.2)
        reader.rollback()
    assert partition_exists(database, free_day)
    assert partition_name(free_day) in run_retention(database).dropped
