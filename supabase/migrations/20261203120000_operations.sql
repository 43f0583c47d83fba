-- The operator's view: what the monitor did lately, how big the sample partitions
-- are, and which statements cost the most. Service side only.
--
-- Everything lives in schema `ops`, which no API role may even look into: no
-- usage on the schema, no execute on its functions (PUBLIC's default execute is
-- revoked), so neither PostgREST nor a signed-in user calling SQL by hand reaches
-- it. `postgres` (the migrations' owner) and `service_role` call it, from psql or
-- the SQL editor (docs/operations.md). The functions run as the caller (security
-- invoker): they read nothing the service side cannot read already.
--
--   ops.monitor_runs_recent(limit)   the last runs, failures counted per platform
--   ops.monitor_summary(since)       per platform since then: runs, failures,
--                                    requests, quota, duration percentiles
--   ops.sample_partitions()          each viewer_samples partition: range, rows, size
--   ops.slow_statements(limit)       the costliest statements from pg_stat_statements,
--                                    none when the extension is absent or unloaded
--   ops.overview()                   all of the above as one jsonb document

create schema ops;
comment on schema ops is 'Operator views (service side only): monitor runs, partition sizes, slow statements.';
revoke all on schema ops from public, anon, authenticated;
grant usage on schema ops to service_role;

-- ---------------------------------------------------------------------------
-- The last monitor runs, newest first. `failures` counts monitor_runs.errors
-- entries by platform (an error without one, a database failure say, under
-- "database"): the cycle records each distinct error once, so this counts
-- kinds of failure, not failed requests.
-- ---------------------------------------------------------------------------
create function ops.monitor_runs_recent(p_limit integer default 60)
  returns table (
    id bigint,
    started_at timestamptz,
    finished_at timestamptz,
    status text,
    trigger text,
    cycle_id uuid,
    shard_index integer,
    shard_count integer,
    past_due boolean,
    duration_ms integer,
    channels_checked integer,
    samples_written integer,
    requests jsonb,
    quota_units jsonb,
    failures jsonb
  )
  language sql
  stable
  set search_path = ''
as $$
  select r.id, r.started_at, r.finished_at, r.status, r.trigger, r.cycle_id,
         r.shard_index, r.shard_count, r.past_due, r.duration_ms, r.channels_checked,
         r.samples_written, r.requests, r.quota_units,
         coalesce((
           select jsonb_object_agg(platform, n)
           from (
             select coalesce(e ->> 'platform', 'database') as platform, count(*) as n
             from jsonb_array_elements(r.errors) as e
             group by 1
           ) per_platform
         ), '{}'::jsonb) as failures
  from public.monitor_runs r
  order by r.started_at desc, r.id desc
  limit least(greatest(coalesce(p_limit, 60), 1), 10000)
$$;
comment on function ops.monitor_runs_recent(integer) is
  'The last monitor runs (at most 10,000), newest first, with failures counted per platform.';

-- ---------------------------------------------------------------------------
-- Per platform since `p_since`: how many runs polled it, how many of those
-- recorded an error for it, requests and quota units spent, and the runs'
-- duration percentiles. One row per platform named in the runs' requests,
-- quota or errors; platform `*` summarises every run (failed runs included,
-- which poll nothing).
-- ---------------------------------------------------------------------------
create function ops.monitor_summary(p_since timestamptz default now() - interval '1 hour')
  returns table (
    platform text,
    runs bigint,
    runs_with_errors bigint,
    failed_runs bigint,
    requests bigint,
    quota_units bigint,
    samples_written bigint,
    duration_p50_ms double precision,
    duration_p95_ms double precision,
    last_success_at timestamptz
  )
  language sql
  stable
  set search_path = ''
as $$
  with runs as (
    select * from public.monitor_runs where started_at >= p_since
  ),
  named as (
    select r.id, k as platform from runs r, jsonb_object_keys(r.requests) as k
    union
    select r.id, k from runs r, jsonb_object_keys(r.quota_units) as k
    union
    select r.id, e ->> 'platform' from runs r, jsonb_array_elements(r.errors) as e
    where e ->> 'platform' is not null
  ),
  per_platform as (
    select n.platform,
           count(*) as runs,
           count(*) filter (where exists (
             select 1 from jsonb_array_elements(r.errors) as e
             where e ->> 'platform' = n.platform)) as runs_with_errors,
           count(*) filter (where r.status = 'failed') as failed_runs,
           sum(coalesce((r.requests ->> n.platform)::bigint, 0))::bigint as requests,
           sum(coalesce((r.quota_units ->> n.platform)::bigint, 0))::bigint as quota_units,
           null::bigint as samples_written,
           percentile_cont(0.5) within group (order by r.duration_ms) as p50,
           percentile_cont(0.95) within group (order by r.duration_ms) as p95,
           max(r.finished_at) filter (where r.status in ('succeeded', 'partial')) as last_success
    from named n join runs r on r.id = n.id
    group by n.platform
  ),
  everything as (
    select '*'::text as platform,
           count(*) as runs,
           count(*) filter (where jsonb_array_length(r.errors) > 0) as runs_with_errors,
           count(*) filter (where r.status = 'failed') as failed_runs,
           coalesce(sum((select coalesce(sum(v::bigint), 0) from jsonb_each_text(r.requests) as x(k, v))), 0)::bigint,
           coalesce(sum((select coalesce(sum(v::bigint), 0) from jsonb_each_text(r.quota_units) as x(k, v))), 0)::bigint,
           coalesce(sum(r.samples_written), 0)::bigint,
           percentile_cont(0.5) within group (order by r.duration_ms),
           percentile_cont(0.95) within group (order by r.duration_ms),
           max(r.finished_at) filter (where r.status in ('succeeded', 'partial'))
    from runs r
  )
  select * from everything
  union all
  select * from (select * from per_platform order by platform) p
$$;
comment on function ops.monitor_summary(timestamptz) is
  'Monitor runs since p_since per platform (and * for all): runs, errors, requests, quota, duration p50/p95.';

-- ---------------------------------------------------------------------------
-- The viewer_samples partitions (in schema partitions), oldest first: the range
-- each covers, the planner's row estimate (reltuples, as of the last ANALYZE or
-- autovacuum; -1 before either) and the size on disk with indexes and TOAST.
-- ---------------------------------------------------------------------------
create function ops.sample_partitions()
  returns table (
    partition_name text,
    range_bound text,
    estimated_rows bigint,
    total_bytes bigint,
    total_size text
  )
  language sql
  stable
  set search_path = ''
