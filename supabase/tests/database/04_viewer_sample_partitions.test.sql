-- viewer_samples partitions: one per UTC day in schema `partitions`,
-- maintained by public.manage_viewer_sample_partitions() (idempotent),
-- with a default partition catching rows outside the daily window.
begin;
create extension if not exists pgtap with schema extensions;
select plan(20);

create function pg_temp.partition_exists(name text)
  returns boolean language sql stable as $$
  select exists (
    select 1 from pg_catalog.pg_class c
    where c.relnamespace = 'partitions'::regnamespace and c.relname = partition_exists.name
  )
$$;

create function pg_temp.day_partition(day date)
  returns text language sql immutable as $$
  select 'viewer_samples_p' || to_char(day, 'YYYYMMDD')
$$;

create temporary table today_utc as select (now() at time zone 'UTC')::date as d;

-- A channel to write samples for.
insert into public.channels (id, platform, platform_channel_id)
values ('0000000c-0000-4000-8000-0000000000c1', 'twitch', 'partition-test');

-- ---------------------------------------------------------------------------
-- Creating partitions
-- ---------------------------------------------------------------------------
-- Whatever day the migration ran, one call brings the window up to date.
select lives_ok($$select public.manage_viewer_sample_partitions(7)$$, 'the maintenance function runs');

select ok(
  (select bool_and(pg_temp.partition_exists(pg_temp.day_partition(d + i)))
   from today_utc, generate_series(0, 7) as i),
  'partitions exist for today and the next 7 UTC days'
);
select is_empty(
  $$select * from public.manage_viewer_sample_partitions(7)$$,
  'a second call does nothing (idempotent)'
);

-- Partitions not existing yet within 10 days ahead, recorded before the call.
create temporary table expected_new as
  select pg_temp.day_partition(d + i) as name
  from today_utc, generate_series(0, 10) as i
  where not pg_temp.partition_exists(pg_temp.day_partition(d + i));

select set_eq(
  $$select partition_name from public.manage_viewer_sample_partitions(10) where action = 'created'$$,
  $$select name from expected_new$$,
  'a wider window creates exactly the missing days'
);

select is(
  (select pg_get_expr(c.relpartbound, c.oid) from pg_catalog.pg_class c, today_utc
   where c.relnamespace = 'partitions'::regnamespace and c.relname = pg_temp.day_partition(d)),
  (select format('FOR VALUES FROM (%L) TO (%L)',
                 (d::timestamp at time zone 'UTC')::text,
                 ((d + 1)::timestamp at time zone 'UTC')::text) from today_utc),
  'a partition covers exactly one UTC day'
);

select ok(
  (select bool_and(c.relrowsecurity) from pg_catalog.pg_class c
   where c.relnamespace = 'partitions'::regnamespace and c.relkind = 'r'),
  'every partition has row level security enabled (no policy: deny all)'
);

-- A sample of now lands in today's partition.
insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live)
values ('0000000c-0000-4000-8000-0000000000c1', now(), 42, true);
select is(
  (select tableoid::regclass::text from public.viewer_samples
   where channel_id = '0000000c-0000-4000-8000-0000000000c1'),
  (select 'partitions.' || pg_temp.day_partition(d) from today_utc),
  'a current sample is stored in today''s partition'
);

-- ---------------------------------------------------------------------------
-- The default partition
-- ---------------------------------------------------------------------------
insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live)
select '0000000c-0000-4000-8000-0000000000c1', (d + 40)::timestamp at time zone 'UTC' + interval '12 hours', 7, false
from today_utc;
select is(
  (select tableoid::regclass::text from public.viewer_samples
   where channel_id = '0000000c-0000-4000-8000-0000000000c1' and viewer_count = 7),
  'partitions.viewer_samples_default',
  'a sample outside the daily window is kept in the default partition'
);

select set_eq(
  $$select action from public.manage_viewer_sample_partitions(40)
    where partition_name = (select pg_temp.day_partition(d + 40) from today_utc)$$,
  array['created', 'moved_from_default'],
  'creating that day''s partition succeeds although the default holds rows of it, and says so'
);
select is(
  (select tableoid::regclass::text from public.viewer_samples
   where channel_id = '0000000c-0000-4000-8000-0000000000c1' and viewer_count = 7),
  (select 'partitions.' || pg_temp.day_partition(d + 40) from today_utc),
  'the waiting row moved from the default partition into its day'
);

-- ---------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------
create table partitions.viewer_samples_p20200101 partition of public.viewer_samples
  for values from ('2020-01-01 00:00:00+00') to ('2020-01-02 00:00:00+00');
insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live) values
  ('0000000c-0000-4000-8000-0000000000c1', '2020-01-01 10:00:00+00', 1, true),
  -- no partition for this day: it sits in the default partition
  ('0000000c-0000-4000-8000-0000000000c1', '2019-06-01 10:00:00+00', 2, true);

create temporary table maintenance_result as
  select * from public.manage_viewer_sample_partitions(7, 30);

select ok(
  exists (select 1 from maintenance_result
          where action = 'dropped' and partition_name = 'viewer_samples_p20200101'
            and range_start = '2020-01-01 00:00:00+00' and range_end = '2020-01-02 00:00:00+00'),
  'a partition past retention is reported dropped'
);
select ok(not pg_temp.partition_exists('viewer_samples_p20200101'), 'and it is gone');
select ok(
  exists (select 1 from maintenance_result where action = 'purged_default'),
  'expired rows in the default partition are purged'
);
select is(
  (select count(*) from public.viewer_samples
   where channel_id = '0000000c-0000-4000-8000-0000000000c1' and observed_at < '2021-01-01'),
  0::bigint,
  'no expired sample is left'
);
select ok(
  (select bool_and(pg_temp.partition_exists(pg_temp.day_partition(d + i)))
   from today_utc, generate_series(0, 7) as i),
  'retention keeps today and the coming days'
);
select ok(
  not exists (select 1 from maintenance_result
              where action = 'dropped'
                and range_end > now() - interval '30 days'),
  'nothing within the retention window is dropped'
);

select throws_ok($$select public.manage_viewer_sample_partitions(-1)$$, '22023', null,
  'a negative days_ahead is refused');

-- ---------------------------------------------------------------------------
-- Access
-- ---------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims',
  json_build_object('sub', gen_random_uuid(), 'role', 'authenticated', 'aal', 'aal1')::text, true);

select throws_ok(
  format('select * from partitions.%I',
         'viewer_samples_p' || to_char((now() at time zone 'UTC')::date, 'YYYYMMDD')),
  '42501', null,
  'clients cannot query a partition directly (and so cannot bypass the parent''s RLS)'
);
select throws_ok($$select public.manage_viewer_sample_partitions()$$, '42501', null,
  'clients cannot run partition maintenance');

reset role;
select set_config('request.jwt.claims', '', true);

set local role service_role;
select lives_ok($$select public.manage_viewer_sample_partitions()$$,
  'service_role runs partition maintenance');
reset role;

select * from finish();
rollback;
