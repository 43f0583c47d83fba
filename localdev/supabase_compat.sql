-- localdev/supabase_compat.sql
--
-- Recreates, on a plain PostgreSQL 15 cluster, the parts of the Supabase
-- platform that StreamTrack's migrations and tests rely on: the API roles,
-- the `extensions` schema, a minimal `auth` schema with Supabase's
-- `auth.uid()/role()/email()/jwt()`, the `supabase_realtime` publication,
-- Supabase's default privileges on schema `public`, and the pieces of the
-- `realtime` and `storage` schemas the migrations use (sources at each).
--
-- Run it once as superuser `postgres` on a fresh cluster, BEFORE the
-- migrations. It is NOT a migration: on Supabase (hosted or `supabase start`)
-- all of this already exists and must not be recreated.
--
-- Sources mirrored: supabase/postgres `migrations/db/init-scripts/
-- 00000000000000-initial-schema.sql` and `00000000000001-auth-schema.sql`,
-- and supabase/auth's migrations that (re)define the auth.* functions and
-- add the later auth.users columns. Re-running the file is harmless.

\set ON_ERROR_STOP on
set client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  -- "logged in" user: every request carrying a valid user JWT
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  -- backend key: bypasses row level security
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  -- PostgREST's login role; it switches to one of the three roles above
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  -- owner of the auth schema objects (GoTrue connects as this role)
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin noinherit createrole login noreplication;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
-- As on Supabase: postgres is a member of the API roles, so a backend
-- connected as postgres can `set local role authenticated` for a request.
grant anon, authenticated, service_role to postgres;

-- Short API timeouts, as Supabase sets them.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- ---------------------------------------------------------------------------
-- Extensions schema and search_path
-- ---------------------------------------------------------------------------
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;

-- Supabase's search_path: extension functions resolve without a schema prefix.
do $$
begin
  execute format('alter database %I set search_path = "$user", public, extensions',
                 current_database());
end
$$;
alter role postgres set search_path = "$user", public, extensions;
alter role supabase_auth_admin set search_path = auth;
-- ...and for the current session, so the rest of this file sees it too.
set search_path = "$user", public, extensions;

-- ---------------------------------------------------------------------------
-- auth schema: the columns of auth.users that matter to applications and
-- seeds, plus auth.identities (needed by seeds that create loginable users).
-- ---------------------------------------------------------------------------
create schema if not exists auth;
grant all on schema auth to supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role;

create table if not exists auth.users (
  instance_id uuid null,
  id uuid not null primary key,
  aud varchar(255) null,
  "role" varchar(255) null,
  email varchar(255) null,
  encrypted_password varchar(255) null,
  email_confirmed_at timestamptz null,
  invited_at timestamptz null,
  confirmation_token varchar(255) null,
  confirmation_sent_at timestamptz null,
  recovery_token varchar(255) null,
  recovery_sent_at timestamptz null,
  email_change_token_new varchar(255) null,
  email_change varchar(255) null,
  email_change_sent_at timestamptz null,
  last_sign_in_at timestamptz null,
  raw_app_meta_data jsonb null,
  raw_user_meta_data jsonb null,
  is_super_admin bool null,
  created_at timestamptz null,
  updated_at timestamptz null,
  phone text null unique default null,
  phone_confirmed_at timestamptz null,
  phone_change text null default '',
  phone_change_token varchar(255) null default '',
  phone_change_sent_at timestamptz null,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current varchar(255) null default '',
  email_change_confirm_status smallint null default 0
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
  banned_until timestamptz null,
  reauthentication_token varchar(255) null default '',
  reauthentication_sent_at timestamptz null,
  is_sso_user boolean not null default false,
  deleted_at timestamptz null,
  is_anonymous boolean not null default false
);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
-- Supabase: email is unique among non-SSO users only.
create unique index if not exists users_email_partial_key
  on auth.users (email) where (is_sso_user = false);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);

create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz null,
  created_at timestamptz null,
  updated_at timestamptz null,
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid not null default gen_random_uuid() primary key,
  constraint identities_provider_id_provider_unique unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);

alter table auth.users owner to supabase_auth_admin;
alter table auth.identities owner to supabase_auth_admin;
-- Supabase enables RLS (no policies) on auth tables; postgres may read them.
alter table auth.users enable row level security;
alter table auth.identities enable row level security;
grant select on auth.users, auth.identities to postgres with grant option;

-- Claims come from PostgREST's `request.jwt.claims` (a JSON string set per
-- transaction). An empty string counts as "no claims" (nullif), and the
-- legacy one-setting-per-claim form `request.jwt.claim.<name>` still wins
-- when present, exactly as in supabase/auth.
create or replace function auth.uid()
  returns uuid
  language sql stable
  set search_path to ''
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role()
  returns text
  language sql stable
  set search_path to ''
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email()
  returns text
  language sql stable
  set search_path to ''
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.email', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

create or replace function auth.jwt()
  returns jsonb
  language sql stable
  set search_path to ''
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role, postgres;

-- ---------------------------------------------------------------------------
-- Realtime: the publication Postgres Changes listens to, empty by default.
-- ---------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;

