-- Plan features hold in the database (issue 11, item 4), as a client of a
-- team on a plan without them would try:
--   followers_history  channel_stats rows; followers_gained of the rollups,
--                      the dashboard functions and the export's function
--   realtime           joining the team's live-status topic (Broadcast is
--                      the only live push: nothing is in the publication)
-- A channel is shared: through a team that has the feature, a member reads
-- it; through one that lacks it, not.
begin;
create extension if not exists pgtap with schema extensions;
select plan(24);

-- Team F (free) tracks channels C and D; team P (pro) tracks C. Fay is in F,
-- Pat in P, Flo in both.
select tests.create_user('00000017-0000-4000-8000-000000000001', 'fay@feat.test');
select tests.create_user('00000017-0000-4000-8000-000000000002', 'pat@feat.test');
select tests.create_user('00000017-0000-4000-8000-000000000003', 'flo@feat.test');
insert into public.teams (id, name, plan_id, created_by) values
  ('00000017-0000-4000-8000-0000000000ff', 'Free team', 'free', '00000017-0000-4000-8000-000000000001'),
  ('00000017-0000-4000-8000-0000000000bb', 'Pro team', 'pro', '00000017-0000-4000-8000-000000000002');
insert into public.team_members (team_id, user_id, role) values
  ('00000017-0000-4000-8000-0000000000ff', '00000017-0000-4000-8000-000000000003', 'viewer'),
  ('00000017-0000-4000-8000-0000000000bb', '00000017-0000-4000-8000-000000000003', 'viewer');
insert into public.channels (id, platform, platform_channel_id) values
  ('00000017-0000-4000-8000-0000000000c1', 'twitch', 'feat-c'),
  ('00000017-0000-4000-8000-0000000000d1', 'twitch', 'feat-d');
insert into public.team_channels (team_id, channel_id) values
  ('00000017-0000-4000-8000-0000000000ff', '00000017-0000-4000-8000-0000000000c1'),
  ('00000017-0000-4000-8000-0000000000ff', '00000017-0000-4000-8000-0000000000d1'),
  ('00000017-0000-4000-8000-0000000000bb', '00000017-0000-4000-8000-0000000000c1');
-- Two hours of samples and follower counts for both channels.
insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live)
select c, date_trunc('hour', now()) - interval '2 hours' + m * interval '1 minute', 10 + m, true
from unnest(array['00000017-0000-4000-8000-0000000000c1',
                  '00000017-0000-4000-8000-0000000000d1']::uuid[]) as c,
     generate_series(0, 119) as m;
insert into public.channel_stats (channel_id, observed_at, followers)
select c, date_trunc('hour', now()) - interval '2 hours' + m * interval '30 minutes', 100 + 5 * m
from unnest(array['00000017-0000-4000-8000-0000000000c1',
                  '00000017-0000-4000-8000-0000000000d1']::uuid[]) as c,
     generate_series(0, 3) as m;
select analytics.rebuild_rollups(
  array['00000017-0000-4000-8000-0000000000c1', '00000017-0000-4000-8000-0000000000d1']::uuid[],
  current_date - 1, current_date + 1);
select analytics.refresh_leaderboard();

create function pg_temp.overview_followers(team uuid) returns bigint[]
  language sql as $$
  select array_agg(o.followers_gained order by o.channel_id nulls first)
  from public.analytics_team_overview(team, now() - interval '1 day', now()) o
$$;
create function pg_temp.timeline_followers(channel uuid) returns bigint
  language sql as $$
  select sum(t.followers_gained)::bigint
  from public.analytics_channel_timeline(channel, now() - interval '1 day', now()) t
$$;

-- ---------------------------------------------------------------------------
-- followers_history, on the free plan: nothing
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000017-0000-4000-8000-000000000001');  -- Fay (free only)
select is(tests.visible_rows('public.channel_stats'), 0::bigint,
  'a free team''s member reads no channel_stats row');
select is(tests.visible_rows('public.viewer_samples'), 240::bigint,
  '...while it reads its channels'' viewer samples');
select throws_ok($$select followers_gained from public.channel_rollups_daily$$,
  '42501', null,
  'followers_gained of the daily rollups is not a column clients read');
select throws_ok($$select followers_gained from public.channel_rollups_hourly$$,
  '42501', null,
  '...nor of the hourly ones');
select ok((select count(*) from public.channel_rollups_hourly) > 0,
  'the rollups'' other figures stay readable');
select ok(array_position(pg_temp.overview_followers('00000017-0000-4000-8000-0000000000ff'), 0) is null
          and (select bool_and(f is null) from unnest(pg_temp.overview_followers(
                 '00000017-0000-4000-8000-0000000000ff')) f),
  'analytics_team_overview: followers_gained null for every row of a free team');
