-- Directory sync tables and functions, attacked from every side: another
-- team's ids, each role, a tenant the caller never signed in with, anon,
-- direct writes that skip the API, and the sync's own actor.
begin;
create extension if not exists pgtap with schema extensions;
select plan(46);

-- ---------------------------------------------------------------------------
-- Two teams. A: no MFA rule, a user per role. B: requires MFA.
-- Entra tenants: T1 (team A's owner signs in with it), T2 (team B's owner).
-- ---------------------------------------------------------------------------
select tests.create_user('d1000000-0000-4000-8000-000000000001', 'dir-owner-a@test.local');
select tests.create_user('d1000000-0000-4000-8000-000000000002', 'dir-admin-a@test.local');
select tests.create_user('d1000000-0000-4000-8000-000000000003', 'dir-member-a@test.local');
select tests.create_user('d1000000-0000-4000-8000-000000000004', 'dir-viewer-a@test.local');
select tests.create_user('d1000000-0000-4000-8000-000000000005', 'dir-owner-b@test.local');
select tests.create_user('d1000000-0000-4000-8000-000000000006', 'dir-newcomer@test.local');
select tests.create_user('d1000000-0000-4000-8000-000000000007', 'dir-unverified@test.local');

select tests.create_identity('d1000000-0000-4000-8000-000000000001', 'azure', 'pairwise-sub-owner-a',
  '{"sub": "pairwise-sub-owner-a", "custom_claims": {"tid": "71000000-0000-4000-8000-000000000001", "oid": "0a000000-0000-4000-8000-000000000001"}}');
select tests.create_identity('d1000000-0000-4000-8000-000000000005', 'azure', 'pairwise-sub-owner-b',
  '{"sub": "pairwise-sub-owner-b", "custom_claims": {"tid": "72000000-0000-4000-8000-000000000002", "oid": "0b000000-0000-4000-8000-000000000005"}}');
select tests.create_identity('d1000000-0000-4000-8000-000000000006', 'azure', 'pairwise-sub-newcomer',
  '{"sub": "pairwise-sub-newcomer", "custom_claims": {"tid": "71000000-0000-4000-8000-000000000001", "oid": "0a000000-0000-4000-8000-000000000006"}}');
select tests.create_identity('d1000000-0000-4000-8000-000000000007', 'google', '110000000000000000007',
  '{"sub": "110000000000000000007", "email": "Unverified@Example.com", "email_verified": false}');

insert into public.teams (id, name, require_mfa, created_by) values
  ('d2000000-0000-4000-8000-00000000000a', 'Directory A', false, 'd1000000-0000-4000-8000-000000000001'),
  ('d2000000-0000-4000-8000-00000000000b', 'Directory B', true, 'd1000000-0000-4000-8000-000000000005');
insert into public.team_members (team_id, user_id, role) values
  ('d2000000-0000-4000-8000-00000000000a', 'd1000000-0000-4000-8000-000000000002', 'admin'),
  ('d2000000-0000-4000-8000-00000000000a', 'd1000000-0000-4000-8000-000000000003', 'member'),
  ('d2000000-0000-4000-8000-00000000000a', 'd1000000-0000-4000-8000-000000000004', 'viewer');

insert into public.directory_mappings (id, team_id, provider, tenant, group_id, role) values
  ('d3000000-0000-4000-8000-0000000000b1', 'd2000000-0000-4000-8000-00000000000b', 'azure',
   '72000000-0000-4000-8000-000000000002', 'b9000000-0000-4000-8000-000000000001', 'member');
insert into public.directory_members (team_id, user_id, role) values
  ('d2000000-0000-4000-8000-00000000000a', 'd1000000-0000-4000-8000-000000000003', 'member');
insert into public.directory_sync_runs (team_id, trigger, status, started_at) values
  ('d2000000-0000-4000-8000-00000000000a', 'timer', 'applied', now()),
  ('d2000000-0000-4000-8000-00000000000b', 'timer', 'blocked', now());
insert into public.directory_pending (team_id, provider, tenant, member_id, role) values
  ('d2000000-0000-4000-8000-00000000000b', 'azure', '72000000-0000-4000-8000-000000000002',
   '0b000000-0000-4000-8000-000000000099', 'member');

