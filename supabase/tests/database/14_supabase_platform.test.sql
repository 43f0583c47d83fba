-- The platform around the migrations is Supabase's: the suites run as
-- `postgres` with exactly the rights it has on a Supabase project, so a
-- migration or test that needs more fails here as it would on `db push`.
-- (localdev/supabase_compat.sql; differences: docs/supabase-parity.md.)
begin;
create extension if not exists pgtap with schema extensions;
select plan(28);

-- ---------------------------------------------------------------------------
-- Who we are
-- ---------------------------------------------------------------------------
select is(current_user::text, 'postgres', 'the suites run as postgres');
select ok(
  (select not rolsuper and rolbypassrls and rolcreaterole and rolcreatedb and rolreplication
          and rolcanlogin and rolinherit
   from pg_roles where rolname = 'postgres'),
  'postgres: NOSUPERUSER BYPASSRLS CREATEROLE CREATEDB REPLICATION LOGIN INHERIT, as on Supabase'
);
select set_eq(
  $$select r.rolname::text from pg_auth_members a join pg_roles r on r.oid = a.roleid
    where a.member = 'postgres'::regrole$$,
  array['anon', 'authenticated', 'service_role', 'pg_monitor', 'pg_read_all_data',
        'pg_signal_backend'],
  'postgres is a member of the API roles and three predefined roles, nothing else'
);
select ok(
  not pg_has_role('postgres', 'supabase_auth_admin', 'member')
  and not pg_has_role('postgres', 'supabase_storage_admin', 'member')
  and not pg_has_role('postgres', 'supabase_realtime_admin', 'member')
  and not pg_has_role('postgres', 'supabase_admin', 'member'),
  'postgres is not a member of the platform''s admin roles'
);
select throws_ok($$set local role supabase_auth_admin$$, '42501', null,
                 'postgres cannot become supabase_auth_admin');
select ok(
  (select rolsuper from pg_roles where rolname = 'supabase_admin')
  and (select datdba = 'postgres'::regrole from pg_database where datname = current_database()),
  'supabase_admin is the superuser; postgres owns the database'
);

-- ---------------------------------------------------------------------------
-- Platform schemas: usable, not writable
-- ---------------------------------------------------------------------------
select ok(
  not has_schema_privilege('postgres', 'auth', 'create')
  and not has_schema_privilege('postgres', 'storage', 'create')
  and not has_schema_privilege('postgres', 'realtime', 'create')
  and has_schema_privilege('postgres', 'auth', 'usage')
  and has_schema_privilege('postgres', 'storage', 'usage')
  and has_schema_privilege('postgres', 'realtime', 'usage'),
  'postgres uses auth, storage and realtime but cannot create objects in them'
);
select throws_ok($$create function auth.not_ours() returns int language sql as 'select 1'$$,
                 '42501', null, 'a function in auth fails');
select throws_ok($$create table storage.not_ours (id int)$$,
                 '42501', null, 'a table in storage fails');
select throws_ok($$create table realtime.messages_default partition of realtime.messages default$$,
                 '42501', null, 'a default partition of realtime.messages fails');
select throws_ok($$alter table storage.objects disable row level security$$,
                 '42501', null, 'postgres does not own storage.objects');
select throws_ok($$alter table auth.users add column not_ours int$$,
                 '42501', null, 'nor auth.users');
select throws_ok($$delete from realtime.messages$$,
                 '42501', null, 'postgres cannot delete from realtime.messages (no DELETE grant)');
select ok(
  has_table_privilege('postgres', 'auth.users', 'select,insert,update,delete,references,trigger'),
  'postgres may read and write auth.users (seeds, foreign keys, triggers)'
);

-- ---------------------------------------------------------------------------
-- supautils' narrow elevation: policies on the granted platform tables only
-- ---------------------------------------------------------------------------
select lives_ok(
  $$create policy platform_test_objects on storage.objects for select to authenticated
    using (bucket_id = 'platform-test')$$,
  'postgres may create a policy on storage.objects (supautils.policy_grants)'
);
select lives_ok(
  $$alter policy platform_test_objects on storage.objects using (false)$$,
  '...alter it'
);
select lives_ok($$drop policy platform_test_objects on storage.objects$$, '...and drop it');
select lives_ok(
  $$create policy platform_test_messages on realtime.messages for select to authenticated
    using (false)$$,
  'postgres may create a policy on realtime.messages'
);
select throws_ok(
  $$create policy platform_test_migrations on storage.migrations for select using (true)$$,
  '42501', null, 'but not on a platform table outside the grants (storage.migrations)'
);
select ok(
  not pg_has_role('postgres', 'supabase_storage_admin', 'member')
  and not pg_has_role('postgres', 'supabase_realtime_admin', 'member'),
  'the elevation ends with the statement'
);
select lives_ok(
  $$create trigger platform_test before insert on storage.objects
    for each row execute function storage.update_updated_at_column()$$,
  'postgres may add a trigger to storage.objects (it holds TRIGGER)'
);
select lives_ok($$drop trigger platform_test on storage.objects$$,
                '...and drop it (supautils.drop_trigger_grants)');
select throws_ok($$alter publication supabase_realtime add table storage.objects$$,
                 '42501', null, 'a platform table cannot join the publication');

-- ---------------------------------------------------------------------------
-- What the platform pre-provides
-- ---------------------------------------------------------------------------
select set_eq(
  $$select extname::text from pg_extension e join pg_namespace n on n.oid = e.extnamespace
    where n.nspname = 'extensions'$$,
  array['pgcrypto', 'uuid-ossp', 'pgtap', 'pg_stat_statements'],
  'pgcrypto, uuid-ossp, pgtap and pg_stat_statements are pre-installed in schema extensions'
);
select ok(
  (select pubowner = 'postgres'::regrole from pg_publication where pubname = 'supabase_realtime'),
  'postgres owns the supabase_realtime publication'
);
select is(
  (select array_agg(s order by s) from pg_db_role_setting d, unnest(d.setconfig) s
   where d.setrole = 'anon'::regrole and d.setdatabase = 0),
  array['statement_timeout=3s'],
  'anon: statement_timeout 3s'
);
select is(
  (select array_agg(s order by s) from pg_db_role_setting d, unnest(d.setconfig) s
   where d.setrole = 'authenticated'::regrole and d.setdatabase = 0),
  array['statement_timeout=8s'],
  'authenticated: statement_timeout 8s'
);
select ok(
  (select relrowsecurity from pg_class where oid = 'auth.users'::regclass)
  and not has_table_privilege('anon', 'auth.users', 'select')
  and not has_table_privilege('authenticated', 'auth.users', 'select'),
  'clients cannot read auth.users'
);

select * from finish();
rollback;
