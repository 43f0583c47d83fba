-- Connected channels (issue 16): a channel's owner connects the account by
-- OAuth for a team that tracks the channel, so StreamTrack can read what only
-- the owner may (YouTube Analytics; Twitch EventSub at cost 0 and chat).
--
--   channel_connections         one per team and channel: who connected which
--                               provider account, the scopes, active or broken.
--                               Members of the team read it; only the backend
--                               writes (audited: connected, broken, removed).
--   channel_connection_tokens   the sealed access and refresh tokens (AES-GCM,
--                               shared/crypto.py, the connection id as
--                               associated data) and their expiry. Service only.
--   channel_connection_attempts the single-use `state` of an authorization in
--                               progress and its sealed PKCE verifier. Service only.
--   channel_analytics_daily     channel-level daily figures from the YouTube
--   channel_analytics_videos    Analytics API, and per live video; members of
--                               a team holding a connection for the channel read
--                               them (an owner shares private figures with the
--                               teams they connected for, not with every team
--                               that tracks the channel publicly).
--   analytics_import_runs       one row per import run: requests, failures. Service only.
--
-- analytics_connected_daily() puts the imported days next to StreamTrack's own
-- figures for the same days (in the reporting platform's day: YouTube's are
-- Pacific).

-- ---------------------------------------------------------------------------
-- channel_connections
-- ---------------------------------------------------------------------------
create table public.channel_connections (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null,
  channel_id uuid not null,
  platform public.platform not null,
  -- the provider account that authorized (checked to own the channel)
  account_id text not null check (char_length(account_id) between 1 and 128),
  scopes text[] not null default '{}',
  -- active: tokens work; broken: the provider refused them (invalid_grant,
  -- revoked): the owner must connect again, nothing retries it
  status text not null default 'active' check (status in ('active', 'broken')),
  broken_at timestamptz null,
  broken_reason text null check (char_length(broken_reason) <= 300),
  connected_by uuid null references auth.users (id) on delete set null,
  connected_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (team_id, channel_id),
  check ((status = 'broken') = (broken_at is not null)),
  -- the connection goes when the team stops tracking the channel
  constraint channel_connections_tracking_fkey foreign key (team_id, channel_id)
    references public.team_channels (team_id, channel_id) on delete cascade
);
create index channel_connections_channel_id_idx on public.channel_connections (channel_id, status);
create index channel_connections_connected_by_idx on public.channel_connections (connected_by);

create trigger channel_connections_set_updated_at before update on public.channel_connections
  for each row execute function public.set_updated_at();
create trigger channel_connections_audit after insert or update or delete on public.channel_connections
  for each row execute function public.audit_team_change();

alter table public.channel_connections enable row level security;
revoke all on public.channel_connections from anon, authenticated;
grant select on public.channel_connections to authenticated;

create policy channel_connections_select_member on public.channel_connections
  for select to authenticated
  using ((select public.is_team_member(team_id)));

-- ---------------------------------------------------------------------------
-- channel_connection_tokens: service only (no privilege, no policy)
-- ---------------------------------------------------------------------------
create table public.channel_connection_tokens (
  connection_id uuid primary key references public.channel_connections (id) on delete cascade,
  access_ciphertext bytea not null,
  access_nonce bytea not null,
  -- Twitch and Google issue one; null when the provider did not
  refresh_ciphertext bytea null,
  refresh_nonce bytea null,
  key_version integer not null check (key_version > 0),
  access_expires_at timestamptz null,
  refreshed_at timestamptz null,
  -- last time the provider confirmed the token (Twitch asks for hourly validation)
  validated_at timestamptz null,
  -- transient failures (5xx, timeouts) in a row; a refusal breaks the connection instead
  failures integer not null default 0 check (failures >= 0),
  last_error text null check (char_length(last_error) <= 300),
  updated_at timestamptz not null default now(),
  check ((refresh_ciphertext is null) = (refresh_nonce is null))
);

create trigger channel_connection_tokens_set_updated_at before update on public.channel_connection_tokens
  for each row execute function public.set_updated_at();

alter table public.channel_connection_tokens enable row level security;
revoke all on public.channel_connection_tokens from anon, authenticated;
-- No grant and no policy for clients, on purpose.