-- ---------------------------------------------------------------------------
-- Mappings: owners only, their own team, a tenant they signed in with
-- ---------------------------------------------------------------------------
select tests.authenticate_as('d1000000-0000-4000-8000-000000000001');
select lives_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                  values ('d2000000-0000-4000-8000-00000000000a', 'azure', '71000000-0000-4000-8000-000000000001',
                          'a9000000-0000-4000-8000-000000000001', 'member')$$,
  'an owner maps a group of a tenant they signed in with');
select throws_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                   values ('d2000000-0000-4000-8000-00000000000a', 'azure', '72000000-0000-4000-8000-000000000002',
                           'b9000000-0000-4000-8000-000000000001', 'member')$$,
  '42501', null, 'an owner cannot map another customer''s tenant (it would reveal its groups)');
select throws_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                   values ('d2000000-0000-4000-8000-00000000000a', 'google', 'example.com', 'staff@example.com', 'member')$$,
  '42501', null, 'an owner without a Google identity of the domain cannot map its groups');
select throws_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                   values ('d2000000-0000-4000-8000-00000000000b', 'azure', '71000000-0000-4000-8000-000000000001',
                           'a9000000-0000-4000-8000-000000000002', 'member')$$,
  '42501', null, 'an owner cannot add a mapping to another team');
select throws_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                   values ('d2000000-0000-4000-8000-00000000000a', 'azure', '71000000-0000-4000-8000-000000000001',
                           'a9000000-0000-4000-8000-000000000003', 'owner')$$,
  '23514', null, 'a directory never grants ownership');
select throws_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role, created_by)
                   values ('d2000000-0000-4000-8000-00000000000a', 'azure', '71000000-0000-4000-8000-000000000001',
                           'a9000000-0000-4000-8000-000000000004', 'member', 'd1000000-0000-4000-8000-000000000005')$$,
  '42501', null, 'created_by is not the client''s to write');
select throws_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                   values ('d2000000-0000-4000-8000-00000000000a', 'azure', '71000000-0000-4000-8000-000000000001',
                           'not-a-guid', 'member')$$,
  '23514', null, 'an Entra group id must be an object id');
select lives_ok($$update public.directory_mappings set role = 'admin'
                  where team_id = 'd2000000-0000-4000-8000-00000000000a'$$,
  'an owner changes a mapping''s role');
select throws_ok($$update public.directory_mappings set tenant = '72000000-0000-4000-8000-000000000002'$$,
  '42501', null, 'a mapping''s tenant cannot be changed (only its role)');
select is((select count(*)::int from public.directory_mappings), 1,
  'an owner sees their team''s mappings only');
select is((select count(*)::int from public.directory_mappings
           where team_id = 'd2000000-0000-4000-8000-00000000000b'), 0,
  'team B''s mapping is invisible to team A''s owner');
select is((select count(*)::int from public.directory_sync_runs), 1, 'an owner reads their team''s runs only');
select is((select count(*)::int from public.directory_pending), 0, 'no pending people of another team');

-- Direct writes that skip the sync.
select throws_ok($$insert into public.directory_members (team_id, user_id, role)
                   values ('d2000000-0000-4000-8000-00000000000a', 'd1000000-0000-4000-8000-000000000004', 'admin')$$,
  '42501', null, 'clients cannot mark memberships directory-managed');
select throws_ok($$insert into public.directory_pending (team_id, provider, tenant, member_id, role)
                   values ('d2000000-0000-4000-8000-00000000000a', 'azure', '71000000-0000-4000-8000-000000000001',
                           '0a000000-0000-4000-8000-000000000006', 'admin')$$,
  '42501', null, 'clients cannot queue a pending join (it would hand out a role at sign-in)');
select throws_ok($$update public.directory_sync_runs set status = 'applied'$$,
  '42501', null, 'clients cannot rewrite sync runs');
select throws_ok($$delete from public.directory_sync_runs$$,
  '42501', null, 'clients cannot delete sync runs');
select throws_ok($$select * from public.directory_group_members$$,
  '42501', null, 'the group copies are service only');
select throws_ok($$select * from public.directory_delta_links$$,
  '42501', null, 'the delta links are service only');
select throws_ok($$insert into public.directory_claim_attributes values ('azure', 'x', '{x}')$$,
  '42501', null, 'clients cannot choose the attributes copied into tokens');
select throws_ok($$select public.directory_join_pending('d1000000-0000-4000-8000-000000000001')$$,
  '42501', null, 'clients cannot run the sign-in join');
