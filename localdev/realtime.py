"""Supabase Realtime's janitor, for the local database.

On Supabase the Realtime server, not a migration, keeps `realtime.messages`
partitioned by day: when it connects to a project and then periodically it
drops the partitions older than 72 hours and creates one per day from
yesterday to three days ahead (`Realtime.Messages.delete_old_messages/1` and
`Realtime.Tenants.create_messages_partitions/1`, supabase/realtime main @
833cf36c). There is no default partition, so a broadcast at a moment no
partition covers is lost (`realtime.send` only warns).

Nothing runs Realtime here, so `localdev` does the same on every `db up`, as
the bootstrap superuser (the Realtime server connects as `supabase_admin`
too), and hands each partition to `supabase_realtime_admin`.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

RETENTION = dt.timedelta(hours=72)
DAYS_BEHIND = 1
DAYS_AHEAD = 3


def partition_name(day: dt.date) -> str:
    """`messages_2026_11_24`: Realtime's name for one day's partition."""
    return f"messages_{day:%Y_%m_%d}"


@dataclass(frozen=True)
class PartitionPlan:
    """The partitions one janitor pass drops, and the days it creates."""

    drop: tuple[str, ...]
    create: tuple[dt.date, ...]


def plan_partitions(existing: set[str], now: dt.datetime) -> PartitionPlan:
    """What Realtime's janitor does at `now`: drop the days older than 72 hours,
    create the missing ones from yesterday to three days ahead (UTC days)."""
    today = now.astimezone(dt.UTC).date()
    oldest_kept = (now - RETENTION).astimezone(dt.UTC).date()
    drop = tuple(
        name
        for name in sorted(existing)
        if (day := _day_of(name)) is not None and day < oldest_kept
    )
    wanted = (today + dt.timedelta(days=offset) for offset in range(-DAYS_BEHIND, DAYS_AHEAD + 1))
    create = tuple(day for day in wanted if partition_name(day) not in existing)
    return PartitionPlan(drop=drop, create=create)


def _existing(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        """
        select child.relname
        from pg_inherits
        join pg_class parent on parent.oid = pg_inherits.inhparent
        join pg_class child on child.oid = pg_inherits.inhrelid
        join pg_namespace n on n.oid = parent.relnamespace
        where n.nspname = 'realtime' and parent.relname = 'messages'
        """
    ).fetchall()
    return {str(name) for (name,) in rows}


def maintain_messages_partitions(
    admin_url: str, *, now: dt.datetime | None = None
) -> PartitionPlan:
    """One janitor pass over the database at `admin_url` (a superuser's); returns what it did."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        plan = plan_partitions(_existing(conn), now or dt.datetime.now(dt.UTC))
        for name in plan.drop:
            conn.execute(sql.SQL("drop table if exists realtime.{}").format(sql.Identifier(name)))
        for day in plan.create:
            name = sql.Identifier(partition_name(day))
            with conn.transaction():
                conn.execute(
                    sql.SQL(
                        "create table if not exists realtime.{} partition of realtime.messages "
                        "for values from ({}) to ({})"
                    ).format(
                        name,
                        sql.Literal(day.isoformat()),
                        sql.Literal((day + dt.timedelta(days=1)).isoformat()),
                    )
                )
                conn.execute(
                    sql.SQL("alter table realtime.{} owner to supabase_realtime_admin").format(name)
                )
    return plan


def _day_of(name: str) -> dt.date | None:
    """The day of a partition named like Realtime's, else None (left alone)."""
    prefix = "messages_"
    if not name.startswith(prefix):
        return None
    try:
        return dt.date.fromisoformat(name.removeprefix(prefix).replace("_", "-"))
    except ValueError:
        return None
