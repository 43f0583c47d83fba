"""Incremental maintenance of the hourly and daily rollups, inside the monitor's write.

The figures are defined in `supabase/migrations/20261124120300_analytics.sql`
(sample-and-hold with the monitor's max gap). One cycle adds, per channel:

- the held interval of the channel's previous sample (the `last_sample` the
  cycle read from `channel_poll_state`) up to this cycle's sample, when the
  previous one was live and the gap is within `max_gap`, split at hour
  boundaries;
- this cycle's sample itself (live count, known count, sum, peak);
- this cycle's followers minus the channel's previous followers.

The monitor passes only channels with something to add (this or the previous
sample live, or followers sampled), as `RollupSample`s and `FollowerCount`s:
this module knows nothing of the monitor's own types. One set-based statement
upserts both tables. `analytics.rebuild_rollups` computes the same rows from
raw samples.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

import psycopg


class RollupSample(NamedTuple):
    """A new sample and the channel's previous one (whose value it holds until this one)."""

    channel_id: UUID
    observed_at: datetime
    viewer_count: int | None
    is_live: bool
    previous_at: datetime | None
    previous_live: bool | None
    previous_viewers: int | None


class FollowerCount(NamedTuple):
    """A follower count sampled this cycle."""

    channel_id: UUID
    observed_at: datetime
    followers: int


ROLLUPS_SQL = """
with new as (
  select *
  from unnest(%(channel)s::uuid[], %(at)s::timestamptz[], %(viewers)s::int[], %(live)s::bool[],
              %(prev_at)s::timestamptz[], %(prev_live)s::bool[], %(prev_viewers)s::int[])
    as u(channel_id, observed_at, viewer_count, is_live, last_sample_at, last_sample_live,
         last_sample_viewers)
),
held as (
  select n.channel_id, n.last_sample_at as lo, n.observed_at as hi,
         n.last_sample_viewers as viewers
  from new n
  where n.last_sample_live and n.observed_at - n.last_sample_at <= %(max_gap)s
),
stats as (
  select u.channel_id, u.observed_at,
         u.followers - coalesce(prev.followers, u.followers) as delta
  from unnest(%(s_channel)s::uuid[], %(s_at)s::timestamptz[], %(s_followers)s::bigint[])
    as u(channel_id, observed_at, followers)
  left join lateral (
    select st.followers from public.channel_stats st
    where st.channel_id = u.channel_id and st.followers is not null
      and st.observed_at < u.observed_at
    order by st.observed_at desc
    limit 1
  ) as prev on true
  where not exists (
    select 1 from public.channel_stats st
    where st.channel_id = u.channel_id and st.observed_at = u.observed_at
  )
),
c as (
  select h.channel_id, b.hour,
         extract(epoch from least(h.hi, b.hour + interval '1 hour')
                            - greatest(h.lo, b.hour)) as live_s,
         h.viewers, null::integer as peak, 0::bigint as vsum, 0 as known, 0 as live_n,
         null::bigint as followers
  from held h
  cross join lateral generate_series(date_trunc('hour', h.lo, 'UTC'),
                                     h.hi - interval '1 microsecond', interval '1 hour') as b(hour)
  union all
  select n.channel_id, date_trunc('hour', n.observed_at, 'UTC'), 0, null, n.viewer_count,
         coalesce(n.viewer_count, 0), (n.viewer_count is not null)::integer, 1, null
  from new n
  where n.is_live
  union all
  select s.channel_id, date_trunc('hour', s.observed_at, 'UTC'), 0, null, null, 0, 0, 0, s.delta
  from stats s
),
agg as (
  select c.channel_id, c.hour, sum(c.live_s) as live_s,
         coalesce(sum(c.viewers * c.live_s), 0) as viewer_s, max(c.peak) as peak,
         sum(c.vsum) as vsum, sum(c.known) as known, sum(c.live_n) as live_n,
         sum(c.followers) as followers
  from c
  group by c.channel_id, c.hour
),
hourly as (
  insert into public.channel_rollups_hourly as r
    (channel_id, hour, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,
     known_viewer_sample_count, live_sample_count, followers_gained)
  select * from agg
  on conflict (channel_id, hour) do update set
    live_seconds = r.live_seconds + excluded.live_seconds,
    viewer_seconds = r.viewer_seconds + excluded.viewer_seconds,
    peak_viewers = greatest(r.peak_viewers, excluded.peak_viewers),
    viewer_count_sum = r.viewer_count_sum + excluded.viewer_count_sum,
    known_viewer_sample_count = r.known_viewer_sample_count + excluded.known_viewer_sample_count,
    live_sample_count = r.live_sample_count + excluded.live_sample_count,
    followers_gained = case when excluded.followers_gained is null then r.followers_gained
                            else coalesce(r.followers_gained, 0) + excluded.followers_gained end
)
insert into public.channel_rollups_daily as r
  (channel_id, day, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,
   known_viewer_sample_count, live_sample_count, followers_gained)
select a.channel_id, (a.hour at time zone 'UTC')::date, sum(a.live_s), sum(a.viewer_s),
       max(a.peak), sum(a.vsum), sum(a.known), sum(a.live_n), sum(a.followers)
from agg a
group by a.channel_id, (a.hour at time zone 'UTC')::date
on conflict (channel_id, day) do update set
  live_seconds = r.live_seconds + excluded.live_seconds,
  viewer_seconds = r.viewer_seconds + excluded.viewer_seconds,
  peak_viewers = greatest(r.peak_viewers, excluded.peak_viewers),
  viewer_count_sum = r.viewer_count_sum + excluded.viewer_count_sum,
  known_viewer_sample_count = r.known_viewer_sample_count + excluded.known_viewer_sample_count,
  live_sample_count = r.live_sample_count + excluded.live_sample_count,
  followers_gained = case when excluded.followers_gained is null then r.followers_gained
                          else coalesce(r.followers_gained, 0) + excluded.followers_gained end
"""


def write_rollups(
    conn: psycopg.Connection[Any],
    samples: Sequence[RollupSample],
    followers: Sequence[FollowerCount],
    max_gap: timedelta,
) -> None:
    """Add this cycle's new samples and follower counts to the rollups; call before
    `channel_stats` gets this cycle's rows (the previous count is read from it)."""
    if not samples and not followers:
        return
    conn.execute(
        ROLLUPS_SQL,
        {
            "channel": [r.channel_id for r in samples],
            "at": [r.observed_at for r in samples],
            "viewers": [r.viewer_count for r in samples],
            "live": [r.is_live for r in samples],
            "prev_at": [r.previous_at for r in samples],
            "prev_live": [r.previous_live for r in samples],
            "prev_viewers": [r.previous_viewers for r in samples],
            "max_gap": max_gap,
            "s_channel": [f.channel_id for f in followers],
            "s_at": [f.observed_at for f in followers],
            "s_followers": [f.followers for f in followers],
        },
    )
