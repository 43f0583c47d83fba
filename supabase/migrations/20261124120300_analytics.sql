-- Analytics: the rollup tables, the exact definitions of the figures, the
-- raw-sample computation they are checked against, the bulk rebuild of the
-- rollups, the leaderboard materialized view, and the dashboard functions
-- that supabase.rpc(...) calls.
--
-- Definitions (one channel, a half-open range [from, to) of UTC time):
-- every figure comes from viewer_samples and channel_stats alone, so a
-- computation straight from the raw rows gives the same numbers as the
-- rollups (analytics.raw_buckets is that computation).
--   * A live sample holds "live" and its viewer count (when known) from its
--     observed_at until the channel's next sample, provided that comes within
--     the monitor's max gap (MONITOR_GRACE_PERIOD_S, 600 s by default);
--     otherwise it holds nothing (a longer gap is unknown, not streamed).
--     Held time is clipped to the range and split at bucket boundaries.
--   * hours streamed = live_seconds / 3600: the held time of live samples,
--     hidden counts included (the channel was live, its count unknown).
--   * hours watched = viewer_seconds / 3600: sum of viewers x held seconds
--     over live samples with a known count. A hidden count adds nothing: it
--     is unknown, never 0.
--   * peak = the highest known count among live samples observed in the
--     range (null when none is known).
--   * average = viewer_count_sum / known_viewer_sample_count over the live
--     samples observed in the range with a known count (exact numeric; null
--     when none is known). Hidden counts are left out, not averaged as 0.
--   * followers gained = followers at the last stats sample in the range
--     minus followers at the channel's last stats sample before the range
--     (or the first one in the range when there is none before); null when
--     the range holds no stats sample. Stats rows with null followers are
--     ignored. Per stats sample this is a delta from the previous one, so
--     gains of adjacent ranges add up exactly.
-- All seconds are numeric (extract(epoch ...) is exact to the microsecond),
-- counts are integers, so equality checks are exact.
--
-- Rollups are kept incrementally by the monitor's write transaction
-- (shared/monitor/store.py::_write_rollups); analytics.rebuild_rollups
-- recomputes them from raw rows (backfills, the benchmark), and the tests
-- prove both give the same rows. Both assume a channel's samples and stats
-- arrive in time order, as the monitor writes them.
--
-- Dashboard functions are `security definer` with an explicit membership
-- check: a caller who is not a member of the team (or, for channel
-- functions, of no team tracking the channel) gets no rows, no error.
-- followers_gained is the plan feature followers_history: null unless the
-- team (channel functions: one of the caller's teams tracking the channel)
-- has it; every other figure is the same for every plan.

-- ---------------------------------------------------------------------------
-- Rollups of the viewer samples: per channel per UTC hour and per UTC day.
-- They are the analytics' source (dashboard functions, leaderboards, CSV
-- export) so that a month of a channel is ~720 or ~30 rows, not ~43,200
-- samples. The monitor keeps them current incrementally in its write
-- transaction; they outlive the raw samples (retention drops samples only).
--
-- Figures follow the sample-and-hold rule of shared/monitor/stitching.py:
-- a live sample holds its state (live, and its viewer count when known)
-- until the channel's next sample, if that comes within the monitor's
-- max gap; held time is split at bucket boundaries.
--   live_seconds      seconds live in the bucket        (hours streamed x 3600)
--   viewer_seconds    sum of viewers x held seconds     (hours watched x 3600)
--   peak_viewers      highest known count sampled in the bucket (null: none known)
--   viewer_count_sum / known_viewer_sample_count
--                     the exact average over the bucket's known live samples
--   live_sample_count live samples taken in the bucket
--   followers_gained  followers at the bucket's last stats sample minus the
--                     channel's previous stats sample (null: no sample)
-- Backend-written; members of a team tracking the channel read them.
-- ---------------------------------------------------------------------------
create table public.channel_rollups_hourly (
  channel_id uuid not null references public.channels (id) on delete cascade,
  -- the top of a UTC hour
  hour timestamptz not null check (hour = date_trunc('hour', hour, 'UTC')),
  live_seconds numeric not null default 0 check (live_seconds between 0 and 3600),
  viewer_seconds numeric not null default 0 check (viewer_seconds >= 0),
  peak_viewers integer null check (peak_viewers >= 0),
  viewer_count_sum bigint not null default 0 check (viewer_count_sum >= 0),
  known_viewer_sample_count integer not null default 0 check (known_viewer_sample_count >= 0),
  live_sample_count integer not null default 0 check (live_sample_count >= 0),
  followers_gained bigint null,
  updated_at timestamptz not null default now(),
  primary key (channel_id, hour),
  check (known_viewer_sample_count <= live_sample_count)
);
comment on table public.channel_rollups_hourly is
  'Per channel per UTC hour: hours streamed/watched, peak and average viewers, followers gained.';

