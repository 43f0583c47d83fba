-- Retention: apply_viewer_sample_retention() drops the viewer_samples
-- partitions (and default-partition rows) that no team's plan keeps any
-- more, and nothing else. Free keeps 7 days, Pro 90, Business 365.
begin;
create extension if not exists pgtap with schema extensions;
select plan(20);

create temporary table today_utc as select (now() at time zone 'UTC')::date as d;

create function pg_temp.day_partition(days_ago integer)
  returns text language sql stable as $$
  select 'viewer_samples_p' || to_char((select d from today_utc) - days_ago, 'YYYYMMDD')
$$;

create function pg_temp.partition_exists(days_ago integer)
  returns boolean language sql stable as $$
  select exists (
    select 1 from pg_catalog.pg_class c
    where c.relnamespace = 'partitions'::regnamespace and c.relname = pg_temp.day_partition(days_ago))
$$;

-- A past day's partition, built the way manage_viewer_sample_partitions()
-- builds the coming ones.
create function pg_temp.make_past_partition(days_ago integer)
  returns void language plpgsql as $$
declare
  v_day date := (select d from today_utc) - days_ago;
  v_name text := pg_temp.day_partition(days_ago);
  v_from timestamptz := v_day::timestamp at time zone 'UTC';
  v_to timestamptz := (v_day + 1)::timestamp at time zone 'UTC';
begin
  if pg_temp.partition_exists(days_ago) then
    return;
  end if;
  execute format('create table partitions.%I (like public.viewer_samples including defaults including constraints)', v_name);
  execute format('with moved as (delete from partitions.viewer_samples_default d
                  where d.observed_at >= $1 and d.observed_at < $2 returning d.*)
                  insert into partitions.%I select * from moved', v_name) using v_from, v_to;
  execute format('alter table public.viewer_samples attach partition partitions.%I for values from (%L) to (%L)',
                 v_name, v_from, v_to);
end $$;

-- One sample of a channel, days_ago days back at noon UTC.
create function pg_temp.sample(channel uuid, days_ago integer)
  returns void language sql as $$
  insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live)
  values (channel, ((select d from today_utc) - days_ago)::timestamp at time zone 'UTC' + interval '12 hours', 5, true)
$$;

-- ---------------------------------------------------------------------------
-- Teams and channels. cf: free team; cp: pro team; cb: business team;
-- cs: shared by the free team and the business team (paused there);
-- cu: tracked by nobody.
-- ---------------------------------------------------------------------------
select tests.create_user('e1000000-0000-4000-8000-000000000001', 'owner@ret.test');
insert into public.teams (id, name, plan_id, created_by) values
  ('e0000000-0000-4000-8000-00000000000f', 'Ret Free', 'free', 'e1000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-00000000000a', 'Ret Pro', 'pro', 'e1000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-00000000000b', 'Ret Business', 'business', 'e1000000-0000-4000-8000-000000000001');
insert into public.channels (id, platform, platform_channel_id) values
  ('ec000000-0000-4000-8000-00000000000f', 'twitch', 'ret-cf'),
  ('ec000000-0000-4000-8000-00000000000a', 'twitch', 'ret-cp'),
  ('ec000000-0000-4000-8000-00000000000b', 'twitch', 'ret-cb'),
  ('ec000000-0000-4000-8000-000000000005', 'twitch', 'ret-cs'),
  ('ec000000-0000-4000-8000-00000000000e', 'twitch', 'ret-cu');
insert into public.team_channels (team_id, channel_id, paused_at) values
  ('e0000000-0000-4000-8000-00000000000f', 'ec000000-0000-4000-8000-00000000000f', null),
  ('e0000000-0000-4000-8000-00000000000a', 'ec000000-0000-4000-8000-00000000000a', null),
  ('e0000000-0000-4000-8000-00000000000b', 'ec000000-0000-4000-8000-00000000000b', null),
  ('e0000000-0000-4000-8000-00000000000f', 'ec000000-0000-4000-8000-000000000005', null),
  ('e0000000-0000-4000-8000-00000000000b', 'ec000000-0000-4000-8000-000000000005', now());

create temporary table ch (name text primary key, id uuid not null);
insert into ch values
  ('cf', 'ec000000-0000-4000-8000-00000000000f'), ('cp', 'ec000000-0000-4000-8000-00000000000a'),
  ('cb', 'ec000000-0000-4000-8000-00000000000b'), ('cs', 'ec000000-0000-4000-8000-000000000005'),
  ('cu', 'ec000000-0000-4000-8000-00000000000e');
create function pg_temp.ch(label text) returns uuid language sql stable as $$
  select ch.id from ch where ch.name = label
$$;

-- Partitions of past days and who has samples in them.
select pg_temp.make_past_partition(n) from unnest(array[3, 10, 11, 20, 30, 50, 100, 200, 400]) as n;
select pg_temp.sample(pg_temp.ch(c), 3) from unnest(array['cf', 'cp', 'cb', 'cs', 'cu']) as c;
select pg_temp.sample(pg_temp.ch('cf'), 10);
select pg_temp.sample(pg_temp.ch('cf'), 11), pg_temp.sample(pg_temp.ch('cu'), 11);
select pg_temp.sample(pg_temp.ch('cf'), 20), pg_temp.sample(pg_temp.ch('cs'), 20);
select pg_temp.sample(pg_temp.ch('cp'), 30);
select pg_temp.sample(pg_temp.ch('cu'), 50);
select pg_temp.sample(pg_temp.ch('cp'), 100);
select pg_temp.sample(pg_temp.ch('cb'), 200);
select pg_temp.sample(pg_temp.ch('cb'), 400);

