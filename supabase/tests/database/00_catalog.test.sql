-- Catalog-wide guarantees: they hold for every table and function in
-- schema public, so a future migration that forgets one of them fails here.
begin;
create extension if not exists pgtap with schema extensions;
select plan(20);

-- Tables that clients must not read or write at all (RLS on, no policy,
-- no privilege). Adding a table here is a deliberate decision.
create temporary table service_only_tables (tbl regclass) on commit drop;
insert into service_only_tables values
  ('public.channel_credentials'), ('public.monitor_runs'),
  ('public.platform_quota_usage'), ('public.stripe_events'),
  ('public.channel_poll_state'), ('public.directory_groups'),
  ('public.directory_group_members'), ('public.directory_delta_links'),
  ('public.directory_claim_attributes'), ('public.channel_connection_tokens'),
  ('public.channel_connection_attempts'), ('public.analytics_import_runs'),
  ('public.alert_destination_secrets'), ('public.push_deliveries'),
  ('public.push_subscriptions');

-- Tables written by the backend only (clients may read some of them).
create temporary table backend_written_tables (tbl regclass) on commit drop;
insert into backend_written_tables
select tbl from service_only_tables
union all
select t::regclass from unnest(array[
  'public.channels', 'public.channel_status', 'public.stream_sessions',
  'public.viewer_samples', 'public.channel_stats', 'public.billing_customers',
  'public.billing_subscriptions', 'public.audit_log', 'public.plans',
  'public.directory_members', 'public.directory_pending', 'public.directory_sync_runs',
  'public.channel_connections', 'public.channel_analytics_daily',
  'public.channel_analytics_videos', 'public.alert_deliveries']) as t;

create temporary view public_tables as
  select c.oid::regclass as tbl, c.relname, c.relrowsecurity
  from pg_catalog.pg_class c
  where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p');

-- 1-2: row level security everywhere, with explicit policies.
select is(
  array(select relname::text from public_tables where not relrowsecurity order by 1),
  '{}'::text[],
  'every table in schema public has row level security enabled'
);

select is(
  array(
    select t.relname::text from public_tables t
    where not exists (select 1 from pg_catalog.pg_policy p where p.polrelid = t.tbl)
      and t.tbl not in (select tbl from service_only_tables)
    order by 1),
  '{}'::text[],
  'every table in schema public has policies, except the deliberate service-only ones'
);

-- 3: anon may read the plan catalogue and nothing else.
select is(
  array(
    select t.relname::text from public_tables t
    where t.tbl <> 'public.plans'::regclass
      and (has_table_privilege('anon', t.tbl, 'select,insert,update,delete,truncate,references,trigger')
           or has_any_column_privilege('anon', t.tbl, 'select,insert,update,references'))
    order by 1),
  '{}'::text[],
  'anon holds no privilege on any table but plans'
);

select ok(
  has_table_privilege('anon', 'public.plans', 'select')
  and not has_table_privilege('anon', 'public.plans', 'insert,update,delete,truncate'),
  'anon may only read plans'
);

-- 5-6: backend-written tables: no client write privilege (table or column level).
select is(
  array(
    select b.tbl::text from backend_written_tables b, unnest(array['anon', 'authenticated']) as r
    where has_table_privilege(r, b.tbl, 'insert,update,delete,truncate')
       or has_any_column_privilege(r, b.tbl, 'insert,update')
    order by 1),
  '{}'::text[],
  'anon and authenticated cannot write any backend-written table'
);

select is(
  array(
    select s.tbl::text from service_only_tables s, unnest(array['anon', 'authenticated']) as r
    where has_table_privilege(r, s.tbl, 'select,insert,update,delete,truncate,references,trigger')
       or has_any_column_privilege(r, s.tbl, 'select,insert,update,references')
    order by 1),
  '{}'::text[],
  'anon and authenticated hold no privilege at all on service-only tables'
);

-- 7: no client may truncate anything (truncate ignores RLS).
select is(
  array(
    select t.relname::text from public_tables t, unnest(array['anon', 'authenticated']) as r
    where has_table_privilege(r, t.tbl, 'truncate') order by 1),
  '{}'::text[],
  'no client may truncate a public table'
);

-- 8: no views or materialized views in public (they would bypass RLS).
select is(
  array(select relname::text from pg_catalog.pg_class
        where relnamespace = 'public'::regnamespace and relkind in ('v', 'm') order by 1),
  '{}'::text[],
  'schema public exposes no views or materialized views'
);