create trigger channel_rollups_hourly_set_updated_at before update on public.channel_rollups_hourly
  for each row execute function public.set_updated_at();

alter table public.channel_rollups_hourly enable row level security;
revoke all on public.channel_rollups_hourly from anon, authenticated;
-- followers_gained is the plan feature followers_history: no client reads
-- the column directly (a row policy cannot hide one column); the dashboard
-- functions and analytics_team_daily_followers() answer it to teams whose
-- plan has the feature.
grant select (channel_id, hour, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,
              known_viewer_sample_count, live_sample_count, updated_at)
  on public.channel_rollups_hourly to authenticated;

create policy channel_rollups_hourly_select_tracked on public.channel_rollups_hourly
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

create table public.channel_rollups_daily (
  channel_id uuid not null references public.channels (id) on delete cascade,
  -- a UTC calendar day
  day date not null,
  live_seconds numeric not null default 0 check (live_seconds between 0 and 86400),
  viewer_seconds numeric not null default 0 check (viewer_seconds >= 0),
  peak_viewers integer null check (peak_viewers >= 0),
  viewer_count_sum bigint not null default 0 check (viewer_count_sum >= 0),
  known_viewer_sample_count integer not null default 0 check (known_viewer_sample_count >= 0),
  live_sample_count integer not null default 0 check (live_sample_count >= 0),
  followers_gained bigint null,
  updated_at timestamptz not null default now(),
  primary key (channel_id, day),
  check (known_viewer_sample_count <= live_sample_count)
);
comment on table public.channel_rollups_daily is
  'Per channel per UTC day: hours streamed/watched, peak and average viewers, followers gained.';

create trigger channel_rollups_daily_set_updated_at before update on public.channel_rollups_daily
  for each row execute function public.set_updated_at();

alter table public.channel_rollups_daily enable row level security;
revoke all on public.channel_rollups_daily from anon, authenticated;
-- followers_gained: as for the hourly rollups.
grant select (channel_id, day, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,
              known_viewer_sample_count, live_sample_count, updated_at)
  on public.channel_rollups_daily to authenticated;

create policy channel_rollups_daily_select_tracked on public.channel_rollups_daily
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

-- ---------------------------------------------------------------------------
-- Schema analytics: the internals, reachable by the backend only
-- ---------------------------------------------------------------------------
create schema analytics;
comment on schema analytics is
  'Analytics internals (raw computation, rebuild, leaderboard materialized view). '
  'Not exposed to the API roles: clients call the public analytics_* functions.';
revoke all on schema analytics from public;
grant usage on schema analytics to service_role;

-- ---------------------------------------------------------------------------
-- The raw computation: figures straight from viewer_samples/channel_stats.
-- p_bin null: one bucket per channel for the whole range (keyed p_from);
-- otherwise buckets date_bin(p_bin, t, 2001-01-01 UTC, a Monday), clipped to
-- the range. Returns a row only for buckets with live held time, a live
-- sample or a stats sample (the rows the rollups would hold).
-- plpgsql with force_custom_plan (here and in range_pieces): every call is
-- planned with its own values, so only the days' partitions it needs are
-- planned and locked; a cached generic plan would carry every partition
-- (measured: 2x slower after the fifth call of a session).
-- ---------------------------------------------------------------------------
create function analytics.raw_buckets(
  p_channels uuid[],
  p_from timestamptz,
  p_to timestamptz,
  p_bin interval default null,
  p_max_gap interval default interval '10 minutes'
)
  returns table (
    channel_id uuid,
    bucket timestamptz,
    live_seconds numeric,
    viewer_seconds numeric,
    peak_viewers integer,
    viewer_count_sum bigint,
    known_viewer_sample_count integer,
    live_sample_count integer,
    followers_gained bigint
  )
  language plpgsql
  stable
  set search_path = ''
  set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
