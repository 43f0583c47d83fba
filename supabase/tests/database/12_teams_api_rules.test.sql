-- Rules of the teams API (20261124120000_tenancy.sql):
-- who may invite which role, one open invitation per address, the member
-- list with emails for members only, and a team's stored key going with
-- that team's tracking of its channel.
begin;
create extension if not exists pgtap with schema extensions;
select plan(11);

select tests.create_user('0000000e-0000-4000-8000-000000000001', 'owner@rules.test');
select tests.create_user('0000000e-0000-4000-8000-000000000002', 'admin@rules.test');
select tests.create_user('0000000e-0000-4000-8000-000000000003', 'outsider@rules.test');
insert into public.teams (id, name, plan_id, created_by)
values ('0000000e-0000-4000-8000-0000000000aa', 'Rules team', 'pro', '0000000e-0000-4000-8000-000000000001');
insert into public.team_members (team_id, user_id, role)
values ('0000000e-0000-4000-8000-0000000000aa', '0000000e-0000-4000-8000-000000000002', 'admin');

create function pg_temp.invite(address text, invited_role public.team_role, token text)
  returns uuid language sql as $$
  select (public.create_team_invitation('0000000e-0000-4000-8000-0000000000aa', address,
            invited_role, sha256(convert_to(token, 'UTF8')), interval '7 days', 50, 50)).id
$$;

-- Invitations: admins invite members and viewers, owners also admins.
select tests.act_for('0000000e-0000-4000-8000-000000000002');
select lives_ok(
  $$select pg_temp.invite('viewer@rules.test', 'viewer', 't1')$$,
  'an admin invites a viewer');
select throws_ok(
  $$select pg_temp.invite('admin2@rules.test', 'admin', 't2')$$,
  '42501', 'only an owner can invite an admin',
  'an admin cannot invite an admin');
select throws_ok(
  $$select pg_temp.invite('VIEWER@rules.test', 'member', 't3')$$,
  '23505', 'VIEWER@rules.test has a pending invitation; revoke it to send a new one',
  'one open invitation per team and address (case-insensitive)');

select tests.act_for('0000000e-0000-4000-8000-000000000001');
select lives_ok(
  $$select pg_temp.invite('admin2@rules.test', 'admin', 't2')$$,
  'an owner invites an admin');

-- The member list carries emails, for members only.
select tests.authenticate_as('0000000e-0000-4000-8000-000000000001');
select results_eq(
  $$select email, role::text from public.team_member_list('0000000e-0000-4000-8000-0000000000aa')$$,
  $$values ('owner@rules.test', 'owner'), ('admin@rules.test', 'admin')$$,
  'members read the member list with emails, highest role first');
select tests.authenticate_as('0000000e-0000-4000-8000-000000000003');
select is_empty(
  $$select * from public.team_member_list('0000000e-0000-4000-8000-0000000000aa')$$,
  'a non-member reads no member of the team');
select throws_ok(
  $$insert into public.team_members (team_id, user_id, role)
    values ('0000000e-0000-4000-8000-0000000000aa', '0000000e-0000-4000-8000-000000000003', 'viewer')$$,
  '42501', null,
  'nobody joins a team by inserting a membership');
select tests.clear_authentication();
set local role anon;
select throws_ok(
  $$select * from public.team_member_list('0000000e-0000-4000-8000-0000000000aa')$$,
  '42501', null,
  'anon cannot call team_member_list');
select tests.clear_authentication();

-- A stored key belongs to the team that supplied it and goes when that team
-- stops tracking the channel; another team's key stays.
insert into public.teams (id, name, plan_id, created_by)
values ('0000000e-0000-4000-8000-0000000000bb', 'Second team', 'pro', '0000000e-0000-4000-8000-000000000003');
insert into public.channels (id, platform, platform_channel_id, requires_credential)
values ('0000000e-0000-4000-8000-0000000000cc', 'rumble', 'rules-test-rumble', true);
insert into public.team_channels (team_id, channel_id) values
  ('0000000e-0000-4000-8000-0000000000aa', '0000000e-0000-4000-8000-0000000000cc'),
  ('0000000e-0000-4000-8000-0000000000bb', '0000000e-0000-4000-8000-0000000000cc');
insert into public.channel_credentials (channel_id, team_id, kind, ciphertext, nonce, key_version) values
  ('0000000e-0000-4000-8000-0000000000cc', '0000000e-0000-4000-8000-0000000000aa', 'rumble_api_key', '\x00', '\x01', 1),
  ('0000000e-0000-4000-8000-0000000000cc', '0000000e-0000-4000-8000-0000000000bb', 'rumble_api_key', '\x02', '\x03', 1);

select tests.authenticate_as('0000000e-0000-4000-8000-000000000002');
delete from public.team_channels where team_id = '0000000e-0000-4000-8000-0000000000aa';
select tests.clear_authentication();
select is(array(select team_id from public.channel_credentials
                where channel_id = '0000000e-0000-4000-8000-0000000000cc'),
  array['0000000e-0000-4000-8000-0000000000bb'::uuid],
  'a team''s key goes when it stops tracking; the other team''s stays');
delete from public.team_channels where team_id = '0000000e-0000-4000-8000-0000000000bb';
select is((select count(*) from public.channel_credentials
           where channel_id = '0000000e-0000-4000-8000-0000000000cc'), 0::bigint,
  'the last key goes with the last team tracking the channel');
select ok(exists (select 1 from public.audit_log
                  where team_id = '0000000e-0000-4000-8000-0000000000aa'
                    and action = 'team_channels.delete'
                    and actor_id = '0000000e-0000-4000-8000-000000000002'),
  'untracking a channel is audited with its actor');

select * from finish();
rollback;
