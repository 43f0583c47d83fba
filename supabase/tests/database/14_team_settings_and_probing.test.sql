-- Attacks on team settings and on other teams, as a client calling the
-- tables and functions directly (issue 11, items 1, 5 and 6):
--   * only an owner switches require_mfa, either way; plan_id and
--     created_by are not client-writable at all;
--   * a non-member gets from every helper and RPC granted to clients the
--     answer a team id that names no team gets, and cannot reach another
--     team's plan limit (no client insert into team_channels);
--   * the audit log's sequence cannot be touched by clients.
begin;
create extension if not exists pgtap with schema extensions;
select plan(34);

-- Team T (free, requires MFA): owner, admin, member. Team X (free, requires
-- MFA, its 3 channels tracked: full): its owner only. The outsider is in
-- neither; N is an id that names no team.
select tests.create_user('00000014-0000-4000-8000-000000000001', 'owner@probe.test');
select tests.create_user('00000014-0000-4000-8000-000000000002', 'admin@probe.test');
select tests.create_user('00000014-0000-4000-8000-000000000003', 'member@probe.test');
select tests.create_user('00000014-0000-4000-8000-000000000004', 'x-owner@probe.test');
select tests.create_user('00000014-0000-4000-8000-000000000005', 'outsider@probe.test');
insert into public.teams (id, name, require_mfa, created_by) values
  ('00000014-0000-4000-8000-0000000000aa', 'Team T', true, '00000014-0000-4000-8000-000000000001'),
  ('00000014-0000-4000-8000-0000000000bb', 'Team X', true, '00000014-0000-4000-8000-000000000004');
insert into public.team_members (team_id, user_id, role) values
  ('00000014-0000-4000-8000-0000000000aa', '00000014-0000-4000-8000-000000000002', 'admin'),
  ('00000014-0000-4000-8000-0000000000aa', '00000014-0000-4000-8000-000000000003', 'member');
insert into public.channels (id, platform, platform_channel_id) values
  ('00000014-0000-4000-8000-0000000000c1', 'twitch', 'probe-1'),
  ('00000014-0000-4000-8000-0000000000c2', 'twitch', 'probe-2'),
  ('00000014-0000-4000-8000-0000000000c3', 'twitch', 'probe-3'),
  ('00000014-0000-4000-8000-0000000000c4', 'twitch', 'probe-4');
insert into public.team_channels (team_id, channel_id)
select '00000014-0000-4000-8000-0000000000bb', id from public.channels
where platform_channel_id in ('probe-1', 'probe-2', 'probe-3');

create function pg_temp.team_mfa(team uuid) returns boolean
  language sql security definer set search_path = '' as $$
  select t.require_mfa from public.teams t where t.id = team
$$;

-- ---------------------------------------------------------------------------
-- 1. require_mfa belongs to owners
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000014-0000-4000-8000-000000000002', 'aal2');  -- admin
select throws_ok(
  $$update public.teams set require_mfa = false where id = '00000014-0000-4000-8000-0000000000aa'$$,
  '42501', 'only an owner can change whether the team requires multi-factor authentication',
  'an admin (aal2) cannot switch MFA off by a direct update');
select lives_ok(
  $$update public.teams set name = 'Renamed by the admin', require_mfa = true
    where id = '00000014-0000-4000-8000-0000000000aa'$$,
  'an admin still renames the team (require_mfa written unchanged is no change)');
select throws_ok(
  $$update public.teams set plan_id = 'business' where id = '00000014-0000-4000-8000-0000000000aa'$$,
  '42501', null,
  'an admin cannot change the plan (billing''s)');
select throws_ok(
  $$update public.teams set created_by = '00000014-0000-4000-8000-000000000002'
    where id = '00000014-0000-4000-8000-0000000000aa'$$,
  '42501', null,
  'an admin cannot rewrite created_by');

