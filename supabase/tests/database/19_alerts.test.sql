-- Alerts (20261203121000_alerts.sql), as an attacker would call them: other
-- teams' ids, every role, anon, direct writes that skip the API, the
-- backend-only functions; and the outbox's own rules (one alert per rule
-- and session, paused channels and switched-off destinations alert nothing).
begin;
create extension if not exists pgtap with schema extensions;
select plan(47);

-- ---------------------------------------------------------------------------
-- Two teams (A requires MFA), a role of each kind in A, a channel each
-- ---------------------------------------------------------------------------
select tests.create_user('a0000001-0000-4000-8000-000000000001', 'owner@a.test');
select tests.create_user('a0000002-0000-4000-8000-000000000002', 'admin@a.test');
select tests.create_user('a0000003-0000-4000-8000-000000000003', 'member@a.test');
select tests.create_user('a0000004-0000-4000-8000-000000000004', 'viewer@a.test');
select tests.create_user('b0000001-0000-4000-8000-000000000001', 'owner@b.test');

insert into public.teams (id, name, plan_id, created_by, require_mfa) values
  ('aaaaaaaa-0000-4000-8000-00000000000a', 'A', 'pro', 'a0000001-0000-4000-8000-000000000001', true),
  ('bbbbbbbb-0000-4000-8000-00000000000b', 'B', 'pro', 'b0000001-0000-4000-8000-000000000001', false);
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-00000000000a', 'a0000002-0000-4000-8000-000000000002', 'admin'),
  ('aaaaaaaa-0000-4000-8000-00000000000a', 'a0000003-0000-4000-8000-000000000003', 'member'),
  ('aaaaaaaa-0000-4000-8000-00000000000a', 'a0000004-0000-4000-8000-000000000004', 'viewer');

insert into public.channels (id, platform, platform_channel_id, display_name) values
  ('c000000a-0000-4000-8000-00000000000a', 'twitch', 'alerts-a', 'Channel A'),
  ('c000000b-0000-4000-8000-00000000000b', 'twitch', 'alerts-b', 'Channel B');
insert into public.team_channels (team_id, channel_id) values
  ('aaaaaaaa-0000-4000-8000-00000000000a', 'c000000a-0000-4000-8000-00000000000a'),
  ('bbbbbbbb-0000-4000-8000-00000000000b', 'c000000b-0000-4000-8000-00000000000b'),
  ('bbbbbbbb-0000-4000-8000-00000000000b', 'c000000a-0000-4000-8000-00000000000a');

-- Destinations are made by the backend on an admin's behalf.
select tests.act_for('a0000002-0000-4000-8000-000000000002', 'aal2');
select is(
  public.create_alert_destination('d000000a-0000-4000-8000-00000000000a',
    'aaaaaaaa-0000-4000-8000-00000000000a', 'discord', 'A discord', 'discord.com',
    '\x00'::bytea, '\x01'::bytea, 1),
  'd000000a-0000-4000-8000-00000000000a'::uuid,
  'create_alert_destination: an admin (aal2) of a team that requires MFA, through the backend');
select is((select created_by from public.alert_destinations
           where id = 'd000000a-0000-4000-8000-00000000000a'),
  'a0000002-0000-4000-8000-000000000002'::uuid, 'the destination records its creator');
select ok(exists (select 1 from public.audit_log
                  where team_id = 'aaaaaaaa-0000-4000-8000-00000000000a'
                    and action = 'alert_destinations.insert'
                    and actor_id = 'a0000002-0000-4000-8000-000000000002'
                    and not details::text like '%ciphertext%'),
  'the creation is audited with the admin as actor, and no secret in it');

select tests.act_for('b0000001-0000-4000-8000-000000000001');
select lives_ok($$select public.create_alert_destination('d000000b-0000-4000-8000-00000000000b',
    'bbbbbbbb-0000-4000-8000-00000000000b', 'slack', 'B slack', 'hooks.slack.com',
    '\x00'::bytea, '\x01'::bytea, 1)$$, 'team B''s owner makes one for team B');

select tests.act_for('a0000003-0000-4000-8000-000000000003', 'aal2');
select throws_ok($$select public.create_alert_destination(gen_random_uuid(),
    'aaaaaaaa-0000-4000-8000-00000000000a', 'slack', 'x', 'x.test', '\x00', '\x01', 1)$$,
  '42501', 'to manage alert destinations you must be admin or higher; you are member',
  'a member cannot make a destination');
