-- Channels and monitoring data.
--
-- A channel is stored once per (platform, platform_channel_id) and shared by
-- every team tracking it (team_channels), so the monitor polls it once. All
-- monitoring data (status, sessions, samples, stats) hangs off the channel
-- and is readable by the members of any team tracking that channel.
-- Monitoring tables are written by the backend only: RLS is on with no write
-- policy AND clients hold no write privilege (defence in depth).

-- ---------------------------------------------------------------------------
-- channels
-- ---------------------------------------------------------------------------
create table public.channels (
  id uuid primary key default gen_random_uuid(),
  platform public.platform not null,
  -- Twitch user id, YouTube channel id (UC...), Rumble user/channel id
  platform_channel_id text not null check (char_length(platform_channel_id) between 1 and 128),
  -- Twitch login, YouTube @handle, Rumble slug
  handle text null check (char_length(handle) <= 128),
  display_name text null check (char_length(display_name) <= 200),
  url text null check (char_length(url) <= 2048),
  avatar_url text null check (char_length(avatar_url) <= 2048),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (platform, platform_channel_id)
);
create index channels_platform_handle_idx on public.channels (platform, lower(handle));

create trigger channels_set_updated_at before update on public.channels
  for each row execute function public.set_updated_at();

-- ---------------------------------------------------------------------------
-- team_channels: which team tracks which channel
-- ---------------------------------------------------------------------------
create table public.team_channels (
  team_id uuid not null references public.teams (id) on delete cascade,
  channel_id uuid not null references public.channels (id) on delete cascade,
  added_by uuid default auth.uid() references auth.users (id) on delete set null,
  added_at timestamptz not null default now(),
  -- set: this team stopped polling the channel (history stays readable)
  paused_at timestamptz null,
  primary key (team_id, channel_id)
);
-- readable_channel_ids() and the channel foreign key look up by channel.
create index team_channels_channel_id_idx on public.team_channels (channel_id, team_id);
create index team_channels_added_by_idx on public.team_channels (added_by);