select ok((select sum(live_seconds) > 0 from public.analytics_team_overview(
             '00000017-0000-4000-8000-0000000000ff', now() - interval '1 day', now())),
  '...while its other figures are there');
select is(pg_temp.timeline_followers('00000017-0000-4000-8000-0000000000d1'), null,
  'analytics_channel_timeline: no followers through a free team');
select throws_ok(
  $$select * from public.analytics_leaderboard('00000017-0000-4000-8000-0000000000ff', '7d', 'followers_gained')$$,
  '0A000', 'the team''s plan does not include followers history',
  'a free team cannot rank by followers gained');
select ok((select bool_and(followers_gained is null) from public.analytics_leaderboard(
             '00000017-0000-4000-8000-0000000000ff')),
  'analytics_leaderboard: followers_gained null for a free team');
select is_empty(
  $$select * from public.analytics_team_daily_followers('00000017-0000-4000-8000-0000000000ff',
                                                        current_date - 1, current_date)$$,
  'analytics_team_daily_followers: nothing for a free team');

-- ---------------------------------------------------------------------------
-- followers_history, on the pro plan: all of it (and exactly the raw figure)
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000017-0000-4000-8000-000000000002');  -- Pat (pro)
select is(tests.visible_rows('public.channel_stats'), 4::bigint,
  'a pro team''s member reads its channel''s stats');
select is(pg_temp.overview_followers('00000017-0000-4000-8000-0000000000bb'), array[15, 15]::bigint[],
  'analytics_team_overview: followers_gained for a pro team (totals, then C)');
select is(pg_temp.timeline_followers('00000017-0000-4000-8000-0000000000c1'), 15::bigint,
  'analytics_channel_timeline: followers through a pro team');
select is((select sum(followers_gained)::bigint from public.analytics_team_daily_followers(
             '00000017-0000-4000-8000-0000000000bb', current_date - 1, current_date)), 15::bigint,
  'analytics_team_daily_followers: the pro team''s daily gains');
select ok((select count(*) > 0 from public.analytics_leaderboard(
             '00000017-0000-4000-8000-0000000000bb', '7d', 'followers_gained')),
  'a pro team ranks by followers gained');

-- A member of both reads C (through the pro team) but not D (free only).
select tests.authenticate_as('00000017-0000-4000-8000-000000000003');  -- Flo
select set_eq($$select distinct channel_id from public.channel_stats$$,
  array['00000017-0000-4000-8000-0000000000c1']::uuid[],
  'in both teams: stats of the channel the pro team tracks only');
select is(pg_temp.timeline_followers('00000017-0000-4000-8000-0000000000d1'), null,
  'in both teams: no followers for the channel only the free team tracks');
select is(pg_temp.overview_followers('00000017-0000-4000-8000-0000000000ff')::text,
          array[null, null, null]::bigint[]::text,
  'in both teams: the free team''s overview still has no followers');

-- ---------------------------------------------------------------------------
-- realtime: only a team with the feature may join its topic
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
-- Messages already in both topics (as after a downgrade of the free team).
insert into realtime.messages (topic, extension, payload, event, private) values
  ('team:00000017-0000-4000-8000-0000000000ff:status', 'broadcast', '{}', 'channel_status', true),
  ('team:00000017-0000-4000-8000-0000000000bb:status', 'broadcast', '{}', 'channel_status', true);
select is(public.broadcast_channel_status_changes(array['00000017-0000-4000-8000-0000000000c1']::uuid[]),
  0, 'nothing to broadcast without a status row (sanity)');
select tests.authenticate_as('00000017-0000-4000-8000-000000000001');  -- Fay (free)
select tests.set_realtime_topic('team:00000017-0000-4000-8000-0000000000ff:status');
select is(tests.visible_rows('realtime.messages'), 0::bigint,
  'a free team''s member cannot join its status topic');
select tests.authenticate_as('00000017-0000-4000-8000-000000000002');  -- Pat (pro)
select tests.set_realtime_topic('team:00000017-0000-4000-8000-0000000000bb:status');
select is(tests.visible_rows('realtime.messages'), 1::bigint,
  'a pro team''s member joins its status topic');
select tests.clear_authentication();
select is(
  (select count(*) from pg_catalog.pg_publication_tables
   where pubname = 'supabase_realtime' and tablename = 'channel_status'),
  0::bigint,
  'channel_status is not pushed through Postgres Changes (which would ignore the plan)');
select is(
  (select features from public.plans where id = 'business') ? 'require_mfa',
  false,
  'requiring MFA is no plan feature (every team''s owner may switch it on)');

select * from finish();
rollback;
