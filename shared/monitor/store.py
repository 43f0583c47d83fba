"""The monitor's database side: which channels are due, and the cycle's one write.

Everything a cycle writes goes through `write_cycle` inside the caller's
transaction, so a failure part-way leaves nothing behind. Rows are written in
bulk (one statement per table; samples by COPY into a temporary table, then
`insert ... on conflict do nothing`, which makes a repeated cycle harmless).
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar, cast
from uuid import UUID

import psycopg
from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb

from shared.alerts.outbox import cycle_changes, enqueue_alerts
from shared.analytics.rollups import FollowerCount, RollupSample, write_rollups
from shared.crypto import Sealed
from shared.monitor.state import (
    ChannelOutcome,
    CycleReport,
    DueChannel,
    PlatformUsage,
    PollState,
    RunInfo,
    StatusSnapshot,
)
from shared.monitor.stitching import LastSample, Memory, Rules, Session, SessionChange, advance
from shared.platforms.polling import QuotaStatus
from shared.platforms.registry import quota_day as platform_quota_day
from shared.realtime import broadcast_status_changes

T = TypeVar("T")

# Channels tracked by at least one team (not paused), due by the shortest
# sample interval among those teams' plans. `slack` absorbs timer jitter so a
# channel due in a second is not left for a whole extra cycle. Columns are
# named: rows come back as named tuples (`DueRow`), read by name.
DUE_CHANNELS_SQL = """
with tracked as (
  select tc.channel_id, min(p.min_sample_interval_seconds) as interval_s
  from public.team_channels tc
  join public.teams t on t.id = tc.team_id
  join public.plans p on p.id = t.plan_id
  where tc.paused_at is null
    and (%(ids)s::uuid[] is null or tc.channel_id = any(%(ids)s::uuid[]))
  group by tc.channel_id
)
select c.id, c.platform::text as platform, c.platform_channel_id, tr.interval_s,
       ps.last_polled_at, ps.consecutive_failures, ps.feed_checked_at,
       ps.candidate_video_ids, ps.settled_video_ids, ps.stats_checked_at,
       ps.upcoming_start_at,
       ps.last_sample_at, ps.last_sample_live, ps.last_sample_viewers,
       s.id as session_id, s.platform_stream_id as session_stream_id,
       s.started_at as session_started_at, s.last_seen_at as session_last_seen_at,
       s.ended_at as session_ended_at, s.title as session_title,
       s.category as session_category, s.peak_viewers as session_peak_viewers,
       s.viewer_count_sum as session_viewer_count_sum,
       s.viewer_seconds as session_viewer_seconds, s.sample_count as session_sample_count,
       s.known_viewer_sample_count as session_known_viewer_sample_count,
       st.is_live as status_is_live, st.platform_stream_id as status_stream_id,
       st.title as status_title, st.category as status_category,
       st.viewer_count as status_viewer_count, st.started_at as status_started_at,
       st.session_id as status_session_id,
       cr.ciphertext as credential_ciphertext, cr.nonce as credential_nonce,
       cr.key_version as credential_key_version
from tracked tr
join public.channels c on c.id = tr.channel_id
left join public.channel_poll_state ps on ps.channel_id = c.id
left join public.stream_sessions s on s.id = ps.last_session_id
left join public.channel_status st on st.channel_id = c.id
left join lateral (
  -- A channel polled with its owner's credential uses one of a team that
  -- tracks it and has not paused it (the newest); none: the client fails the
  -- channel with a credential error. Credentials go with their team's row.
  select k.ciphertext, k.nonce, k.key_version
  from public.channel_credentials k
  join public.team_channels ktc on ktc.team_id = k.team_id and ktc.channel_id = k.channel_id
  where c.requires_credential and k.channel_id = c.id and ktc.paused_at is null
  order by k.updated_at desc, k.team_id
  limit 1
) cr on true
where %(ids)s::uuid[] is not null
   or ps.last_polled_at is null
   or ps.last_polled_at <= %(now)s - make_interval(secs => tr.interval_s) + %(slack)s
order by c.platform, c.id
"""


def _shared(values: dict[tuple[Any, ...], Any], key: tuple[Any, ...], make: Callable[[], T]) -> T:
    """The one object for `key` among this read's rows (made on first use)."""
    found = values.get(key)
    if found is None:
        found = values[key] = make()
    return cast(T, found)