select tests.act_for('a0000002-0000-4000-8000-000000000002', 'aal1');
select throws_ok($$select public.create_alert_destination(gen_random_uuid(),
    'aaaaaaaa-0000-4000-8000-00000000000a', 'slack', 'x', 'x.test', '\x00', '\x01', 1)$$,
  '42501', 'this team requires multi-factor authentication for changes',
  'an admin at aal1 cannot make one where the team requires MFA');
select tests.act_for('b0000001-0000-4000-8000-000000000001');
select throws_ok($$select public.create_alert_destination(gen_random_uuid(),
    'aaaaaaaa-0000-4000-8000-00000000000a', 'slack', 'x', 'x.test', '\x00', '\x01', 1)$$,
  '42501', 'no such team, or you are not a member of it',
  'an outsider cannot make one for another team, and learns nothing about it');

-- ---------------------------------------------------------------------------
-- Clients cannot reach the backend-only functions or tables
-- ---------------------------------------------------------------------------
select tests.authenticate_as('a0000001-0000-4000-8000-000000000001', 'aal2');
select throws_ok($$select public.create_alert_destination(gen_random_uuid(),
    'aaaaaaaa-0000-4000-8000-00000000000a', 'slack', 'x', 'x.test', '\x00', '\x01', 1)$$,
  '42501', null, 'an owner cannot call create_alert_destination directly');
select throws_ok($$select public.enqueue_alerts('[]'::jsonb)$$, '42501', null,
  'no client can write the outbox through enqueue_alerts');
select throws_ok($$select * from public.alert_destination_secrets$$, '42501', null,
  'even an owner cannot read destination secrets');
select throws_ok($$insert into public.alert_destinations (team_id, kind, name, target_host)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'discord', 'x', 'x.test')$$,
  '42501', null, 'no client inserts a destination without its sealed secret');
select throws_ok($$update public.alert_destinations set target_host = 'evil.test'$$,
  '42501', null, 'the host shown for a destination is the backend''s to write');
select throws_ok($$insert into public.alert_deliveries
    (team_id, channel_id, event, dedupe_key, payload, occurred_at)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'c000000a-0000-4000-8000-00000000000a',
            'live', 'forged', '{}', now())$$,
  '42501', null, 'no client forges an alert');
select throws_ok($$update public.alert_deliveries set status = 'delivered'$$,
  '42501', null, 'no client rewrites the delivery log');

select tests.authenticate_as_anon();
select is(coalesce(tests.visible_rows('public.alert_destinations'), 0)
          + coalesce(tests.visible_rows('public.alert_rules'), 0)
          + coalesce(tests.visible_rows('public.alert_deliveries'), 0), 0::bigint,
  'anon sees no destination, rule or delivery');

-- ---------------------------------------------------------------------------
-- Rules: admins and owners write, with the team's MFA rule; never across teams
-- ---------------------------------------------------------------------------
select tests.authenticate_as('a0000002-0000-4000-8000-000000000002', 'aal2');
select lives_ok($$insert into public.alert_rules (team_id, destination_id, channel_id, event)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'd000000a-0000-4000-8000-00000000000a',
            'c000000a-0000-4000-8000-00000000000a', 'live')$$,
  'an admin (aal2) adds a live rule for a channel of the team');
select lives_ok($$insert into public.alert_rules
    (team_id, destination_id, channel_id, event, viewer_threshold, template)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'd000000a-0000-4000-8000-00000000000a',
            null, 'viewers_above', 500, '{channel} passed {threshold}')$$,
  'and a viewers_above rule for every channel');
select throws_ok($$insert into public.alert_rules (team_id, destination_id, event)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'd000000b-0000-4000-8000-00000000000b', 'live')$$,
  '23503', null, 'a rule cannot send to another team''s destination');
select throws_ok($$insert into public.alert_rules (team_id, destination_id, channel_id, event)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'd000000a-0000-4000-8000-00000000000a',
            'c000000b-0000-4000-8000-00000000000b', 'live')$$,
  '23503', null, 'nor watch a channel the team does not track');
select throws_ok($$insert into public.alert_rules (team_id, destination_id, event)
    values ('bbbbbbbb-0000-4000-8000-00000000000b', 'd000000b-0000-4000-8000-00000000000b', 'live')$$,
  '42501', null, 'an admin of A cannot add a rule to team B');