-- ---------------------------------------------------------------------------
-- Default privileges on schema public, as on Supabase: everything postgres
-- creates there is granted to the API roles, and row level security (plus
-- explicit revokes in the migrations) is what actually protects the data.
-- ---------------------------------------------------------------------------
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to postgres, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Realtime: the pieces of the `realtime` schema StreamTrack's migrations use
-- (Broadcast from the database with private topics). Mirrors supabase/realtime
-- lib/realtime/tenants/repo/migrations/20260420000000_squash_migrations.ex
-- (realtime.messages, realtime.topic(), realtime.send(), their owner and
-- grants) and 20260604120000_add_messages_default_partition.ex. On Supabase
-- the Realtime server creates the schema itself and adds daily partitions
-- (messages_YYYY_MM_DD) it drops after a few days; here one default
-- partition takes every row.
-- ---------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'supabase_realtime_admin') then
    create role supabase_realtime_admin noinherit nologin noreplication;
  end if;
end
$$;
grant supabase_realtime_admin to postgres;

create schema if not exists realtime;

create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone default now() not null,
  inserted_at timestamp without time zone default now() not null,
  id uuid default gen_random_uuid() not null,
  constraint messages_pkey primary key (id, inserted_at)
) partition by range (inserted_at);
create table if not exists realtime.messages_default
  partition of realtime.messages default;
create index if not exists messages_inserted_at_topic_index
  on realtime.messages (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;

-- The topic of the channel being authorized: Realtime sets `realtime.topic`
-- before it checks a client's join against the policies on realtime.messages.
create or replace function realtime.topic()
  returns text
  language sql stable
as $$
  select nullif(current_setting('realtime.topic', true), '')::text;
$$;

-- Broadcast one message from the database. Like Supabase's, it never raises:
-- a failure becomes a WARNING, so a trigger or job calling it cannot fail
-- because of Realtime.
create or replace function realtime.send(
  payload jsonb, event text, topic text, private boolean default true
)
  returns void
  language plpgsql
as $$
declare
  generated_id uuid;
  final_payload jsonb;
begin
  begin
    generated_id := gen_random_uuid();
    if payload ? 'id' then
      final_payload := payload;
    else
      final_payload := jsonb_set(payload, '{id}', to_jsonb(generated_id));
    end if;
    execute format('set local realtime.topic to %L', topic);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (generated_id, final_payload, event, topic, private, 'broadcast');
  exception
    when others then
      raise warning 'ErrorSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

alter table realtime.messages owner to supabase_realtime_admin;
alter table realtime.messages_default owner to supabase_realtime_admin;
alter function realtime.topic() owner to supabase_realtime_admin;
grant usage on schema realtime to postgres, anon, authenticated, service_role, supabase_realtime_admin;
grant create on schema realtime to supabase_realtime_admin;
grant select, insert, update on realtime.messages to postgres, anon, authenticated, service_role;
grant delete, truncate, references, trigger on realtime.messages to postgres;
alter table realtime.messages enable row level security;

-- ---------------------------------------------------------------------------
-- Storage: the parts of the `storage` schema StreamTrack's migrations use
-- (a private bucket and policies on its objects). Mirrors supabase/storage
-- migrations/tenant/0002-storage-schema.sql (schema, buckets, objects,
-- foldername, owner supabase_storage_admin, RLS on objects),
-- 0007-add-public-to-buckets.sql, 0012-add-bucket-custom-limits.sql,
-- 0017-alter-owner-data-type.sql (owner_id), 0002-pathtoken-column.sql and
-- 0036-optimise-existing-functions.sql (foldername immutable). The Storage
-- API itself is not emulated: tests fake it at the HTTP boundary.
-- ---------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'supabase_storage_admin') then
    create role supabase_storage_admin noinherit createrole login noreplication;
  end if;
end
$$;
grant supabase_storage_admin to postgres;

create schema if not exists storage;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin;
alter default privileges in schema storage grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema storage grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema storage grant all on sequences to postgres, anon, authenticated, service_role;

create table if not exists storage.buckets (
  id text not null primary key,
  name text not null,
  owner uuid,
  owner_id text,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[]
);
create unique index if not exists bname on storage.buckets using btree (name);

create table if not exists storage.objects (
  id uuid not null default gen_random_uuid() primary key,
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  owner_id text,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  user_metadata jsonb
);
create unique index if not exists bucketid_objname on storage.objects using btree (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);
alter table storage.objects enable row level security;

-- 'a/b/c.csv' -> {a,b}: the folders of an object name, as policies use it.
create or replace function storage.foldername(name text)
  returns text[]
  language plpgsql
  immutable
as $function$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1 : array_length(_parts, 1) - 1];
end
$function$;

create or replace function storage.filename(name text)
  returns text
  language plpgsql
  immutable
as $function$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$function$;

alter table storage.buckets owner to supabase_storage_admin;
alter table storage.objects owner to supabase_storage_admin;
alter function storage.foldername(text) owner to supabase_storage_admin;
alter function storage.filename(text) owner to supabase_storage_admin;
grant all on storage.buckets, storage.objects to supabase_storage_admin;
grant all on storage.buckets, storage.objects to postgres, anon, authenticated, service_role;
