-- Tenant isolation: anon and users without a team read nothing; a member
-- reads exactly the rows of their own teams and of the channels those teams
-- track. Two teams, a channel tracked by each, one tracked by both, one by
-- none; monitoring, billing and operations rows exist for all of them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(35);

-- ---------------------------------------------------------------------------
-- Helpers of this suite (rolled back with it; the shared ones, tests.*, are
-- in supabase/tests/helpers.sql)
-- ---------------------------------------------------------------------------

-- Every table of schema public but the public plan catalogue.
create function pg_temp.tenant_tables()
  returns setof regclass language sql stable as $$
  select c.oid::regclass from pg_catalog.pg_class c
  where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
    and c.oid <> 'public.plans'::regclass
  order by c.relname
$$;

-- plpgsql, so it is not inlined: callers' filters must not run on the
-- tables it leaves out.
create function pg_temp.tables_with_column(col name)
  returns setof regclass language plpgsql stable as $$
begin
  return query
    select t from pg_temp.tenant_tables() t
    where exists (select 1 from pg_catalog.pg_attribute a
                  where a.attrelid = t and a.attname = col and not a.attisdropped);
end $$;

-- ---------------------------------------------------------------------------
-- Data, written as postgres (the backend)
-- ---------------------------------------------------------------------------
select tests.create_user('11111111-1111-4111-8111-111111111111', 'owner-a@test.local');
select tests.create_user('22222222-2222-4222-8222-222222222222', 'owner-b@test.local');
select tests.create_user('33333333-3333-4333-8333-333333333333', 'nobody@test.local');
select tests.create_user('44444444-4444-4444-8444-444444444444', 'viewer-a@test.local');

insert into public.teams (id, name, plan_id, created_by) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'Team A', 'pro', '11111111-1111-4111-8111-111111111111'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'Team B', 'pro', '22222222-2222-4222-8222-222222222222');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '44444444-4444-4444-8444-444444444444', 'viewer');

insert into public.team_invitations (team_id, email, role, token_hash, invited_by) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'new-a@test.local', 'member',
   sha256('invite-a'::bytea), '11111111-1111-4111-8111-111111111111'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'new-b@test.local', 'member',
   sha256('invite-b'::bytea), '22222222-2222-4222-8222-222222222222');

insert into public.channels (id, platform, platform_channel_id, handle) values
  ('a0000000-0000-4000-8000-00000000000a', 'twitch', 'test-only-a', 'only_a'),
  ('b0000000-0000-4000-8000-00000000000b', 'youtube', 'test-only-b', '@only_b'),
  ('c0000000-0000-4000-8000-00000000000c', 'rumble', 'test-shared', 'shared'),
  ('d0000000-0000-4000-8000-00000000000d', 'twitch', 'test-untracked', 'untracked');
insert into public.team_channels (team_id, channel_id) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'a0000000-0000-4000-8000-00000000000a'),
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'c0000000-0000-4000-8000-00000000000c'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'b0000000-0000-4000-8000-00000000000b'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'c0000000-0000-4000-8000-00000000000c');
-- A paused channel stays readable: team A pauses the shared one.
update public.team_channels set paused_at = now()
where team_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa' and channel_id = 'c0000000-0000-4000-8000-00000000000c';

create temporary table test_channels on commit drop as
  select id from public.channels where platform_channel_id like 'test-%';

-- A credential per tracking team (they belong to the team that supplied them).
insert into public.channel_credentials (channel_id, team_id, kind, ciphertext, nonce, key_version)
select tc.channel_id, tc.team_id, 'test_key', '\x00'::bytea, '\x01'::bytea, 1
from public.team_channels tc where tc.channel_id in (select id from test_channels);
insert into public.stream_sessions (channel_id, platform_stream_id, started_at, last_seen_at)
select id, 'stream-' || id, now() - interval '1 hour', now() from test_channels;
insert into public.viewer_samples (channel_id, observed_at, viewer_count, session_id, is_live)
select s.channel_id, now() - interval '1 minute', 10, s.id, true
from public.stream_sessions s where s.channel_id in (select id from test_channels);
insert into public.channel_status (channel_id, is_live, viewer_count, session_id, last_checked_at)
select s.channel_id, true, 10, s.id, now()
from public.stream_sessions s where s.channel_id in (select id from test_channels);
insert into public.channel_stats (channel_id, observed_at, followers)
select id, now(), 100 from test_channels;
insert into public.channel_rollups_hourly (channel_id, hour, live_seconds, viewer_seconds)
select id, date_trunc('hour', now(), 'UTC'), 60, 600 from test_channels;
insert into public.channel_rollups_daily (channel_id, day, live_seconds, viewer_seconds)
select id, (now() at time zone 'UTC')::date, 60, 600 from test_channels;