select throws_ok($$insert into public.alert_rules (team_id, destination_id, event, created_by)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'd000000a-0000-4000-8000-00000000000a', 'live',
            'a0000001-0000-4000-8000-000000000001')$$,
  '42501', null, 'nor write a rule in someone else''s name');
select throws_ok($$insert into public.alert_rules (team_id, destination_id, event)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'd000000a-0000-4000-8000-00000000000a',
            'viewers_above')$$,
  '23514', null, 'viewers_above needs a threshold');

select tests.authenticate_as('a0000002-0000-4000-8000-000000000002', 'aal1');
select throws_ok($$insert into public.alert_rules (team_id, destination_id, event)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'd000000a-0000-4000-8000-00000000000a', 'ended')$$,
  '42501', null, 'an admin at aal1 cannot add one where the team requires MFA');
update public.alert_destinations set name = 'renamed at aal1';
select is((select name from public.alert_destinations where id = 'd000000a-0000-4000-8000-00000000000a'),
  'A discord', 'nor rename a destination');

select tests.authenticate_as('a0000003-0000-4000-8000-000000000003', 'aal2');
select throws_ok($$insert into public.alert_rules (team_id, destination_id, event)
    values ('aaaaaaaa-0000-4000-8000-00000000000a', 'd000000a-0000-4000-8000-00000000000a', 'ended')$$,
  '42501', null, 'a member cannot add a rule');
update public.alert_rules set enabled = false;
delete from public.alert_rules;
update public.alert_destinations set enabled = false;
delete from public.alert_destinations;
select tests.authenticate_as('a0000004-0000-4000-8000-000000000004', 'aal2');
update public.alert_rules set enabled = false;
delete from public.alert_rules;
update public.alert_destinations set enabled = false;
delete from public.alert_destinations;
select tests.clear_authentication();
select is((select count(*)::int from public.alert_rules
           where team_id = 'aaaaaaaa-0000-4000-8000-00000000000a' and enabled), 2,
  'members and viewers changed no rule (RLS: zero rows)');
select ok((select enabled from public.alert_destinations where id = 'd000000a-0000-4000-8000-00000000000a'),
  'members and viewers neither switched off nor deleted the destination');

select tests.authenticate_as('a0000004-0000-4000-8000-000000000004');
select is(tests.visible_rows('public.alert_rules'), 2::bigint, 'a viewer reads the team''s rules');
select is(tests.visible_rows('public.alert_destinations'), 1::bigint,
  'a viewer reads the team''s destinations, and not team B''s');
select is(
  (select count(*)::int from public.alert_destinations where team_id = 'bbbbbbbb-0000-4000-8000-00000000000b'),
  0, 'team B''s destination is invisible to team A');

-- team B's owner: a rule on the channel both teams track
select tests.authenticate_as('b0000001-0000-4000-8000-000000000001');
insert into public.alert_rules (team_id, destination_id, channel_id, event) values
  ('bbbbbbbb-0000-4000-8000-00000000000b', 'd000000b-0000-4000-8000-00000000000b',
   'c000000a-0000-4000-8000-00000000000a', 'live');
select is(tests.visible_rows('public.alert_rules'), 1::bigint, 'team B''s owner sees only team B''s rule');

-- ---------------------------------------------------------------------------
-- The outbox (as the backend)
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
insert into public.stream_sessions (id, channel_id, platform_stream_id, started_at, last_seen_at,
                                    peak_viewers)
overriding system value values
  (900001, 'c000000a-0000-4000-8000-00000000000a', 's1', now() - interval '1 hour', now(), 800);

create temporary table live_change on commit drop as
select jsonb_build_array(jsonb_build_object(
  'channel_id', 'c000000a-0000-4000-8000-00000000000a', 'event', 'live', 'session_id', 900001,
  'title', 'Hello', 'category', 'Chess', 'viewers', 120, 'started_at', now() - interval '1 hour',
  'occurred_at', now())) as changes;

select is(public.enqueue_alerts((select changes from live_change)), 2,
  'a live change: one alert per matching rule (team A''s, and team B''s on the shared channel)');
select is(public.enqueue_alerts((select changes from live_change)), 0,
  'the same session going live again (a restart within grace, a retried cycle) alerts nothing');
select is((select payload ->> 'channel' from public.alert_deliveries
           where destination_id = 'd000000a-0000-4000-8000-00000000000a' and event = 'live'),
  'Channel A', 'the alert carries the channel''s facts');