begin
  return query
  with s as (
    -- Samples up to max_gap around the range: enough to know, for every
    -- sample that can hold into the range, its next sample.
    select v.channel_id, v.observed_at, v.viewer_count, v.is_live,
           lead(v.observed_at) over (partition by v.channel_id order by v.observed_at) as next_at
    from public.viewer_samples v
    where v.channel_id = any (p_channels)
      and v.observed_at >= p_from - p_max_gap
      and v.observed_at < p_to + p_max_gap
  ),
  held as (
    select s.channel_id, s.viewer_count,
           greatest(s.observed_at, p_from) as lo, least(s.next_at, p_to) as hi
    from s
    where s.is_live
      and s.next_at - s.observed_at <= p_max_gap
      and s.next_at > p_from
      and s.observed_at < p_to
  ),
  pieces as (
    select h.channel_id, b.start as bucket,
           extract(epoch from least(h.hi, b.start + coalesce(p_bin, h.hi - b.start))
                              - greatest(h.lo, b.start)) as secs,
           h.viewer_count
    from held h
    cross join lateral (
      select g as start
      from generate_series(date_bin(p_bin, h.lo, timestamptz '2001-01-01 00:00:00+00'),
                           h.hi - interval '1 microsecond', p_bin) as g
      where p_bin is not null
      union all
      select p_from where p_bin is null
    ) as b
  ),
  stats as (
    select x.channel_id, x.observed_at, x.in_range,
           x.followers - coalesce(lag(x.followers) over w, x.followers) as delta
    from (
      select st.channel_id, st.observed_at, st.followers, true as in_range
      from public.channel_stats st
      where st.channel_id = any (p_channels) and st.followers is not null
        and st.observed_at >= p_from and st.observed_at < p_to
      union all
      select prev.channel_id, prev.observed_at, prev.followers, false
      from unnest(p_channels) as c(id)
      cross join lateral (
        select st.channel_id, st.observed_at, st.followers
        from public.channel_stats st
        where st.channel_id = c.id and st.followers is not null and st.observed_at < p_from
        order by st.observed_at desc
        limit 1
      ) as prev
    ) as x
    window w as (partition by x.channel_id order by x.observed_at)
  ),
  contributions as (
    select p.channel_id, p.bucket, p.secs as live_s,
           coalesce(p.viewer_count * p.secs, 0) as viewer_s,
           null::integer as peak, 0::bigint as vsum, 0 as known, 0 as live_n,
           null::bigint as followers
    from pieces p
    union all
    select s.channel_id,
           case when p_bin is null then p_from
                else date_bin(p_bin, s.observed_at, timestamptz '2001-01-01 00:00:00+00') end,
           0, 0, s.viewer_count, coalesce(s.viewer_count, 0),
           (s.viewer_count is not null)::integer, 1, null
    from s
    where s.is_live and s.observed_at >= p_from and s.observed_at < p_to
    union all
    select st.channel_id,
           case when p_bin is null then p_from
                else date_bin(p_bin, st.observed_at, timestamptz '2001-01-01 00:00:00+00') end,
           0, 0, null, 0, 0, 0, st.delta
    from stats st
    where st.in_range
  )
  select c.channel_id, c.bucket, sum(c.live_s), sum(c.viewer_s), max(c.peak),
         sum(c.vsum)::bigint, sum(c.known)::integer, sum(c.live_n)::integer, sum(c.followers)::bigint
  from contributions c
  group by c.channel_id, c.bucket;
end;
$$;
comment on function analytics.raw_buckets(uuid[], timestamptz, timestamptz, interval, interval) is
  'The analytics figures computed straight from raw samples and stats (the reference).';
revoke all on function analytics.raw_buckets(uuid[], timestamptz, timestamptz, interval, interval) from public, anon, authenticated;
grant execute on function analytics.raw_buckets(uuid[], timestamptz, timestamptz, interval, interval) to service_role;

-- ---------------------------------------------------------------------------
-- Bulk rebuild of the rollups of whole UTC days [p_from_day, p_to_day) from
-- raw rows: the same numbers the monitor's incremental path produces (the
-- tests check it). For backfills and the benchmark's generated data.
-- ---------------------------------------------------------------------------
create function analytics.rebuild_rollups(
  p_channels uuid[],
  p_from_day date,
  p_to_day date,
  p_max_gap interval default interval '10 minutes'
)
  returns bigint
  language plpgsql
  volatile
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_from timestamptz := p_from_day::timestamp at time zone 'UTC';
  v_to timestamptz := p_to_day::timestamp at time zone 'UTC';
  v_rows bigint;