def _due_channel(row: Any, values: dict[tuple[Any, ...], Any]) -> DueChannel:
    """A `DUE_CHANNELS_SQL` row (a named tuple) as the cycle's `DueChannel`.

    The immutable parts most channels have in common (an offline status, the
    last sample and poll state of channels polled together) are one object per
    distinct value in `values`, not one per row: a due read builds 10,000 rows.
    """
    session = None
    if row.session_id is not None:
        session = Session(
            id=row.session_id,
            platform_stream_id=row.session_stream_id,
            started_at=row.session_started_at,
            last_seen_at=row.session_last_seen_at,
            ended_at=row.session_ended_at,
            title=row.session_title,
            category=row.session_category,
            peak_viewers=row.session_peak_viewers,
            viewer_count_sum=row.session_viewer_count_sum,
            viewer_seconds=float(row.session_viewer_seconds),
            sample_count=row.session_sample_count,
            known_viewer_sample_count=row.session_known_viewer_sample_count,
        )
    last = None
    if row.last_sample_at is not None:
        at, live, viewers = row.last_sample_at, bool(row.last_sample_live), row.last_sample_viewers
        last = _shared(
            values, (LastSample, at, live, viewers), lambda: LastSample(at, live, viewers)
        )
    memory = (
        Memory(session, last)
        if session is not None
        else _shared(values, (Memory, id(last)), lambda: Memory(None, last))
    )
    status = None
    if row.status_is_live is not None:
        fields = (
            row.status_is_live, row.status_stream_id, row.status_title, row.status_category,
            row.status_viewer_count, row.status_started_at, row.status_session_id,
        )  # fmt: skip
        status = _shared(values, (StatusSnapshot, *fields), lambda: StatusSnapshot(*fields))
    credential = None
    if row.credential_ciphertext is not None:
        credential = Sealed(
            row.credential_ciphertext, row.credential_nonce, row.credential_key_version
        )
    poll_fields = (
        row.last_polled_at,
        row.consecutive_failures or 0,
        row.feed_checked_at,
        tuple(row.candidate_video_ids or ()),
        tuple(row.settled_video_ids or ()),
        row.stats_checked_at,
        row.upcoming_start_at,
    )
    poll = _shared(values, (PollState, *poll_fields), lambda: PollState(*poll_fields))
    return DueChannel(
        id=row.id,
        platform=row.platform,
        platform_channel_id=row.platform_channel_id,
        interval_s=row.interval_s,
        memory=memory,
        status=status,
        poll=poll,
        credential=credential,
        last_live=bool(row.last_sample_live),
    )


def _due_params(now: datetime, slack: timedelta, only: Sequence[UUID] | None) -> dict[str, Any]:
    return {
        "now": now,
        "slack": slack,
        "ids": list(only) if only else None,
    }


def due_channels(
    conn: psycopg.Connection[Any],
    now: datetime,
    *,
    only: Sequence[UUID] | None = None,
    slack: timedelta = timedelta(seconds=5),
) -> list[DueChannel]:
    """Channels to check now; `only` restricts to a shard (and ignores due-ness)."""
    with conn.cursor(row_factory=namedtuple_row) as cur:
        rows = cur.execute(DUE_CHANNELS_SQL, _due_params(now, slack, only)).fetchall()
    values: dict[tuple[Any, ...], Any] = {}
    return [_due_channel(row, values) for row in rows]


def due_channel_ids(
    conn: psycopg.Connection[Any], now: datetime, *, slack: timedelta = timedelta(seconds=5)
) -> list[UUID]:
    """Just the ids of `due_channels` (the planner drops the joins nothing here reads)."""
    rows = conn.execute(
        f"select d.id from ({DUE_CHANNELS_SQL}) as d order by d.platform, d.id",
        _due_params(now, slack, None),
    ).fetchall()
    return [row[0] for row in rows]


def quota_day(platform: str, at: datetime) -> str:
    """The `platform_quota_usage.quota_day` of `at`, as the platform counts its quota."""
    return platform_quota_day(platform, at).isoformat()