insert into public.billing_customers (team_id, stripe_customer_id) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'cus_testA'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'cus_testB');
insert into public.billing_subscriptions (stripe_subscription_id, team_id, plan_id, status) values
  ('sub_testA', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'pro', 'active'),
  ('sub_testB', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'pro', 'active');
insert into public.stripe_events (id, type) values ('evt_test1', 'customer.subscription.updated');
insert into public.monitor_runs (status, channels_checked) values ('succeeded', 4);
insert into public.channel_poll_state (channel_id, last_polled_at) values
  ('a0000000-0000-4000-8000-00000000000a', now()),
  ('b0000000-0000-4000-8000-00000000000b', now());
insert into public.platform_quota_usage (platform, quota_day, units, requests)
values ('youtube', current_date, 10, 5)
on conflict (platform, quota_day) do nothing;

-- Directory sync (20261124120600_directory.sql): rows for both teams.
insert into public.directory_mappings (team_id, provider, tenant, group_id, role) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'azure', '0a0a0a0a-0000-4000-8000-00000000000a',
   'a1a1a1a1-0000-4000-8000-00000000000a', 'viewer'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'google', 'b.example.com', 'staff@b.example.com', 'member');
insert into public.directory_members (team_id, user_id, role) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '44444444-4444-4444-8444-444444444444', 'viewer'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '22222222-2222-4222-8222-222222222222', 'member');
insert into public.directory_pending (team_id, provider, tenant, member_id, email, role) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'azure', '0a0a0a0a-0000-4000-8000-00000000000a',
   'c1c1c1c1-0000-4000-8000-00000000000a', null, 'viewer'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'google', 'b.example.com', '1234567890', 'new@b.example.com', 'member');
insert into public.directory_sync_runs (team_id, trigger, status, started_at)
select id, 'timer', 'applied', now() from public.teams
where id in ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
insert into public.directory_groups (provider, tenant, group_id) values
  ('azure', '0a0a0a0a-0000-4000-8000-00000000000a', 'a1a1a1a1-0000-4000-8000-00000000000a');
insert into public.directory_group_members (provider, tenant, group_id, member_id) values
  ('azure', '0a0a0a0a-0000-4000-8000-00000000000a', 'a1a1a1a1-0000-4000-8000-00000000000a',
   'c1c1c1c1-0000-4000-8000-00000000000a');
insert into public.directory_delta_links (tenant, group_ids, delta_link, full_sync_at) values
  ('0a0a0a0a-0000-4000-8000-00000000000a', '{a1a1a1a1-0000-4000-8000-00000000000a}',
   'https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=test', now());

-- Connected channels (20261203124000_connected_channels.sql): team A connected
-- its own channel, team B its own and the shared one; owner analytics for every
-- test channel (read only by a team holding a connection for it).
insert into public.channel_connections (id, team_id, channel_id, platform, account_id) values
  ('e0000000-0000-4000-8000-0000000000a1', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
   'a0000000-0000-4000-8000-00000000000a', 'twitch', 'test-only-a'),
  ('e0000000-0000-4000-8000-0000000000b1', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
   'b0000000-0000-4000-8000-00000000000b', 'youtube', 'test-only-b'),
  ('e0000000-0000-4000-8000-0000000000b2', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
   'c0000000-0000-4000-8000-00000000000c', 'rumble', 'test-shared');
insert into public.channel_connection_tokens (connection_id, access_ciphertext, access_nonce, key_version)
select id, '\x00'::bytea, '\x01'::bytea, 1 from public.channel_connections
where channel_id in (select id from test_channels);
insert into public.channel_connection_attempts
  (id, team_id, channel_id, user_id, platform, verifier_ciphertext, verifier_nonce, key_version, expires_at)
values ('e0000000-0000-4000-8000-0000000000a9', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        'a0000000-0000-4000-8000-00000000000a', '11111111-1111-4111-8111-111111111111', 'twitch',
        '\x00', '\x01', 1, now() + interval '10 minutes');
insert into public.channel_analytics_daily
  (channel_id, day, views, estimated_minutes_watched, average_view_duration,
   subscribers_gained, subscribers_lost, fetched_at)
select id, current_date, 1, 1, 1, 1, 0, now() from test_channels;
insert into public.channel_analytics_videos
  (channel_id, video_id, first_day, last_day, views, estimated_minutes_watched,
   average_view_duration, fetched_at)
