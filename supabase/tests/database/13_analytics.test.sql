-- Analytics: every dashboard function answers members only (a non-member
-- gets no rows, anon cannot call them), and the leaderboard materialized
-- view and the analytics internals are out of the clients' reach.
begin;
create extension if not exists pgtap with schema extensions;
select plan(22);

-- A member, an outsider (member of another team), a channel with samples,
-- a session, rollups and a refreshed leaderboard.
select tests.create_user('00000000-0000-0000-0000-0000000a0001', 'member@example.test');
select tests.create_user('00000000-0000-0000-0000-0000000a0002', 'outsider@example.test');
insert into public.teams (id, name, plan_id, created_by) values
  ('00000000-0000-0000-0000-0000000a0101', 'Mine', 'pro', '00000000-0000-0000-0000-0000000a0001'),
  ('00000000-0000-0000-0000-0000000a0102', 'Theirs', 'pro', '00000000-0000-0000-0000-0000000a0002');
insert into public.channels (id, platform, platform_channel_id)
values ('00000000-0000-0000-0000-0000000ac001', 'twitch', 'analytics-pgtap-1');
insert into public.team_channels (team_id, channel_id)
values ('00000000-0000-0000-0000-0000000a0101', '00000000-0000-0000-0000-0000000ac001');
insert into public.stream_sessions (channel_id, platform_stream_id, started_at, last_seen_at,
                                    sample_count, known_viewer_sample_count, viewer_count_sum,
                                    peak_viewers)
values ('00000000-0000-0000-0000-0000000ac001', 'st1', now() - interval '2 hours',
        now() - interval '1 hour', 2, 2, 30, 20);
insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live)
values ('00000000-0000-0000-0000-0000000ac001', now() - interval '2 hours', 10, true),
       ('00000000-0000-0000-0000-0000000ac001', now() - interval '2 hours' + interval '1 minute', 20, true);
select analytics.rebuild_rollups(array['00000000-0000-0000-0000-0000000ac001'::uuid],
                                 current_date - 1, current_date + 1);
select analytics.refresh_leaderboard();

-- 1-4: a member gets rows from every function.
select tests.authenticate_as('00000000-0000-0000-0000-0000000a0001');
select ok(
  (select count(*) from public.analytics_team_overview(
     '00000000-0000-0000-0000-0000000a0101', now() - interval '1 day', now())) = 2,
  'a member gets the team overview (totals and the channel)'
);
select ok(
  (select sum(live_sample_count) from public.analytics_channel_timeline(
     '00000000-0000-0000-0000-0000000ac001', now() - interval '1 day', now())) = 2,
  'a member gets the channel timeline'
);
select is(
  (select count(*)::int from public.analytics_channel_sessions(
     '00000000-0000-0000-0000-0000000ac001', now() - interval '1 day', now())),
  1,
  'a member gets the channel''s sessions'
);
select is(
  (select count(*)::int from public.analytics_leaderboard('00000000-0000-0000-0000-0000000a0101')),
  1,
  'a member gets the team leaderboard'
);

-- 5-8: a user of another team gets nothing from any of them.
select tests.authenticate_as('00000000-0000-0000-0000-0000000a0002');
select is_empty(
  $$ select * from public.analytics_team_overview(
       '00000000-0000-0000-0000-0000000a0101', now() - interval '1 day', now()) $$,
  'a non-member gets no team overview'
);
select is_empty(
  $$ select * from public.analytics_channel_timeline(
       '00000000-0000-0000-0000-0000000ac001', now() - interval '1 day', now()) $$,
  'a non-member gets no channel timeline'
);
select is_empty(
  $$ select * from public.analytics_channel_sessions(
       '00000000-0000-0000-0000-0000000ac001', now() - interval '1 day', now()) $$,
  'a non-member gets no sessions'
);
select is_empty(
  $$ select * from public.analytics_leaderboard('00000000-0000-0000-0000-0000000a0101') $$,
  'a non-member gets no leaderboard'
);

