-- Numbers people can trust: every sample carries the interval it stands for
-- (holds_from) and the gap limit the monitor used (max_gap_s), the raw
-- computation, the rollups and the dashboard read them and nothing else, and
-- a client can neither forge them nor call the internals.
begin;
create extension if not exists pgtap with schema extensions;
select plan(20);

select tests.create_user('00000020-0000-4000-8000-000000000001', 'fid-member@test.local');
select tests.create_user('00000020-0000-4000-8000-000000000002', 'fid-outsider@test.local');
insert into public.teams (id, name, plan_id, created_by)
values ('00000020-0000-4000-8000-0000000000aa', 'Fidelity', 'pro',
        '00000020-0000-4000-8000-000000000001');
insert into public.channels (id, platform, platform_channel_id)
values ('00000020-0000-4000-8000-0000000000c1', 'twitch', 'fid-1'),
       ('00000020-0000-4000-8000-0000000000c2', 'twitch', 'fid-2');
insert into public.team_channels (team_id, channel_id)
values ('00000020-0000-4000-8000-0000000000aa', '00000020-0000-4000-8000-0000000000c1'),
       ('00000020-0000-4000-8000-0000000000aa', '00000020-0000-4000-8000-0000000000c2');

-- Two samples 8 minutes apart on each channel. Channel 1: written with the
-- default 600 s limit and the boundary at the midpoint; channel 2: with a
-- 420 s limit (a monitor run with MONITOR_GRACE_PERIOD_S=420), so the gap is
-- unknown and nothing holds across it.
create temporary table t0 as select date_trunc('hour', now()) - interval '3 hours' as at;
grant select on t0 to authenticated;
insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live, holds_from, max_gap_s)
select '00000020-0000-4000-8000-0000000000c1'::uuid, at, 100, true, null::timestamptz, 600 from t0
union all
select '00000020-0000-4000-8000-0000000000c1', at + interval '8 minutes', 100, true,
       at + interval '4 minutes', 600 from t0
union all
select '00000020-0000-4000-8000-0000000000c2', at, 100, true, null, 420 from t0
union all
select '00000020-0000-4000-8000-0000000000c2', at + interval '8 minutes', 100, true, null, 420 from t0;

-- 1-2: the columns exist as documented
select has_column('public', 'viewer_samples', 'holds_from', 'samples record where their interval begins');
select col_not_null('public', 'viewer_samples', 'max_gap_s', 'samples record the gap limit used');

-- 3-5: the table refuses intervals the rule cannot mean
select throws_ok(
  $$ insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live, holds_from)
     select '00000020-0000-4000-8000-0000000000c1', at + interval '20 minutes', 1, true,
            at + interval '21 minutes' from t0 $$,
  '23514', null, 'a sample cannot stand for time after it was taken');
select throws_ok(
  $$ insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live, holds_from, max_gap_s)
     select '00000020-0000-4000-8000-0000000000c1', at + interval '30 minutes', 1, true,
            at + interval '20 minutes', 300 from t0 $$,
  '23514', null, 'a sample cannot hold back further than its gap limit');
select throws_ok(
  $$ insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live, max_gap_s)
     select '00000020-0000-4000-8000-0000000000c1', at + interval '40 minutes', 1, true, -1 from t0 $$,
  '23514', null, 'a gap limit is never negative');

-- 6-7: the raw computation follows each sample's own boundary and limit
select is(
  (select viewer_seconds from analytics.raw_buckets(
     array['00000020-0000-4000-8000-0000000000c1'::uuid],
     (select at from t0) - interval '1 hour', (select at from t0) + interval '1 hour')),
  100 * 480::numeric,
  'two samples within the limit share the gap at their boundary (4 + 4 minutes)');
select is(
  (select coalesce(sum(viewer_seconds), 0) from analytics.raw_buckets(
     array['00000020-0000-4000-8000-0000000000c2'::uuid],
     (select at from t0) - interval '1 hour', (select at from t0) + interval '1 hour')),
  0::numeric,
  'a gap beyond the limit the monitor recorded (420 s, not a default) holds nothing');

-- 8: a range cut inside the gap still sees both halves
select is(
  (select viewer_seconds from analytics.raw_buckets(
     array['00000020-0000-4000-8000-0000000000c1'::uuid],
     (select at from t0) + interval '2 minutes', (select at from t0) + interval '6 minutes')),
  100 * 240::numeric,
  'a range inside the gap gets the previous sample''s half and the next one''s');