-- 9-10: security definer functions pin an empty search_path and are not
-- callable by anon.
select is(
  array(
    select p.oid::regprocedure::text from pg_catalog.pg_proc p
    where p.pronamespace = 'public'::regnamespace and p.prosecdef
      and not coalesce('search_path=""' = any (p.proconfig), false)
    order by 1),
  '{}'::text[],
  'every security definer function in public sets search_path = '''''
);

select is(
  array(
    select p.oid::regprocedure::text from pg_catalog.pg_proc p
    where p.pronamespace = 'public'::regnamespace and p.prosecdef
      and has_function_privilege('anon', p.oid, 'execute')
    order by 1),
  '{}'::text[],
  'anon cannot execute any security definer function in public'
);

-- 11-12: partition maintenance is for the backend only.
select ok(
  not has_function_privilege('anon', 'public.manage_viewer_sample_partitions(integer, integer)', 'execute')
  and not has_function_privilege('authenticated', 'public.manage_viewer_sample_partitions(integer, integer)', 'execute'),
  'clients cannot run manage_viewer_sample_partitions'
);

select ok(
  has_function_privilege('service_role', 'public.manage_viewer_sample_partitions(integer, integer)', 'execute'),
  'service_role can run manage_viewer_sample_partitions'
);

-- 13-14: partitions live outside public, in a schema clients cannot use.
-- (Partitions of other schemas' tables, such as Supabase's own
-- realtime.messages_*, are the platform's business.)
select is(
  array(
    select c.oid::regclass::text from pg_catalog.pg_class c
    join pg_catalog.pg_inherits i on i.inhrelid = c.oid
    join pg_catalog.pg_class parent on parent.oid = i.inhparent
    where c.relispartition and c.relnamespace <> 'partitions'::regnamespace
      and parent.relnamespace = 'public'::regnamespace
    order by 1),
  '{}'::text[],
  'every partition lives in schema partitions'
);

select ok(
  not has_schema_privilege('anon', 'partitions', 'usage')
  and not has_schema_privilege('authenticated', 'partitions', 'usage'),
  'anon and authenticated have no usage on schema partitions'
);

-- 15: no public table is in the supabase_realtime publication: Postgres
-- Changes would push a change to every member of every team its RLS lets
-- read the row, whatever their plan. Live status is the per-team Broadcast
-- (the `realtime` plan feature, enforced by the database).
select is(
  array(select tablename::text from pg_catalog.pg_publication_tables
        where pubname = 'supabase_realtime' and schemaname = 'public' order by 1),
  '{}'::text[],
  'no public table is published to Postgres Changes (live status is Broadcast only)'
);

-- 16: every foreign key column set has an index starting with it (RLS and
-- cascades look rows up by them).
select is(
  array(
    select format('%s(%s)', con.conrelid::regclass, con.conkey::text)
    from pg_catalog.pg_constraint con
    where con.contype = 'f' and con.connamespace = 'public'::regnamespace
      and not exists (
        select 1 from pg_catalog.pg_index i
        where i.indrelid = con.conrelid
          and (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] @> con.conkey
          and (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] <@ con.conkey)
    order by 1),
  '{}'::text[],
  'every foreign key is backed by an index'
);

-- 17: at most one permissive policy per table, role and command (Supabase
-- lint multiple_permissive_policies: each extra one is evaluated per row).
select is(
  array(
    select format('%s %s %s', p.tablename, p.cmd, r.role)
    from pg_catalog.pg_policies p, unnest(p.roles) as r (role)
    where p.schemaname = 'public' and p.permissive = 'PERMISSIVE'
    group by p.tablename, p.cmd, r.role
    having count(*) > 1
    order by 1),
  '{}'::text[],
  'no table has two permissive policies for the same role and command'
);

-- 18-19: every privilege the API roles hold, listed. Supabase's default
-- privileges grant everything a migration creates in public to anon and
-- authenticated (and functions are executable by PUBLIC), so each object
-- must revoke what clients do not need; a grant not listed here, or a
-- revoke forgotten on a new table, sequence, column or function, fails
-- until it is reviewed (and the README's database contract updated).
-- Schemas: public (the API), partitions and analytics (ours, unexposed).
create temporary view api_role_privileges as
  with roles (r) as (values ('anon'), ('authenticated')),
  schemas as (
    select oid, nspname from pg_catalog.pg_namespace
    where nspname in ('public', 'partitions', 'analytics')
  ),
  rels as (
    select c.oid, c.relkind, format('%I.%I', s.nspname, c.relname) as name
    from pg_catalog.pg_class c join schemas s on s.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
  )
  select r, format('%s on table %s', p, name) as privilege
  from rels, roles, unnest(array['select', 'insert', 'update', 'delete', 'truncate',
                                 'references', 'trigger']) as p
  where relkind <> 'S' and has_table_privilege(r, oid, p)
  union all
  -- column privileges beyond the table-level ones
  select r, format('%s (%s) on table %s', p, string_agg(a.attname, ', ' order by a.attnum), name)
  from rels
  join pg_catalog.pg_attribute a on a.attrelid = rels.oid and a.attnum > 0 and not a.attisdropped,
       roles, unnest(array['select', 'insert', 'update', 'references']) as p
  where relkind <> 'S' and has_column_privilege(r, rels.oid, a.attnum, p)
    and not has_table_privilege(r, rels.oid, p)
  group by r, p, name
  union all
  select r, format('%s on sequence %s', p, name)
  from rels, roles, unnest(array['usage', 'select', 'update']) as p
  where relkind = 'S' and has_sequence_privilege(r, oid, p)
  union all
  select r, format('execute on function %I.%I(%s)', s.nspname, f.proname,
                   pg_catalog.oidvectortypes(f.proargtypes))
  from pg_catalog.pg_proc f join schemas s on s.oid = f.pronamespace, roles
  where not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = f.oid
                      and d.deptype = 'e')
    and has_function_privilege(r, f.oid, 'execute')
  union all
  select r, format('usage on schema %s', nspname)
  from schemas, roles
  where has_schema_privilege(r, oid, 'usage');

select is(
  array(select privilege from api_role_privileges where r = 'anon' order by 1),
  array[
    'select on table public.plans',
    'usage on schema public'
  ],
  'anon holds exactly the reviewed privileges'
);

select is(
  array(select privilege from api_role_privileges where r = 'authenticated' order by 1),
  array[
    'delete on table public.alert_destinations',
    'delete on table public.alert_rules',
    'delete on table public.directory_mappings',
    'delete on table public.team_channels',
    'delete on table public.team_invitations',
    'delete on table public.team_members',
    'delete on table public.teams',
    'execute on function public.accept_team_invitation(text)',
    'execute on function public.analytics_channel_sessions(uuid, timestamp with time zone, timestamp with time zone)',
    'execute on function public.analytics_channel_timeline(uuid, timestamp with time zone, timestamp with time zone)',
    'execute on function public.analytics_connected_daily(uuid, date, date)',
    'execute on function public.analytics_leaderboard(uuid, text, text, integer)',
    'execute on function public.analytics_team_daily_followers(uuid, date, date)',
    'execute on function public.analytics_team_overview(uuid, timestamp with time zone, timestamp with time zone)',
    'execute on function public.analytics_timeline_bucket(timestamp with time zone, timestamp with time zone)',
    'execute on function public.can_read_channel(uuid)',
    'execute on function public.channel_ids_with_feature(text)',
    'execute on function public.connected_channel_ids()',
    'execute on function public.directory_caller_in_tenant(text, text)',
    'execute on function public.has_team_role(uuid, team_role)',
    'execute on function public.is_team_member(uuid)',
    'execute on function public.mfa_satisfied(uuid)',
    'execute on function public.readable_channel_ids()',
    'execute on function public.team_has_feature(uuid, text)',
    'execute on function public.team_id_from_export_path(text)',
    'execute on function public.team_id_from_status_topic(text)',
    'execute on function public.team_member_list(uuid)',
    'execute on function public.track_team_channel(uuid, uuid)',
    'insert (name, require_mfa) on table public.teams',
    'insert (team_id, destination_id, channel_id, event, viewer_threshold, template, enabled) on table public.alert_rules',
    'insert (team_id, provider, tenant, group_id, role) on table public.directory_mappings',
    'select (channel_id, day, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum, known_viewer_sample_count, live_sample_count, updated_at) on table public.channel_rollups_daily',
    'select (channel_id, hour, live_seconds, viewer_seconds, peak_viewers, viewer_count_sum, known_viewer_sample_count, live_sample_count, updated_at) on table public.channel_rollups_hourly',
    'select on table public.alert_deliveries',
    'select on table public.alert_destinations',
    'select on table public.alert_rules',
    'select on table public.audit_log',
    'select on table public.billing_customers',
    'select on table public.billing_subscriptions',
    'select on table public.channel_analytics_daily',
    'select on table public.channel_analytics_videos',
    'select on table public.channel_connections',
    'select on table public.channel_stats',
    'select on table public.channel_status',
    'select on table public.channels',
    'select on table public.directory_mappings',
    'select on table public.directory_members',
    'select on table public.directory_pending',
    'select on table public.directory_sync_runs',
    'select on table public.plans',
    'select on table public.stream_sessions',
    'select on table public.team_channels',
    'select on table public.team_invitations',
    'select on table public.team_members',
    'select on table public.teams',
    'select on table public.viewer_samples',
    'update (name, enabled) on table public.alert_destinations',
    'update (name, require_mfa) on table public.teams',
    'update (paused_at) on table public.team_channels',
    'update (role) on table public.directory_mappings',
    'update (role) on table public.team_members',
    'update (viewer_threshold, template, enabled) on table public.alert_rules',
    'usage on schema public'
  ],
  'authenticated holds exactly the reviewed privileges'
);

-- 20: no function of ours is executable by PUBLIC (every role, present and
-- future): each grants execute to the roles that need it by name.
select is(
  array(
    select f.oid::regprocedure::text
    from pg_catalog.pg_proc f
    where f.pronamespace in ('public'::regnamespace, 'analytics'::regnamespace)
      and not exists (select 1 from pg_catalog.pg_depend d
                      where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = f.oid
                        and d.deptype = 'e')
      and (f.proacl is null
           or exists (select 1 from aclexplode(f.proacl) a where a.grantee = 0))
    order by 1),
  '{}'::text[],
  'no function in public or analytics is executable by PUBLIC'
);

select * from finish();
rollback;
