-- Teams and memberships: creation by a client, role-based writes and the
-- invariants enforced by enforce_team_member_rules() (at least one owner;
-- owner rows are managed by owners only; admins manage only the roles below
-- admin; memberships come from team creation and invitations only; anyone
-- may leave, except the last owner).
begin;
create extension if not exists pgtap with schema extensions;
select plan(47);

-- ---------------------------------------------------------------------------
-- Helpers of this suite (rolled back with it; the shared ones, tests.*, are
-- in supabase/tests/helpers.sql)
-- ---------------------------------------------------------------------------

-- The role of a user in the test team, read as postgres (bypassing RLS).
create function pg_temp.role_of(user_id uuid)
  returns public.team_role language sql security definer set search_path = '' as $$
  select m.role from public.team_members m
  where m.team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and m.user_id = role_of.user_id
$$;

-- ---------------------------------------------------------------------------
-- Users: owner, admin, member, viewer, outsider
-- ---------------------------------------------------------------------------
select tests.create_user('0000000a-0000-4000-8000-000000000001', 'owner@test.local');
select tests.create_user('0000000a-0000-4000-8000-000000000002', 'admin@test.local');
select tests.create_user('0000000a-0000-4000-8000-000000000003', 'member@test.local');
select tests.create_user('0000000a-0000-4000-8000-000000000004', 'viewer@test.local');
select tests.create_user('0000000a-0000-4000-8000-000000000005', 'outsider@test.local');
select tests.create_user('0000000a-0000-4000-8000-000000000006', 'newcomer@test.local');
select tests.create_user('0000000a-0000-4000-8000-000000000007', 'admin2@test.local');

-- ---------------------------------------------------------------------------
-- Creating a team as a client
-- ---------------------------------------------------------------------------
select tests.authenticate_as('0000000a-0000-4000-8000-000000000001');

-- INSERT ... RETURNING is checked against the select policy before the
-- trigger makes the creator owner: this must still return the row.
select results_eq(
  $$insert into public.teams (name) values ('Created by client') returning name, created_by, plan_id$$,
  $$values ('Created by client'::text, '0000000a-0000-4000-8000-000000000001'::uuid, 'free'::text)$$,
  'an authenticated user creates a team and gets it back (insert ... returning)'
);
select results_eq(
  $$select m.role from public.team_members m join public.teams t on t.id = m.team_id
    where t.name = 'Created by client'$$,
  $$values ('owner'::public.team_role)$$,
  'the creator became the owner'
);
select throws_ok(
  $$insert into public.teams (name, plan_id) values ('Free upgrade', 'business')$$,
  '42501', null,
  'clients cannot choose the plan of a team'
);
select throws_ok(
  $$insert into public.teams (name, created_by) values ('Impersonation', '0000000a-0000-4000-8000-000000000005')$$,
  '42501', null,
  'clients cannot set created_by'
);
select throws_ok(
  $$insert into public.teams (name) values ('   ')$$,
  '23514', null,
  'a team name cannot be blank'
);

select tests.clear_authentication();
set local role anon;
select throws_ok(
  $$insert into public.teams (name) values ('anon team')$$,
  '42501', null,
  'anon cannot create a team'
);
select tests.clear_authentication();

-- ---------------------------------------------------------------------------
-- The test team with one member of each role (set up by the backend)
-- ---------------------------------------------------------------------------
insert into public.teams (id, name, created_by)
values ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', 'Roles team', '0000000a-0000-4000-8000-000000000001');
insert into public.team_members (team_id, user_id, role) values
  ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000002', 'admin'),
  ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000003', 'member'),
  ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000004', 'viewer');

-- ---------------------------------------------------------------------------
-- Members and viewers cannot change memberships
-- ---------------------------------------------------------------------------
select tests.authenticate_as('0000000a-0000-4000-8000-000000000003');  -- member

select is_empty(
  $$update public.team_members set role = 'admin'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' returning user_id$$,
  'a member cannot change roles (no row updated), not even their own'
);
select throws_ok(
  $$insert into public.team_members (team_id, user_id, role)
    values ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000005', 'viewer')$$,
  '42501', null,
  'a member cannot add members'
);
select is_empty(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'
      and user_id = '0000000a-0000-4000-8000-000000000004' returning user_id$$,
  'a member cannot remove members'
);
select is_empty(
  $$update public.teams set name = 'Renamed by member'
    where id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' returning id$$,
  'a member cannot rename the team'
);

