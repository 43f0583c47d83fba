-- Export storage: the private `exports` bucket; a team's members (any role)
-- read their team's folder, nobody else reads it, no client writes it, and
-- no client can change the bucket itself (storage.buckets has RLS and no
-- policy, as on Supabase).
begin;
create extension if not exists pgtap with schema extensions;
select plan(23);

create function pg_temp.visible(object_name text)
  returns boolean language plpgsql as $$
declare
  n bigint;
begin
  select count(*) into n from storage.objects where bucket_id = 'exports' and name = object_name;
  return n > 0;
exception when insufficient_privilege then
  return false;
end $$;

-- Team A: alice (owner), vera (viewer). Team B: bob. carol: no team.
select tests.create_user('a2000000-0000-4000-8000-000000000001', 'alice@st.test');
select tests.create_user('a2000000-0000-4000-8000-000000000002', 'vera@st.test');
select tests.create_user('b2000000-0000-4000-8000-000000000001', 'bob@st.test');
select tests.create_user('c2000000-0000-4000-8000-000000000001', 'carol@st.test');
insert into public.teams (id, name, plan_id, created_by) values
  ('a2a20000-0000-4000-8000-00000000000a', 'ST A', 'pro', 'a2000000-0000-4000-8000-000000000001'),
  ('b2b20000-0000-4000-8000-00000000000b', 'ST B', 'pro', 'b2000000-0000-4000-8000-000000000001');
insert into public.team_members (team_id, user_id, role) values
  ('a2a20000-0000-4000-8000-00000000000a', 'a2000000-0000-4000-8000-000000000002', 'viewer');

insert into storage.objects (bucket_id, name) values
  ('exports', 'a2a20000-0000-4000-8000-00000000000a/a.csv'),
  ('exports', 'b2b20000-0000-4000-8000-00000000000b/b.csv'),
  ('exports', 'not-a-team/x.csv'),
  ('exports', 'loose.csv');

select ok(
  (select not public from storage.buckets where id = 'exports'),
  'the exports bucket exists and is private'
);

select tests.authenticate_as('a2000000-0000-4000-8000-000000000001');
select ok(pg_temp.visible('a2a20000-0000-4000-8000-00000000000a/a.csv'), 'an owner of A reads A''s export');
select ok(not pg_temp.visible('b2b20000-0000-4000-8000-00000000000b/b.csv'), '...not B''s');
select lives_ok($$select count(*) from storage.objects where bucket_id = 'exports'$$,
                'malformed folder names do not raise');
select is((select count(*)::int from storage.objects where bucket_id = 'exports'), 1,
          '...and an owner of A sees exactly A''s object');
select throws_ok(
  $$insert into storage.objects (bucket_id, name)
    values ('exports', 'a2a20000-0000-4000-8000-00000000000a/mine.csv')$$,
  '42501', null, 'a member cannot upload into the team''s folder'
);
update storage.objects set name = name || '.x' where bucket_id = 'exports';
select throws_ok(
  $$delete from storage.objects where bucket_id = 'exports'$$,
  '42501', null, 'a direct SQL delete raises, as on Supabase (Storage''s protect_delete guard)'
);
-- The Storage API deletes with storage.allow_delete_query set; even then
-- the policies keep a member's delete from touching the bucket.
select set_config('storage.allow_delete_query', 'true', true);
delete from storage.objects where bucket_id = 'exports';
select set_config('storage.allow_delete_query', '', true);
select tests.clear_authentication();
select is(
  (select count(*)::int from storage.objects where bucket_id = 'exports' and name like '%.csv'), 4,
  'a member can neither rename nor delete exports, even through the Storage API'
);

select tests.authenticate_as('a2000000-0000-4000-8000-000000000002');
select ok(pg_temp.visible('a2a20000-0000-4000-8000-00000000000a/a.csv'), 'a viewer of A reads A''s export');
select tests.clear_authentication();

select tests.authenticate_as('b2000000-0000-4000-8000-000000000001');
select ok(pg_temp.visible('b2b20000-0000-4000-8000-00000000000b/b.csv'), 'bob reads B''s export');
select ok(not pg_temp.visible('a2a20000-0000-4000-8000-00000000000a/a.csv'), 'bob cannot read A''s');
select tests.clear_authentication();

select tests.authenticate_as('c2000000-0000-4000-8000-000000000001');
select is((select count(*)::int from storage.objects where bucket_id = 'exports'), 0,
          'a user in no team reads nothing in the bucket');
select tests.clear_authentication();

select tests.authenticate_as_anon();
select is((select count(*)::int from storage.objects where bucket_id = 'exports'), 0,
          'anon reads nothing in the bucket');
select throws_ok(
  $$insert into storage.objects (bucket_id, name)
    values ('exports', 'a2a20000-0000-4000-8000-00000000000a/anon.csv')$$,
  '42501', null, 'anon cannot upload'
);
select tests.clear_authentication();

-- Even a wide-open permissive policy elsewhere cannot open the bucket.
create policy test_anyone_anything on storage.objects for all to authenticated
  using (true) with check (true);
select tests.authenticate_as('c2000000-0000-4000-8000-000000000001');
select is((select count(*)::int from storage.objects where bucket_id = 'exports'), 0,
          'with a permissive catch-all policy, a non-member still reads nothing');
select throws_ok(
  $$insert into storage.objects (bucket_id, name)
    values ('exports', 'a2a20000-0000-4000-8000-00000000000a/evil.csv')$$,
  '42501', null, '...and still cannot upload'
);
select tests.clear_authentication();

select is(public.team_id_from_export_path('A2A20000-0000-4000-8000-00000000000A/x.csv'), null,
          'only canonical team ids name a team folder');

-- ---------------------------------------------------------------------------
-- The bucket itself (issue 11 item 7): nobody but the backend changes it.
-- ---------------------------------------------------------------------------
select tests.authenticate_as_anon();
select is(tests.visible_rows('storage.buckets'), 0::bigint, 'anon sees no bucket');
update storage.buckets set public = true where id = 'exports';
select throws_ok(
  $$insert into storage.buckets (id, name, public) values ('anon-bucket', 'anon-bucket', true)$$,
  '42501', null, 'anon cannot create a bucket'
);
select throws_ok($$delete from storage.buckets where id = 'exports'$$,
  '42501', null, 'anon cannot delete the bucket');
select tests.clear_authentication();
select ok((select not public from storage.buckets where id = 'exports'),
          'anon cannot make the exports bucket public');

select tests.authenticate_as('a2000000-0000-4000-8000-000000000001');
update storage.buckets set public = true, allowed_mime_types = null where id = 'exports';
select tests.clear_authentication();
select ok((select not public from storage.buckets where id = 'exports'),
          'neither can an owner of a team');

select ok(
  (select relrowsecurity from pg_class where oid = 'storage.buckets'::regclass)
  and not exists (select 1 from pg_policies where schemaname = 'storage' and tablename = 'buckets'),
  'storage.buckets: RLS on and no policy, so only the service side reads or writes buckets'
);

select * from finish();
rollback;
