-- Retention of the raw viewer samples, per team plan.
--
-- A channel's samples are kept as long as the longest-retaining team
-- tracking it needs them: from as_of - max(plans.retention_days) over the
-- teams tracking the channel (paused included: their history stays
-- readable). A daily partition is dropped only when no row in it is still
-- kept for any channel. Channels no team tracks have nobody to keep their
-- samples, but nothing younger than the shortest retention any plan offers
-- is ever removed, so a channel removed by mistake and added back within
-- that time keeps its recent history; partitions of today and the coming
-- days are therefore never touched.
--
-- Rows in the default partition (late backfills) are purged row by row with
-- the same rule. Rollups (channel_rollups_hourly/daily) are not touched:
-- they outlive the raw samples by design.
--
-- manage_viewer_sample_partitions() (creating the coming days' partitions,
-- dropping those past the longest retention of any plan) stays as it is;
-- the retention timer (shared/retention.py) calls it, then this function.

create function public.apply_viewer_sample_retention(as_of timestamptz default now())
  returns table (
    action text,
    partition_name text,
    range_start timestamptz,
    range_end timestamptz,
    row_count bigint
  )
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
declare
  v_floor timestamptz;
  v_channels uuid[];
  v_keep_from timestamptz[];
  v_partition record;
  v_day date;
  v_needed boolean;
  v_rows bigint;
begin
  if apply_viewer_sample_retention.as_of is null then
    raise exception using errcode = 'invalid_parameter_value', message = 'as_of must not be null';
  end if;
  v_floor := apply_viewer_sample_retention.as_of
             - make_interval(days => coalesce((select min(p.retention_days) from public.plans p), 7));

  -- Per tracked channel: the oldest sample still kept for some team.
  select array_agg(k.channel_id), array_agg(k.keep_from)
  into v_channels, v_keep_from
  from (
    select tc.channel_id,
           apply_viewer_sample_retention.as_of - make_interval(days => max(p.retention_days)) as keep_from
    from public.team_channels tc
    join public.teams t on t.id = tc.team_id
    join public.plans p on p.id = t.plan_id
    group by tc.channel_id
  ) k;
  v_channels := coalesce(v_channels, '{}');
  v_keep_from := coalesce(v_keep_from, '{}');

  -- 1. Daily partitions lying wholly before the floor, none of whose rows
  --    any team keeps. One index probe (channel_id, observed_at) per channel
  --    whose kept window reaches into the day.
  for v_partition in
    select c.relname
    from pg_catalog.pg_inherits inh
    join pg_catalog.pg_class c on c.oid = inh.inhrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where inh.inhparent = 'public.viewer_samples'::regclass
      and n.nspname = 'partitions'
      and c.relname ~ '^viewer_samples_p[0-9]{8}$'
    order by c.relname
  loop
    v_day := to_date(substr(v_partition.relname, length('viewer_samples_p') + 1), 'YYYYMMDD');
    range_start := v_day::timestamp at time zone 'UTC';
    range_end := (v_day + 1)::timestamp at time zone 'UTC';
    continue when range_end > v_floor;

    execute format(
      'select exists (
         select 1 from unnest($1::uuid[], $2::timestamptz[]) as k(channel_id, keep_from)
         where k.keep_from < $3
           and exists (select 1 from partitions.%I s
                       where s.channel_id = k.channel_id and s.observed_at >= k.keep_from))',
      v_partition.relname)
    into v_needed
    using v_channels, v_keep_from, range_end;
    continue when v_needed;

    execute format('drop table partitions.%I', v_partition.relname);
    action := 'dropped'; partition_name := v_partition.relname; row_count := null;
    return next;
  end loop;

  -- 2. Rows of the default partition that no team keeps.
  delete from partitions.viewer_samples_default d
  where d.observed_at < v_floor
    and not exists (
      select 1 from unnest(v_channels, v_keep_from) as k(channel_id, keep_from)
      where k.channel_id = d.channel_id and d.observed_at >= k.keep_from);
  get diagnostics v_rows = row_count;
  if v_rows > 0 then
    action := 'purged_default'; partition_name := 'viewer_samples_default';
    range_start := null; range_end := v_floor; row_count := v_rows;
    return next;
  end if;
end;
$$;
comment on function public.apply_viewer_sample_retention(timestamptz) is
  'Drops the viewer_samples partitions (and default-partition rows) no team''s plan retention keeps any more; rollups are kept. Backend only.';
revoke all on function public.apply_viewer_sample_retention(timestamptz) from public, anon, authenticated;
grant execute on function public.apply_viewer_sample_retention(timestamptz) to service_role;