-- Default partition: rows whose day has no partition.
create temporary table default_rows (label text primary key, channel text, days_ago integer);
insert into default_rows values
  ('cf-12', 'cf', 12), ('cu-12', 'cu', 12), ('cs-12', 'cs', 12), ('cp-60', 'cp', 60),
  ('cp-95', 'cp', 95), ('cb-300', 'cb', 300), ('cb-380', 'cb', 380), ('cu-2', 'cu', 2);
select pg_temp.sample(pg_temp.ch(channel), days_ago) from default_rows;
select is(
  (select count(*)::int from partitions.viewer_samples_default v
   where v.channel_id in (select id from ch)),
  8, 'the default partition holds the eight back-filled rows'
);

-- Rollups of a channel whose samples go: they stay.
insert into public.channel_rollups_daily (channel_id, day, live_seconds, viewer_seconds)
values (pg_temp.ch('cf'), (select d from today_utc) - 10, 60, 300);
insert into public.channel_rollups_hourly (channel_id, hour, live_seconds, viewer_seconds)
values (pg_temp.ch('cf'), ((select d from today_utc) - 10)::timestamp at time zone 'UTC', 60, 300);

-- ---------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------
create temporary table result as select * from public.apply_viewer_sample_retention();

select set_eq(
  $$select partition_name from result where action = 'dropped'$$,
  $$select pg_temp.day_partition(n) from unnest(array[10, 11, 50, 100, 400]) as n$$,
  'exactly the partitions no team keeps are dropped'
);
select ok(not pg_temp.partition_exists(10), 'free-only day 10 is gone (free keeps 7 days)');
select ok(not pg_temp.partition_exists(11), 'day 11 of a free channel and an untracked one is gone');
select ok(not pg_temp.partition_exists(50), 'a day holding only an untracked channel is gone');
select ok(not pg_temp.partition_exists(100), 'pro day 100 is gone (pro keeps 90 days)');
select ok(not pg_temp.partition_exists(400), 'business day 400 is gone (business keeps 365 days)');
select ok(pg_temp.partition_exists(3), 'day 3 stays: within every retention');
select ok(pg_temp.partition_exists(20), 'day 20 stays: a free channel''s day, but a shared channel the business team (paused) keeps is in it');
select ok(pg_temp.partition_exists(30), 'pro day 30 stays');
select ok(pg_temp.partition_exists(200), 'business day 200 stays');
select is(
  (select count(*)::int from public.viewer_samples
   where channel_id = pg_temp.ch('cf') and observed_at >= (select d from today_utc) - 21
     and observed_at < (select d from today_utc) - 19),
  1, 'a kept partition keeps all its rows, the free channel''s too'
);

select set_eq(
  $$select r.label from default_rows r
    join public.viewer_samples v on v.channel_id = pg_temp.ch(r.channel)
     and v.observed_at = ((select d from today_utc) - r.days_ago)::timestamp at time zone 'UTC' + interval '12 hours'$$,
  $$values ('cs-12'), ('cp-60'), ('cb-300'), ('cu-2')$$,
  'default partition: only the rows some team still keeps remain (untracked ones within the floor)'
);
select is(
  (select row_count from result where action = 'purged_default'), 4::bigint,
  'the purge reports the four rows it deleted'
);

select is(
  (select count(*)::int from public.channel_rollups_daily where channel_id = pg_temp.ch('cf')), 1,
  'daily rollups stay'
);
select is(
  (select count(*)::int from public.channel_rollups_hourly where channel_id = pg_temp.ch('cf')), 1,
  'hourly rollups stay'
);
select ok(
  (select bool_and(exists (
     select 1 from pg_catalog.pg_class c
     where c.relnamespace = 'partitions'::regnamespace
       and c.relname = 'viewer_samples_p' || to_char(d + i, 'YYYYMMDD')))
   from today_utc, generate_series(0, 2) as i),
  'today''s and the coming days'' partitions are untouched'
);
select is_empty(
  $$select * from public.apply_viewer_sample_retention()$$,
  'a second run finds nothing more to drop'
);

-- A team upgrading is covered too: the free team moves to pro, and its
-- channel's older days are kept from then on.
update public.teams set plan_id = 'pro' where id = 'e0000000-0000-4000-8000-00000000000f';
select pg_temp.make_past_partition(40);
select pg_temp.sample(pg_temp.ch('cf'), 40);
select is_empty(
  $$select * from public.apply_viewer_sample_retention()$$,
  'after an upgrade to pro, day 40 of its channel is kept'
);

select ok(
  not has_function_privilege('authenticated', 'public.apply_viewer_sample_retention(timestamptz)', 'execute')
  and not has_function_privilege('anon', 'public.apply_viewer_sample_retention(timestamptz)', 'execute'),
  'clients cannot run the retention'
);

select * from finish();
rollback;