def quota_status(
    conn: psycopg.Connection[Any], due: Sequence[DueChannel], at: datetime, *, sharded: bool
) -> dict[str, QuotaStatus]:
    """Per platform of `due`: units spent in its current quota day, and this fetch's
    share of its tracked channels (1.0 for a whole cycle; a shard's part of them)."""
    platforms = sorted({c.platform for c in due})
    if not platforms:
        return {}
    rows = conn.execute(
        """
        select p.platform, coalesce(q.units, 0),
               (select count(distinct tc.channel_id) from public.team_channels tc
                join public.channels c on c.id = tc.channel_id
                where c.platform::text = p.platform and tc.paused_at is null
                  and %(sharded)s)
        from unnest(%(platforms)s::text[], %(days)s::date[]) as p(platform, quota_day)
        left join public.platform_quota_usage q
          on q.platform::text = p.platform and q.quota_day = p.quota_day
        """,
        {
            "platforms": platforms,
            "days": [quota_day(p, at) for p in platforms],
            "sharded": sharded,
        },
    ).fetchall()
    mine = {p: sum(c.platform == p for c in due) for p in platforms}
    return {
        platform: QuotaStatus(
            spent_units=int(units),
            share=min(1.0, mine[platform] / tracked) if sharded and tracked else 1.0,
        )
        for platform, units, tracked in rows
    }


class Sample(NamedTuple):
    """A `viewer_samples` row, in the table's column order (COPY writes it as is)."""

    channel_id: UUID
    observed_at: datetime
    viewer_count: int | None
    session_id: int | None
    is_live: bool
    holds_from: datetime | None
    """Where the time the sample stands for begins (stitching's hold rule)."""
    max_gap_s: int
    """The longest gap from the previous sample its hold crosses."""


class SessionWrite(NamedTuple):
    """A known session to update, and its channel."""

    channel_id: UUID
    session: Session


@dataclass(slots=True)
class CycleWrites:
    """The rows one cycle writes, gathered before any SQL runs."""

    session_updates: dict[int, SessionWrite] = field(default_factory=dict)
    """By session id."""
    session_inserts: dict[UUID, Session] = field(default_factory=dict)
    """By channel: sessions opened this cycle."""
    samples: list[Sample] = field(default_factory=list)
    """The samples that can be written as they are..."""
    opening_samples: list[Sample] = field(default_factory=list)
    """...and those that belong to a session opened this cycle: its id comes with
    the session's insert."""
    opening: set[UUID] = field(default_factory=set)
    """The channels of `opening_samples`."""
    rollups: list[RollupSample] = field(default_factory=list)
    """The samples that add to the rollups: this or the channel's previous sample
    live (most channels are offline most of the time, and joining every sample
    of a cycle to its poll state cost more than the samples' own insert)."""
    statuses: dict[UUID, StatusSnapshot] = field(default_factory=dict)
    """`channel_status` rows that change, by channel..."""
    status_times: dict[UUID, datetime] = field(default_factory=dict)
    """...when each was observed..."""
    status_before: dict[UUID, StatusSnapshot | None] = field(default_factory=dict)
    """...and what each was before (for the alerts)."""
    memories: dict[UUID, Memory] = field(default_factory=dict)


def _status_for(memory: Memory, obs_live: bool, viewers: int | None, stream: str | None,
                title: str | None, category: str | None) -> StatusSnapshot:  # fmt: skip
    session = memory.session
    if not obs_live or session is None:
        return StatusSnapshot(is_live=False)
    return StatusSnapshot(True, stream, title, category, viewers, session.started_at, session.id)


def gather_writes(
    due: Sequence[DueChannel],
    outcomes: Mapping[UUID, ChannelOutcome],
    rules: Rules,
    *,
    into: tuple[CycleWrites, CycleReport] | None = None,
) -> tuple[CycleWrites, CycleReport]:
    """Stitch every observation into the rows to write (pure: no SQL).

    `into`: add to this plan and report (a cycle gathered part by part) instead
    of new ones."""
    plan, report = into or (CycleWrites(), CycleReport())
    report.channels_due += len(due)
    intervals: dict[int, timedelta] = {}
    for channel in due:
        outcome = outcomes.get(channel.id)
        obs = outcome.observation if outcome else None
        if obs is None:
            report.channels_pending += bool(outcome and outcome.pending)
            continue
        report.channels_checked += 1
        interval = intervals.get(channel.interval_s)
        if interval is None:
            interval = intervals[channel.interval_s] = timedelta(seconds=channel.interval_s)
        step = advance(channel.memory, obs, rules, interval=interval)
        if not step.applied:
            continue
        memory = step.memory
        plan.memories[channel.id] = memory
        if step.closed is not None and step.closed.id is not None:
            plan.session_updates[step.closed.id] = SessionWrite(channel.id, step.closed)
            report.sessions_closed += 1
        session = memory.session
        if session is not None and step.change is not SessionChange.NONE:
            if session.id is None:
                plan.session_inserts[channel.id] = session
                report.sessions_opened += 1
            elif step.closed is None or step.closed.id != session.id:
                plan.session_updates[session.id] = SessionWrite(channel.id, session)
        in_session = step.sample_in_session and session is not None
        viewers = obs.viewer_count if obs.is_live else None
        sid = session.id if in_session and session is not None else None
        limit = step.max_gap or rules.max_gap
        sample = Sample(channel.id, obs.observed_at, viewers, sid, obs.is_live, step.holds_from,
                        round(limit.total_seconds()))  # fmt: skip
        if in_session and session is not None and session.id is None:
            plan.opening_samples.append(sample)
            plan.opening.add(channel.id)
        else:
            plan.samples.append(sample)
        prev = channel.memory.last_sample
        if obs.is_live or (prev is not None and prev.is_live):
            # (A sample not newer than `prev` was not applied, so never gets here.)
            plan.rollups.append(
                RollupSample(
                    channel_id=channel.id,
                    observed_at=obs.observed_at,
                    viewer_count=viewers,
                    is_live=obs.is_live,
                    previous_at=prev.observed_at if prev else None,
                    previous_live=prev.is_live if prev else None,
                    previous_viewers=prev.viewer_count if prev else None,
                    holds_from=step.holds_from,
                    max_gap_s=sample.max_gap_s,
                )
            )
        status = _status_for(memory, obs.is_live, obs.viewer_count, obs.platform_stream_id,
                             obs.title, obs.category)  # fmt: skip
        if status != channel.status:
            plan.statuses[channel.id] = status
            plan.status_times[channel.id] = obs.observed_at
            plan.status_before[channel.id] = channel.status
    return plan, report


