-- localdev/supabase_compat.sql
--
-- What a Supabase project's database holds before the first migration runs,
-- rebuilt on a plain PostgreSQL 15 cluster: the platform's roles with their
-- exact attributes, memberships and grants, the `extensions`, `auth`,
-- `storage` and `realtime` schemas with the objects StreamTrack's migrations
-- and tests touch, and a stand-in for the supautils rules the migrations
-- rely on (policies on, and dropping triggers from, platform tables).
--
-- Run ONCE, as the bootstrap superuser `supabase_admin` (initdb -U
-- supabase_admin), on a fresh cluster, BEFORE the migrations. It is NOT a
-- migration: on Supabase all of this exists already. Everything after it
-- (the Supabase CLI's `db push`, seed, pgTAP, pytest, demo, bench) connects
-- as `postgres`, which here, as on Supabase, is not a superuser.
--
-- Who owns what afterwards, as on Supabase:
--   supabase_admin          superuser; owns the auth/storage/realtime schemas
--   postgres                NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION
--                           BYPASSRLS; owns database `postgres` and schema
--                           public; member of anon, authenticated, service_role
--                           (and pg_monitor, pg_read_all_data,
--                           pg_signal_backend), NOT of supabase_auth_admin,
--                           supabase_storage_admin or supabase_realtime_admin;
--                           no CREATE in auth, storage or realtime
--   supabase_auth_admin     owns auth.users, auth.identities, auth.uid() ...
--   supabase_storage_admin  owns storage.buckets, storage.objects, functions
--   supabase_realtime_admin owns realtime.messages (and its daily
--                           partitions), realtime.topic(), realtime.send()
--
-- Sources (read for facts; the SQL below is ours), newest versions on hand:
--   supabase/postgres
--     migrations/db/init-scripts/00000000000000-initial-schema.sql,
--       00000000000001-auth-schema.sql, 00000000000002-storage-schema.sql,
--       00000000000003-post-setup.sql                       @ 7db7e1a9
--     migrations/db/migrate.sh (database postgres owned by postgres) @ 7db7e1a9
--     migrations/db/migrations/
--       10000000000000_demote-postgres.sql                  @ 35d889e3
--       20211115181400_update-auth-permissions.sql,
--       20211124212715_update-auth-owner.sql,
--       20221028101028_set_authenticator_timeout.sql,
--       20230201083204_grant_auth_roles_to_postgres.sql,
--       20230224042246_grant_extensions_perms_for_postgres.sql,
--       20230306081037_grant_pg_monitor_to_postgres.sql,
--       20230529180330_alter_api_roles_for_inherit.sql,
--       20231130133139_set_lock_timeout_to_authenticator_role.sql,
--       20240606060239_grant_predefined_roles_to_postgres.sql  @ 7db7e1a9
--       20250421084701_revoke_admin_roles_from_postgres.sql,
--       20260506172403_grant_realtime_schema_to_postgres_with_grant_option.sql
--                                                           @ 96d88738
--       20250623125453_tmp_grant_storage_tables_to_postgres_with_grant_option.sql
--                                                           @ 423b32b8
--       20250709135250_grant_storage_schema_to_postgres_with_grant_option.sql
--                                                           @ 3d31e9ca
--       20260821154147_revoke_createrole_from_auth_admin.sql  @ 85341702
--     ansible/files/postgresql_config/conf.d/supautils.conf @ 6124db19
--       (privileged_role = postgres; policy_grants and drop_trigger_grants
--       for postgres on auth.*, storage.*, realtime.messages; reserved
--       memberships)
--   supabase/supautils @ 7e8cfb7e: src/supautils.c (CREATE/ALTER/DROP/
--     COMMENT POLICY and DROP TRIGGER on a granted table run as the
--     superuser), src/policy_grants.c, src/drop_trigger_grants.c
--   supabase/auth @ bc32168e: migrations/20220224000811_update_auth_functions,
--     20220531120530_add_auth_jwt_function, 20221215195500_modify_users_email_
--     unique_index, 20240214120130_add_is_anonymous_column (auth.users columns)
--   supabase/storage @ 4fa61fba: migrations/tenant/0002-storage-schema,
--     0003-pathtoken-column, 0007-add-rls-to-buckets, 0008-add-public-to-
--     buckets, 0011-add-trigger-to-auto-update-updated_at-column, 0012-add-
--     automatic-avif-detection-flag, 0013/0014 (file_size_limit,
--     allowed_mime_types), 0016-add-version, 0017-drop-owner-foreign-key,
--     0018-add_owner_id_column_deprecate_owner, 0025-custom-metadata,
--     0037-add-bucket-name-length-trigger, 0038-iceberg-catalog-flag-on-
--     buckets (type), 0046/0049 (grants), 0055-prevent-direct-deletes,
--     0060/0061 (immutable path functions), 0062-object-versioning-core
--   supabase/realtime main @ 833cf36c: priv/repo/tenant_schema/realtime/
--     schema.sql, tables/messages.sql, functions/{topic,send,send_binary}.sql;
--     lib/realtime/tenants/repo/migrations/20241030150047_messages_
--     partitioning.ex (postgres' grants on messages), 20260707120000_restrict_
--     realtime_schema.ex. Daily partitions are not made here: localdev runs
--     Realtime's janitor (localdev/realtime.py) after this file and on every
--     `db up`, as the Realtime server does.
--
-- What is deliberately different from Supabase: docs/supabase-parity.md.

\set ON_ERROR_STOP on
set client_min_messages = warning;

do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    raise exception 'supabase_compat.sql must run as the bootstrap superuser, not as %', current_user;
  end if;
end
$$;

-- ===========================================================================
-- Roles
-- ===========================================================================
alter role supabase_admin with superuser createdb createrole replication bypassrls;

-- `postgres`: the role a Supabase project hands to its developers, the CLI
-- and the dashboard. Password 'postgres' like `supabase start` (loopback only).
create role postgres with login password 'postgres'
  nosuperuser createdb createrole replication bypassrls inherit;

-- The API roles PostgREST switches to (inherit since 20230529180330).
create role anon nologin inherit;
create role authenticated nologin inherit;
create role service_role nologin inherit bypassrls;
-- PostgREST's login role. No password: nothing local logs in as it.
create role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;
-- A backend connected as postgres can `set local role authenticated`.
grant anon, authenticated, service_role to postgres;
grant pg_monitor, pg_read_all_data, pg_signal_backend to postgres;

-- Service roles. Passwords only so tests can log in as the service would
-- (Supabase Auth runs the access token hook as supabase_auth_admin).
create role supabase_auth_admin with login password 'postgres'
  noinherit nocreaterole noreplication;
create role supabase_storage_admin with login password 'postgres'
  noinherit createrole noreplication;
create role supabase_realtime_admin with nologin noinherit noreplication;

-- Short API timeouts, as Supabase sets them (PostgREST applies an
-- impersonated role's settings per request; so does shared/db.py).
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';

alter role supabase_admin set search_path = "$user", public, auth, extensions;
alter role postgres set search_path = "$user", public, extensions;
alter role supabase_auth_admin set search_path = auth;
alter role supabase_storage_admin set search_path = storage;
set search_path = "$user", public, extensions;

-- ===========================================================================
-- Database and schema public: postgres owns them (migrate.sh), so it owns
-- everything the migrations create there and may create schemas
-- (`partitions`, `analytics`, the CLI's `supabase_migrations`).
-- ===========================================================================
do $$
begin
  execute format('alter database %I owner to postgres', current_database());
  execute format('grant all on database %I to postgres', current_database());
end
$$;
-- PostgreSQL 15: public belongs to pg_database_owner, i.e. postgres now.
grant usage on schema public to postgres, anon, authenticated, service_role;
-- Everything postgres (or supabase_admin) creates in public is granted to
-- the API roles; RLS and the migrations' explicit revokes protect the data.
alter default privileges for role postgres in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on functions to postgres, anon, authenticated, service_role;

-- ===========================================================================
-- Extensions: pre-provided by the platform in schema `extensions`. pgTAP is
-- one supautils lets postgres create; the tests need it, so it is made here.
-- ===========================================================================
create schema extensions;
create extension pgcrypto with schema extensions;
create extension "uuid-ossp" with schema extensions;
create extension pgtap with schema extensions;
-- Supabase preloads pg_stat_statements and installs it here (the operator's view
-- reads it, supabase/migrations/20261203120000_operations.sql). Query texts are
-- not for the API roles: the extension's own grant to PUBLIC is taken back.
create extension pg_stat_statements with schema extensions;
revoke all on extensions.pg_stat_statements, extensions.pg_stat_statements_info from public;
grant all on schema extensions to postgres;
grant usage on schema extensions to anon, authenticated, service_role;
grant all privileges on all tables in schema extensions to postgres with grant option;
grant all privileges on all routines in schema extensions to postgres with grant option;
grant all privileges on all sequences in schema extensions to postgres with grant option;
alter default privileges in schema extensions
  grant all on tables to postgres with grant option;
alter default privileges in schema extensions
  grant all on routines to postgres with grant option;
alter default privileges in schema extensions
  grant all on sequences to postgres with grant option;

-- Postgres Changes listens to this publication; empty by default. It was made
-- by postgres in the init scripts, so postgres may add tables to it.
create publication supabase_realtime;
alter publication supabase_realtime owner to postgres;

-- ===========================================================================
-- auth: the columns of auth.users applications and seeds use, auth.identities,
-- and Supabase Auth's claim functions.
-- ===========================================================================
create schema auth authorization supabase_admin;
grant all on schema auth to supabase_auth_admin;
grant usage on schema auth to postgres, anon, authenticated, service_role;

set role supabase_auth_admin;

create table auth.users (
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
-- Email is unique among non-SSO users only.
create unique index users_email_partial_key on auth.users (email) where (is_sso_user = false);
create index users_instance_id_idx on auth.users (instance_id);
create index users_is_anonymous_idx on auth.users (is_anonymous);

create table auth.identities (
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
create index identities_user_id_idx on auth.identities (user_id);

-- RLS on, no policies: only roles that bypass RLS (postgres, service_role)
-- or own the tables read them.
alter table auth.users enable row level security;
alter table auth.identities enable row level security;

-- Claims come from PostgREST's `request.jwt.claims` (a JSON string set per
-- transaction); an empty string counts as none, and the legacy one-setting-
-- per-claim form `request.jwt.claim.<name>` wins when present.
create function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
create function auth.email() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
create function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;
comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

reset role;

grant all on all tables in schema auth to postgres;
grant all on all sequences in schema auth to postgres;
grant all on all routines in schema auth to postgres;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role;

-- ===========================================================================
-- storage: buckets and objects as Supabase Storage's migrations leave them
-- (RLS on both, the direct-delete guard, the bucket name check). The Storage
-- API itself is not run: tests fake it at the HTTP boundary.
-- ===========================================================================
create schema storage authorization supabase_admin;
grant all on schema storage to supabase_storage_admin;
grant usage on schema storage to postgres with grant option;
grant usage on schema storage to anon, authenticated, service_role;

set role supabase_storage_admin;
-- 0002: what the storage admin creates is granted to the API roles.
alter default privileges in schema storage
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema storage
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema storage
  grant all on sequences to postgres, anon, authenticated, service_role;

create table storage.migrations (
  id integer primary key,
  name varchar(100) unique not null,
  hash varchar(40) not null,
  executed_at timestamp default current_timestamp
);

create type storage.buckettype as enum ('STANDARD', 'ANALYTICS');

create table storage.buckets (
  id text not null primary key,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text,
  type storage.buckettype not null default 'STANDARD',
  versioning_status text not null default 'DISABLED',
  constraint buckets_versioning_status_check
    check (versioning_status in ('DISABLED', 'ENABLED', 'SUSPENDED')),
  constraint buckets_versioning_standard_only_check
    check (type = 'STANDARD' or versioning_status = 'DISABLED'),
  constraint buckets_versioning_dark_check check (versioning_status = 'DISABLED')
);
create unique index bname on storage.buckets using btree (name);
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';
alter table storage.buckets enable row level security;

create table storage.objects (
  id uuid not null default gen_random_uuid() primary key,
  bucket_id text,
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  owner_id text,
  user_metadata jsonb,
  archived_at timestamptz,
  is_delete_marker boolean not null default false,
  is_versioned boolean not null default false,
  constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets (id)
);
create unique index bucketid_objname on storage.objects using btree (bucket_id, name);
create index name_prefix_search on storage.objects (name text_pattern_ops);
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';
alter table storage.objects enable row level security;

-- 'a/b/c.csv' -> {a,b}; -> 'c.csv'; -> 'csv'.
create function storage.foldername(name text) returns text[] language plpgsql immutable as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1 : array_length(_parts, 1) - 1];
end
$$;
create function storage.filename(name text) returns text language plpgsql immutable as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$$;
create function storage.extension(name text) returns text language plpgsql immutable as $$
declare
  _parts text[];
  _filename text;
begin
  select string_to_array(name, '/') into _parts;
  select _parts[array_length(_parts, 1)] into _filename;
  return reverse(split_part(reverse(_filename), '.', 1));
end
$$;

create function storage.update_updated_at_column() returns trigger language plpgsql as $$
begin
  new.updated_at = now();
  return new;
end
$$;
create trigger update_objects_updated_at before update on storage.objects
  for each row execute function storage.update_updated_at_column();

create function storage.enforce_bucket_name_length() returns trigger language plpgsql as $$
begin
  if length(new.name) > 100 then
    raise exception 'bucket name "%" is too long (% characters). Max is 100.', new.name, length(new.name);
  end if;
  return new;
end
$$;
create trigger enforce_bucket_name_length_trigger
  before insert or update of name on storage.buckets
  for each row execute function storage.enforce_bucket_name_length();

-- 0055: a SQL DELETE on buckets or objects fails (42501) unless it comes
-- through the Storage API, which sets storage.allow_delete_query locally
-- after removing the files themselves.
create function storage.protect_delete() returns trigger language plpgsql as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') != 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using hint = 'This prevents accidental data loss from orphaned objects.',
            errcode = '42501';
  end if;
  return null;
end
$$;
create trigger protect_buckets_delete before delete on storage.buckets
  for each statement execute function storage.protect_delete();
create trigger protect_objects_delete before delete on storage.objects
  for each statement execute function storage.protect_delete();

reset role;

-- 0046/0049 and supabase/postgres 20250623125453; storage.migrations is the
-- Storage server's own (20250421084701).
grant all on storage.buckets, storage.objects to anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to postgres with grant option;
revoke all on storage.migrations from anon, authenticated, service_role, postgres;

-- ===========================================================================
-- realtime: Broadcast from the database, as on Supabase Realtime's main
-- branch. realtime.messages has no default partition: the Realtime server
-- keeps daily ones (yesterday .. today + 3) and drops them after 72 hours;
-- a message for a moment no partition covers is lost (realtime.send warns).
-- Postgres Changes' internals (realtime.subscription, apply_rls, ...) are
-- not recreated: they belong to the Realtime server, not to our contract.
-- ===========================================================================
create schema realtime authorization supabase_admin;
grant usage on schema realtime to anon, authenticated, service_role;
grant create, usage on schema realtime to supabase_realtime_admin with grant option;
grant usage on schema realtime to postgres with grant option;

set role supabase_realtime_admin;

create table realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  binary_payload bytea,
  constraint messages_payload_exclusive check (payload is null or binary_payload is null) not valid,
  constraint messages_pkey primary key (id, inserted_at)
) partition by range (inserted_at);
alter table realtime.messages enable row level security;
create index messages_inserted_at_topic_index on only realtime.messages
  using btree (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;

-- The topic of the channel being authorized: Realtime sets `realtime.topic`
-- before it checks a join against the policies on realtime.messages.
create function realtime.topic() returns text language sql stable as $$
  select nullif(current_setting('realtime.topic', true), '')::text;
$$;

-- Broadcast one message from the database. It never raises: any failure
-- (no partition for now(), RLS, ...) becomes a WARNING and the message is
-- not stored, so a trigger or job calling it cannot fail because of Realtime.
create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
  returns void language plpgsql as $$
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
    execute format('SET LOCAL realtime.topic TO %L', topic);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (generated_id, final_payload, event, topic, private, 'broadcast');
  exception
    when others then
      raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

create function realtime.send_binary(payload bytea, event text, topic text, private boolean default true)
  returns void language plpgsql as $$
declare
  generated_id uuid;
begin
  begin
    generated_id := gen_random_uuid();
    execute format('SET LOCAL realtime.topic TO %L', topic);
    insert into realtime.messages (id, binary_payload, event, topic, private, extension)
    values (generated_id, payload, event, topic, private, 'broadcast');
  exception
    when others then
      raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

reset role;

-- 20241030150047 granted postgres the same as the API roles; nothing since
-- has given it DELETE or TRUNCATE (the janitor drops whole partitions).
grant insert, select, update on table realtime.messages to postgres, anon, authenticated, service_role;
grant execute on all functions in schema realtime to postgres, anon, authenticated, service_role;

-- ===========================================================================
-- supautils.policy_grants and drop_trigger_grants, emulated. On Supabase,
-- supautils lets postgres CREATE/ALTER/DROP POLICY, and DROP TRIGGER, on
-- listed platform tables it does not own, by running just that statement as
-- the superuser. Here an event trigger makes the caller a member of the
-- platform admin roles for the one statement and takes it back when the
-- statement ends; the statement's target is then checked against the same
-- lists, so a policy on any other platform table fails as it would on
-- Supabase ("must be owner of table"). Nothing else is elevated. COMMENT ON
-- POLICY is not emulated (docs/supabase-parity.md).
-- ===========================================================================
create schema supautils_compat authorization supabase_admin;
comment on schema supautils_compat is
  'localdev only: stand-in for supautils.policy_grants/drop_trigger_grants (localdev/supabase_compat.sql). Not on Supabase.';
revoke all on schema supautils_compat from public;

-- conf.d/supautils.conf: the same tables in both lists, for postgres; the
-- ones that exist here.
create table supautils_compat.grants (
  kind text not null check (kind in ('policy', 'drop_trigger')),
  role_name name not null,
  table_name regclass not null,
  primary key (kind, role_name, table_name)
);
insert into supautils_compat.grants
select k.kind, 'postgres', t.tbl::regclass
from (values ('policy'), ('drop_trigger')) k (kind),
     (values ('auth.users'), ('auth.identities'), ('storage.buckets'), ('storage.objects'),
             ('realtime.messages')) t (tbl);

-- The role the statement runs as. These functions are security definer (so
-- current_user is their owner); the caller is the SET ROLE role, else the
-- session's login role.
create function supautils_compat.invoker() returns name
  language sql stable set search_path = '' as $$
  select coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user)::name
$$;

-- The platform roles owning the granted tables: the temporary memberships.
create function supautils_compat.elevation_roles() returns name[]
  language sql stable set search_path = '' as $$
  select array_agg(distinct r.rolname order by r.rolname)
  from supautils_compat.grants g
  join pg_catalog.pg_class c on c.oid = g.table_name
  join pg_catalog.pg_roles r on r.oid = c.relowner
$$;

-- True when, without supautils, the invoker could not do `kind` on tbl and
-- supautils does not grant it: a platform table (owned by an elevation
-- role) missing from the invoker's list.
create function supautils_compat.refused(p_kind text, tbl regclass) returns boolean
  language sql stable set search_path = '' as $$
  select not exists (select 1 from supautils_compat.grants g
                     where g.kind = p_kind and g.role_name = supautils_compat.invoker()
                       and g.table_name = tbl)
     and exists (select 1 from pg_catalog.pg_class c join pg_catalog.pg_roles r on r.oid = c.relowner
                 where c.oid = tbl and r.rolname = any (supautils_compat.elevation_roles()))
$$;

create function supautils_compat.elevate() returns event_trigger
  language plpgsql security definer set search_path = '' as $$
declare
  v_invoker name := supautils_compat.invoker();
  v_role name;
begin
  if not exists (select 1 from supautils_compat.grants where role_name = v_invoker) then
    return;
  end if;
  foreach v_role in array supautils_compat.elevation_roles() loop
    if not pg_catalog.pg_has_role(v_invoker, v_role, 'member') then
      execute pg_catalog.format('grant %I to %I', v_role, v_invoker);
      perform pg_catalog.set_config('supautils_compat.elevated',
        concat_ws(',', nullif(pg_catalog.current_setting('supautils_compat.elevated', true), ''), v_role),
        true);
    end if;
  end loop;
end
$$;

create function supautils_compat.end_elevation() returns event_trigger
  language plpgsql security definer set search_path = '' as $$
declare
  v_role text;
  v_table regclass;
begin
  foreach v_role in array coalesce(pg_catalog.string_to_array(
      nullif(pg_catalog.current_setting('supautils_compat.elevated', true), ''), ','), '{}') loop
    execute pg_catalog.format('revoke %I from %I', v_role, supautils_compat.invoker());
  end loop;
  perform pg_catalog.set_config('supautils_compat.elevated', '', true);
  for v_table in
    select p.polrelid::regclass
    from pg_catalog.pg_event_trigger_ddl_commands() d
    join pg_catalog.pg_policy p on p.oid = d.objid
    where d.classid = 'pg_catalog.pg_policy'::regclass
  loop
    if supautils_compat.refused('policy', v_table) then
      raise exception 'must be owner of table %', v_table using errcode = '42501';
    end if;
  end loop;
end
$$;

-- Drops are not reported at ddl_command_end: check their targets here.
create function supautils_compat.check_drop() returns event_trigger
  language plpgsql security definer set search_path = '' as $$
declare
  v_obj record;
  v_table regclass;
begin
  for v_obj in
    select o.object_type, o.address_names from pg_catalog.pg_event_trigger_dropped_objects() o
    where o.object_type in ('policy', 'trigger')
  loop
    -- address_names: the table's qualified name, then the object's own.
    v_table := pg_catalog.to_regclass(pg_catalog.array_to_string(
      (select array_agg(pg_catalog.quote_ident(x))
       from unnest(v_obj.address_names[1:pg_catalog.array_length(v_obj.address_names, 1) - 1]) x),
      '.'));
    if v_table is not null and supautils_compat.refused(
         case v_obj.object_type when 'policy' then 'policy' else 'drop_trigger' end, v_table) then
      raise exception 'must be owner of relation %', v_table using errcode = '42501';
    end if;
  end loop;
end
$$;

-- Event triggers call these whatever the caller's privileges; nobody else may.
revoke all on all functions in schema supautils_compat from public;

create event trigger supautils_compat_elevate on ddl_command_start
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY', 'DROP TRIGGER')
  execute function supautils_compat.elevate();
create event trigger supautils_compat_end_elevation on ddl_command_end
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY', 'DROP TRIGGER')
  execute function supautils_compat.end_elevation();
create event trigger supautils_compat_check_drop on sql_drop
  when tag in ('DROP POLICY', 'DROP TRIGGER')
  execute function supautils_compat.check_drop();