-- 9-11: clients cannot reach the materialized view or the internals.
select throws_ok(
  $$ select * from analytics.channel_leaderboard $$,
  '42501', null,
  'authenticated cannot select the leaderboard materialized view'
);
select throws_ok(
  $$ select * from analytics.raw_buckets(array['00000000-0000-0000-0000-0000000ac001'::uuid],
                                         now() - interval '1 day', now()) $$,
  '42501', null,
  'authenticated cannot call the raw computation (it checks no membership)'
);
select throws_ok(
  $$ select analytics.refresh_leaderboard() $$,
  '42501', null,
  'authenticated cannot refresh the leaderboard'
);

-- 12-13: anon can call nothing.
select tests.authenticate_as_anon();
select throws_ok(
  $$ select * from public.analytics_team_overview(
       '00000000-0000-0000-0000-0000000a0101', now() - interval '1 day', now()) $$,
  '42501', null,
  'anon cannot call the team overview'
);
select throws_ok(
  $$ select * from analytics.channel_leaderboard $$,
  '42501', null,
  'anon cannot select the leaderboard materialized view'
);
select tests.clear_authentication();

-- 14-19: privileges, as the catalogue sees them.
select ok(
  not has_schema_privilege('anon', 'analytics', 'usage')
  and not has_schema_privilege('authenticated', 'analytics', 'usage'),
  'the API roles have no usage on schema analytics'
);
select ok(
  not has_table_privilege('anon', 'analytics.channel_leaderboard', 'select')
  and not has_table_privilege('authenticated', 'analytics.channel_leaderboard', 'select'),
  'no select on the leaderboard view for the API roles'
);
select is(
  array(
    select p.oid::regprocedure::text from pg_catalog.pg_proc p
    where p.pronamespace = 'public'::regnamespace and p.proname like 'analytics\_%'
      and has_function_privilege('anon', p.oid, 'execute')
    order by 1),
  '{}'::text[],
  'anon can execute no analytics_* function'
);
select is(
  array(
    select p.oid::regprocedure::text from pg_catalog.pg_proc p
    where p.pronamespace = 'analytics'::regnamespace
      and (has_function_privilege('anon', p.oid, 'execute')
           or has_function_privilege('authenticated', p.oid, 'execute'))
    order by 1),
  '{}'::text[],
  'the API roles can execute nothing in schema analytics'
);
select is(
  array(
    select p.oid::regprocedure::text from pg_catalog.pg_proc p
    where p.pronamespace = 'public'::regnamespace and p.proname like 'analytics\_%'
      and not has_function_privilege('authenticated', p.oid, 'execute')
    order by 1),
  '{}'::text[],
  'authenticated can call every analytics_* function'
);
select ok(
  (select count(*) from pg_catalog.pg_index i
   where i.indrelid = 'analytics.channel_leaderboard'::regclass and i.indisunique) = 1,
  'the leaderboard view has the unique index REFRESH CONCURRENTLY needs'
);

-- 20-22: argument checks.
select tests.authenticate_as('00000000-0000-0000-0000-0000000a0001');
select throws_ok(
  $$ select * from public.analytics_team_overview(
       '00000000-0000-0000-0000-0000000a0101', now(), now() - interval '1 day') $$,
  '22023', null,
  'an empty or inverted range is refused'
);
select throws_ok(
  $$ select * from public.analytics_leaderboard('00000000-0000-0000-0000-0000000a0101', '1y') $$,
  '22023', null,
  'an unknown leaderboard period is refused'
);
select throws_ok(
  $$ select * from public.analytics_leaderboard('00000000-0000-0000-0000-0000000a0101', '7d', 'likes') $$,
  '22023', null,
  'an unknown leaderboard metric is refused'
);
select tests.clear_authentication();

select * from finish();
rollback;
