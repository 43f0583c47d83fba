-- Connected channels (issue 16), as an attacker would call them: tokens and
-- authorization attempts have no client privilege at all; a team's members
-- see its connections and nobody else's; an owner's YouTube Analytics are
-- read only by teams holding a connection for the channel, never by another
-- team that merely tracks it; nobody writes any of it but the backend.
begin;
create extension if not exists pgtap with schema extensions;
select plan(26);

-- Team A (alice owner, vic viewer) tracks YouTube channel Y and connected it.
-- Team B (bob) tracks Y too, publicly, with no connection. Carl is in no team.
select tests.create_user('00000023-0000-4000-8000-000000000001', 'alice@conn.test');
select tests.create_user('00000023-0000-4000-8000-000000000002', 'bob@conn.test');
select tests.create_user('00000023-0000-4000-8000-000000000003', 'carl@conn.test');
select tests.create_user('00000023-0000-4000-8000-000000000004', 'vic@conn.test');
insert into public.teams (id, name, plan_id, created_by) values
  ('00000023-0000-4000-8000-0000000000aa', 'Team A', 'pro', '00000023-0000-4000-8000-000000000001'),
  ('00000023-0000-4000-8000-0000000000bb', 'Team B', 'pro', '00000023-0000-4000-8000-000000000002');
insert into public.team_members (team_id, user_id, role) values
  ('00000023-0000-4000-8000-0000000000aa', '00000023-0000-4000-8000-000000000004', 'viewer');
insert into public.channels (id, platform, platform_channel_id) values
  ('00000023-0000-4000-8000-0000000000c1', 'youtube', 'UCconnectedchannel0000001');
insert into public.team_channels (team_id, channel_id) values
  ('00000023-0000-4000-8000-0000000000aa', '00000023-0000-4000-8000-0000000000c1'),
  ('00000023-0000-4000-8000-0000000000bb', '00000023-0000-4000-8000-0000000000c1');
insert into public.channel_connections (id, team_id, channel_id, platform, account_id, scopes, connected_by)
values ('00000023-0000-4000-8000-0000000000d1', '00000023-0000-4000-8000-0000000000aa',
        '00000023-0000-4000-8000-0000000000c1', 'youtube', 'UCconnectedchannel0000001',
        '{https://www.googleapis.com/auth/yt-analytics.readonly}', '00000023-0000-4000-8000-000000000001');
insert into public.channel_connection_tokens (connection_id, access_ciphertext, access_nonce, key_version)
values ('00000023-0000-4000-8000-0000000000d1', '\x01', '\x02', 1);
insert into public.channel_connection_attempts
  (id, team_id, channel_id, user_id, platform, verifier_ciphertext, verifier_nonce, key_version, expires_at)
values ('00000023-0000-4000-8000-0000000000e1', '00000023-0000-4000-8000-0000000000aa',
        '00000023-0000-4000-8000-0000000000c1', '00000023-0000-4000-8000-000000000001', 'youtube',
        '\x03', '\x04', 1, now() + interval '10 minutes');
insert into public.channel_analytics_daily
  (channel_id, day, views, estimated_minutes_watched, average_view_duration,
   subscribers_gained, subscribers_lost, fetched_at)
values ('00000023-0000-4000-8000-0000000000c1', '2026-11-20', 100, 900, 540, 7, 2, now());
insert into public.channel_analytics_videos
  (channel_id, video_id, first_day, last_day, views, estimated_minutes_watched,
   average_view_duration, fetched_at)
values ('00000023-0000-4000-8000-0000000000c1', 'abcdefghijk', '2026-11-20', '2026-11-22', 50, 400, 480, now());
insert into public.channel_rollups_hourly (channel_id, hour, live_seconds, viewer_seconds, peak_viewers)
values ('00000023-0000-4000-8000-0000000000c1', '2026-11-20 20:00+00', 3600, 36000, 12),
       -- 07:00 UTC on the 21st is still the 20th in Pacific time (PST, UTC-8)
       ('00000023-0000-4000-8000-0000000000c1', '2026-11-21 07:00+00', 1800, 6000, 15),
       ('00000023-0000-4000-8000-0000000000c1', '2026-11-21 08:00+00', 600, 600, 3);
insert into public.analytics_import_runs (status) values ('succeeded');

-- ---------------------------------------------------------------------------
-- Secrets: no client privilege, whoever asks
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000023-0000-4000-8000-000000000001');
select throws_ok($$select * from public.channel_connection_tokens$$, '42501', null,
  'even the owner who connected cannot read the sealed tokens');
select throws_ok($$select * from public.channel_connection_attempts$$, '42501', null,
  'nor the authorization attempts (their PKCE verifiers)');
select throws_ok(
  $$insert into public.channel_connection_attempts
      (id, team_id, channel_id, user_id, platform, verifier_ciphertext, verifier_nonce, key_version, expires_at)
    values (gen_random_uuid(), '00000023-0000-4000-8000-0000000000aa', '00000023-0000-4000-8000-0000000000c1',
            '00000023-0000-4000-8000-000000000001', 'youtube', '\x00', '\x00', 1, now() + interval '1 day')$$,
  '42501', null, 'clients cannot forge an authorization attempt (a state of their own)');