def _write_sessions(conn: psycopg.Connection[Any], plan: CycleWrites) -> dict[UUID, int]:
    """Update changed sessions (closes first), insert new ones; return new ids by channel."""
    if plan.session_updates:
        items = sorted(plan.session_updates.items(), key=lambda kv: kv[1].session.ended_at is None)
        cols = _session_columns([write.session for _, write in items])
        conn.execute(
            """
            update public.stream_sessions s set
              last_seen_at = u.last_seen_at, ended_at = u.ended_at, title = u.title,
              category = u.category, peak_viewers = u.peak_viewers,
              viewer_count_sum = u.viewer_count_sum, viewer_seconds = u.viewer_seconds,
              sample_count = u.sample_count, known_viewer_sample_count = u.known_count,
              avg_viewers = case when u.known_count > 0
                                 then u.viewer_count_sum::numeric / u.known_count end
            from unnest(%(id)s::bigint[], %(last_seen_at)s::timestamptz[],
                        %(ended_at)s::timestamptz[], %(title)s::text[], %(category)s::text[],
                        %(peak)s::int[], %(sum)s::bigint[], %(secs)s::numeric[],
                        %(count)s::int[], %(known)s::int[])
              as u(id, last_seen_at, ended_at, title, category, peak_viewers, viewer_count_sum,
                   viewer_seconds, sample_count, known_count)
            where s.id = u.id
            """,
            {"id": [sid for sid, _ in items], **cols},
        )
    if not plan.session_inserts:
        return {}
    channels = list(plan.session_inserts)
    sessions = [plan.session_inserts[c] for c in channels]
    cols = _session_columns(sessions)
    # The same broadcast as an older (not the latest) session: merge into it.
    rows = conn.execute(
        """
        insert into public.stream_sessions as s
          (channel_id, platform_stream_id, started_at, last_seen_at, ended_at, title, category,
           peak_viewers, viewer_count_sum, viewer_seconds, sample_count,
           known_viewer_sample_count, avg_viewers)
        select u.channel_id, u.stream, u.started_at, u.last_seen_at, u.ended_at, u.title,
               u.category, u.peak, u.sum, u.secs, u.count, u.known,
               case when u.known > 0 then u.sum::numeric / u.known end
        from unnest(%(channel)s::uuid[], %(stream)s::text[], %(started_at)s::timestamptz[],
                    %(last_seen_at)s::timestamptz[], %(ended_at)s::timestamptz[],
                    %(title)s::text[], %(category)s::text[], %(peak)s::int[],
                    %(sum)s::bigint[], %(secs)s::numeric[], %(count)s::int[], %(known)s::int[])
          as u(channel_id, stream, started_at, last_seen_at, ended_at, title, category, peak,
               sum, secs, count, known)
        on conflict (channel_id, platform_stream_id) do update set
          ended_at = null,
          last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at),
          title = excluded.title, category = excluded.category,
          peak_viewers = greatest(s.peak_viewers, excluded.peak_viewers),
          viewer_count_sum = s.viewer_count_sum + excluded.viewer_count_sum,
          viewer_seconds = s.viewer_seconds + excluded.viewer_seconds,
          sample_count = s.sample_count + excluded.sample_count,
          known_viewer_sample_count = s.known_viewer_sample_count
                                      + excluded.known_viewer_sample_count,
          avg_viewers = case when s.known_viewer_sample_count
                                  + excluded.known_viewer_sample_count > 0
                             then (s.viewer_count_sum + excluded.viewer_count_sum)::numeric
                                  / (s.known_viewer_sample_count
                                     + excluded.known_viewer_sample_count) end
        returning s.channel_id, s.id
        """,
        {
            "channel": channels,
            "stream": [s.platform_stream_id for s in sessions],
            "started_at": [s.started_at for s in sessions],
            **cols,
        },
    ).fetchall()
    return dict(rows)


