"""The monitor's database side: which channels are due, and the cycle's one write.

Everything a cycle writes goes through `write_cycle` inside the caller's
transaction, so a failure part-way leaves nothing behind. Rows are written in
bulk (one statement per table; samples by COPY into a temporary table, then
`insert ... on conflict do nothing`, which makes a repeated cycle harmless).
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from shared.analytics.rollups import write_rollups
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
from shared.realtime import broadcast_status_changes

# YouTube's quota day starts at midnight Pacific time; the others count in UTC.
PACIFIC = ZoneInfo("America/Los_Angeles")

# Channels tracked by at least one team (not paused), due by the shortest
# sample interval among those teams' plans. `slack` absorbs timer jitter so a
# channel due in a second is not left for a whole extra cycle.
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
select c.id, c.platform::text, c.platform_channel_id, tr.interval_s,
       ps.last_polled_at, ps.consecutive_failures, ps.feed_checked_at,
       ps.candidate_video_ids, ps.settled_video_ids, ps.stats_checked_at,
       ps.last_sample_at, ps.last_sample_live, ps.last_sample_viewers,
       s.id, s.platform_stream_id, s.started_at, s.last_seen_at, s.ended_at, s.title,
       s.category, s.peak_viewers, s.viewer_count_sum, s.viewer_seconds, s.sample_count,
       s.known_viewer_sample_count,
       st.is_live, st.platform_stream_id, st.title, st.category, st.viewer_count,
       st.started_at, st.session_id,
       cr.ciphertext, cr.nonce, cr.key_version
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


def _row_to_due(row: tuple[Any, ...]) -> DueChannel:
    (cid, platform, pcid, interval_s, last_polled, failures, feed_at, candidates, settled,
     stats_at, ls_at, ls_live, ls_viewers,
     s_id, s_stream, s_started, s_seen, s_ended, s_title, s_cat, s_peak, s_sum, s_secs,
     s_count, s_known,
     st_live, st_stream, st_title, st_cat, st_viewers, st_started, st_session,
     ciphertext, nonce, key_version) = row  # fmt: skip
    session = None
    if s_id is not None:
        session = Session(
            id=s_id, platform_stream_id=s_stream, started_at=s_started, last_seen_at=s_seen,
            ended_at=s_ended, title=s_title, category=s_cat, peak_viewers=s_peak,
            viewer_count_sum=s_sum, viewer_seconds=float(s_secs), sample_count=s_count,
            known_viewer_sample_count=s_known,
        )  # fmt: skip
    last = LastSample(ls_at, bool(ls_live), ls_viewers) if ls_at is not None else None
    status = None
    if st_live is not None:
        status = StatusSnapshot(st_live, st_stream, st_title, st_cat, st_viewers, st_started,
                                st_session)  # fmt: skip
    return DueChannel(
        id=cid,
        platform=platform,
        platform_channel_id=pcid,
        interval_s=interval_s,
        memory=Memory(session, last),
        status=status,
        poll=PollState(
            last_polled_at=last_polled,
            consecutive_failures=failures or 0,
            feed_checked_at=feed_at,
            candidate_video_ids=tuple(candidates or ()),
            settled_video_ids=tuple(settled or ()),
            stats_checked_at=stats_at,
        ),
        credential=Sealed(ciphertext, nonce, key_version) if ciphertext is not None else None,
    )


def due_channels(
    conn: psycopg.Connection[Any],
    now: datetime,
    *,
    only: Sequence[UUID] | None = None,
    slack: timedelta = timedelta(seconds=5),
) -> list[DueChannel]:
    """Channels to check now; `only` restricts to a shard (and ignores due-ness)."""
    rows = conn.execute(
        DUE_CHANNELS_SQL, {"now": now, "slack": slack, "ids": list(only) if only else None}
    ).fetchall()
    return [_row_to_due(row) for row in rows]


def due_channel_ids(
    conn: psycopg.Connection[Any], now: datetime, *, slack: timedelta = timedelta(seconds=5)
) -> list[UUID]:
    """Just the ids of `due_channels` (the planner drops the joins nothing here reads)."""
    rows = conn.execute(
        f"select d.channel_id from ({DUE_CHANNELS_SQL}) as d(channel_id, platform)"
        " order by d.platform, d.channel_id",
        {"now": now, "slack": slack, "ids": None},
    ).fetchall()
    return [row[0] for row in rows]


def quota_day(platform: str, at: datetime) -> str:
    zone = PACIFIC if platform == "youtube" else ZoneInfo("UTC")
    return at.astimezone(zone).date().isoformat()


@dataclass(slots=True)
class _Plan:
    """The rows one cycle writes, gathered before any SQL runs."""

    session_updates: dict[int, tuple[UUID, Session]]
    session_inserts: dict[UUID, Session]
    samples: list[tuple[UUID, datetime, int | None, int | None, bool, bool]]
    """channel, observed_at, viewers, session id, is_live, session is new this cycle"""
    statuses: dict[UUID, tuple[StatusSnapshot, datetime]]
    memories: dict[UUID, Memory]


def _status_for(memory: Memory, obs_live: bool, viewers: int | None, stream: str | None,
                title: str | None, category: str | None) -> StatusSnapshot:  # fmt: skip
    session = memory.session
    if not obs_live or session is None:
        return StatusSnapshot(is_live=False)
    return StatusSnapshot(True, stream, title, category, viewers, session.started_at, session.id)


def _plan(
    due: Sequence[DueChannel], outcomes: Mapping[UUID, ChannelOutcome], rules: Rules
) -> tuple[_Plan, CycleReport]:
    plan = _Plan({}, {}, [], {}, {})
    report = CycleReport(channels_due=len(due))
    for channel in due:
        outcome = outcomes.get(channel.id)
        obs = outcome.observation if outcome else None
        if obs is None:
            report.channels_pending += bool(outcome and outcome.pending)
            continue
        report.channels_checked += 1
        step = advance(channel.memory, obs, rules)
        if not step.applied:
            continue
        memory = step.memory
        plan.memories[channel.id] = memory
        if step.closed is not None and step.closed.id is not None:
            plan.session_updates[step.closed.id] = (channel.id, step.closed)
            report.sessions_closed += 1
        session = memory.session
        if session is not None and step.change is not SessionChange.NONE:
            if session.id is None:
                plan.session_inserts[channel.id] = session
                report.sessions_opened += 1
            elif step.closed is None or step.closed.id != session.id:
                plan.session_updates[session.id] = (channel.id, session)
        in_session = step.sample_in_session and session is not None
        plan.samples.append((
            channel.id, obs.observed_at, obs.viewer_count if obs.is_live else None,
            session.id if in_session and session is not None else None, obs.is_live,
            in_session and session is not None and session.id is None,
        ))  # fmt: skip
        status = _status_for(memory, obs.is_live, obs.viewer_count, obs.platform_stream_id,
                             obs.title, obs.category)  # fmt: skip
        if status != channel.status:
            plan.statuses[channel.id] = (status, obs.observed_at)
    return plan, report


def _write_sessions(conn: psycopg.Connection[Any], plan: _Plan) -> dict[UUID, int]:
    """Update changed sessions (closes first), insert new ones; return new ids by channel."""
    if plan.session_updates:
        items = sorted(plan.session_updates.items(), key=lambda kv: kv[1][1].ended_at is None)
        cols = _session_columns([s for _, (_, s) in items])
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


def write_samples(
    conn: psycopg.Connection[Any],
    rows: Sequence[tuple[UUID, datetime, int | None, int | None, bool]],
) -> int:
    """Bulk-insert viewer samples, skipping any already stored; return how many were new."""
    if not rows:
        return 0
    conn.execute(
        "create temporary table if not exists monitor_samples_in"
        " (like public.viewer_samples) on commit delete rows"
    )
    with conn.cursor() as cur:
        with cur.copy(
            "copy monitor_samples_in (channel_id, observed_at, viewer_count, session_id, is_live)"
            " from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            "insert into public.viewer_samples select * from monitor_samples_in"
            " on conflict (channel_id, observed_at) do nothing"
        )
        return cur.rowcount


def _write_statuses(
    conn: psycopg.Connection[Any], plan: _Plan, ids: Mapping[UUID, int]
) -> list[UUID]:
    """Write the statuses that really changed; return those channels' ids."""
    if not plan.statuses:
        return []
    channels = list(plan.statuses)
    snaps = [plan.statuses[c][0] for c in channels]
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
            [plan.statuses[c][1] for c in channels],
        ),
    )
    return [row[0] for row in cur.fetchall()]