select is(public.enqueue_alerts(jsonb_build_array(jsonb_build_object(
  'channel_id', 'c000000a-0000-4000-8000-00000000000a', 'event', 'viewers_above',
  'session_id', 900001, 'viewers', 499))), 0, 'viewers below the threshold: nothing');
select is(public.enqueue_alerts(jsonb_build_array(jsonb_build_object(
  'channel_id', 'c000000a-0000-4000-8000-00000000000a', 'event', 'viewers_above',
  'session_id', 900001, 'viewers', 500))), 1, 'reaching the threshold: one alert');
select is(public.enqueue_alerts(jsonb_build_array(jsonb_build_object(
  'channel_id', 'c000000a-0000-4000-8000-00000000000a', 'event', 'viewers_above',
  'session_id', 900001, 'viewers', 900))), 0, 'and only once per session');
select is((select template from public.alert_deliveries where event = 'viewers_above'),
  '{channel} passed {threshold}', 'the rule''s template travels with the alert');

select is(public.enqueue_alerts(jsonb_build_array(jsonb_build_object(
  'channel_id', 'c000000a-0000-4000-8000-00000000000a', 'event', 'live', 'session_id', 900002))), 2,
  'another session is another live alert');

-- Team A pauses the channel; team B switches its destination off.
update public.team_channels set paused_at = now()
where team_id = 'aaaaaaaa-0000-4000-8000-00000000000a';
update public.alert_destinations set enabled = false where id = 'd000000b-0000-4000-8000-00000000000b';
select is(public.enqueue_alerts(jsonb_build_array(jsonb_build_object(
  'channel_id', 'c000000a-0000-4000-8000-00000000000a', 'event', 'live', 'session_id', 900003))), 0,
  'a paused channel and a switched-off destination alert nothing');
select is(public.enqueue_alerts('[]'::jsonb) + public.enqueue_alerts(null), 0,
  'an empty batch writes nothing');

-- The backend disabled it after failures; switching it back on resets them.
update public.alert_destination_secrets set auth_failures = 3
where destination_id = 'd000000b-0000-4000-8000-00000000000b';
update public.alert_destinations set disabled_reason = 'HTTP 404', disabled_at = now()
where id = 'd000000b-0000-4000-8000-00000000000b';
select tests.authenticate_as('b0000001-0000-4000-8000-000000000001');
update public.alert_destinations set enabled = true where id = 'd000000b-0000-4000-8000-00000000000b';
select tests.clear_authentication();
select is((select (s.auth_failures, d.disabled_reason) from public.alert_destination_secrets s
           join public.alert_destinations d on d.id = s.destination_id
           where s.destination_id = 'd000000b-0000-4000-8000-00000000000b'),
  row(0, null::text), 'an owner switching it back on clears the failures and the reason');

-- Members read the delivery log of their own team only.
select tests.authenticate_as('a0000004-0000-4000-8000-000000000004');
select is((select count(*)::int from public.alert_deliveries), 3,
  'a viewer of A reads team A''s deliveries');
select is((select count(*)::int from public.alert_deliveries
           where team_id <> 'aaaaaaaa-0000-4000-8000-00000000000a'), 0, 'and none of team B''s');
select tests.clear_authentication();

-- A team that stops tracking a channel loses its rules for it.
delete from public.team_channels where team_id = 'bbbbbbbb-0000-4000-8000-00000000000b'
  and channel_id = 'c000000a-0000-4000-8000-00000000000a';
select is((select count(*)::int from public.alert_rules where team_id = 'bbbbbbbb-0000-4000-8000-00000000000b'),
  0, 'untracking a channel deletes the rules for it');
select ok((select bool_and(rule_id is null) from public.alert_deliveries
           where team_id = 'bbbbbbbb-0000-4000-8000-00000000000b'),
  'and its past deliveries stay in the log');

-- Deleting a destination takes its secret and rules along (an admin, aal2).
select tests.authenticate_as('a0000002-0000-4000-8000-000000000002', 'aal2');
delete from public.alert_destinations where id = 'd000000a-0000-4000-8000-00000000000a';
select tests.clear_authentication();
select is((select count(*)::int from public.alert_destination_secrets
           where destination_id = 'd000000a-0000-4000-8000-00000000000a')
          + (select count(*)::int from public.alert_rules
             where destination_id = 'd000000a-0000-4000-8000-00000000000a'), 0,
  'an admin deletes a destination: its secret and rules go with it');

select * from finish();
rollback;
