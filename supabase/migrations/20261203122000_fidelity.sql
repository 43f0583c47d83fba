-- Numbers people can trust (issue 19) and one source for the grace period
-- (issue 12.5): every viewer sample records the interval of time it stands
-- for, so the SQL side applies the monitor's hold rule from the rows alone,
-- with no gap of its own.
--
-- The hold rule (shared/monitor/stitching.py, the one definition):
--   * A sample stands for [holds_from, observed_at] and, when it is live,
--     onwards until the next sample's holds_from, provided the next sample
--     comes within that next sample's max_gap_s (a longer gap is unknown,
--     not streamed).
--   * The monitor sets holds_from to the midpoint between the previous
--     sample and this one (the midpoint rule: inside a stream each count
--     stands for the half-intervals on both sides of it, so a drifting
--     count is not read half an interval late; at a stream's edges, between
--     an offline and a live sample, the stream ends or starts on average
--     there), or to the stream's true start time when the platform gives one
--     after the previous sample (and within max_gap_s), or to observed_at
--     when the gap is longer than max_gap_s. A stream thus ends, on
--     average, where its last live sample stops holding and starts where its
--     first one begins: unbiased at both ends.
--   * max_gap_s is the gap limit the monitor applied to the sample: its
--     MONITOR_GRACE_PERIOD_S, or longer when the channel was deliberately
--     sampled less often (the YouTube quota governor).
-- Rows written by hand may leave both out: holds_from null means the sample
-- holds nothing back (the previous live sample holds up to it, the rule
-- before this migration), and max_gap_s defaults to the documented 600.
-- The monitor guarantees holds_from is never before the previous sample, so
-- a range needs only its own samples and one on either side.
alter table public.viewer_samples
  add column holds_from timestamptz null,
  add column max_gap_s integer not null default 600 check (max_gap_s between 0 and 86400),
  add constraint viewer_samples_holds_from_check check (
    holds_from is null
    or (holds_from <= observed_at
        and observed_at - holds_from <= max_gap_s * interval '1 second'));
comment on column public.viewer_samples.holds_from is
  'Start of the time this sample stands for (the hold rule); null: its own observed_at.';
comment on column public.viewer_samples.max_gap_s is
  'The longest gap from the previous sample across which the hold rule applies (the monitor''s).';

-- ---------------------------------------------------------------------------
-- The raw computation, now reading each sample's own boundary and gap limit.
-- Samples read: those in the range, plus the channel's last sample before
-- it (its hold may run into the range) and its first at or after the end
-- (its holds_from may lie inside the range); no gap parameter.
-- ---------------------------------------------------------------------------
drop function analytics.rebuild_rollups(uuid[], date, date, interval);
drop function analytics.raw_buckets(uuid[], timestamptz, timestamptz, interval, interval);

create function analytics.raw_buckets(
  p_channels uuid[],
  p_from timestamptz,
  p_to timestamptz,
  p_bin interval default null
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
  with v as (
    select x.channel_id, x.observed_at, x.viewer_count, x.is_live,
           coalesce(x.holds_from, x.observed_at) as holds_from, x.max_gap_s
    from public.viewer_samples x
    where x.channel_id = any (p_channels) and x.observed_at >= p_from and x.observed_at < p_to
    union all
    select b.* from unnest(p_channels) as c(id)
    cross join lateral (
      -- max_gap_s is at most a day: an older sample cannot hold into the range
      select x.channel_id, x.observed_at, x.viewer_count, x.is_live,
             coalesce(x.holds_from, x.observed_at), x.max_gap_s
      from public.viewer_samples x
      where x.channel_id = c.id and x.observed_at < p_from
        and x.observed_at >= p_from - interval '1 day'
      order by x.observed_at desc
      limit 1
    ) as b
    union all
    select a.* from unnest(p_channels) as c(id)
    cross join lateral (
      select x.channel_id, x.observed_at, x.viewer_count, x.is_live,
             coalesce(x.holds_from, x.observed_at), x.max_gap_s
      from public.viewer_samples x
      where x.channel_id = c.id and x.observed_at >= p_to
        and x.observed_at < p_to + interval '1 day'
      order by x.observed_at
      limit 1
    ) as a
  ),
  s as (
    select v.*,
           lead(v.observed_at) over w as next_at,
           lead(v.holds_from) over w as next_from,
           lead(v.max_gap_s) over w as next_gap_s
    from v
    window w as (partition by v.channel_id order by v.observed_at)
  ),
  spans as (
    -- a live sample forward, to the next sample's boundary
    select s.channel_id, s.viewer_count, s.observed_at as lo, s.next_from as hi
    from s
    where s.is_live and s.next_at - s.observed_at <= make_interval(secs => s.next_gap_s)
    union all
    -- a live sample back, to its own boundary
    select s.channel_id, s.viewer_count, s.holds_from, s.observed_at
    from s
    where s.is_live and s.holds_from < s.observed_at
  ),
  held as (
    select h.channel_id, h.viewer_count, greatest(h.lo, p_from) as lo, least(h.hi, p_to) as hi
    from spans h
    where least(h.hi, p_to) > greatest(h.lo, p_from)
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
comment on function analytics.raw_buckets(uuid[], timestamptz, timestamptz, interval) is
  'The analytics figures computed straight from raw samples and stats (the reference), '
  'with each sample''s own holds_from and max_gap_s.';
revoke all on function analytics.raw_buckets(uuid[], timestamptz, timestamptz, interval) from public, anon, authenticated;
grant execute on function analytics.raw_buckets(uuid[], timestamptz, timestamptz, interval) to service_role;

-- Bulk rebuild of the rollups of whole UTC days [p_from_day, p_to_day) from
-- raw rows (as before, without a gap parameter: the samples carry theirs).
create function analytics.rebuild_rollups(
  p_channels uuid[],
  p_from_day date,
  p_to_day date
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
  from analytics.raw_buckets(p_channels, v_from, v_to, interval '1 hour') as r;
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
comment on function analytics.rebuild_rollups(uuid[], date, date) is
  'Recompute the hourly and daily rollups of whole UTC days from raw samples; returns hourly rows.';
revoke all on function analytics.rebuild_rollups(uuid[], date, date) from public, anon, authenticated;
grant execute on function analytics.rebuild_rollups(uuid[], date, date) to service_role;

comment on function public.analytics_channel_sessions(uuid, timestamptz, timestamptz) is
  'Stream sessions of a channel overlapping [range_from, range_to) with their aggregates '
  '(viewer_seconds by the same hold rule as the rollups); no rows unless the caller''s team '
  'tracks the channel.';

-- ---------------------------------------------------------------------------
-- What a live sample costs: quota units spent per live sample answered, per
-- platform with a unit quota (YouTube), e.g. {"youtube": 0.0213}. The quota
-- governor (shared/platforms/youtube/governor.py) spends the daily budget by
-- value; this column says what each live sample cost.
-- ---------------------------------------------------------------------------
alter table public.monitor_runs
  add column units_per_live_sample jsonb not null default '{}'::jsonb
    check (jsonb_typeof(units_per_live_sample) = 'object');
comment on column public.monitor_runs.units_per_live_sample is
  'Quota units spent per live sample answered in the run, by platform (units platforms only).';