def _write_poll_state(
    conn: psycopg.Connection[Any],
    due: Sequence[DueChannel],
    outcomes: Mapping[UUID, ChannelOutcome],
    plan: _Plan,
    ids: Mapping[UUID, int],
    run: RunInfo,
) -> None:
    rows: list[tuple[Any, ...]] = []
    for channel in due:
        outcome = outcomes.get(channel.id) or ChannelOutcome(error="no answer")
        poll = outcome.poll or channel.poll
        observed = outcome.observation is not None or outcome.pending
        memory = plan.memories.get(channel.id, channel.memory)
        last = memory.last_sample
        session = memory.session
        session_id = ids.get(channel.id) if session is not None and session.id is None else None
        rows.append((
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
            list(poll.candidate_video_ids),
            list(poll.settled_video_ids),
            poll.stats_checked_at,
        ))  # fmt: skip
    if not rows:
        return
    columns = [list(col) for col in zip(*rows, strict=True)]  # psycopg: lists are arrays
    conn.execute(
        """
        insert into public.channel_poll_state as ps
          (channel_id, last_polled_at, last_attempt_at, consecutive_failures, last_error,
           last_sample_at, last_sample_live, last_sample_viewers, last_session_id,
           feed_checked_at, candidate_video_ids, settled_video_ids, stats_checked_at)
        select u.channel_id, u.last_polled_at, u.last_attempt_at, u.failures, u.last_error,
               u.ls_at, u.ls_live, u.ls_viewers, u.session_id, u.feed_at,
               coalesce((select array_agg(x) from jsonb_array_elements_text(u.candidates) x),
                        '{}'),
               coalesce((select array_agg(x) from jsonb_array_elements_text(u.settled) x),
                        '{}'),
               u.stats_at
        from unnest(%s::uuid[], %s::timestamptz[], %s::timestamptz[], %s::int[], %s::text[],
                    %s::timestamptz[], %s::bool[], %s::int[], %s::bigint[], %s::timestamptz[],
                    %s::jsonb[], %s::jsonb[], %s::timestamptz[])
          as u(channel_id, last_polled_at, last_attempt_at, failures, last_error, ls_at, ls_live,
               ls_viewers, session_id, feed_at, candidates, settled, stats_at)
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
          stats_checked_at = excluded.stats_checked_at
        """,
        # Variable-length text arrays cannot be unnested as a 2-D array: pass
        # each channel's list as a JSON array instead.
        [
            *columns[:10],
            [Jsonb(list(c)) for c in columns[10]],
            [Jsonb(list(c)) for c in columns[11]],
            columns[12],
        ],
    )


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