as $$
  select format('%I.%I', n.nspname, c.relname),
         pg_catalog.pg_get_expr(c.relpartbound, c.oid),
         c.reltuples::bigint,
         pg_catalog.pg_total_relation_size(c.oid),
         pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid))
  from pg_catalog.pg_inherits i
  join pg_catalog.pg_class c on c.oid = i.inhrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where i.inhparent = 'public.viewer_samples'::regclass
  order by c.relname
$$;
comment on function ops.sample_partitions() is
  'Each viewer_samples partition: its range, estimated rows and total size.';

-- ---------------------------------------------------------------------------
-- The statements with the most total execution time, from pg_stat_statements
-- (Supabase installs it in schema extensions and preloads it). No rows when the
-- extension is not installed, or installed but not preloaded (reading it then
-- raises object_not_in_prerequisite_state). Query texts are normalised by the
-- extension (constants become $1, $2, ...), so no value a client sent appears.
-- ---------------------------------------------------------------------------
create function ops.slow_statements(p_limit integer default 20)
  returns table (
    query text,
    calls bigint,
    total_ms double precision,
    mean_ms double precision,
    max_ms double precision,
    rows bigint,
    shared_blocks_read bigint
  )
  language plpgsql
  stable
  set search_path = ''
as $$
declare
  v_schema text;
begin
  select n.nspname into v_schema
  from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
  where e.extname = 'pg_stat_statements';
  if v_schema is null then
    return;
  end if;
  begin
    return query execute format(
      'select left(s.query, 2000), s.calls, s.total_exec_time, s.mean_exec_time,'
      '       s.max_exec_time, s.rows, s.shared_blks_read'
      '  from %I.pg_stat_statements s'
      ' where s.dbid = (select oid from pg_catalog.pg_database where datname = current_database())'
      ' order by s.total_exec_time desc limit $1', v_schema)
    using least(greatest(coalesce(p_limit, 20), 1), 500);
  exception when object_not_in_prerequisite_state or insufficient_privilege then
    return;  -- not preloaded, or this role may not read it: nothing to show
  end;
end;
$$;
comment on function ops.slow_statements(integer) is
  'The costliest statements by total execution time (pg_stat_statements); none without it.';

-- ---------------------------------------------------------------------------
-- One document for a glance (or an alert payload): the summary of the last
-- hour, the last 10 runs, partitions and the 10 slowest statements.
-- ---------------------------------------------------------------------------
create function ops.overview()
  returns jsonb
  language sql
  stable
  set search_path = ''
as $$
  select jsonb_build_object(
    'generated_at', now(),
    'monitor_last_hour', coalesce((select jsonb_agg(to_jsonb(s)) from ops.monitor_summary() s), '[]'),
    'recent_runs', coalesce((select jsonb_agg(to_jsonb(r)) from ops.monitor_runs_recent(10) r), '[]'),
    'sample_partitions', coalesce((select jsonb_agg(to_jsonb(p)) from ops.sample_partitions() p), '[]'),
    'pg_stat_statements', exists (select 1 from pg_catalog.pg_extension where extname = 'pg_stat_statements'),
    'slow_statements', coalesce((select jsonb_agg(to_jsonb(q)) from ops.slow_statements(10) q), '[]')
  )
$$;
comment on function ops.overview() is
  'The operator''s glance: monitor summary of the last hour, recent runs, partitions, slow statements.';

-- Functions are executable by PUBLIC by default: take that back from everyone
-- but the service side, here and for anything created in the schema later.
revoke all on all functions in schema ops from public, anon, authenticated;
alter default privileges in schema ops revoke execute on functions from public;
grant execute on all functions in schema ops to service_role;
