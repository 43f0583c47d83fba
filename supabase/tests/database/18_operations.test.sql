-- The operator's view (schema ops): correct figures for the service side, and
-- nothing at all for anon or a signed-in user, however they call it.
begin;
create extension if not exists pgtap with schema extensions;
select plan(27);

-- ---------------------------------------------------------------------------
-- Attackers: no way in
-- ---------------------------------------------------------------------------
select ok(not has_schema_privilege('anon', 'ops', 'usage'), 'anon has no usage on schema ops');
select ok(not has_schema_privilege('authenticated', 'ops', 'usage'),
  'authenticated has no usage on schema ops');
select is(
  array(
    select format('%s %s', r, p.oid::regprocedure)
    from pg_catalog.pg_proc p, unnest(array['anon', 'authenticated', 'public']) as r
    where p.pronamespace = 'ops'::regnamespace
      and (r = 'public' and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a where a.grantee = 0 and a.privilege_type = 'EXECUTE')
           or r <> 'public' and has_function_privilege(r, p.oid, 'execute'))
    order by 1),
  '{}'::text[],
  'no ops function is executable by anon, authenticated or PUBLIC'
);
select is(
  (select count(*)::int from pg_catalog.pg_proc where pronamespace = 'ops'::regnamespace),
  5,
  'five ops functions (a new one must be added to this suite)'
);
select ok(
  (select bool_and(has_function_privilege('service_role', p.oid, 'execute'))
   from pg_catalog.pg_proc p where p.pronamespace = 'ops'::regnamespace),
  'service_role may execute every ops function'
);
select ok(
  (select bool_and(not p.prosecdef) from pg_catalog.pg_proc p
   where p.pronamespace = 'ops'::regnamespace),
  'ops functions run as the caller (no security definer to borrow)'
);
select ok(
  (select bool_and(p.proconfig @> array['search_path=""']) from pg_catalog.pg_proc p
   where p.pronamespace = 'ops'::regnamespace),
  'ops functions pin an empty search_path'
);
select ok(
  not exists (select 1 from pg_catalog.pg_class where relnamespace = 'ops'::regnamespace),
  'schema ops holds no table or view a grant could expose'
);

-- A user calling by hand, as PostgREST would let them: refused before anything runs.
select tests.create_user('00000000-0000-0000-0000-00000000a018', 'ops-attacker@example.test');
select tests.authenticate_as('00000000-0000-0000-0000-00000000a018');
select throws_ok($$ select ops.overview() $$, '42501', null,
  'a signed-in user cannot call ops.overview()');
select throws_ok($$ select * from ops.monitor_runs_recent(5) $$, '42501', null,
  'a signed-in user cannot list monitor runs');
select throws_ok($$ select * from ops.slow_statements() $$, '42501', null,
  'a signed-in user cannot read statement texts');
select throws_ok($$ select * from ops.sample_partitions() $$, '42501', null,
  'a signed-in user cannot read partition sizes');
select throws_ok($$ select * from ops.monitor_summary(now() - interval '1 day') $$, '42501', null,
  'a signed-in user cannot read the monitor summary');
select throws_ok($$ select * from extensions.pg_stat_statements $$, '42501', null,
  'nor read pg_stat_statements directly');
select tests.clear_authentication();
select tests.authenticate_as_anon();
select throws_ok($$ select ops.overview() $$, '42501', null, 'anon cannot call ops.overview()');
select throws_ok($$ select * from ops.monitor_runs_recent() $$, '42501', null,
  'anon cannot list monitor runs');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------
-- The service side: the figures
-- ---------------------------------------------------------------------------
-- Hide whatever earlier suites or the demo left: this transaction's runs only.
delete from public.monitor_runs;
insert into public.monitor_runs
  (started_at, finished_at, status, channels_checked, samples_written, requests, quota_units,
   errors, duration_ms, trigger)
values
  (now() - interval '3 minutes', now() - interval '179 seconds', 'succeeded', 10, 10,
   '{"twitch": 2, "youtube": 3}', '{"youtube": 3}', '[]', 1000, 'timer'),
  (now() - interval '2 minutes', now() - interval '119 seconds', 'partial', 8, 6,
   '{"twitch": 2, "youtube": 5}', '{"youtube": 5}',
   '[{"platform": "youtube", "status": 403, "error": "QuotaExceeded", "message": "quota"},
     {"platform": "youtube", "status": 503, "error": "Unavailable", "message": "down"}]', 3000, 'timer'),
  (now() - interval '1 minute', now() - interval '59 seconds', 'failed', 0, 0,
   '{}', '{}', '[{"platform": null, "message": "OperationalError: gone"}]', 500, 'timer'),
  (now() - interval '2 hours', now() - interval '2 hours', 'succeeded', 1, 1,
   '{"twitch": 9}', '{}', '[]', 100, 'timer');

select is(
  (select array_agg(status order by started_at desc) from ops.monitor_runs_recent(3)),
  array['failed', 'partial', 'succeeded'],
  'monitor_runs_recent lists the newest runs first, as many as asked'
);
select is(
  (select failures from ops.monitor_runs_recent(3) where status = 'partial'),
  '{"youtube": 2}'::jsonb,
  'failures are counted per platform'
);
select is(
  (select failures from ops.monitor_runs_recent(3) where status = 'failed'),
  '{"database": 1}'::jsonb,
  'an error without a platform counts under database'
);
select is(
  (select count(*)::int from ops.monitor_runs_recent(-5)),
  1,
  'a limit below 1 is taken as 1'
);
select results_eq(
  $$ select platform, runs, runs_with_errors, failed_runs, requests, quota_units
     from ops.monitor_summary(now() - interval '1 hour') $$,
  $$ values ('*'::text, 3::bigint, 2::bigint, 1::bigint, 12::bigint, 8::bigint),
            ('twitch', 2, 0, 0, 4, 0),
            ('youtube', 2, 1, 0, 8, 8) $$,
  'monitor_summary: every run under *, then per platform: runs, errors, requests, quota'
);
select is(
  (select duration_p50_ms from ops.monitor_summary(now() - interval '1 hour') where platform = '*'),
  1000::double precision,
  'the duration median of the last hour'
);
select is(
  (select samples_written from ops.monitor_summary(now() - interval '1 hour') where platform = '*'),
  16::bigint,
  'samples written in the last hour'
);

select ok(
  exists (select 1 from ops.sample_partitions()
          where partition_name = 'partitions.viewer_samples_default' and range_bound = 'DEFAULT'),
  'sample_partitions lists the default partition'
);
select ok(
  (select bool_and(total_bytes > 0 and total_size is not null) from ops.sample_partitions()),
  'each partition has a size'
);

-- pg_stat_statements is installed and preloaded (as on Supabase): it answers, at
-- most as many rows as asked, costliest first.
select ok(
  (select count(*) from ops.slow_statements(3)) between 1 and 3,
  'slow_statements answers from pg_stat_statements, as many as asked'
);
select ok(
  (select (d -> 'pg_stat_statements')::boolean
          and jsonb_array_length(d -> 'recent_runs') = 4
          and jsonb_array_length(d -> 'monitor_last_hour') = 3
   from ops.overview() d),
  'overview gathers it all in one document'
);

select * from finish();
rollback;
