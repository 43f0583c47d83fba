-- The custom access token hook: team_roles claim, executable by Supabase Auth only.
begin;
create extension if not exists pgtap with schema extensions;
select plan(14);

select tests.create_user('11111111-1111-4111-8111-000000000001', 'hook-a@example.test');
select tests.create_user('11111111-1111-4111-8111-000000000002', 'hook-b@example.test');
insert into public.teams (id, name, created_by) values
  ('22222222-2222-4222-8222-000000000001', 'Hook A', '11111111-1111-4111-8111-000000000001'),
  ('22222222-2222-4222-8222-000000000002', 'Hook B', '11111111-1111-4111-8111-000000000002');
insert into public.team_members (team_id, user_id, role) values
  ('22222222-2222-4222-8222-000000000002', '11111111-1111-4111-8111-000000000001', 'viewer');

select ok(
  has_function_privilege('supabase_auth_admin', 'public.custom_access_token_hook(jsonb)', 'execute'),
  'supabase_auth_admin may run the hook'
);
select ok(
  not has_function_privilege('authenticated', 'public.custom_access_token_hook(jsonb)', 'execute')
  and not has_function_privilege('anon', 'public.custom_access_token_hook(jsonb)', 'execute'),
  'clients may not run the hook (it would reveal memberships)'
);

-- On Supabase, postgres is not a member of supabase_auth_admin and cannot
-- `set role` to it: the hook's answers are computed as postgres, the
-- function's owner (tests/integration/test_auth_hook.py logs in as
-- supabase_auth_admin, as Supabase Auth does, and checks its policy path).
create temporary table hook_answers (name text primary key, answer jsonb);
insert into hook_answers values
  ('member', public.custom_access_token_hook(jsonb_build_object(
     'user_id', '11111111-1111-4111-8111-000000000001',
     'claims', jsonb_build_object('sub', '11111111-1111-4111-8111-000000000001',
                                  'role', 'authenticated', 'aal', 'aal2')))),
  ('stranger', public.custom_access_token_hook(jsonb_build_object(
     'user_id', '11111111-1111-4111-8111-000000000099',
     'claims', jsonb_build_object('role', 'authenticated'))));

select is(
  (select answer -> 'claims' -> 'team_roles' from hook_answers where name = 'member'),
  jsonb_build_object('22222222-2222-4222-8222-000000000001', 'owner',
                     '22222222-2222-4222-8222-000000000002', 'viewer'),
  'team_roles maps every team of the user to its role'
);
select is(
  (select answer -> 'claims' ->> 'aal' from hook_answers where name = 'member'),
  'aal2',
  'the other claims pass through unchanged'
);
select is(
  (select answer -> 'claims' -> 'team_roles' from hook_answers where name = 'stranger'),
  '{}'::jsonb,
  'a user without teams gets an empty object'
);
select ok(
  not exists (select 1 from hook_answers
              where answer -> 'claims' ?| array['directory_roles', 'directory']),
  'users the directory does not know get no directory claims'
);
select ok(
  has_table_privilege('supabase_auth_admin', 'public.team_members', 'select')
  and exists (select 1 from pg_policies where schemaname = 'public' and tablename = 'team_members'
              and roles = '{supabase_auth_admin}' and cmd = 'SELECT')
  and not has_table_privilege('supabase_auth_admin', 'public.team_members', 'insert')
  and not has_table_privilege('supabase_auth_admin', 'public.team_members', 'update')
  and not has_table_privilege('supabase_auth_admin', 'public.team_members', 'delete'),
  'supabase_auth_admin reads memberships but cannot write them'
);

set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "11111111-1111-4111-8111-000000000002", "role": "authenticated"}', true);
select is(
  (select count(*)::int from public.team_members
   where team_id = '22222222-2222-4222-8222-000000000001'),
  0,
  'the auth admin policy gives clients nothing'
);
reset role;