-- ---------------------------------------------------------------------------
-- channel_connection_attempts: an authorization in progress. The signed
-- `state` names the row; the callback consumes it (used_at) exactly once
-- before its expiry. Service only.
-- ---------------------------------------------------------------------------
create table public.channel_connection_attempts (
  id uuid primary key,
  team_id uuid not null references public.teams (id) on delete cascade,
  channel_id uuid not null references public.channels (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  platform public.platform not null,
  verifier_ciphertext bytea not null,
  verifier_nonce bytea not null,
  key_version integer not null check (key_version > 0),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz null,
  check (expires_at > created_at)
);
create index channel_connection_attempts_team_id_idx on public.channel_connection_attempts (team_id);
create index channel_connection_attempts_channel_id_idx on public.channel_connection_attempts (channel_id);
create index channel_connection_attempts_user_id_idx on public.channel_connection_attempts (user_id, created_at desc);
create index channel_connection_attempts_expires_at_idx on public.channel_connection_attempts (expires_at);

alter table public.channel_connection_attempts enable row level security;
revoke all on public.channel_connection_attempts from anon, authenticated;
-- No grant and no policy for clients, on purpose.

-- ---------------------------------------------------------------------------
-- Who may read an owner's private figures: members of a team that holds a
-- connection (any status: history stays readable) for the channel.
-- ---------------------------------------------------------------------------
create function public.connected_channel_ids()
  returns setof uuid
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select distinct c.channel_id
  from public.team_members m
  join public.channel_connections c on c.team_id = m.team_id
  where m.user_id = (select auth.uid())
$$;
comment on function public.connected_channel_ids() is
  'Channels for which one of the calling user''s teams holds an owner connection.';
revoke all on function public.connected_channel_ids() from public, anon;
grant execute on function public.connected_channel_ids() to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- channel_analytics_daily: the owner's daily report (YouTube Analytics
-- reports.query, dimensions=day: days in Pacific time). Upserted: the last
-- days are re-read until they settle (48 to 72 hours).
-- ---------------------------------------------------------------------------
create table public.channel_analytics_daily (
  channel_id uuid not null references public.channels (id) on delete cascade,
  day date not null,
  views bigint not null check (views >= 0),
  estimated_minutes_watched bigint not null check (estimated_minutes_watched >= 0),
  -- seconds
  average_view_duration integer not null check (average_view_duration >= 0),
  subscribers_gained bigint not null check (subscribers_gained >= 0),
  subscribers_lost bigint not null check (subscribers_lost >= 0),
  fetched_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (channel_id, day)
);

create trigger channel_analytics_daily_set_updated_at before update on public.channel_analytics_daily
  for each row execute function public.set_updated_at();

alter table public.channel_analytics_daily enable row level security;
revoke all on public.channel_analytics_daily from anon, authenticated;
grant select on public.channel_analytics_daily to authenticated;

create policy channel_analytics_daily_select_connected on public.channel_analytics_daily
  for select to authenticated
  using (channel_id in (select public.connected_channel_ids()));

-- ---------------------------------------------------------------------------
-- channel_analytics_videos: the owner's report per live stream (YouTube:
-- dimensions=video over the videos the monitor saw live), from the stream's
-- first day to the import day. video_id is the stream's platform id.
-- ---------------------------------------------------------------------------
create table public.channel_analytics_videos (
  channel_id uuid not null references public.channels (id) on delete cascade,
  video_id text not null check (char_length(video_id) between 1 and 128),
  first_day date not null,
  last_day date not null,
  views bigint not null check (views >= 0),
  estimated_minutes_watched bigint not null check (estimated_minutes_watched >= 0),
  average_view_duration integer not null check (average_view_duration >= 0),
  -- the live-streaming metrics of the reference; null when YouTube gave none
  average_concurrent_viewers numeric null check (average_concurrent_viewers >= 0),
  peak_concurrent_viewers bigint null check (peak_concurrent_viewers >= 0),
  fetched_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (channel_id, video_id),
  check (last_day >= first_day)
);

create trigger channel_analytics_videos_set_updated_at before update on public.channel_analytics_videos
  for each row execute function public.set_updated_at();

alter table public.channel_analytics_videos enable row level security;
revoke all on public.channel_analytics_videos from anon, authenticated;
grant select on public.channel_analytics_videos to authenticated;

