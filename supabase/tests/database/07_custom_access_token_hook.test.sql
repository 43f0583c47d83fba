-- The custom access token hook: team_roles claim, executable by Supabase Auth only.
begin;
create extension if not exists pgtap with schema extensions;
select plan(7);

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

select * from finish();
rollback;