begin
  delete from public.channel_rollups_hourly h
  where h.channel_id = any (p_channels) and h.hour >= v_from and h.hour < v_to;
  delete from public.channel_rollups_daily d
  where d.channel_id = any (p_channels) and d.day >= p_from_day and d.day < p_to_day;
  insert into public.channel_rollups_hourly
    (channel_id, hour, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,
     known_viewer_sample_count, live_sample_count, followers_gained)
  select r.channel_id, r.bucket, r.live_seconds, r.viewer_seconds, r.peak_viewers,
         r.viewer_count_sum, r.known_viewer_sample_count, r.live_sample_count, r.followers_gained
  from analytics.raw_buckets(p_channels, v_from, v_to, interval '1 hour', p_max_gap) as r;
  get diagnostics v_rows = row_count;
  insert into public.channel_rollups_daily
    (channel_id, day, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum,
     known_viewer_sample_count, live_sample_count, followers_gained)
  select h.channel_id, (h.hour at time zone 'UTC')::date, sum(h.live_seconds),
         sum(h.viewer_seconds), max(h.peak_viewers), sum(h.viewer_count_sum),
         sum(h.known_viewer_sample_count), sum(h.live_sample_count), sum(h.followers_gained)
  from public.channel_rollups_hourly h
  where h.channel_id = any (p_channels) and h.hour >= v_from and h.hour < v_to
  group by h.channel_id, (h.hour at time zone 'UTC')::date;
  return v_rows;
end;
$$;
comment on function analytics.rebuild_rollups(uuid[], date, date, interval) is
  'Recompute the hourly and daily rollups of whole UTC days from raw samples; returns hourly rows.';
revoke all on function analytics.rebuild_rollups(uuid[], date, date, interval) from public, anon, authenticated;
grant execute on function analytics.rebuild_rollups(uuid[], date, date, interval) to service_role;

-- ---------------------------------------------------------------------------
-- Exact pieces of a range: rollups for the whole hours (and whole days when
-- p_use_daily) inside it, the raw computation for the partial hours at its
-- edges. Each piece lies inside one hour, or one day when p_use_daily.
-- ---------------------------------------------------------------------------
create function analytics.range_pieces(
  p_channels uuid[],
  p_from timestamptz,
  p_to timestamptz,
  p_use_daily boolean
)
  returns table (
    channel_id uuid,
    piece_start timestamptz,
    live_seconds numeric,
    viewer_seconds numeric,
    peak_viewers integer,
    viewer_count_sum bigint,
    known_viewer_sample_count integer,
    live_sample_count integer,
    followers_gained bigint
  )
  language plpgsql
  stable
  set search_path = ''
  set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
declare
  v_h_from timestamptz := date_trunc('hour', p_from, 'UTC');
  v_h_to timestamptz := date_trunc('hour', p_to, 'UTC');
  v_d_from date;
  v_d_to date;
begin
  if v_h_from < p_from then
    v_h_from := v_h_from + interval '1 hour';
  end if;
  if v_h_from >= v_h_to then
    -- No whole hour inside: all raw.
    return query select * from analytics.raw_buckets(p_channels, p_from, p_to);
    return;
  end if;
  if p_from < v_h_from then
    return query select * from analytics.raw_buckets(p_channels, p_from, v_h_from);
  end if;
  if v_h_to < p_to then
    return query select * from analytics.raw_buckets(p_channels, v_h_to, p_to);
  end if;
  v_d_from := ((v_h_from at time zone 'UTC') + interval '1 day' - interval '1 microsecond')::date;
  v_d_to := (v_h_to at time zone 'UTC')::date;
  if not p_use_daily or v_d_from >= v_d_to then
    v_d_from := null;
    v_d_to := null;
  else
    return query
      select d.channel_id, d.day::timestamp at time zone 'UTC', d.live_seconds, d.viewer_seconds,
             d.peak_viewers, d.viewer_count_sum, d.known_viewer_sample_count,
             d.live_sample_count, d.followers_gained
      from public.channel_rollups_daily d
      where d.channel_id = any (p_channels) and d.day >= v_d_from and d.day < v_d_to;
  end if;
  return query
    select h.channel_id, h.hour, h.live_seconds, h.viewer_seconds, h.peak_viewers,
           h.viewer_count_sum, h.known_viewer_sample_count, h.live_sample_count,
           h.followers_gained
    from public.channel_rollups_hourly h
    where h.channel_id = any (p_channels) and h.hour >= v_h_from and h.hour < v_h_to
      and (v_d_from is null
           or h.hour < v_d_from::timestamp at time zone 'UTC'
           or h.hour >= v_d_to::timestamp at time zone 'UTC');
end;
$$;
revoke all on function analytics.range_pieces(uuid[], timestamptz, timestamptz, boolean) from public, anon, authenticated;
grant execute on function analytics.range_pieces(uuid[], timestamptz, timestamptz, boolean) to service_role;