select id, 'video-' || left(id::text, 8), current_date, current_date, 1, 1, 1, now() from test_channels;
insert into public.analytics_import_runs (status) values ('succeeded');

-- Alerts (20261203121000_alerts.sql): a destination, its secret, a rule and a
-- delivery for both teams.
insert into public.alert_destinations (id, team_id, kind, name, target_host) values
  ('a1e00000-0000-4000-8000-00000000000a', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'discord', 'A', 'discord.com'),
  ('b1e00000-0000-4000-8000-00000000000b', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'slack', 'B', 'hooks.slack.com');
insert into public.alert_destination_secrets (destination_id, ciphertext, nonce, key_version)
select id, '\x00'::bytea, '\x01'::bytea, 1 from public.alert_destinations
where id in ('a1e00000-0000-4000-8000-00000000000a', 'b1e00000-0000-4000-8000-00000000000b');
insert into public.alert_rules (team_id, destination_id, channel_id, event) values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'a1e00000-0000-4000-8000-00000000000a',
   'a0000000-0000-4000-8000-00000000000a', 'live'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'b1e00000-0000-4000-8000-00000000000b', null, 'ended');
insert into public.alert_deliveries
  (team_id, rule_id, destination_id, channel_id, event, dedupe_key, payload, occurred_at)
select r.team_id, r.id, r.destination_id,
       coalesce(r.channel_id, 'b0000000-0000-4000-8000-00000000000b'), r.event, 'test', '{}', now()
from public.alert_rules r
where r.team_id in ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');

-- Push detection (20261203123000_push.sql): a subscription and a delivery.
insert into public.push_subscriptions (channel_id, platform, event_type, remote_id, status)
values ('a0000000-0000-4000-8000-00000000000a', 'twitch', 'stream.online', 'sub-a', 'enabled');
insert into public.push_deliveries (platform, message_id, kind, payload)
values ('twitch', 'msg-a', 'notification', '{"events": []}');

-- Sanity: the backend sees rows in every table, so "zero rows" below means
-- the policies hid them, not that there was nothing to hide.
select is(
  array(select t::text from pg_temp.tenant_tables() t where tests.visible_rows(t) = 0),
  '{}'::text[],
  'as postgres, every tenant table holds test rows'
);

-- ---------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------
select tests.authenticate_as_anon();

select is(
  array(select t::text from pg_temp.tenant_tables() t where coalesce(tests.visible_rows(t), 0) > 0),
  '{}'::text[],
  'anon sees zero rows in every tenant table'
);
select ok(tests.visible_rows('public.plans') >= 3, 'anon reads the plan catalogue');

-- ---------------------------------------------------------------------------
-- A signed-in user without a team
-- ---------------------------------------------------------------------------
select tests.authenticate_as('33333333-3333-4333-8333-333333333333');

select is(
  array(select t::text from pg_temp.tenant_tables() t where coalesce(tests.visible_rows(t), 0) > 0),
  '{}'::text[],
  'a user with no team sees zero rows in every tenant table'
);
select ok(tests.visible_rows('public.plans') >= 3, 'a user with no team reads the plan catalogue');
select is(public.can_read_channel('c0000000-0000-4000-8000-00000000000c'), false,
  'can_read_channel is false for a user with no team');

-- ---------------------------------------------------------------------------
-- Owner of team A
-- ---------------------------------------------------------------------------
select tests.authenticate_as('11111111-1111-4111-8111-111111111111');