select tests.authenticate_as('00000014-0000-4000-8000-000000000001', 'aal2');  -- owner
select lives_ok(
  $$update public.teams set require_mfa = false where id = '00000014-0000-4000-8000-0000000000aa'$$,
  'the owner switches MFA off');
select tests.authenticate_as('00000014-0000-4000-8000-000000000002', 'aal1');  -- admin
select throws_ok(
  $$update public.teams set require_mfa = true where id = '00000014-0000-4000-8000-0000000000aa'$$,
  '42501', 'only an owner can change whether the team requires multi-factor authentication',
  'an admin cannot switch MFA on either');
select tests.authenticate_as('00000014-0000-4000-8000-000000000003');  -- member
select is_empty(
  $$update public.teams set require_mfa = true where id = '00000014-0000-4000-8000-0000000000aa'
    returning id$$,
  'a member changes nothing');
select tests.clear_authentication();
select is(pg_temp.team_mfa('00000014-0000-4000-8000-0000000000aa'), false,
  'only the owner''s change took effect');
update public.teams set require_mfa = true where id = '00000014-0000-4000-8000-0000000000aa';
select is(pg_temp.team_mfa('00000014-0000-4000-8000-0000000000aa'), true,
  'the backend (no user) may set it');

-- ---------------------------------------------------------------------------
-- 5. A non-member learns nothing about team X: every answer equals the one
--    for N, an id that names no team
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000014-0000-4000-8000-000000000005');  -- outsider, aal1

select hasnt_function('public', 'team_has_members', array['uuid'],
  'team_has_members (which told anyone whether a team had members) is gone');
select is(public.mfa_satisfied('00000014-0000-4000-8000-0000000000bb'),
          public.mfa_satisfied('00000014-0000-4000-8000-0000000000ff'),
  'mfa_satisfied(X) = mfa_satisfied(N), though X requires MFA and the caller is at aal1');
select is(public.mfa_satisfied('00000014-0000-4000-8000-0000000000bb'), true,
  '...both true: no MFA rule of the caller''s applies');
select is(public.is_team_member('00000014-0000-4000-8000-0000000000bb'),
          public.is_team_member('00000014-0000-4000-8000-0000000000ff'),
  'is_team_member(X) = is_team_member(N)');
select is(public.has_team_role('00000014-0000-4000-8000-0000000000bb', 'viewer'),
          public.has_team_role('00000014-0000-4000-8000-0000000000ff', 'viewer'),
  'has_team_role(X) = has_team_role(N)');
select is(public.team_has_feature('00000014-0000-4000-8000-0000000000bb', 'csv_export'),
          public.team_has_feature('00000014-0000-4000-8000-0000000000ff', 'csv_export'),
  'team_has_feature(X) = team_has_feature(N)');
select is_empty($$select * from public.team_member_list('00000014-0000-4000-8000-0000000000bb')$$,
  'team_member_list(X) is empty, as for N');
select is_empty(
  $$select * from public.analytics_team_overview('00000014-0000-4000-8000-0000000000bb',
                                                 now() - interval '1 day', now())$$,
  'analytics_team_overview(X) is empty, as for N');
select is_empty($$select * from public.analytics_leaderboard('00000014-0000-4000-8000-0000000000bb')$$,
  'analytics_leaderboard(X) is empty, as for N');
select is_empty(
  $$select * from public.analytics_team_daily_followers('00000014-0000-4000-8000-0000000000bb',
                                                        current_date - 7, current_date)$$,
  'analytics_team_daily_followers(X) is empty, as for N');
select is(public.can_read_channel('00000014-0000-4000-8000-0000000000c1'),
          public.can_read_channel('00000014-0000-4000-8000-0000000000cf'),
  'can_read_channel(X''s channel) = can_read_channel(no channel)');