select tests.authenticate_as('0000000a-0000-4000-8000-000000000004');  -- viewer

select is_empty(
  $$update public.team_members set role = 'owner'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' returning user_id$$,
  'a viewer cannot change roles'
);
select is_empty(
  $$delete from public.team_members where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'
    and user_id <> '0000000a-0000-4000-8000-000000000004' returning user_id$$,
  'a viewer cannot remove other members'
);

select tests.authenticate_as('0000000a-0000-4000-8000-000000000005');  -- outsider

select is_empty(
  $$delete from public.teams where id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' returning id$$,
  'an outsider cannot delete the team'
);
select throws_ok(
  $$insert into public.team_members (team_id, user_id, role)
    values ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000005', 'owner')$$,
  '42501', null,
  'an outsider cannot add themselves to a team'
);

select tests.clear_authentication();
select ok(
  pg_temp.role_of('0000000a-0000-4000-8000-000000000003') = 'member'
  and pg_temp.role_of('0000000a-0000-4000-8000-000000000004') = 'viewer'
  and pg_temp.role_of('0000000a-0000-4000-8000-000000000005') is null,
  'memberships are unchanged after the attempts of member, viewer and outsider'
);

-- ---------------------------------------------------------------------------
-- Admins manage members and viewers, never owners or other admins
-- ---------------------------------------------------------------------------
insert into public.team_members (team_id, user_id, role) values
  ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000006', 'member'),
  ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000007', 'admin');
select tests.authenticate_as('0000000a-0000-4000-8000-000000000002');  -- admin

select throws_ok(
  $$update public.team_members set role = 'member'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000007'$$,
  '42501', 'an admin cannot change or remove another admin; ask an owner',
  'an admin cannot demote another admin'
);
select throws_ok(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000007'$$,
  '42501', 'an admin cannot change or remove another admin; ask an owner',
  'an admin cannot remove another admin'
);
select throws_ok(
  $$update public.team_members set role = 'admin'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000006'$$,
  '42501', 'only an owner can make someone an admin',
  'an admin cannot make a member an admin'
);

select lives_ok(
  $$update public.team_members set role = 'viewer'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000003'$$,
  'an admin changes a member''s role'
);
select throws_ok(
  $$insert into public.team_members (team_id, user_id, role)
    values ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000005', 'member')$$,
  '42501', null,
  'an admin cannot add a user directly: memberships come from invitations'
);
select lives_ok(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000006'$$,
  'an admin removes a member'
);
select throws_ok(
  $$insert into public.team_members (team_id, user_id, role)
    values ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '0000000a-0000-4000-8000-000000000005', 'owner')$$,
  '42501', null,
  'an admin cannot add an owner'
);
select throws_ok(
  $$update public.team_members set role = 'owner'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000003'$$,
  '42501', 'only a team owner can add, change or remove an owner',
  'an admin cannot promote a member to owner'
);
select throws_ok(
  $$update public.team_members set role = 'owner'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000002'$$,
  '42501', 'only a team owner can add, change or remove an owner',
  'an admin cannot promote themselves to owner'
);
select throws_ok(
  $$update public.team_members set role = 'admin'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000001'$$,
  '42501', 'only a team owner can add, change or remove an owner',
  'an admin cannot demote an owner'
);
select throws_ok(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000001'$$,
  '42501', 'only a team owner can add, change or remove an owner',
  'an admin cannot remove an owner'
);
select tests.authenticate_as('0000000a-0000-4000-8000-000000000007');  -- the other admin
select lives_ok(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000007'$$,
  'an admin may leave'
);
select tests.authenticate_as('0000000a-0000-4000-8000-000000000002');  -- admin
select throws_ok(
  $$update public.team_members set team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'
    where user_id = '0000000a-0000-4000-8000-000000000003'$$,
  '42501', null,
  'clients cannot move a membership (only role is updatable)'
);
select lives_ok(
  $$update public.teams set name = 'Renamed by admin' where id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'$$,
  'an admin renames the team'
);
select is_empty(
  $$delete from public.teams where id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' returning id$$,
  'an admin cannot delete the team'
);