def _write_usage(
    conn: psycopg.Connection[Any], usage: Mapping[str, PlatformUsage], at: datetime
) -> None:
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


def record_run(
    conn: psycopg.Connection[Any], run: RunInfo, report: CycleReport, finished_at: datetime
) -> int:
    row = conn.execute(
        """
        insert into public.monitor_runs
          (started_at, finished_at, status, channels_checked, samples_written, requests,
           quota_units, errors, duration_ms, cycle_id, trigger, shard_index, shard_count,
           past_due)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning id
        """,
        (
            run.started_at,
            finished_at,
            report.status,
            report.channels_checked,
            report.samples_written,
            Jsonb(report.requests),
            Jsonb(report.quota_units),
            Jsonb(report.errors),
            report.duration_ms,
            run.cycle_id,
            run.trigger,
            run.shard_index,
            run.shard_count,
            run.past_due,
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


def write_cycle(
    conn: psycopg.Connection[Any],
    due: Sequence[DueChannel],
    outcomes: Mapping[UUID, ChannelOutcome],
    usage: Mapping[str, PlatformUsage],
    rules: Rules,
    run: RunInfo,
) -> CycleReport:
    """Write everything one cycle learned, in the caller's transaction."""
    plan, report = _plan(due, outcomes, rules)
    new_ids = _write_sessions(conn, plan)
    samples = [
        (cid, at, viewers, new_ids.get(cid) if is_new else sid, live)
        for cid, at, viewers, sid, live, is_new in plan.samples
    ]
    began = time.perf_counter()
    report.samples_written = write_samples(conn, samples)
    # Part of the samples' write (and of its measured time): their rollups.
    write_rollups(conn, due, samples, outcomes, rules.max_gap)
    report.samples_s = time.perf_counter() - began
    changed = _write_statuses(conn, plan, new_ids)
    report.status_changes = len(changed)
    broadcast_status_changes(conn, changed)
    _write_poll_state(conn, due, outcomes, plan, new_ids, run)
    report.stats_written = _write_stats(conn, outcomes)
    _write_usage(conn, usage, run.started_at)
    report.requests = {p: u.requests for p, u in usage.items()}
    report.minimum_requests = {p: u.minimum_requests for p, u in usage.items()}
    report.quota_units = {p: u.quota_units for p, u in usage.items() if u.quota_units}
    report.errors = [e for u in usage.values() for e in u.errors]
    failed = report.channels_due - report.channels_checked - report.channels_pending
    if failed and report.channels_checked == 0:
        report.status = "failed"
    elif failed or report.errors:
        report.status = "partial"
    return report