-- 8a-8b: the midpoint rule inside a stream (issue 19 follow-up): samples at
-- 10:58 (100) and 11:01 (200) meet at 10:59:30, so the hour boundary falls
-- inside the second sample's half-interval and splits it: 10:00 gets
-- 100 x 90 s + 200 x 30 s, 11:00 gets 200 x 60 s; nothing after 11:01 (no
-- next sample yet).
insert into public.channels (id, platform, platform_channel_id)
values ('00000020-0000-4000-8000-0000000000c3', 'twitch', 'fid-3');
insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live, holds_from, max_gap_s)
select '00000020-0000-4000-8000-0000000000c3'::uuid, at - interval '2 minutes', 100, true,
       null::timestamptz, 600 from t0
union all
select '00000020-0000-4000-8000-0000000000c3', at + interval '1 minute', 200, true,
       at - interval '30 seconds', 600 from t0;
select results_eq(
  $$ select bucket - (select at from t0), viewer_seconds, live_seconds
     from analytics.raw_buckets(array['00000020-0000-4000-8000-0000000000c3'::uuid],
                                (select at from t0) - interval '2 hours',
                                (select at from t0) + interval '2 hours', interval '1 hour')
     order by bucket $$,
  $$ values (interval '-1 hour', 15000::numeric, 120::numeric),
            (interval '0', 12000::numeric, 60::numeric) $$,
  'an hour boundary inside a half-interval splits it between the hours');
select is(
  (select viewer_seconds from analytics.raw_buckets(
     array['00000020-0000-4000-8000-0000000000c3'::uuid],
     (select at from t0) - interval '1 minute', (select at from t0) + interval '30 seconds')),
  100 * 30 + 200 * 60::numeric,
  'a range cut on both sides of the midpoint gets each count''s part');

-- 9: the rebuilt rollups equal the raw computation
select analytics.rebuild_rollups(
  array['00000020-0000-4000-8000-0000000000c1', '00000020-0000-4000-8000-0000000000c2']::uuid[],
  ((select at from t0) at time zone 'UTC')::date - 1, ((select at from t0) at time zone 'UTC')::date + 1);
select is(
  (select array_agg(viewer_seconds order by channel_id) from public.channel_rollups_hourly
   where channel_id in ('00000020-0000-4000-8000-0000000000c1', '00000020-0000-4000-8000-0000000000c2')),
  array[48000, 0]::numeric[],
  'rollups rebuilt from the samples carry the same hold');

-- 10-11: a member's dashboard equals raw at the edges (partial hours)
select tests.authenticate_as('00000020-0000-4000-8000-000000000001');
select is(
  (select viewer_seconds from public.analytics_team_overview(
     '00000020-0000-4000-8000-0000000000aa',
     (select at from t0) + interval '2 minutes', (select at from t0) + interval '6 minutes')
   where channel_id = '00000020-0000-4000-8000-0000000000c1'),
  100 * 240::numeric,
  'the overview''s edges follow the recorded boundary');
select is(
  (select sum(viewer_seconds) from public.analytics_channel_timeline(
     '00000020-0000-4000-8000-0000000000c2',
     (select at from t0) - interval '1 hour', (select at from t0) + interval '1 hour')),
  0::numeric,
  'the timeline follows the recorded gap limit');

-- 12-14: a client cannot forge the interval or call the internals
select throws_ok(
  $$ update public.viewer_samples set holds_from = observed_at - interval '5 minutes'
     where channel_id = '00000020-0000-4000-8000-0000000000c1' $$,
  '42501', null, 'a member cannot stretch a sample''s interval');
select throws_ok(
  $$ select * from analytics.raw_buckets(array['00000020-0000-4000-8000-0000000000c1'::uuid],
                                         now() - interval '1 day', now()) $$,
  '42501', null, 'a member cannot call the raw computation');
select throws_ok(
  $$ select analytics.rebuild_rollups(array['00000020-0000-4000-8000-0000000000c1'::uuid],
                                      current_date - 1, current_date) $$,
  '42501', null, 'a member cannot rebuild rollups');

-- 15-16: an outsider sees neither the samples nor the figures
select tests.authenticate_as('00000020-0000-4000-8000-000000000002');
select is(
  (select count(*) from public.viewer_samples
   where channel_id = '00000020-0000-4000-8000-0000000000c1'),
  0::bigint, 'an outsider sees no samples (nor their intervals)');
select is(
  (select count(*) from public.analytics_channel_timeline(
     '00000020-0000-4000-8000-0000000000c1', now() - interval '1 day', now())),
  0::bigint, 'an outsider gets no timeline');

-- 17-18: the quota governor's scheduled starts (channel_poll_state.upcoming_start_at)
-- are backend only: a client moving one would steer the team's YouTube quota
select throws_ok(
  $$ select upcoming_start_at from public.channel_poll_state $$,
  '42501', null, 'a client cannot read the governor''s scheduled starts');
select throws_ok(
  $$ update public.channel_poll_state set upcoming_start_at = now() $$,
  '42501', null, 'a client cannot move a scheduled start');

select * from finish();
rollback;
