-- supabase/tests/helpers.sql: the helpers every pgTAP suite in
-- supabase/tests/database uses, in schema `tests`.
--
-- pg_prove runs each suite in a session of its own and each suite rolls
-- back, so the helpers are installed in the database once, before the run,
-- and dropped when it ends: `make pgtap` does both (re-running this file
-- replaces them). NOT a migration: these functions must never exist in
-- production, where authenticate_as() would let anyone pose as anyone.
--
-- Identity switches the way Supabase's API does it for a request
-- (usebasejump/supabase-test-helpers' authenticate_as): `set local role`
-- plus the JWT claims in `request.jwt.claims`, which auth.uid() and
-- auth.jwt() read. Both are transaction-local, so the suite's rollback
-- undoes them.
--
--   tests.create_user(id uuid, email text, confirmed boolean default true) returns uuid
--       an auth.users row (aud and role 'authenticated'), as postgres; its
--       address confirmed (email_confirmed_at) unless confirmed is false
--   tests.create_identity(user_id uuid, provider text, provider_id text, identity_data jsonb) returns uuid
--       an auth.identities row of that user, as Supabase Auth writes it at an
--       OAuth sign-in (azure: identity_data.custom_claims.oid/tid; google:
--       sub, email, email_verified), as postgres like create_user: Supabase
--       grants postgres all privileges on auth's tables (locally too)
--   tests.authenticate_as(user_id uuid, aal text default 'aal1')
--       become that signed-in user; aal 'aal2' for an MFA session
--   tests.authenticate_as_anon()
--       become anon (no user)
--   tests.act_for(user_id uuid, aal text default 'aal1')
--       stay postgres (the backend) but carry that user's claims, as the
--       backend does when it calls a backend-only function on a user's
--       behalf (shared/teams/access.py on_behalf_of)
--   tests.set_realtime_topic(topic text)
--       the topic Realtime sets before checking a join (realtime.topic());
--       null clears it
--   tests.clear_authentication()
--       back to postgres, the backend: no role, claims or topic
--   tests.visible_rows(tbl regclass) returns bigint
--       rows the current role sees in tbl; null when it may not select
--   tests.visible_rows_where(tbl regclass, condition text) returns bigint
--       the same with `where <condition>`; 0 when it may not select

\set ON_ERROR_STOP on
set client_min_messages = warning;

drop schema if exists tests cascade;
create schema tests;
comment on schema tests is
  'pgTAP helpers (supabase/tests/helpers.sql), installed for a test run only.';
-- The suites call the helpers while posing as each API role.
grant usage on schema tests to anon, authenticated, service_role;

create function tests.create_user(id uuid, email text, confirmed boolean default true)
  returns uuid
  language sql
as $$
  insert into auth.users (id, aud, role, email, email_confirmed_at, created_at, updated_at)
  values (id, 'authenticated', 'authenticated', email,
          case when confirmed then now() end, now(), now())
  returning id
$$;

create function tests.create_identity(user_id uuid, provider text, provider_id text,
                                      identity_data jsonb)
  returns uuid
  language sql
as $$
  insert into auth.identities (provider_id, user_id, provider, identity_data,
                               last_sign_in_at, created_at, updated_at)
  values (provider_id, user_id, provider, identity_data, now(), now(), now())
  returning id
$$;

create function tests.authenticate_as(user_id uuid, aal text default 'aal1')
  returns void
  language plpgsql
as $$
begin
  set local role authenticated;
  perform set_config('request.jwt.claims',
    json_build_object('sub', user_id, 'role', 'authenticated', 'aal', aal)::text, true);
end
$$;

create function tests.authenticate_as_anon()
  returns void
  language plpgsql
as $$
begin
  set local role anon;
  perform set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);
end
$$;

create function tests.act_for(user_id uuid, aal text default 'aal1')
  returns void
  language plpgsql
as $$
begin
  reset role;
  perform set_config('request.jwt.claims',
    json_build_object('sub', user_id, 'role', 'authenticated', 'aal', aal)::text, true);
end
$$;

create function tests.set_realtime_topic(topic text)
  returns void
  language plpgsql
as $$
begin
  perform set_config('realtime.topic', coalesce(topic, ''), true);
end
$$;

create function tests.clear_authentication()
  returns void
  language plpgsql
as $$
begin
  perform set_config('request.jwt.claims', '', true);
  perform set_config('realtime.topic', '', true);
  reset role;
end
$$;

create function tests.visible_rows(tbl regclass)
  returns bigint
  language plpgsql
as $$
declare
  n bigint;
begin
  execute format('select count(*) from %s', tbl) into n;
  return n;
exception when insufficient_privilege then
  return null;
end
$$;

create function tests.visible_rows_where(tbl regclass, condition text)
  returns bigint
  language plpgsql
as $$
declare
  n bigint;
begin
  execute format('select count(*) from %s where %s', tbl, condition) into n;
  return n;
exception when insufficient_privilege then
  return 0;
end
$$;