-- ---------------------------------------------------------------------------
-- Directory claims, against the documented hook event: {user_id, claims,
-- authentication_method}; the answer is {claims} keeping every claim
-- Supabase requires. A new user signs in with Entra for the first time; a
-- directory sync had listed them as pending (admin of team "Hook B").
-- ---------------------------------------------------------------------------
select tests.create_user('11111111-1111-4111-8111-000000000003', 'hook-c@example.test');
select tests.create_identity('11111111-1111-4111-8111-000000000003', 'azure', 'hook-pairwise-sub',
  '{"sub": "hook-pairwise-sub", "custom_claims": {"tid": "7a000000-0000-4000-8000-000000000001", "oid": "0c000000-0000-4000-8000-000000000003"}}');
insert into public.directory_pending (team_id, provider, tenant, member_id, role) values
  ('22222222-2222-4222-8222-000000000002', 'azure', '7a000000-0000-4000-8000-000000000001',
   '0c000000-0000-4000-8000-000000000003', 'admin');

create temporary table documented_event (event jsonb);
insert into documented_event values (jsonb_build_object(
  'user_id', '11111111-1111-4111-8111-000000000003',
  'authentication_method', 'oauth',
  'claims', jsonb_build_object(
    'aud', 'authenticated', 'exp', 1715690221, 'iat', 1715686621,
    'sub', '11111111-1111-4111-8111-000000000003', 'email', 'hook-c@example.test', 'phone', '',
    'app_metadata', jsonb_build_object('provider', 'azure', 'providers', jsonb_build_array('azure')),
    'user_metadata', '{}'::jsonb, 'role', 'authenticated', 'aal', 'aal1',
    'amr', jsonb_build_array(jsonb_build_object('method', 'oauth', 'timestamp', 1715686621)),
    'session_id', '4b938a09-5372-4177-a314-cfa292099ea2', 'is_anonymous', false)));

-- As above, computed as postgres, the function's owner (the directory
-- functions it calls are security definer: they run as postgres for
-- supabase_auth_admin too; test_directory_sync.py signs in through the hook
-- logged in as supabase_auth_admin).
insert into hook_answers
  select 'first sign-in', public.custom_access_token_hook(event) from documented_event;

select is(
  (select array(select jsonb_object_keys(answer) order by 1) from hook_answers where name = 'first sign-in'),
  array['claims'],
  'the hook answers {claims}, as documented'
);
select is(
  (select array(select k from unnest(array['aud', 'exp', 'iat', 'sub', 'email', 'phone', 'role', 'aal',
                                           'session_id', 'is_anonymous']) k
                where (answer -> 'claims' -> k) is distinct from ((select event from documented_event) -> 'claims' -> k))
   from hook_answers where name = 'first sign-in'),
  '{}'::text[],
  'every claim Supabase requires comes back unchanged'
);
select is(
  (select answer -> 'claims' -> 'directory_roles' from hook_answers where name = 'first sign-in'),
  '{"22222222-2222-4222-8222-000000000002": "admin"}'::jsonb,
  'the first sign-in joined the pending directory team: directory_roles has it'
);
select is(
  (select answer -> 'claims' -> 'team_roles' -> '22222222-2222-4222-8222-000000000002' from hook_answers
   where name = 'first sign-in'),
  '"admin"'::jsonb,
  'team_roles already carries the membership the sign-in created'
);
select is(
  (select answer -> 'claims' -> 'directory' from hook_answers where name = 'first sign-in'),
  '{"azure": {"tenant_id": "7a000000-0000-4000-8000-000000000001", "object_id": "0c000000-0000-4000-8000-000000000003"}}'::jsonb,
  'the configured directory attributes are copied from the identity'
);

-- A broken directory part never blocks a sign-in: here directory_token_claims
-- fails (replaced for this transaction, which rolls back).
create or replace function public.directory_token_claims(user_id uuid)
  returns jsonb
  language plpgsql
  stable
  security definer
  set search_path = ''
as $$
begin
  raise exception 'directory claims are broken';
end;
$$;
set local client_min_messages = error;  -- the hook's warning is expected here
insert into hook_answers
  select 'directory broken', public.custom_access_token_hook(event) from documented_event;
select is(
  (select (answer -> 'claims') - 'team_roles' from hook_answers where name = 'directory broken'),
  (select event -> 'claims' from documented_event),
  'when the directory claims fail, the token still goes out with the original claims'
);

select * from finish();
rollback;