select throws_ok($$select public.directory_token_claims('d1000000-0000-4000-8000-000000000005')$$,
  '42501', null, 'clients cannot read another user''s directory claims');
select throws_ok($$select * from public.directory_identity_keys()$$,
  '42501', null, 'clients cannot list identities');

-- A client naming itself the sync is still audited as itself.
select set_config('streamtrack.actor', 'directory-sync', true);
update public.team_members set role = 'viewer'
where team_id = 'd2000000-0000-4000-8000-00000000000a' and user_id = 'd1000000-0000-4000-8000-000000000003';
select tests.clear_authentication();
select results_eq(
  $$select actor_id, actor from public.audit_log
    where action = 'team_members.update' and target_id = 'd1000000-0000-4000-8000-000000000003'
    order by id desc limit 1$$,
  $$values ('d1000000-0000-4000-8000-000000000001'::uuid, null::text)$$,
  'streamtrack.actor set by a signed-in user is ignored: the audit names the user'
);

-- ---------------------------------------------------------------------------
-- The other roles of team A see no mapping, run or pending person
-- ---------------------------------------------------------------------------
select tests.authenticate_as('d1000000-0000-4000-8000-000000000002');
select is((select count(*)::int from public.directory_mappings), 0, 'an admin sees no mappings');
select is((select count(*)::int from public.directory_sync_runs), 0, 'an admin sees no sync runs');
select throws_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                   values ('d2000000-0000-4000-8000-00000000000a', 'azure', '71000000-0000-4000-8000-000000000001',
                           'a9000000-0000-4000-8000-000000000005', 'viewer')$$,
  '42501', null, 'an admin cannot add a mapping');
delete from public.directory_mappings;
select tests.clear_authentication();
select is((select count(*)::int from public.directory_mappings
           where team_id = 'd2000000-0000-4000-8000-00000000000a'), 1,
  'an admin''s delete removes no mapping');

select tests.authenticate_as('d1000000-0000-4000-8000-000000000004');
select is((select count(*)::int from public.directory_members), 1,
  'a viewer sees which memberships of the team are directory-managed');
select is((select count(*)::int from public.directory_pending), 0, 'a viewer sees no pending people');

select tests.authenticate_as_anon();
select throws_ok($$select * from public.directory_mappings$$, '42501', null, 'anon cannot read mappings');
select throws_ok($$select * from public.directory_sync_runs$$, '42501', null, 'anon cannot read runs');

-- ---------------------------------------------------------------------------
-- Team B requires MFA: its owner writes mappings with aal2 only
-- ---------------------------------------------------------------------------
select tests.authenticate_as('d1000000-0000-4000-8000-000000000005');
select throws_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                   values ('d2000000-0000-4000-8000-00000000000b', 'azure', '72000000-0000-4000-8000-000000000002',
                           'b9000000-0000-4000-8000-000000000002', 'viewer')$$,
  '42501', null, 'an aal1 owner of an MFA team cannot add a mapping');
delete from public.directory_mappings;
select tests.clear_authentication();
select is((select count(*)::int from public.directory_mappings
           where team_id = 'd2000000-0000-4000-8000-00000000000b'), 1,
  'an aal1 owner''s delete removes no mapping of an MFA team');
select tests.authenticate_as('d1000000-0000-4000-8000-000000000005', 'aal2');
select lives_ok($$insert into public.directory_mappings (team_id, provider, tenant, group_id, role)
                  values ('d2000000-0000-4000-8000-00000000000b', 'azure', '72000000-0000-4000-8000-000000000002',
                          'b9000000-0000-4000-8000-000000000002', 'viewer')$$,
  'with aal2 the owner adds it');
select is((select count(*)::int from public.directory_pending), 1, 'the owner reads team B''s pending people');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------
-- The sync's actor: same rules as a manual change, and never an owner row
-- ---------------------------------------------------------------------------
select set_config('streamtrack.actor', 'directory-sync', true);
select lives_ok($$insert into public.team_members (team_id, user_id, role)
                  values ('d2000000-0000-4000-8000-00000000000b', 'd1000000-0000-4000-8000-000000000004', 'viewer')$$,
  'the sync adds a member');
select is((select actor from public.audit_log where action = 'team_members.insert'
           and team_id = 'd2000000-0000-4000-8000-00000000000b'
           and target_id = 'd1000000-0000-4000-8000-000000000004'),
  'directory-sync', 'the audit log names the sync as the actor');