create policy channel_analytics_videos_select_connected on public.channel_analytics_videos
  for select to authenticated
  using (channel_id in (select public.connected_channel_ids()));

-- ---------------------------------------------------------------------------
-- analytics_import_runs: one row per import run, like monitor_runs. Service only.
-- ---------------------------------------------------------------------------
create table public.analytics_import_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null default now(),
  finished_at timestamptz null,
  status text not null default 'running'
    check (status in ('running', 'succeeded', 'partial', 'failed')),
  channels integer not null default 0 check (channels >= 0),
  days_written integer not null default 0 check (days_written >= 0),
  videos_written integer not null default 0 check (videos_written >= 0),
  requests integer not null default 0 check (requests >= 0),
  -- list of {channel_id, error, status, request_id, message}
  errors jsonb not null default '[]'::jsonb check (jsonb_typeof(errors) = 'array'),
  check (finished_at is null or finished_at >= started_at)
);
create index analytics_import_runs_started_at_idx on public.analytics_import_runs (started_at desc);

alter table public.analytics_import_runs enable row level security;
revoke all on public.analytics_import_runs from anon, authenticated;
revoke all on sequence public.analytics_import_runs_id_seq from anon, authenticated;
-- No policies: service_role and postgres bypass RLS; nobody else reads it.

-- ---------------------------------------------------------------------------
-- analytics_connected_daily(channel_id, first_day, last_day): the imported
-- YouTube Analytics days next to StreamTrack's own figures for the same day.
-- YouTube reports days in Pacific time, so StreamTrack's side sums the hourly
-- rollups whose UTC hour falls in that platform day (offsets are whole hours:
-- exact; other platforms: UTC). A day not reported yet has null report
-- columns. No rows for a caller whose teams hold no connection for the channel.
-- ---------------------------------------------------------------------------
create function public.analytics_connected_daily(channel_id uuid, first_day date, last_day date)
  returns table (
    day date,
    views bigint,
    estimated_minutes_watched bigint,
    average_view_duration integer,
    subscribers_gained bigint,
    subscribers_lost bigint,
    fetched_at timestamptz,
    streamtrack_live_seconds numeric,
    streamtrack_minutes_watched numeric,
    streamtrack_peak_viewers integer
  )
  language plpgsql
  stable
  security definer
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_zone text;
begin
  if first_day is null or last_day is null or last_day < first_day
     or last_day - first_day > 400 then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'last_day must be on or after first_day, at most 400 days later';
  end if;
  if analytics_connected_daily.channel_id not in (select public.connected_channel_ids()) then
    return;
  end if;
  select case c.platform when 'youtube' then 'America/Los_Angeles' else 'UTC' end
    into v_zone
  from public.channels c where c.id = analytics_connected_daily.channel_id;
  return query
    with days as (
      select d::date as day
      from generate_series(first_day, last_day, interval '1 day') as d
    ),
    ours as (
      select (h.hour at time zone v_zone)::date as day,
             sum(h.live_seconds) as live_seconds,
             sum(h.viewer_seconds) / 60 as minutes_watched,
             max(h.peak_viewers) as peak_viewers
      from public.channel_rollups_hourly h
      where h.channel_id = analytics_connected_daily.channel_id
        and h.hour >= (first_day::timestamp at time zone v_zone)
        and h.hour < ((last_day + 1)::timestamp at time zone v_zone)
      group by 1
    )
    select days.day, y.views, y.estimated_minutes_watched, y.average_view_duration,
           y.subscribers_gained, y.subscribers_lost, y.fetched_at,
           coalesce(o.live_seconds, 0), coalesce(o.minutes_watched, 0), o.peak_viewers
    from days
    left join public.channel_analytics_daily y
      on y.channel_id = analytics_connected_daily.channel_id and y.day = days.day
    left join ours o on o.day = days.day
    order by days.day;
end;
$$;
comment on function public.analytics_connected_daily(uuid, date, date) is
  'The owner''s analytics days of a connected channel next to StreamTrack''s figures for the '
  'same days (YouTube: Pacific); no rows unless one of the caller''s teams holds a connection.';
revoke all on function public.analytics_connected_daily(uuid, date, date) from public, anon;
grant execute on function public.analytics_connected_daily(uuid, date, date) to authenticated, service_role;