-- Catalog-driven: whatever tenant table exists, no foreign row shows.
select is(
  array(select t::text from pg_temp.tables_with_column('team_id') t
        where tests.visible_rows_where(t, $$team_id is distinct from 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'$$) > 0),
  '{}'::text[],
  'team A owner sees no row of another team in any table with team_id'
);
select is(
  array(select t::text from pg_temp.tables_with_column('channel_id') t
        where tests.visible_rows_where(t, $$channel_id not in ('a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000c')$$) > 0),
  '{}'::text[],
  'team A owner sees no row of an untracked channel in any table with channel_id'
);

select results_eq('select id from public.teams', $$values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'::uuid)$$,
  'team A owner sees only team A');
select set_eq('select user_id from public.team_members',
  array['11111111-1111-4111-8111-111111111111', '44444444-4444-4444-8444-444444444444']::uuid[],
  'team A owner sees team A memberships');
select set_eq('select email from public.team_invitations', array['new-a@test.local'],
  'team A owner sees team A invitations only');
select ok((select count(*) from public.audit_log) > 0
          and (select bool_and(team_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa') from public.audit_log),
  'team A owner reads team A audit log only');
select set_eq('select channel_id from public.team_channels',
  array['a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'team A owner sees team A tracked channels');
select set_eq('select id from public.channels',
  array['a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'team A owner sees the channels team A tracks (paused included)');
select set_eq('select channel_id from public.channel_status',
  array['a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'channel_status: tracked channels only');
select set_eq('select channel_id from public.stream_sessions',
  array['a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'stream_sessions: tracked channels only');
select set_eq('select channel_id from public.viewer_samples',
  array['a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'viewer_samples: tracked channels only');
select set_eq('select channel_id from public.channel_stats',
  array['a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'channel_stats: tracked channels only');
select set_eq('select team_id from public.billing_customers union all select team_id from public.billing_subscriptions',
  array['aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa']::uuid[],
  'team A owner reads team A billing rows only');
select set_eq('select channel_id from public.channel_analytics_daily',
  array['a0000000-0000-4000-8000-00000000000a']::uuid[],
  'owner analytics: only the channel team A connected, not the shared one team B connected');
select is(
  array(select t::text from unnest(array['public.channel_credentials', 'public.monitor_runs',
          'public.platform_quota_usage', 'public.stripe_events',
          'public.channel_poll_state', 'public.directory_groups',
          'public.directory_group_members', 'public.directory_delta_links',
          'public.directory_claim_attributes', 'public.channel_connection_tokens',
          'public.channel_connection_attempts', 'public.analytics_import_runs',
          'public.alert_destination_secrets', 'public.push_subscriptions',
          'public.push_deliveries']::regclass[]) t
        where tests.visible_rows(t) is not null),
  '{}'::text[],
  'even an owner may not select from service-only tables');
select ok(public.can_read_channel('a0000000-0000-4000-8000-00000000000a')
          and not public.can_read_channel('b0000000-0000-4000-8000-00000000000b')
          and not public.can_read_channel('d0000000-0000-4000-8000-00000000000d'),
  'can_read_channel follows team A''s tracking');
select ok(public.is_team_member('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa')
          and not public.is_team_member('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb')
          and public.has_team_role('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'owner')
          and not public.has_team_role('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'viewer'),
  'is_team_member/has_team_role answer for the caller');

-- ---------------------------------------------------------------------------
-- Viewer of team A: same channel data, but no invitations or audit log
-- ---------------------------------------------------------------------------
select tests.authenticate_as('44444444-4444-4444-8444-444444444444');

select set_eq('select id from public.channels',
  array['a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'team A viewer sees team A channels');
select is(tests.visible_rows('public.team_invitations'), 0::bigint, 'a viewer sees no invitations');
select is(tests.visible_rows('public.audit_log'), 0::bigint, 'a viewer sees no audit log');
select is(tests.visible_rows('public.billing_subscriptions'), 1::bigint, 'a viewer reads the team subscription');
select ok(public.has_team_role('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'viewer')
          and not public.has_team_role('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'member'),
  'has_team_role compares role ranks');

-- ---------------------------------------------------------------------------
-- Owner of team B: the mirror image
-- ---------------------------------------------------------------------------
select tests.authenticate_as('22222222-2222-4222-8222-222222222222');

select results_eq('select id from public.teams', $$values ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'::uuid)$$,
  'team B owner sees only team B');
select set_eq('select id from public.channels',
  array['b0000000-0000-4000-8000-00000000000b', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'team B owner sees the channels team B tracks');
select set_eq('select channel_id from public.viewer_samples',
  array['b0000000-0000-4000-8000-00000000000b', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'team B owner sees samples of team B channels only');
select set_eq('select channel_id from public.channel_analytics_daily',
  array['b0000000-0000-4000-8000-00000000000b', 'c0000000-0000-4000-8000-00000000000c']::uuid[],
  'team B owner reads the owner analytics of the channels team B connected');
select is(
  array(select t::text from pg_temp.tables_with_column('team_id') t
        where tests.visible_rows_where(t, $$team_id is distinct from 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'$$) > 0),
  '{}'::text[],
  'team B owner sees no row of another team in any table with team_id'
);

-- An empty claim string means "nobody", as on Supabase.
select set_config('request.jwt.claims', '', true);
select is(tests.visible_rows('public.teams'), 0::bigint, 'authenticated role without claims sees no team');

select tests.clear_authentication();
select is(current_user::text, 'postgres', 'back to postgres after clear_authentication');

select * from finish();
rollback;