-- ---------------------------------------------------------------------------
-- The last owner stays
-- ---------------------------------------------------------------------------
select tests.authenticate_as('0000000a-0000-4000-8000-000000000001');  -- owner

select throws_ok(
  $$update public.team_members set role = 'admin'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000001'$$,
  '23514', 'a team must keep at least one owner',
  'the last owner cannot demote themselves'
);
select throws_ok(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000001'$$,
  '23514', 'a team must keep at least one owner',
  'the last owner cannot leave'
);

-- Owners manage owners: hand ownership over to the admin.
select lives_ok(
  $$update public.team_members set role = 'owner'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000002'$$,
  'an owner promotes an admin to owner'
);
select lives_ok(
  $$update public.team_members set role = 'admin'
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000001'$$,
  'with a second owner, an owner may step down'
);

select tests.authenticate_as('0000000a-0000-4000-8000-000000000002');  -- the new owner

select lives_ok(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000001'$$,
  'an owner removes a former owner'
);
select throws_ok(
  $$delete from public.team_members where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'$$,
  '23514', 'a team must keep at least one owner',
  'an owner cannot empty the team with one delete'
);

select tests.clear_authentication();
select is(pg_temp.role_of('0000000a-0000-4000-8000-000000000002'), 'owner'::public.team_role,
  'ownership was handed over');

-- The backend is bound by the same invariants.
select throws_ok(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and role = 'owner'$$,
  '23514', 'a team must keep at least one owner',
  'the backend cannot remove the last owner either'
);
select throws_ok(
  $$update public.team_members set team_id = (select id from public.teams where name = 'Created by client')
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and user_id = '0000000a-0000-4000-8000-000000000003'$$,
  '23514', null,
  'a membership never moves to another team'
);
select throws_ok(
  $$delete from auth.users where id = '0000000a-0000-4000-8000-000000000002'$$,
  '23514', 'a team must keep at least one owner',
  'deleting the auth user who is a team''s last owner is refused'
);

-- ---------------------------------------------------------------------------
-- Audit trail written by the triggers
-- ---------------------------------------------------------------------------
select ok(
  exists (select 1 from public.audit_log
          where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and action = 'team_members.update'
            and actor_id = '0000000a-0000-4000-8000-000000000001'
            and target_id = '0000000a-0000-4000-8000-000000000002'),
  'role changes are audited with their actor'
);
select ok(
  exists (select 1 from public.audit_log
          where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and action = 'team_members.delete'
            and actor_id = '0000000a-0000-4000-8000-000000000002'),
  'removals are audited'
);

select tests.authenticate_as('0000000a-0000-4000-8000-000000000004');  -- viewer
select results_eq(
  $$delete from public.team_members
    where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'
      and user_id = '0000000a-0000-4000-8000-000000000004' returning user_id$$,
  $$values ('0000000a-0000-4000-8000-000000000004'::uuid)$$,
  'a viewer may leave the team'
);
select tests.clear_authentication();
select ok(
  exists (select 1 from public.audit_log
          where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and action = 'team_members.delete'
            and actor_id = '0000000a-0000-4000-8000-000000000004'
            and target_id = '0000000a-0000-4000-8000-000000000004'),
  'leaving is audited'
);

-- ---------------------------------------------------------------------------
-- Team deletion by its owner cascades through the memberships
-- ---------------------------------------------------------------------------
select tests.authenticate_as('0000000a-0000-4000-8000-000000000002');

select results_eq(
  $$delete from public.teams where id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' returning id$$,
  $$values ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'::uuid)$$,
  'the owner deletes the team'
);

select tests.clear_authentication();
select is(
  (select count(*) from public.team_members where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'),
  0::bigint,
  'the memberships went with the team'
);
select ok(
  exists (select 1 from public.audit_log
          where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and action = 'teams.delete'
            and actor_id = '0000000a-0000-4000-8000-000000000002')
  and not exists (select 1 from public.audit_log
                  where team_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' and action = 'team_members.delete'
                    and target_id in ('0000000a-0000-4000-8000-000000000002',
                                      '0000000a-0000-4000-8000-000000000003')),
  'the deletion is audited once, the cascaded memberships are not logged one by one'
);

select * from finish();
rollback;