-- X is full (3 of 3): an outsider must not reach its plan limit nor lock it.
select throws_ok(
  $$insert into public.team_channels (team_id, channel_id)
    values ('00000014-0000-4000-8000-0000000000bb', '00000014-0000-4000-8000-0000000000c4')$$,
  '42501', 'permission denied for table team_channels',
  'clients cannot insert team_channels at all (no trigger runs: the privilege check comes first)');
select throws_ok(
  $$select public.track_team_channel('00000014-0000-4000-8000-0000000000bb',
                                     '00000014-0000-4000-8000-0000000000c4')$$,
  '42501', 'no such team, or you are not a member of it',
  'track_team_channel on a full team X: not a member, no plan limit');
select throws_ok(
  $$select public.track_team_channel('00000014-0000-4000-8000-0000000000ff',
                                     '00000014-0000-4000-8000-0000000000c4')$$,
  '42501', 'no such team, or you are not a member of it',
  '...the same answer as for N');
select is_empty(
  $$update public.team_channels set paused_at = null
    where team_id = '00000014-0000-4000-8000-0000000000bb' returning channel_id$$,
  'an outsider''s resume reaches no row of X (no resume-limit trigger runs)');
select is_empty(
  $$delete from public.teams where id = '00000014-0000-4000-8000-0000000000bb' returning id$$,
  'an outsider deletes nothing');

-- Inside the team, the RPC checks role and MFA before anything else.
select tests.authenticate_as('00000014-0000-4000-8000-000000000003', 'aal1');  -- member of T
select throws_ok(
  $$select public.track_team_channel('00000014-0000-4000-8000-0000000000aa',
                                     '00000014-0000-4000-8000-0000000000c4')$$,
  '42501', 'this team requires multi-factor authentication for changes',
  'a member at aal1 cannot add to a team that requires MFA');
select tests.authenticate_as('00000014-0000-4000-8000-000000000003', 'aal2');
select throws_ok(
  $$select public.track_team_channel('00000014-0000-4000-8000-0000000000aa',
                                     '00000014-0000-4000-8000-0000000000cf')$$,
  'P0002', 'no such channel',
  'an unknown channel id is refused, after the membership checks');
select is(public.track_team_channel('00000014-0000-4000-8000-0000000000aa',
                                    '00000014-0000-4000-8000-0000000000c4'), true,
  'a member at aal2 adds a channel through the RPC');
select tests.clear_authentication();
select results_eq(
  $$select added_by from public.team_channels
    where team_id = '00000014-0000-4000-8000-0000000000aa'$$,
  $$values ('00000014-0000-4000-8000-000000000003'::uuid)$$,
  'added_by is the caller');
select ok(exists (select 1 from public.audit_log
                  where team_id = '00000014-0000-4000-8000-0000000000aa'
                    and action = 'team_channels.insert'
                    and actor_id = '00000014-0000-4000-8000-000000000003'),
  'the RPC''s insert is audited with the caller as actor');

-- ---------------------------------------------------------------------------
-- 6. The audit log's sequence: nextval/setval would let a client break
--    every audited write
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000014-0000-4000-8000-000000000001', 'aal2');  -- an owner
select throws_ok($$select setval('public.audit_log_id_seq', 1)$$, '42501', null,
  'an owner cannot setval the audit log''s sequence');
select throws_ok($$select nextval('public.audit_log_id_seq')$$, '42501', null,
  '...nor nextval it');
select tests.authenticate_as_anon();
select throws_ok($$select setval('public.audit_log_id_seq', 1)$$, '42501', null,
  'anon cannot setval it either');
select tests.clear_authentication();
select is(
  array(select c.oid::regclass::text
        from pg_catalog.pg_class c
        where c.relkind = 'S' and c.relnamespace = 'public'::regnamespace
          and (has_sequence_privilege('anon', c.oid, 'usage,select,update')
               or has_sequence_privilege('authenticated', c.oid, 'usage,select,update'))
        order by 1),
  '{}'::text[],
  'no client holds any privilege on any sequence in public');

select * from finish();
rollback;