select throws_ok(
  $$update public.channel_connection_attempts set used_at = null$$,
  '42501', null, 'clients cannot make a used state usable again');
select throws_ok($$select * from public.analytics_import_runs$$, '42501', null,
  'import runs are the backend''s');
select tests.authenticate_as_anon();
select throws_ok($$select * from public.channel_connection_tokens$$, '42501', null,
  'anon cannot read tokens');
select throws_ok($$select * from public.channel_connections$$, '42501', null,
  'anon cannot read connections');
select throws_ok($$select * from public.channel_analytics_daily$$, '42501', null,
  'anon cannot read analytics');

-- ---------------------------------------------------------------------------
-- Connections: the team's members read them; nobody writes them
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000023-0000-4000-8000-000000000004');
select is(tests.visible_rows('public.channel_connections'), 1::bigint,
  'a viewer of team A sees the team''s connection (and whether it is broken)');
select throws_ok(
  $$update public.channel_connections set status = 'active', broken_at = null$$,
  '42501', null, 'members cannot mark a connection healthy themselves');
select throws_ok(
  $$delete from public.channel_connections$$,
  '42501', null, 'nor delete one (disconnecting revokes at the provider, through the backend)');
select tests.authenticate_as('00000023-0000-4000-8000-000000000001');
select throws_ok(
  $$insert into public.channel_connections (team_id, channel_id, platform, account_id)
    values ('00000023-0000-4000-8000-0000000000aa', '00000023-0000-4000-8000-0000000000c1', 'youtube', 'x')$$,
  '42501', null, 'even an owner cannot insert a connection (only the callback, after the ownership check)');

select tests.authenticate_as('00000023-0000-4000-8000-000000000002');
select is(tests.visible_rows('public.channel_connections'), 0::bigint,
  'bob, whose team tracks the same channel, sees no connection of team A');
select is(tests.visible_rows('public.channel_analytics_daily'), 0::bigint,
  'nor the owner''s daily analytics: tracking a channel publicly is not the owner''s consent');
select is(tests.visible_rows('public.channel_analytics_videos'), 0::bigint,
  'nor the per-video analytics');
select is((select count(*) from public.analytics_connected_daily(
             '00000023-0000-4000-8000-0000000000c1', '2026-11-19', '2026-11-21')), 0::bigint,
  'the dashboard function answers bob nothing for it');
select is((select count(*) from public.connected_channel_ids()), 0::bigint,
  'connected_channel_ids() answers bob about himself only');

select tests.authenticate_as('00000023-0000-4000-8000-000000000003');
select is(tests.visible_rows('public.channel_analytics_daily'), 0::bigint,
  'carl, in no team, reads no analytics');
select is(tests.visible_rows('public.channel_connections'), 0::bigint,
  'and no connection');

-- ---------------------------------------------------------------------------
-- Team A reads its owner's figures; the dashboard lines them up by Pacific day
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000023-0000-4000-8000-000000000004');
select is(tests.visible_rows('public.channel_analytics_daily'), 1::bigint,
  'a viewer of the connected team reads the daily analytics');
select is(tests.visible_rows('public.channel_analytics_videos'), 1::bigint,
  'and the per-video analytics');
select results_eq(
  $$select day, views, streamtrack_live_seconds, streamtrack_minutes_watched, streamtrack_peak_viewers
    from public.analytics_connected_daily('00000023-0000-4000-8000-0000000000c1', '2026-11-20', '2026-11-21')$$,
  $$values ('2026-11-20'::date, 100::bigint, 5400::numeric, 700::numeric, 15),
           ('2026-11-21'::date, null::bigint, 600::numeric, 10::numeric, 3)$$,
  'YouTube''s day next to StreamTrack''s hours of the same Pacific day; an unreported day is null');
select throws_ok(
  $$select * from public.analytics_connected_daily('00000023-0000-4000-8000-0000000000c1', '2026-11-21', '2026-11-20')$$,
  '22023', null, 'a reversed range is refused with a message');
select throws_ok(
  $$insert into public.channel_analytics_daily
      (channel_id, day, views, estimated_minutes_watched, average_view_duration,
       subscribers_gained, subscribers_lost, fetched_at)
    values ('00000023-0000-4000-8000-0000000000c1', '2026-11-21', 1, 1, 1, 1, 1, now())$$,
  '42501', null, 'clients cannot write analytics');

-- ---------------------------------------------------------------------------
-- The connection's life follows tracking, and is audited
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
delete from public.team_channels
where team_id = '00000023-0000-4000-8000-0000000000aa'
  and channel_id = '00000023-0000-4000-8000-0000000000c1';
select is((select count(*) from public.channel_connection_tokens
           where connection_id = '00000023-0000-4000-8000-0000000000d1'), 0::bigint,
  'when the team stops tracking the channel, its connection and tokens go with it');
select is(
  array(select action from public.audit_log
        where team_id = '00000023-0000-4000-8000-0000000000aa' and target_type = 'channel_connections'
        order by id),
  array['channel_connections.insert', 'channel_connections.delete'],
  'connecting and its removal are in the team''s audit log');

select * from finish();
rollback;
