-- Channels and monitoring: the channels teams track, their secrets, the
-- monitoring data (sessions, viewer samples and their daily partitions,
-- status, stats), the monitor's own bookkeeping and operations tables, and
-- the retention of the raw samples.
--
-- A channel is stored once per (platform, platform_channel_id) and shared by
-- every team tracking it (team_channels), so the monitor polls it once. All
-- monitoring data (status, sessions, samples, stats) hangs off the channel
-- and is readable by the members of any team tracking that channel (stats:
-- of a team whose plan has followers_history).
-- Teams start tracking through track_team_channel() only (the API calls it
-- after resolving the channel): a channel that is polled with its owner's
-- credential (channels.requires_credential) can only be tracked by a team
-- that supplied its own credential for it. Credentials belong to the team
-- that supplied them (channel_credentials is keyed by team and channel and
-- goes with that team's team_channels row).
-- Monitoring tables are written by the backend only: RLS is on with no write
-- policy AND clients hold no write privilege (defence in depth). Operations
-- tables (channel_credentials, channel_poll_state, monitor_runs,
-- platform_quota_usage) are backend only: RLS on with no policy, and the API
-- roles hold no privilege at all (not even select).
--
-- Layout: the visibility helpers first, then one section per table holding
-- the table, its indexes and triggers, then its RLS, grants and policies.

create type public.platform as enum ('twitch', 'youtube', 'rumble');

-- ---------------------------------------------------------------------------
-- Channel visibility helpers
--
-- They read team_members and team_channels (the latter created below), so
-- their bodies are checked when first called instead of now, as in the
-- tenancy migration.
-- ---------------------------------------------------------------------------
set check_function_bodies = off;

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
revoke all on function public.readable_channel_ids() from public, anon;
grant execute on function public.readable_channel_ids() to authenticated, service_role;

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
revoke all on function public.can_read_channel(uuid) from public, anon;
grant execute on function public.can_read_channel(uuid) to authenticated, service_role;

-- Channels tracked by one of the calling user's teams whose plan has the
-- feature (public.team_has_feature). Used as readable_channel_ids() is, by
-- the policies and functions that serve a plan feature.
create function public.channel_ids_with_feature(feature text)
  returns setof uuid
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select distinct tc.channel_id
  from public.team_members m
  join public.teams t on t.id = m.team_id
  join public.plans p on p.id = t.plan_id
  join public.team_channels tc on tc.team_id = m.team_id
  where m.user_id = (select auth.uid())
    and p.features -> channel_ids_with_feature.feature = 'true'::jsonb
$$;
comment on function public.channel_ids_with_feature(text) is
  'Ids of the channels tracked by the calling user''s teams whose plan has the feature.';
revoke all on function public.channel_ids_with_feature(text) from public, anon;
grant execute on function public.channel_ids_with_feature(text) to authenticated, service_role;

reset check_function_bodies;

-- ---------------------------------------------------------------------------
-- channels: created by the backend (it resolves handles against the
-- platform APIs); read by the members of the teams tracking them.
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
  -- polled with its owner's credential (a Rumble key): set by the backend
  -- from the platform's spec; a team tracks such a channel only with a
  -- credential of its own (track_team_channel, channel_credentials)
  requires_credential boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (platform, platform_channel_id)
);
create index channels_platform_handle_idx on public.channels (platform, lower(handle));

create trigger channels_set_updated_at before update on public.channels
  for each row execute function public.set_updated_at();

alter table public.channels enable row level security;
revoke all on public.channels from anon, authenticated;
grant select on public.channels to authenticated;

create policy channels_select_tracked on public.channels
  for select to authenticated
  using (id in (select public.readable_channel_ids()));

-- ---------------------------------------------------------------------------
-- team_channels: which team tracks which channel. Members and above add
-- (through track_team_channel()), pause/resume (paused_at) and remove
-- channels; the team's plan caps them.
-- ---------------------------------------------------------------------------
create table public.team_channels (
  team_id uuid not null references public.teams (id) on delete cascade,
  channel_id uuid not null references public.channels (id) on delete cascade,
  added_by uuid default auth.uid() references auth.users (id) on delete set null,
  added_at timestamptz not null default now(),
  -- set: this team stopped polling the channel (history stays readable)
  paused_at timestamptz null,
  -- true when the backend paused the row because the team's plan shrank
  -- below its channel count. An upgrade resumes only those rows; a channel
  -- a member paused stays paused. Clients cannot write the column (no
  -- column grant); enforce_team_channel_resume_limit() clears it whenever a
  -- row is resumed.
  paused_by_plan boolean not null default false,
  primary key (team_id, channel_id)
);
comment on column public.team_channels.paused_by_plan is
  'Set by the backend when a downgrade paused this channel; an upgrade resumes these first.';