select throws_ok($$update public.team_members set role = 'admin'
                   where team_id = 'd2000000-0000-4000-8000-00000000000b'
                     and user_id = 'd1000000-0000-4000-8000-000000000005'$$,
  '42501', null, 'the sync cannot demote an owner');
select throws_ok($$delete from public.team_members
                   where team_id = 'd2000000-0000-4000-8000-00000000000b'
                     and user_id = 'd1000000-0000-4000-8000-000000000005'$$,
  '42501', null, 'the sync cannot remove an owner');
select throws_ok($$update public.team_members set role = 'owner'
                   where team_id = 'd2000000-0000-4000-8000-00000000000b'
                     and user_id = 'd1000000-0000-4000-8000-000000000004'$$,
  '42501', null, 'the sync cannot make anyone an owner');
select set_config('streamtrack.actor', '', true);

-- ---------------------------------------------------------------------------
-- Sign-in join: pending people become members, matched by identity only
-- ---------------------------------------------------------------------------
insert into public.directory_pending (team_id, provider, tenant, member_id, email, role) values
  ('d2000000-0000-4000-8000-00000000000a', 'azure', '71000000-0000-4000-8000-000000000001',
   '0a000000-0000-4000-8000-000000000006', null, 'member'),
  -- the same person in another tenant: a different Entra user
  ('d2000000-0000-4000-8000-00000000000b', 'azure', '72000000-0000-4000-8000-000000000002',
   '0a000000-0000-4000-8000-000000000006', null, 'admin'),
  -- only an unverified Google address matches this one
  ('d2000000-0000-4000-8000-00000000000a', 'google', 'example.com', '999', 'unverified@example.com', 'member'),
  -- already a (manual) member of team A
  ('d2000000-0000-4000-8000-00000000000a', 'azure', '71000000-0000-4000-8000-000000000001',
   '0a000000-0000-4000-8000-000000000001', null, 'viewer');

-- The auth hook calls the join as supabase_auth_admin, which postgres cannot
-- become on Supabase: the grants are checked here, the join runs as postgres
-- (it is security definer, so it runs as its owner either way), and
-- tests/integration/test_directory_sync.py signs in through the hook logged
-- in as supabase_auth_admin.
select ok(
  has_function_privilege('supabase_auth_admin', 'public.directory_join_pending(uuid)', 'execute')
  and has_function_privilege('supabase_auth_admin', 'public.directory_token_claims(uuid)', 'execute')
  and not has_function_privilege('supabase_auth_admin', 'public.directory_identity_keys(uuid)', 'execute'),
  'Supabase Auth may run the sign-in join and the directory claims, nothing else of the directory');
create temporary table joined on commit drop as
  select public.directory_join_pending('d1000000-0000-4000-8000-000000000006') as teams_joined,
         public.directory_join_pending('d1000000-0000-4000-8000-000000000007') as unverified_joined,
         public.directory_join_pending('d1000000-0000-4000-8000-000000000001') as owner_joined;

select results_eq('select teams_joined, unverified_joined, owner_joined from joined',
  $$values (1, 0, 0)$$,
  'the newcomer joins the team of their tenant only; unverified and existing members join nothing');
select results_eq(
  $$select m.role::text, d.role::text, a.actor
    from public.team_members m
    join public.directory_members d using (team_id, user_id)
    join public.audit_log a on a.team_id = m.team_id and a.target_id = m.user_id::text
                           and a.action = 'team_members.insert'
    where m.user_id = 'd1000000-0000-4000-8000-000000000006'$$,
  $$values ('member', 'member', 'directory-sync')$$,
  'the join makes a directory-managed member, audited as the sync');
select results_eq(
  $$select role::text, exists (select 1 from public.directory_members d
                               where d.team_id = m.team_id and d.user_id = m.user_id)
    from public.team_members m
    where team_id = 'd2000000-0000-4000-8000-00000000000a' and user_id = 'd1000000-0000-4000-8000-000000000001'$$,
  $$values ('owner', false)$$,
  'an existing member keeps their manual membership and role');
select is(
  (select count(*)::int from public.directory_pending
   where member_id in ('0a000000-0000-4000-8000-000000000006', '0a000000-0000-4000-8000-000000000001')
     and team_id = 'd2000000-0000-4000-8000-00000000000a'),
  0, 'matched pending rows are consumed');

select * from finish();
rollback;