def _session_columns(sessions: Sequence[Session]) -> dict[str, list[Any]]:
    return {
        "last_seen_at": [s.last_seen_at for s in sessions],
        "ended_at": [s.ended_at for s in sessions],
        "title": [s.title for s in sessions],
        "category": [s.category for s in sessions],
        "peak": [s.peak_viewers for s in sessions],
        "sum": [s.viewer_count_sum for s in sessions],
        "secs": [s.viewer_seconds for s in sessions],
        "count": [s.sample_count for s in sessions],
        "known": [s.known_viewer_sample_count for s in sessions],
    }


def write_samples(conn: psycopg.Connection[Any], rows: Sequence[Sample]) -> int:
    """Bulk-insert viewer samples, skipping any already stored; return how many were new."""
    if not rows:
        return 0
    conn.execute(
        "create temporary table if not exists monitor_samples_in"
        " (like public.viewer_samples) on commit delete rows"
    )
    with conn.cursor() as cur:
        with cur.copy(
            "copy monitor_samples_in (channel_id, observed_at, viewer_count, session_id, is_live,"
            " holds_from, max_gap_s) from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        # Moved out of the staging table, so the next batch of the same
        # transaction starts from an empty one.
        cur.execute(
            "with moved as (delete from monitor_samples_in returning *)"
            " insert into public.viewer_samples select * from moved"
            " on conflict (channel_id, observed_at) do nothing"
        )
        return cur.rowcount


def _write_statuses(
    conn: psycopg.Connection[Any], plan: CycleWrites, ids: Mapping[UUID, int]
) -> list[UUID]:
    """Write the statuses that really changed; return those channels' ids."""
    if not plan.statuses:
        return []
    channels = list(plan.statuses)
    snaps = [plan.statuses[c] for c in channels]
    snaps = [
        replace(s, session_id=ids.get(c, s.session_id)) if s.is_live else s
        for c, s in zip(channels, snaps, strict=True)
    ]
    # Only rows that really change are written: Realtime subscribers and the
    # frontend see one event per change, not one per cycle.
    cur = conn.execute(
        """
        insert into public.channel_status as st
          (channel_id, is_live, platform_stream_id, title, category, viewer_count, started_at,
           session_id, last_checked_at, changed_at)
        select * , u.checked_at from unnest(%s::uuid[], %s::bool[], %s::text[], %s::text[],
                               %s::text[], %s::int[], %s::timestamptz[], %s::bigint[],
                               %s::timestamptz[])
          as u(channel_id, is_live, platform_stream_id, title, category, viewer_count,
               started_at, session_id, checked_at)
        on conflict (channel_id) do update set
          is_live = excluded.is_live, platform_stream_id = excluded.platform_stream_id,
          title = excluded.title, category = excluded.category,
          viewer_count = excluded.viewer_count, started_at = excluded.started_at,
          session_id = excluded.session_id, last_checked_at = excluded.last_checked_at,
          changed_at = case when st.is_live is distinct from excluded.is_live
                            then excluded.changed_at else st.changed_at end
        where (st.is_live, st.platform_stream_id, st.title, st.category, st.viewer_count,
               st.started_at, st.session_id)
              is distinct from
              (excluded.is_live, excluded.platform_stream_id, excluded.title, excluded.category,
               excluded.viewer_count, excluded.started_at, excluded.session_id)
        returning st.channel_id
        """,
        (
            channels,
            [s.is_live for s in snaps],
            [s.platform_stream_id for s in snaps],
            [s.title for s in snaps],
            [s.category for s in snaps],
            [s.viewer_count for s in snaps],
            [s.started_at for s in snaps],
            [s.session_id for s in snaps],
            [plan.status_times[c] for c in channels],
        ),
    )
    return [row[0] for row in cur.fetchall()]


class PollStateRow(NamedTuple):
    """A `channel_poll_state` row as the cycle writes it."""

    channel_id: UUID
    last_polled_at: datetime | None
    last_attempt_at: datetime
    consecutive_failures: int
    last_error: str | None
    last_sample_at: datetime | None
    last_sample_live: bool | None
    last_sample_viewers: int | None
    last_session_id: int | None
    feed_checked_at: datetime | None
    candidate_video_ids: tuple[str, ...]
    settled_video_ids: tuple[str, ...]
    stats_checked_at: datetime | None
    upcoming_start_at: datetime | None


def _poll_state_row(
    channel: DueChannel,
    outcome: ChannelOutcome,
    plan: CycleWrites,
    ids: Mapping[UUID, int],
    run: RunInfo,
) -> PollStateRow:
    poll = outcome.poll or channel.poll
    observed = outcome.observation is not None or outcome.pending
    memory = plan.memories.get(channel.id, channel.memory)
    last = memory.last_sample
    session = memory.session
    session_id = ids.get(channel.id) if session is not None and session.id is None else None
    return PollStateRow(
        channel.id,
        outcome.observation.observed_at if outcome.observation else poll.last_polled_at,
        run.started_at,
        0 if observed else channel.poll.consecutive_failures + 1,
        None if observed else (outcome.error or "no answer")[:500],
        last.observed_at if last else None,
        last.is_live if last else None,
        last.viewer_count if last else None,
        session_id or (session.id if session else None),
        poll.feed_checked_at,
        poll.candidate_video_ids,
        poll.settled_video_ids,
        poll.stats_checked_at,
        poll.upcoming_start_at,
    )


# The cycle's poll state arrives by COPY (one row per due channel) and goes into
# the table in one set-based upsert. The staging table names its columns
# rather than copying the table's shape, so a column added to
# channel_poll_state later keeps its default here.
POLL_STATE_STAGING_SQL = """
create temporary table if not exists monitor_poll_state_in (
  channel_id uuid, last_polled_at timestamptz, last_attempt_at timestamptz,
  consecutive_failures integer, last_error text, last_sample_at timestamptz,
  last_sample_live boolean, last_sample_viewers integer, last_session_id bigint,
  feed_checked_at timestamptz, candidate_video_ids text[], settled_video_ids text[],
  stats_checked_at timestamptz, upcoming_start_at timestamptz
) on commit delete rows
"""
POLL_STATE_COLUMNS = ", ".join(PollStateRow._fields)
_CANDIDATES = PollStateRow._fields.index("candidate_video_ids")
assert PollStateRow._fields[_CANDIDATES + 1] == "settled_video_ids"
POLL_STATE_UPSERT_SQL = f"""
with moved as (delete from monitor_poll_state_in returning *)
insert into public.channel_poll_state as ps ({POLL_STATE_COLUMNS})
select {POLL_STATE_COLUMNS} from moved
on conflict (channel_id) do update set
  last_polled_at = excluded.last_polled_at, last_attempt_at = excluded.last_attempt_at,
  consecutive_failures = excluded.consecutive_failures,
  last_error = excluded.last_error, last_sample_at = excluded.last_sample_at,
  last_sample_live = excluded.last_sample_live,
  last_sample_viewers = excluded.last_sample_viewers,
  last_session_id = excluded.last_session_id,
  feed_checked_at = excluded.feed_checked_at,
  candidate_video_ids = excluded.candidate_video_ids,
  settled_video_ids = excluded.settled_video_ids,
  stats_checked_at = excluded.stats_checked_at,
  upcoming_start_at = excluded.upcoming_start_at
"""


def text_array(values: Sequence[str]) -> str:
    """A text[] literal (`{"a","b"}`), every element quoted, for COPY."""
    if not values:
        return "{}"
    joined = '","'.join(values)
    if "\\" not in joined and joined.count('"') == 2 * (len(values) - 1):
        # Platform ids have nothing to escape (the only quotes are the
        # separators'): one join, no per-element Python.
        return '{"' + joined + '"}'
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


_NO_ANSWER = ChannelOutcome(error="no answer")


def _write_poll_state(conn: psycopg.Connection[Any], rows: Sequence[PollStateRow]) -> None:
    """Upsert these poll-state rows: COPY into staging, one set-based statement."""
    if not rows:
        return
    conn.execute(POLL_STATE_STAGING_SQL)
    with conn.cursor() as cur:
        with cur.copy(f"copy monitor_poll_state_in ({POLL_STATE_COLUMNS}) from stdin") as copy:
            for row in rows:
                # The two id lists go as text[] literals; every other column as it is.
                copy.write_row(
                    (*row[:_CANDIDATES], text_array(row.candidate_video_ids),
                     text_array(row.settled_video_ids), *row[_CANDIDATES + 2 :])
                )  # fmt: skip
        cur.execute(POLL_STATE_UPSERT_SQL)


def _follower_counts(outcomes: Mapping[UUID, ChannelOutcome]) -> list[FollowerCount]:
    return [
        FollowerCount(cid, o.stats_at, o.followers)
        for cid, o in outcomes.items()
        if o.stats_at is not None and o.followers is not None
    ]


def _write_stats(conn: psycopg.Connection[Any], outcomes: Mapping[UUID, ChannelOutcome]) -> int:
    stats = [(cid, o) for cid, o in outcomes.items() if o.stats_at is not None]
    if not stats:
        return 0
    cur = conn.execute(
        """
        insert into public.channel_stats (channel_id, observed_at, followers, subscribers)
        select * from unnest(%s::uuid[], %s::timestamptz[], %s::bigint[], %s::bigint[])
        on conflict (channel_id, observed_at) do nothing
        """,
        (
            [cid for cid, _ in stats],
            [o.stats_at for _, o in stats],
            [o.followers for _, o in stats],
            [o.subscribers for _, o in stats],
        ),
    )
    return cur.rowcount


def write_usage(
    conn: psycopg.Connection[Any], usage: Mapping[str, PlatformUsage], at: datetime
) -> None:
    """Add a cycle's requests and quota units to `platform_quota_usage` (its quota day)."""
    used = [(p, u) for p, u in usage.items() if u.requests or u.quota_units]
    if not used:
        return
    conn.execute(
        """
        insert into public.platform_quota_usage as q (platform, quota_day, units, requests)
        select * from unnest(%s::public.platform[], %s::date[], %s::bigint[], %s::bigint[])
        on conflict (platform, quota_day) do update set
          units = q.units + excluded.units, requests = q.requests + excluded.requests
        """,
        (
            [p for p, _ in used],
            [quota_day(p, at) for p, _ in used],
            [u.quota_units for _, u in used],
            [u.requests for _, u in used],
        ),
    )


def units_per_live_sample(usage: Mapping[str, PlatformUsage]) -> dict[str, float]:
    """Quota units per live sample answered, for platforms that spent units."""
    return {
        p: round(u.quota_units / u.live_samples, 4)
        for p, u in usage.items()
        if u.quota_units and u.live_samples
    }


def record_run(
    conn: psycopg.Connection[Any], run: RunInfo, report: CycleReport, finished_at: datetime
) -> int:
    row = conn.execute(
        """
        insert into public.monitor_runs
          (started_at, finished_at, status, channels_checked, samples_written, requests,
           quota_units, errors, duration_ms, cycle_id, trigger, shard_index, shard_count,
           past_due, units_per_live_sample)
        values (%(started_at)s, %(finished_at)s, %(status)s, %(channels_checked)s,
                %(samples_written)s, %(requests)s, %(quota_units)s, %(errors)s,
                %(duration_ms)s, %(cycle_id)s, %(trigger)s, %(shard_index)s, %(shard_count)s,
                %(past_due)s, %(units_per_live_sample)s)
        returning id
        """,
        {
            "started_at": run.started_at,
            "finished_at": finished_at,
            "status": report.status,
            "channels_checked": report.channels_checked,
            "samples_written": report.samples_written,
            "requests": Jsonb(report.requests),
            "quota_units": Jsonb(report.quota_units),
            "errors": Jsonb(report.errors),
            "duration_ms": report.duration_ms,
            "cycle_id": run.cycle_id,
            "trigger": run.trigger,
            "shard_index": run.shard_index,
            "shard_count": run.shard_count,
            "past_due": run.past_due,
            "units_per_live_sample": Jsonb(report.units_per_live_sample),
        },
    ).fetchone()
    assert row is not None
    return int(row[0])


class CycleWriter:
    """Writes one cycle in the caller's transaction, part by part as the fetch ends.

    `add` takes a finished part of the cycle (a platform's channels and their
    outcomes, while the other platforms are still being polled): it stitches
    them and writes the rows that need nothing from the rest of the cycle, its
    samples and poll state. `finish` adds whatever was not added, then writes
    what needs the whole cycle: new sessions first (their ids go into the
    samples and poll state held back for them), statuses, broadcasts, alerts,
    rollups, stats and usage. All of it is one transaction, so writing early
    changes what is written nowhere, only when: the database works while the
    slowest platform is still answering.

    A database error in `add` is kept and raised by `finish` (the fetch of the
    other platforms is not cut short, so their requests are still counted).
    """

    def __init__(self, conn: psycopg.Connection[Any], rules: Rules, run: RunInfo) -> None:
        self._conn = conn
        self._rules = rules
        self._run = run
        self._plan = CycleWrites()
        self._report = CycleReport()
        self._added: set[int] = set()
        """`id()` of each channel added (the cycle's own objects: cheaper to hash)."""
        self._held: list[DueChannel] = []
        """Channels whose poll state waits for the id of a session opened this cycle."""
        self._samples_written = 0
        self._samples_s = 0.0
        self._error: psycopg.Error | None = None

    def add(self, channels: Sequence[DueChannel], outcomes: Mapping[UUID, ChannelOutcome]) -> None:
        """Stitch a finished part of the cycle and write its independent rows."""
        if self._error is not None:
            return
        plan = self._plan
        ready = len(plan.samples)
        gather_writes(channels, outcomes, self._rules, into=(plan, self._report))
        self._added.update(map(id, channels))
        samples = plan.samples[ready:]
        rows = []
        for channel in channels:
            memory = plan.memories.get(channel.id)
            if memory is not None and memory.session is not None and memory.session.id is None:
                self._held.append(channel)
                continue
            outcome = outcomes.get(channel.id) or _NO_ANSWER
            rows.append(_poll_state_row(channel, outcome, plan, {}, self._run))
        try:
            began = time.perf_counter()
            self._samples_written += write_samples(self._conn, samples)
            self._samples_s += time.perf_counter() - began
            _write_poll_state(self._conn, rows)
        except psycopg.Error as exc:
            self._error = exc

    def finish(
        self,
        due: Sequence[DueChannel],
        outcomes: Mapping[UUID, ChannelOutcome],
        usage: Mapping[str, PlatformUsage],
    ) -> CycleReport:
        """Add what was not added, write the rest; the cycle's report."""
        rest = [c for c in due if id(c) not in self._added]
        if rest:
            self.add(rest, outcomes)
        if self._error is not None:
            raise self._error
        conn, plan, report, run = self._conn, self._plan, self._report, self._run
        new_ids = _write_sessions(conn, plan)
        opening = [s._replace(session_id=new_ids.get(s.channel_id)) for s in plan.opening_samples]
        began = time.perf_counter()
        report.samples_written = self._samples_written + write_samples(conn, opening)
        # Part of the samples' write (and of its measured time): their rollups.
        write_rollups(conn, plan.rollups, _follower_counts(outcomes))
        report.samples_s = self._samples_s + time.perf_counter() - began
        changed = _write_statuses(conn, plan, new_ids)
        report.status_changes = len(changed)
        broadcast_status_changes(conn, changed)
        # The alert outbox, in this same transaction (shared/alerts/outbox.py).
        enqueue_alerts(conn, cycle_changes(plan, new_ids, changed))
        _write_poll_state(
            conn,
            [
                _poll_state_row(c, outcomes.get(c.id) or _NO_ANSWER, plan, new_ids, run)
                for c in self._held
            ],
        )
        report.stats_written = _write_stats(conn, outcomes)
        write_usage(conn, usage, run.started_at)
        report.requests = {p: u.requests for p, u in usage.items()}
        report.minimum_requests = {p: u.minimum_requests for p, u in usage.items()}
        report.quota_units = {p: u.quota_units for p, u in usage.items() if u.quota_units}
        report.units_per_live_sample = units_per_live_sample(usage)
        report.errors = [e for u in usage.values() for e in u.errors]
        failed = report.channels_due - report.channels_checked - report.channels_pending
        if failed and report.channels_checked == 0:
            report.status = "failed"
        elif failed or report.errors:
            report.status = "partial"
        return report


def write_cycle(
    conn: psycopg.Connection[Any],
    due: Sequence[DueChannel],
    outcomes: Mapping[UUID, ChannelOutcome],
    usage: Mapping[str, PlatformUsage],
    rules: Rules,
    run: RunInfo,
) -> CycleReport:
    """Write everything one cycle learned, in the caller's transaction."""
    return CycleWriter(conn, rules, run).finish(due, outcomes, usage)