-- readable_channel_ids() and the channel foreign key look up by channel.
create index team_channels_channel_id_idx on public.team_channels (channel_id, team_id);
create index team_channels_added_by_idx on public.team_channels (added_by);

-- A team tracks at most plans.max_channels channels (paused ones count).
-- Enforced here so the backend and track_team_channel() share one rule; the
-- team row is locked so two concurrent adds cannot both take the last slot.
-- Clients cannot insert rows themselves, so this runs only after
-- track_team_channel() has checked the caller's membership: an outsider
-- never learns a team's limit nor locks its row. After a downgrade,
-- channels over the limit stay; only new ones are refused.
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

-- Resuming a paused channel counts against the plan like adding one: the
-- plan limits the channels actually tracked (not paused), so a member
-- cannot resume every channel the backend paused on a downgrade. (Updates
-- reach only rows the update policy lets through, so this never runs for
-- another team's row.)
create function public.enforce_team_channel_resume_limit()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_max integer;
  v_active integer;
begin
  if new.paused_at is null then
    new.paused_by_plan := false;
  end if;

  if not (old.paused_at is not null and new.paused_at is null) then
    return new;
  end if;

  -- The same lock the insert trigger and the billing backend take, so a
  -- resume and a plan change of one team never interleave.
  select p.max_channels into v_max
  from public.teams t
  join public.plans p on p.id = t.plan_id
  where t.id = new.team_id
  for no key update of t;

  select count(*) into v_active
  from public.team_channels tc
  where tc.team_id = new.team_id and tc.paused_at is null;

  if v_active >= v_max then
    raise exception using
      errcode = 'check_violation',
      constraint = 'team_channels_plan_limit',
      message = format('the team''s plan allows at most %s tracked channels', v_max);
  end if;
  return new;
end;
$$;
revoke all on function public.enforce_team_channel_resume_limit() from public, anon, authenticated;

create trigger team_channels_enforce_resume_limit before update of paused_at on public.team_channels
  for each row execute function public.enforce_team_channel_resume_limit();

create trigger team_channels_audit after insert or update or delete on public.team_channels
  for each row execute function public.audit_team_change();

-- Readable by the team; paused/resumed and removed by members and up. No
-- client inserts: tracking starts through track_team_channel().
alter table public.team_channels enable row level security;
revoke all on public.team_channels from anon, authenticated;
grant select, delete on public.team_channels to authenticated;
grant update (paused_at) on public.team_channels to authenticated;

create policy team_channels_select_member on public.team_channels
  for select to authenticated
  using (public.is_team_member(team_id));

create policy team_channels_update_member on public.team_channels
  for update to authenticated
  using (public.has_team_role(team_id, 'member') and public.mfa_satisfied(team_id))
  with check (public.has_team_role(team_id, 'member') and public.mfa_satisfied(team_id));

create policy team_channels_delete_member on public.team_channels
  for delete to authenticated
  using (public.has_team_role(team_id, 'member') and public.mfa_satisfied(team_id));

-- ---------------------------------------------------------------------------
-- channel_credentials: secrets (e.g. a Rumble Livestream API key), encrypted
-- by the backend (AES-GCM, the channel id as associated data). One per team
-- and channel: a credential belongs to the team that supplied it, and its
-- foreign key to that team's team_channels row removes it the moment the
-- team stops tracking the channel (or is deleted). The monitor polls a
-- channel with a credential of a team that tracks it and has not paused it
-- (shared/monitor/store.py). Clients hold no privilege at all; RLS on, no
-- policy.
-- ---------------------------------------------------------------------------
create table public.channel_credentials (
  channel_id uuid not null,
  team_id uuid not null,
  kind text not null check (kind ~ '^[a-z][a-z0-9_]{0,63}$'),
  ciphertext bytea not null,
  nonce bytea not null,
  -- which backend encryption key sealed it, for key rotation
  key_version integer not null check (key_version > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (channel_id, team_id),
  -- Deferred: the backend stores the credential first, then the team starts
  -- tracking (track_team_channel() checks that the credential is there); a
  -- credential whose team does not track the channel by commit is refused.
  -- The cascade itself is never deferred.
  constraint channel_credentials_tracking_fkey foreign key (team_id, channel_id)
    references public.team_channels (team_id, channel_id) on delete cascade
    deferrable initially deferred
);

create trigger channel_credentials_set_updated_at before update on public.channel_credentials
  for each row execute function public.set_updated_at();

alter table public.channel_credentials enable row level security;
revoke all on public.channel_credentials from anon, authenticated;
-- No grant and no policy for clients, on purpose.

-- track_team_channel(team_id, channel_id): the only way a team starts
-- tracking a channel (the API resolves the channel, writes the shared
-- channels row and any credential on the service side, then calls this as
-- the user). Checks, in this order, so nothing is revealed to outsiders:
--   42501 insufficient_privilege  not a member of the team (the same answer
--                                 as for no such team), a viewer, or the
--                                 team's MFA rule
--   P0002 no_data_found           no such channel
--   42501 insufficient_privilege  the channel is polled with its owner's
--                                 credential and this team supplied none
--   23514 check_violation         the plan's channel limit (the trigger)
-- Returns true when the team now tracks the channel, false when it did
-- already. added_by is the caller.
create function public.track_team_channel(team_id uuid, channel_id uuid)
  returns boolean
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
declare
  v_requires_credential boolean;
begin
  perform public.assert_team_role(track_team_channel.team_id, 'member', 'add channels');

  select c.requires_credential into v_requires_credential
  from public.channels c where c.id = track_team_channel.channel_id;
  if not found then
    raise exception using errcode = 'no_data_found', message = 'no such channel';
  end if;
  if v_requires_credential and not exists (
    select 1 from public.channel_credentials cr
    where cr.channel_id = track_team_channel.channel_id
      and cr.team_id = track_team_channel.team_id
  ) then
    raise exception using errcode = 'insufficient_privilege',
      message = 'this channel is polled with its owner''s credential, and your team has not supplied one',
      hint = 'add the channel through the API with its API key';
  end if;

  -- Checked first: the plan-limit trigger would refuse a full team even
  -- for a channel it tracks already. (Two concurrent adds of one channel:
  -- the second fails on the primary key.)
  if exists (
    select 1 from public.team_channels tc
    where tc.team_id = track_team_channel.team_id and tc.channel_id = track_team_channel.channel_id
  ) then
    return false;
  end if;
  insert into public.team_channels (team_id, channel_id, added_by)
  values (track_team_channel.team_id, track_team_channel.channel_id, auth.uid());
  return true;
end;
$$;
comment on function public.track_team_channel(uuid, uuid) is
  'Starts tracking a channel for the caller''s team (members and up; a credential-polled channel '
  'needs the team''s own credential); false when the team tracks it already.';
revoke all on function public.track_team_channel(uuid, uuid) from public, anon;
grant execute on function public.track_team_channel(uuid, uuid) to authenticated, service_role;

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
  -- Exact averages: avg_viewers = viewer_count_sum / known_viewer_sample_count,
  -- kept as an integer sum so the figure equals avg() over the raw samples.
  viewer_count_sum bigint not null default 0 check (viewer_count_sum >= 0),
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

alter table public.stream_sessions enable row level security;
revoke all on public.stream_sessions from anon, authenticated;
revoke all on sequence public.stream_sessions_id_seq from anon, authenticated;
grant select on public.stream_sessions to authenticated;

create policy stream_sessions_select_tracked on public.stream_sessions
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

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

alter table public.viewer_samples enable row level security;
revoke all on public.viewer_samples from anon, authenticated;
grant select on public.viewer_samples to authenticated;

create policy viewer_samples_select_tracked on public.viewer_samples
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

-- Creates the partitions for today .. today + days_ahead (UTC days) that do
-- not exist yet, and drops the partitions lying entirely before
-- now() - retention_days (default: the longest retention any plan offers).
-- Idempotent: call it daily, or at the start of every monitor run.
-- Returns one row per action taken: 'created', 'moved_from_default' (rows
-- of a new partition's day were waiting in the default partition),
-- 'dropped', 'purged_default' (expired rows deleted from the default).
-- The per-plan retention (apply_viewer_sample_retention, at the end of this
-- file) runs after it.
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
-- channel_status: the latest known state of each channel (one row each),
-- readable (polled) by the members of every team tracking the channel.
-- Live pushes are the plan feature `realtime`, delivered only by the
-- per-team Broadcast (realtime and storage migration), which the database
-- sends to, and lets join, teams with that feature alone. The table is
-- deliberately NOT in the supabase_realtime publication: Postgres Changes
-- would push every change to any member of any team tracking the channel,
-- whatever its plan (its RLS is this read policy), so the feature would
-- hold only by the UI's omission.
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

alter table public.channel_status enable row level security;
revoke all on public.channel_status from anon, authenticated;
grant select on public.channel_status to authenticated;

create policy channel_status_select_tracked on public.channel_status
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));

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

alter table public.channel_stats enable row level security;
revoke all on public.channel_stats from anon, authenticated;
grant select on public.channel_stats to authenticated;

-- Follower history is the plan feature `followers_history`: readable only
-- through a team (of the caller's) that tracks the channel and has it.
create policy channel_stats_select_followers_history on public.channel_stats
  for select to authenticated
  using (channel_id in (select public.channel_ids_with_feature('followers_history')));

-- ---------------------------------------------------------------------------
-- channel_poll_state: what the monitor remembers about each channel between
-- cycles. Backend only.
-- ---------------------------------------------------------------------------
create table public.channel_poll_state (
  channel_id uuid primary key references public.channels (id) on delete cascade,
  -- last cycle that got an answer for this channel; drives "is it due"
  last_polled_at timestamptz null,
  last_attempt_at timestamptz null,
  consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
  last_error text null check (char_length(last_error) <= 500),
  -- the previous sample, so hours watched (viewers x elapsed time) can be
  -- extended without reading viewer_samples back
  last_sample_at timestamptz null,
  last_sample_live boolean null,
  last_sample_viewers integer null check (last_sample_viewers >= 0),
  -- the channel's latest session, open or closed (see shared/monitor/stitching.py)
  last_session_id bigint null references public.stream_sessions (id) on delete set null,
  -- YouTube: the quota-free feed is read on a slower, staggered cadence ...
  feed_checked_at timestamptz null,
  -- ... and these video ids (live, upcoming or not yet classified) are
  -- checked with videos.list every cycle ...
  candidate_video_ids text[] not null default '{}' check (cardinality(candidate_video_ids) <= 50),
  -- ... while ids already classified as neither (uploads, ended streams)
  -- are remembered so a feed re-read does not spend quota on them again.
  settled_video_ids text[] not null default '{}' check (cardinality(settled_video_ids) <= 100),
  -- followers/subscribers are sampled far less often than live status
  stats_checked_at timestamptz null
);
comment on table public.channel_poll_state is
  'Monitor bookkeeping per channel (backend only).';
create index channel_poll_state_last_session_id_idx on public.channel_poll_state (last_session_id);

alter table public.channel_poll_state enable row level security;
revoke all on public.channel_poll_state from anon, authenticated;
-- No policies: service_role and postgres bypass RLS; nobody else reads it.

-- ---------------------------------------------------------------------------
-- monitor_runs: one row per monitor run (a cycle, or one shard of it).
-- Backend only.
-- ---------------------------------------------------------------------------
create table public.monitor_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null default now(),
  finished_at timestamptz null,
  status text not null default 'running'
    check (status in ('running', 'succeeded', 'partial', 'failed')),
  channels_checked integer not null default 0 check (channels_checked >= 0),
  samples_written integer not null default 0 check (samples_written >= 0),
  -- per platform, e.g. {"twitch": 3, "youtube": 2}
  requests jsonb not null default '{}'::jsonb check (jsonb_typeof(requests) = 'object'),
  quota_units jsonb not null default '{}'::jsonb check (jsonb_typeof(quota_units) = 'object'),
  -- list of {platform, status, request_id, message}
  errors jsonb not null default '[]'::jsonb check (jsonb_typeof(errors) = 'array'),
  duration_ms integer null check (duration_ms >= 0),
  -- A cycle may be split into shards processed by queue-triggered functions.
  cycle_id uuid null,
  trigger text not null default 'timer' check (trigger in ('timer', 'queue', 'manual')),
  shard_index integer null check (shard_index >= 0),
  shard_count integer null check (shard_count > 0),
  past_due boolean not null default false,
  check (finished_at is null or finished_at >= started_at),
  check ((shard_index is null) = (shard_count is null) and (shard_index is null or shard_index < shard_count))
);
create index monitor_runs_started_at_idx on public.monitor_runs (started_at desc);
create index monitor_runs_cycle_id_idx on public.monitor_runs (cycle_id) where cycle_id is not null;

alter table public.monitor_runs enable row level security;
revoke all on public.monitor_runs from anon, authenticated;
revoke all on sequence public.monitor_runs_id_seq from anon, authenticated;
-- No policies: service_role and postgres bypass RLS; nobody else reads it.

-- ---------------------------------------------------------------------------
-- platform_quota_usage: the platform quota spent per day. quota_day is the
-- platform's own quota day: YouTube's resets at midnight Pacific time, so
-- the backend computes it in that zone, not in UTC. Backend only.
-- ---------------------------------------------------------------------------
create table public.platform_quota_usage (
  platform public.platform not null,
  quota_day date not null,
  units bigint not null default 0 check (units >= 0),
  requests bigint not null default 0 check (requests >= 0),
  updated_at timestamptz not null default now(),
  primary key (platform, quota_day)
);

create trigger platform_quota_usage_set_updated_at before update on public.platform_quota_usage
  for each row execute function public.set_updated_at();

alter table public.platform_quota_usage enable row level security;
revoke all on public.platform_quota_usage from anon, authenticated;
-- No policies: service_role and postgres bypass RLS; nobody else reads it.

-- ---------------------------------------------------------------------------
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
-- The retention timer (shared/retention.py) calls
-- manage_viewer_sample_partitions() (creating the coming days' partitions,
-- dropping those past the longest retention of any plan), then this function.
-- ---------------------------------------------------------------------------
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
