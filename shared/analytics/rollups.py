"""Incremental maintenance of the hourly and daily rollups, inside the monitor's write.

The figures are defined in `supabase/migrations/20261124120300_analytics.sql`
and the hold rule in `20261203122000_fidelity.sql` (each sample stands for
`[holds_from, observed_at]` and, when live, on to the next sample's
`holds_from` if that comes within the next sample's `max_gap_s`). One cycle
adds, per channel:

- the forward hold of the channel's previous sample (the `last_sample` the
  cycle read from `channel_poll_state`) up to this cycle's sample's
  `holds_from`, when the previous one was live and the gap is within this
  sample's `max_gap_s`;
- this cycle's live sample's own hold back to its `holds_from`;
- both split at hour boundaries;
- this cycle's sample itself (live count, known count, sum, peak);
- this cycle's followers minus the channel's previous followers.

The monitor passes only channels with something to add (this or the previous
sample live, or followers sampled), as `RollupSample`s and `FollowerCount`s:
this module knows nothing of the monitor's own types. One set-based statement
upserts both tables. `analytics.rebuild_rollups` computes the same rows from
raw samples.
"""

from collections.abc import Sequence
from datetime import datetime
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
    holds_from: datetime | None
    """The new sample's `holds_from` (None: its own `observed_at`)."""
    max_gap_s: int
    """The new sample's `max_gap_s`."""


class FollowerCount(NamedTuple):
    """A follower count sampled this cycle."""

    channel_id: UUID
    observed_at: datetime
    followers: int


ROLLUPS_SQL = """
with new as (
  select u.channel_id, u.observed_at, u.viewer_count, u.is_live, u.last_sample_at,
         u.last_sample_live, u.last_sample_viewers,
         coalesce(u.holds_from, u.observed_at) as holds_from, u.max_gap_s
  from unnest(%(channel)s::uuid[], %(at)s::timestamptz[], %(viewers)s::int[], %(live)s::bool[],
              %(prev_at)s::timestamptz[], %(prev_live)s::bool[], %(prev_viewers)s::int[],
              %(holds_from)s::timestamptz[], %(max_gap_s)s::int[])
    as u(channel_id, observed_at, viewer_count, is_live, last_sample_at, last_sample_live,
         last_sample_viewers, holds_from, max_gap_s)
),
held as (
  -- the previous live sample, forward to this sample's boundary
  select n.channel_id, n.last_sample_at as lo, n.holds_from as hi,
         n.last_sample_viewers as viewers
  from new n
  where n.last_sample_live
    and n.observed_at - n.last_sample_at <= make_interval(secs => n.max_gap_s)
    and n.holds_from > n.last_sample_at
  union all
  -- this live sample, back to its boundary
  select n.channel_id, n.holds_from, n.observed_at, n.viewer_count
  from new n
  where n.is_live and n.holds_from < n.observed_at
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
            "holds_from": [r.holds_from for r in samples],
            "max_gap_s": [r.max_gap_s for r in samples],
            "s_channel": [f.channel_id for f in followers],
            "s_at": [f.observed_at for f in followers],
            "s_followers": [f.followers for f in followers],
        },
    )