create function analytics.check_range(p_from timestamptz, p_to timestamptz)
  returns void
  language plpgsql
  immutable
  set search_path = ''
as $$
begin
  if p_from is null or p_to is null or p_to <= p_from then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'range_to must be later than range_from';
  end if;
  if p_to - p_from > interval '3660 days' then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'the range may span at most 3660 days';
  end if;
end;
$$;
revoke all on function analytics.check_range(timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function analytics.check_range(timestamptz, timestamptz) to service_role;

-- ---------------------------------------------------------------------------
-- Dashboard functions (supabase.rpc). Ranges are half-open [range_from,
-- range_to) and exact at any resolution: partial hours at the edges are
-- computed from raw samples. Seconds as numeric, avg_viewers exact numeric.
-- ---------------------------------------------------------------------------

-- Team overview: one row per channel of the team (paused ones included),
-- plus a totals row with channel_id null (peak there: the highest single
-- channel's peak; average: over all the channels' known samples).
create function public.analytics_team_overview(
  team_id uuid,
  range_from timestamptz,
  range_to timestamptz
)
  returns table (
    channel_id uuid,
    live_seconds numeric,
    viewer_seconds numeric,
    hours_streamed numeric,
    hours_watched numeric,
    peak_viewers integer,
    avg_viewers numeric,
    viewer_count_sum bigint,
    known_viewer_sample_count integer,
    live_sample_count integer,
    followers_gained bigint
  )
  language plpgsql
  stable
  security definer
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_channels uuid[];
  v_followers boolean;
begin
  perform analytics.check_range(range_from, range_to);
  if not public.is_team_member(analytics_team_overview.team_id) then
    return;
  end if;
  v_followers := public.team_has_feature(analytics_team_overview.team_id, 'followers_history');
  select coalesce(array_agg(tc.channel_id), '{}') into v_channels
  from public.team_channels tc where tc.team_id = analytics_team_overview.team_id;
  return query
    with per_channel as (
      select c.id as channel_id,
             coalesce(sum(p.live_seconds), 0) as live_s,
             coalesce(sum(p.viewer_seconds), 0) as viewer_s,
             max(p.peak_viewers) as peak,
             coalesce(sum(p.viewer_count_sum), 0)::bigint as vsum,
             coalesce(sum(p.known_viewer_sample_count), 0)::integer as known,
             coalesce(sum(p.live_sample_count), 0)::integer as live_n,
             sum(p.followers_gained)::bigint as followers
      from unnest(v_channels) as c(id)
      left join analytics.range_pieces(v_channels, range_from, range_to, true) as p
        on p.channel_id = c.id
      group by c.id
    ),
    with_totals as (
      select pc.* from per_channel pc
      union all
      select null, coalesce(sum(pc.live_s), 0), coalesce(sum(pc.viewer_s), 0), max(pc.peak),
             coalesce(sum(pc.vsum), 0)::bigint, coalesce(sum(pc.known), 0)::integer,
             coalesce(sum(pc.live_n), 0)::integer, sum(pc.followers)::bigint
      from per_channel pc
    )
    select t.channel_id, t.live_s, t.viewer_s, t.live_s / 3600, t.viewer_s / 3600, t.peak,
           case when t.known > 0 then t.vsum::numeric / t.known end,
           t.vsum, t.known, t.live_n, case when v_followers then t.followers end
    from with_totals t
    order by t.channel_id nulls first;
end;
$$;
comment on function public.analytics_team_overview(uuid, timestamptz, timestamptz) is
  'Totals (channel_id null) and per-channel figures of a team over [range_from, range_to); '
  'no rows for a non-member.';
revoke all on function public.analytics_team_overview(uuid, timestamptz, timestamptz) from public, anon;
grant execute on function public.analytics_team_overview(uuid, timestamptz, timestamptz) to authenticated, service_role;

-- The bucket size a timeline uses for a range: the smallest of a fixed
-- ladder giving at most 300 buckets (so a chart gets at most ~301 points).
create function public.analytics_timeline_bucket(range_from timestamptz, range_to timestamptz)
  returns interval
  language sql
  immutable
  set search_path = ''
as $$
  select b
  from unnest(array[interval '1 minute', interval '5 minutes', interval '15 minutes',
                    interval '1 hour', interval '3 hours', interval '6 hours',
                    interval '12 hours', interval '1 day', interval '7 days',
                    interval '28 days']) with ordinality as l(b, n)
  where extract(epoch from range_to - range_from) <= 300 * extract(epoch from l.b)
  order by l.n
  limit 1
$$;
comment on function public.analytics_timeline_bucket(timestamptz, timestamptz) is
  'Bucket size of analytics_channel_timeline for a range (at most 300 buckets).';
revoke all on function public.analytics_timeline_bucket(timestamptz, timestamptz) from public, anon;
grant execute on function public.analytics_timeline_bucket(timestamptz, timestamptz) to authenticated, service_role;

-- Channel timeline: every bucket intersecting [range_from, range_to), its
-- edges clipped to the range. Buckets of an hour or more come from the
-- rollups (daily ones for day buckets), finer ones from raw samples.
create function public.analytics_channel_timeline(
  channel_id uuid,
  range_from timestamptz,
  range_to timestamptz
)
  returns table (
    bucket_start timestamptz,
    bucket_end timestamptz,
    live_seconds numeric,
    viewer_seconds numeric,
    peak_viewers integer,
    avg_viewers numeric,
    viewer_count_sum bigint,
    known_viewer_sample_count integer,
    live_sample_count integer,
    followers_gained bigint
  )
  language plpgsql
  stable
  security definer
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_bin interval;
  v_channels uuid[] := array[analytics_channel_timeline.channel_id];
  v_origin constant timestamptz := timestamptz '2001-01-01 00:00:00+00';
  v_followers boolean;
begin
  perform analytics.check_range(range_from, range_to);
  if not public.can_read_channel(analytics_channel_timeline.channel_id) then
    return;
  end if;
  v_followers := analytics_channel_timeline.channel_id
                 in (select public.channel_ids_with_feature('followers_history'));
  v_bin := public.analytics_timeline_bucket(range_from, range_to);
  return query
    with pieces as (
      select date_bin(v_bin, p.piece_start, v_origin) as bucket, p.*
      from analytics.range_pieces(v_channels, range_from, range_to, v_bin >= interval '1 day')
        as p
      where v_bin >= interval '1 hour'
      union all
      select r.bucket, r.channel_id, r.bucket, r.live_seconds, r.viewer_seconds, r.peak_viewers,
             r.viewer_count_sum, r.known_viewer_sample_count, r.live_sample_count,
             r.followers_gained
      from analytics.raw_buckets(v_channels, range_from, range_to, v_bin) as r
      where v_bin < interval '1 hour'
    ),
    agg as (
      select p.bucket, sum(p.live_seconds) as live_s, sum(p.viewer_seconds) as viewer_s,
             max(p.peak_viewers) as peak, sum(p.viewer_count_sum)::bigint as vsum,
             sum(p.known_viewer_sample_count)::integer as known,
             sum(p.live_sample_count)::integer as live_n,
             sum(p.followers_gained)::bigint as followers
      from pieces p
      group by p.bucket
    )
    select greatest(b.b, range_from), least(b.b + v_bin, range_to),
           coalesce(a.live_s, 0), coalesce(a.viewer_s, 0), a.peak,
           case when a.known > 0 then a.vsum::numeric / a.known end,
           coalesce(a.vsum, 0), coalesce(a.known, 0), coalesce(a.live_n, 0),
           case when v_followers then a.followers end
    from generate_series(date_bin(v_bin, range_from, v_origin),
                         range_to - interval '1 microsecond', v_bin) as b(b)
    left join agg a on a.bucket = b.b
    order by b.b;
end;
$$;
comment on function public.analytics_channel_timeline(uuid, timestamptz, timestamptz) is
  'A channel''s figures bucketed over [range_from, range_to) (bucket size: '
  'analytics_timeline_bucket); no rows unless the caller''s team tracks the channel.';
revoke all on function public.analytics_channel_timeline(uuid, timestamptz, timestamptz) from public, anon;
grant execute on function public.analytics_channel_timeline(uuid, timestamptz, timestamptz) to authenticated, service_role;

-- Sessions of a channel overlapping [range_from, range_to), newest first, at
-- most 500, with the monitor's running aggregates. Their peak, average and
-- sample counts equal those of the session's samples; viewer_seconds also
-- holds the head back to the platform's start time (shared/monitor/stitching.py).
create function public.analytics_channel_sessions(
  channel_id uuid,
  range_from timestamptz,
  range_to timestamptz
)
  returns table (
    session_id bigint,
    platform_stream_id text,
    title text,
    category text,
    started_at timestamptz,
    last_seen_at timestamptz,
    ended_at timestamptz,
    duration_seconds numeric,
    sample_count integer,
    known_viewer_sample_count integer,
    peak_viewers integer,
    viewer_count_sum bigint,
    avg_viewers numeric,
    viewer_seconds numeric,
    hours_watched numeric
  )
  language plpgsql
  stable
  security definer
  set search_path = ''
as $$
#variable_conflict use_column
begin
  perform analytics.check_range(range_from, range_to);
  if not public.can_read_channel(analytics_channel_sessions.channel_id) then
    return;
  end if;
  return query
    select s.id, s.platform_stream_id, s.title, s.category, s.started_at, s.last_seen_at,
           s.ended_at, extract(epoch from coalesce(s.ended_at, s.last_seen_at) - s.started_at),
           s.sample_count, s.known_viewer_sample_count, s.peak_viewers, s.viewer_count_sum,
           case when s.known_viewer_sample_count > 0
                then s.viewer_count_sum::numeric / s.known_viewer_sample_count end,
           s.viewer_seconds::numeric, s.viewer_seconds::numeric / 3600
    from public.stream_sessions s
    where s.channel_id = analytics_channel_sessions.channel_id
      and s.started_at < range_to
      and coalesce(s.ended_at, s.last_seen_at) >= range_from
    order by s.started_at desc
    limit 500;
end;
$$;
comment on function public.analytics_channel_sessions(uuid, timestamptz, timestamptz) is
  'Stream sessions of a channel overlapping [range_from, range_to) with their aggregates; '
  'no rows unless the caller''s team tracks the channel.';
revoke all on function public.analytics_channel_sessions(uuid, timestamptz, timestamptz) from public, anon;
grant execute on function public.analytics_channel_sessions(uuid, timestamptz, timestamptz) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Leaderboard: a materialized view over the daily rollups of every channel,
-- windows of the last 7 and 30 UTC days (today included), refreshed
-- CONCURRENTLY by the analytics timer. It bypasses RLS, so it lives in the
-- unexposed analytics schema; analytics_leaderboard filters it to the
-- caller's team.
-- ---------------------------------------------------------------------------
create materialized view analytics.channel_leaderboard as
  with w as (
    select p.period, p.days,
           (now() at time zone 'UTC')::date - (p.days - 1) as window_start,
           (now() at time zone 'UTC')::date + 1 as window_end
    from (values ('7d', 7), ('30d', 30)) as p(period, days)
  )
  select d.channel_id, w.period, w.window_start, w.window_end,
         sum(d.live_seconds) as live_seconds, sum(d.viewer_seconds) as viewer_seconds,
         max(d.peak_viewers) as peak_viewers, sum(d.viewer_count_sum)::bigint as viewer_count_sum,
         sum(d.known_viewer_sample_count)::integer as known_viewer_sample_count,
         sum(d.live_sample_count)::integer as live_sample_count,
         sum(d.followers_gained)::bigint as followers_gained
  from w
  join public.channel_rollups_daily d on d.day >= w.window_start and d.day < w.window_end
  group by d.channel_id, w.period, w.window_start, w.window_end
  with data;
create unique index channel_leaderboard_key on analytics.channel_leaderboard (channel_id, period);
revoke all on analytics.channel_leaderboard from public, anon, authenticated;
comment on materialized view analytics.channel_leaderboard is
  'Per channel totals over the last 7 and 30 UTC days; read through analytics_leaderboard().';

create function analytics.refresh_leaderboard()
  returns void
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
begin
  refresh materialized view concurrently analytics.channel_leaderboard;
end;
$$;
revoke all on function analytics.refresh_leaderboard() from public, anon, authenticated;
grant execute on function analytics.refresh_leaderboard() to service_role;

-- The team's channels ranked by one metric over a window ('7d' or '30d') as
-- of the last refresh. Channels with no rollup in the window rank last with
-- zero figures. Metrics: hours_watched, hours_streamed, peak_viewers,
-- avg_viewers, followers_gained.
create function public.analytics_leaderboard(
  team_id uuid,
  period text default '7d',
  metric text default 'hours_watched',
  max_rows integer default 50
)
  returns table (
    rank bigint,
    channel_id uuid,
    window_start date,
    window_end date,
    live_seconds numeric,
    viewer_seconds numeric,
    peak_viewers integer,
    avg_viewers numeric,
    viewer_count_sum bigint,
    known_viewer_sample_count integer,
    live_sample_count integer,
    followers_gained bigint
  )
  language plpgsql
  stable
  security definer
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_followers boolean;
begin
  if period is null or period not in ('7d', '30d') then
    raise exception using errcode = 'invalid_parameter_value', message = 'period must be 7d or 30d';
  end if;
  if metric is null or metric not in ('hours_watched', 'hours_streamed', 'peak_viewers',
                                      'avg_viewers', 'followers_gained') then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'metric must be one of hours_watched, hours_streamed, peak_viewers, avg_viewers, followers_gained';
  end if;
  if max_rows is null or max_rows not between 1 and 1000 then
    raise exception using errcode = 'invalid_parameter_value', message = 'max_rows must be between 1 and 1000';
  end if;
  if not public.is_team_member(analytics_leaderboard.team_id) then
    return;
  end if;
  v_followers := public.team_has_feature(analytics_leaderboard.team_id, 'followers_history');
  if metric = 'followers_gained' and not v_followers then
    raise exception using errcode = 'feature_not_supported',
      message = 'the team''s plan does not include followers history',
      hint = 'rank by another metric, or upgrade the plan';
  end if;
  return query
    with win as (
      select (now() at time zone 'UTC')::date
               - (case when analytics_leaderboard.period = '7d' then 6 else 29 end) as ws,
             (now() at time zone 'UTC')::date + 1 as we
    ),
    rows_ as (
      select tc.channel_id,
             coalesce(l.window_start, (select ws from win)) as ws,
             coalesce(l.window_end, (select we from win)) as we,
             coalesce(l.live_seconds, 0) as live_s, coalesce(l.viewer_seconds, 0) as viewer_s,
             l.peak_viewers as peak,
             case when l.known_viewer_sample_count > 0
                  then l.viewer_count_sum::numeric / l.known_viewer_sample_count end as avg_v,
             coalesce(l.viewer_count_sum, 0) as vsum,
             coalesce(l.known_viewer_sample_count, 0) as known,
             coalesce(l.live_sample_count, 0) as live_n,
             case when v_followers then l.followers_gained end as followers
      from public.team_channels tc
      left join analytics.channel_leaderboard l
        on l.channel_id = tc.channel_id and l.period = analytics_leaderboard.period
      where tc.team_id = analytics_leaderboard.team_id
    ),
    ranked as (
      select r.*, case analytics_leaderboard.metric
                    when 'hours_watched' then r.viewer_s
                    when 'hours_streamed' then r.live_s
                    when 'peak_viewers' then r.peak::numeric
                    when 'avg_viewers' then r.avg_v
                    else r.followers::numeric end as score
      from rows_ r
    )
    select rank() over (order by r.score desc nulls last), r.channel_id, r.ws, r.we, r.live_s,
           r.viewer_s, r.peak, r.avg_v, r.vsum, r.known, r.live_n, r.followers
    from ranked r
    order by r.score desc nulls last, r.channel_id
    limit max_rows;
end;
$$;
comment on function public.analytics_leaderboard(uuid, text, text, integer) is
  'The team''s channels ranked by a metric over the last 7 or 30 UTC days as of the last '
  'refresh; no rows for a non-member; followers_gained needs the followers_history feature.';
revoke all on function public.analytics_leaderboard(uuid, text, text, integer) from public, anon;
grant execute on function public.analytics_leaderboard(uuid, text, text, integer) to authenticated, service_role;

-- The followers gained per channel per UTC day [first_day, last_day] for the
-- team's channels (the CSV export's column), read from the daily rollups. No
-- rows for a non-member or a team whose plan lacks followers_history.
create function public.analytics_team_daily_followers(team_id uuid, first_day date, last_day date)
  returns table (channel_id uuid, day date, followers_gained bigint)
  language plpgsql
  stable
  security definer
  set search_path = ''
as $$
#variable_conflict use_column
begin
  if first_day is null or last_day is null or last_day < first_day
     or last_day - first_day > 3660 then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'last_day must be on or after first_day, at most 3660 days later';
  end if;
  if not public.team_has_feature(analytics_team_daily_followers.team_id, 'followers_history') then
    return;
  end if;
  return query
    select d.channel_id, d.day, d.followers_gained
    from public.team_channels tc
    join public.channel_rollups_daily d on d.channel_id = tc.channel_id
    where tc.team_id = analytics_team_daily_followers.team_id
      and d.day between first_day and last_day
      and d.followers_gained is not null
    order by d.day, d.channel_id;
end;
$$;
comment on function public.analytics_team_daily_followers(uuid, date, date) is
  'Followers gained per channel per UTC day for the team''s channels; no rows for a non-member '
  'or without the followers_history feature.';
revoke all on function public.analytics_team_daily_followers(uuid, date, date) from public, anon;
grant execute on function public.analytics_team_daily_followers(uuid, date, date) to authenticated, service_role;