-- ---------------------------------------------------------------------------
-- channel_credentials: secrets (e.g. a Rumble Livestream API key), encrypted
-- by the backend. Clients hold no privilege at all; RLS on, no policy.
-- ---------------------------------------------------------------------------
create table public.channel_credentials (
  channel_id uuid primary key references public.channels (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z0-9_]{0,63}$'),
  ciphertext bytea not null,
  nonce bytea not null,
  -- which backend encryption key sealed it, for key rotation
  key_version integer not null check (key_version > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger channel_credentials_set_updated_at before update on public.channel_credentials
  for each row execute function public.set_updated_at();

-- ---------------------------------------------------------------------------
-- stream_sessions: one row per live broadcast
-- ---------------------------------------------------------------------------
create table public.stream_sessions (
  id bigint generated always as identity primary key,
  channel_id uuid not null references public.channels (id) on delete cascade,
  platform_stream_id text not null check (char_length(platform_stream_id) between 1 and 128),
  title text null,
  category text null,
  started_at timestamptz not null,
  -- null while the stream is live
  ended_at timestamptz null,
  last_seen_at timestamptz not null,
  -- viewer figures cover only samples with a known count (null = hidden)
  peak_viewers integer null check (peak_viewers >= 0),
  avg_viewers numeric null check (avg_viewers >= 0),
  -- sum of viewer_count x seconds between known samples
  viewer_seconds numeric not null default 0 check (viewer_seconds >= 0),
  hours_watched numeric generated always as (viewer_seconds / 3600) stored,
  sample_count integer not null default 0 check (sample_count >= 0),
  known_viewer_sample_count integer not null default 0 check (known_viewer_sample_count >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (channel_id, platform_stream_id),
  check (ended_at is null or ended_at >= started_at),
  check (known_viewer_sample_count <= sample_count)
);
create index stream_sessions_channel_started_idx on public.stream_sessions (channel_id, started_at desc);
-- at most one open session per channel
create unique index stream_sessions_one_open_per_channel_idx
  on public.stream_sessions (channel_id) where ended_at is null;

create trigger stream_sessions_set_updated_at before update on public.stream_sessions
  for each row execute function public.set_updated_at();

-- ---------------------------------------------------------------------------
-- viewer_samples: the high-volume time series, partitioned by UTC day.
--
-- Partitions live in schema `partitions`, which the API roles cannot use:
-- a client querying a partition directly would skip the parent's RLS, and
-- `supabase gen types` for `public` would change every day otherwise.
-- RLS is also enabled on every partition (no policy) as a second lock.
-- ---------------------------------------------------------------------------
create schema partitions;
comment on schema partitions is
  'Partitions of public tables. Not exposed to the API roles: query the parent tables.';
revoke all on schema partitions from public;

create table public.viewer_samples (
  channel_id uuid not null references public.channels (id) on delete cascade,
  observed_at timestamptz not null,
  -- null: the platform hides the count (unknown is not 0)
  viewer_count integer null check (viewer_count >= 0),
  session_id bigint null references public.stream_sessions (id) on delete set null,
  is_live boolean not null,
  primary key (channel_id, observed_at)
) partition by range (observed_at);
create index viewer_samples_session_id_idx on public.viewer_samples (session_id)
  where session_id is not null;

-- The default partition catches rows outside the daily partitions (a late
-- backfill, or the daily maintenance not having run for a while), so the
-- monitor never loses a sample to "no partition of relation found".
-- manage_viewer_sample_partitions() moves such rows into their day's
-- partition when it creates it, and purges those past retention.
create table partitions.viewer_samples_default partition of public.viewer_samples default;
alter table partitions.viewer_samples_default enable row level security;

-- Creates the partitions for today .. today + days_ahead (UTC days) that do
-- not exist yet, and drops the partitions lying entirely before
-- now() - retention_days (default: the longest retention any plan offers).
-- Idempotent: call it daily, or at the start of every monitor run.
-- Returns one row per action taken: 'created', 'moved_from_default' (rows
-- of a new partition's day were waiting in the default partition),
-- 'dropped', 'purged_default' (expired rows deleted from the default).
create function public.manage_viewer_sample_partitions(
  days_ahead integer default 7,
  retention_days integer default null
)
  returns table (action text, partition_name text, range_start timestamptz, range_end timestamptz)
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
declare
  v_retention integer;
  v_today date := (now() at time zone 'UTC')::date;
  v_cutoff timestamptz;
  v_day date;
  v_name text;
  v_from timestamptz;
  v_to timestamptz;
  v_rows bigint;
  v_partition record;
begin
  v_retention := coalesce(
    manage_viewer_sample_partitions.retention_days,
    (select max(p.retention_days) from public.plans p),
    7
  );
  if manage_viewer_sample_partitions.days_ahead is null
     or manage_viewer_sample_partitions.days_ahead not between 0 and 366 then
    raise exception using errcode = 'invalid_parameter_value', message = 'days_ahead must be between 0 and 366';
  end if;
  if v_retention < 1 then
    raise exception using errcode = 'invalid_parameter_value', message = 'retention_days must be at least 1';
  end if;
  v_cutoff := now() - make_interval(days => v_retention);

  -- 1. Upcoming partitions. Each is built as a plain table, filled with any
  --    rows of its day waiting in the default partition, then attached
  --    (attaching fails while the default still holds rows of the range).
  for i in 0 .. manage_viewer_sample_partitions.days_ahead loop
    v_day := v_today + i;
    v_name := 'viewer_samples_p' || to_char(v_day, 'YYYYMMDD');
    v_from := v_day::timestamp at time zone 'UTC';
    v_to := (v_day + 1)::timestamp at time zone 'UTC';

    continue when exists (
      select 1
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'partitions' and c.relname = v_name
    );

    execute format(
      'create table partitions.%I (like public.viewer_samples including defaults including constraints)',
      v_name);
    execute format(
      'with moved as (
         delete from partitions.viewer_samples_default d
         where d.observed_at >= $1 and d.observed_at < $2
         returning d.*)
       insert into partitions.%I select * from moved',
      v_name) using v_from, v_to;
    get diagnostics v_rows = row_count;
    execute format(
      'alter table public.viewer_samples attach partition partitions.%I for values from (%L) to (%L)',
      v_name, v_from, v_to);
    execute format('alter table partitions.%I enable row level security', v_name);

    action := 'created'; partition_name := v_name; range_start := v_from; range_end := v_to;
    return next;
    if v_rows > 0 then
      action := 'moved_from_default';
      return next;
    end if;
  end loop;

  -- 2. Expired partitions: the whole day lies before the cutoff.
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
    v_from := v_day::timestamp at time zone 'UTC';
    v_to := (v_day + 1)::timestamp at time zone 'UTC';
    continue when v_to > v_cutoff;

    execute format('drop table partitions.%I', v_partition.relname);
    action := 'dropped'; partition_name := v_partition.relname; range_start := v_from; range_end := v_to;
    return next;
  end loop;

  -- 3. Expired rows that ended up in the default partition.
  delete from partitions.viewer_samples_default d where d.observed_at < v_cutoff;
  get diagnostics v_rows = row_count;
  if v_rows > 0 then
    action := 'purged_default'; partition_name := 'viewer_samples_default';
    range_start := null; range_end := v_cutoff;
    return next;
  end if;
end;
$$;
comment on function public.manage_viewer_sample_partitions(integer, integer) is
  'Creates the daily viewer_samples partitions for today..today+days_ahead (UTC) and drops those past retention. Backend only.';
revoke all on function public.manage_viewer_sample_partitions(integer, integer) from public, anon, authenticated;
grant execute on function public.manage_viewer_sample_partitions(integer, integer) to service_role;

-- Today's partition and the coming week's exist from the start.
select public.manage_viewer_sample_partitions();

-- ---------------------------------------------------------------------------
-- channel_status: the latest known state of each channel (one row each);
-- published to Supabase Realtime (Postgres Changes honours the RLS below).
-- ---------------------------------------------------------------------------
create table public.channel_status (
  channel_id uuid primary key references public.channels (id) on delete cascade,
  is_live boolean not null default false,
  platform_stream_id text null,
  title text null,
  category text null,
  -- null: unknown (hidden by the platform, or offline)
  viewer_count integer null check (viewer_count >= 0),
  started_at timestamptz null,
  session_id bigint null references public.stream_sessions (id) on delete set null,
  last_checked_at timestamptz null,
  -- when is_live last flipped
  changed_at timestamptz not null default now()
);
create index channel_status_session_id_idx on public.channel_status (session_id);

alter publication supabase_realtime add table public.channel_status;

-- ---------------------------------------------------------------------------
-- channel_stats: follower/subscriber counts over time (sampled rarely)
-- ---------------------------------------------------------------------------
create table public.channel_stats (
  channel_id uuid not null references public.channels (id) on delete cascade,
  observed_at timestamptz not null,
  followers bigint null check (followers >= 0),
  -- YouTube rounds subscriber counts
  subscribers bigint null check (subscribers >= 0),
  primary key (channel_id, observed_at)
);

-- ---------------------------------------------------------------------------
-- Channel visibility helpers
-- ---------------------------------------------------------------------------

-- Channels tracked by any team of the calling user (paused ones included:
-- their history stays readable). Policies use it as
-- `channel_id in (select public.readable_channel_ids())`, which runs it once
-- per statement instead of once per row.
create function public.readable_channel_ids()
  returns setof uuid
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select distinct tc.channel_id
  from public.team_members m
  join public.team_channels tc on tc.team_id = m.team_id
  where m.user_id = (select auth.uid())
$$;
comment on function public.readable_channel_ids() is
  'Ids of the channels tracked by the calling user''s teams.';

create function public.can_read_channel(channel_id uuid)
  returns boolean
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select exists (
    select 1
    from public.team_members m
    join public.team_channels tc on tc.team_id = m.team_id
    where m.user_id = (select auth.uid())
      and tc.channel_id = can_read_channel.channel_id
  )
$$;
comment on function public.can_read_channel(uuid) is
  'True when the channel is tracked by one of the calling user''s teams.';

revoke all on function public.readable_channel_ids() from public, anon;
revoke all on function public.can_read_channel(uuid) from public, anon;
grant execute on function public.readable_channel_ids() to authenticated, service_role;
grant execute on function public.can_read_channel(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- team_channels triggers: plan limit and audit
-- ---------------------------------------------------------------------------

-- A team tracks at most plans.max_channels channels (paused ones count).
-- Enforced here so the backend and clients share one rule; the team row is
-- locked so two concurrent adds cannot both take the last slot. After a
-- downgrade, channels over the limit stay; only new ones are refused.
create function public.enforce_team_channel_limit()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_max integer;
  v_count integer;
begin
  select p.max_channels into v_max
  from public.teams t
  join public.plans p on p.id = t.plan_id
  where t.id = new.team_id
  for no key update of t;

  if not found then
    return new;  -- no such team: the foreign key reports it
  end if;

  select count(*) into v_count from public.team_channels tc where tc.team_id = new.team_id;
  if v_count >= v_max then
    raise exception using
      errcode = 'check_violation',
      constraint = 'team_channels_plan_limit',
      message = format('the team''s plan allows at most %s channels', v_max);
  end if;
  return new;
end;
$$;
revoke all on function public.enforce_team_channel_limit() from public, anon, authenticated;

create trigger team_channels_enforce_plan_limit before insert on public.team_channels
  for each row execute function public.enforce_team_channel_limit();
create trigger team_channels_audit after insert or update or delete on public.team_channels
  for each row execute function public.audit_team_change();

-- ---------------------------------------------------------------------------
-- Privileges and row level security
-- ---------------------------------------------------------------------------
alter table public.channels enable row level security;
alter table public.team_channels enable row level security;
alter table public.channel_credentials enable row level security;
alter table public.stream_sessions enable row level security;
alter table public.viewer_samples enable row level security;
alter table public.channel_status enable row level security;
alter table public.channel_stats enable row level security;

revoke all on public.channels, public.team_channels, public.channel_credentials,
              public.stream_sessions, public.viewer_samples, public.channel_status,
              public.channel_stats
  from anon, authenticated;
revoke all on sequence public.stream_sessions_id_seq from anon, authenticated;

-- Monitoring data: read-only for clients (no write privilege, no write policy).
grant select on public.channels, public.stream_sessions, public.viewer_samples,
                public.channel_status, public.channel_stats
  to authenticated;

create policy channels_select_tracked on public.channels
  for select to authenticated
  using (id in (select public.readable_channel_ids()));

create policy stream_sessions_select_tracked on public.stream_sessions
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

create policy viewer_samples_select_tracked on public.viewer_samples
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

create policy channel_status_select_tracked on public.channel_status
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

create policy channel_stats_select_tracked on public.channel_stats
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

-- channel_credentials: no grant and no policy for clients, on purpose.

-- team_channels: read by the team; members and above add, pause/resume
-- (paused_at) and remove channels. Channels themselves are created by the
-- backend (it resolves handles against the platform APIs).
grant select, delete on public.team_channels to authenticated;
grant insert (team_id, channel_id, paused_at), update (paused_at) on public.team_channels to authenticated;

create policy team_channels_select_member on public.team_channels
  for select to authenticated
  using (public.is_team_member(team_id));

create policy team_channels_insert_member on public.team_channels
  for insert to authenticated
  with check (
    public.has_team_role(team_id, 'member')
    and public.mfa_satisfied(team_id)
    and added_by = (select auth.uid())
  );

create policy team_channels_update_member on public.team_channels
  for update to authenticated
  using (public.has_team_role(team_id, 'member') and public.mfa_satisfied(team_id))
  with check (public.has_team_role(team_id, 'member') and public.mfa_satisfied(team_id));

create policy team_channels_delete_member on public.team_channels
  for delete to authenticated
  using (public.has_team_role(team_id, 'member') and public.mfa_satisfied(team_id));
