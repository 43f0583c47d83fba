-- Rollups of the viewer samples: per channel per UTC hour and per UTC day.
-- They are the analytics' source (dashboard functions, leaderboards, CSV
-- export) so that a month of a channel is ~720 or ~30 rows, not ~43,200
-- samples. The monitor keeps them current incrementally in its write
-- transaction; they outlive the raw samples (retention drops samples only).
--
-- Figures follow the sample-and-hold rule of shared/monitor/stitching.py:
-- a live sample holds its state (live, and its viewer count when known)
-- until the channel's next sample, if that comes within the monitor's
-- max gap; held time is split at bucket boundaries.
--   live_seconds      seconds live in the bucket        (hours streamed x 3600)
--   viewer_seconds    sum of viewers x held seconds     (hours watched x 3600)
--   peak_viewers      highest known count sampled in the bucket (null: none known)
--   viewer_count_sum / known_viewer_sample_count
--                     the exact average over the bucket's known live samples
--   live_sample_count live samples taken in the bucket
--   followers_gained  followers at the bucket's last stats sample minus the
--                     channel's previous stats sample (null: no sample)
-- Backend-written; members of a team tracking the channel read them.

create table public.channel_rollups_hourly (
  channel_id uuid not null references public.channels (id) on delete cascade,
  -- the top of a UTC hour
  hour timestamptz not null check (hour = date_trunc('hour', hour, 'UTC')),
  live_seconds numeric not null default 0 check (live_seconds between 0 and 3600),
  viewer_seconds numeric not null default 0 check (viewer_seconds >= 0),
  peak_viewers integer null check (peak_viewers >= 0),
  viewer_count_sum bigint not null default 0 check (viewer_count_sum >= 0),
  known_viewer_sample_count integer not null default 0 check (known_viewer_sample_count >= 0),
  live_sample_count integer not null default 0 check (live_sample_count >= 0),
  followers_gained bigint null,
  updated_at timestamptz not null default now(),
  primary key (channel_id, hour),
  check (known_viewer_sample_count <= live_sample_count)
);
comment on table public.channel_rollups_hourly is
  'Per channel per UTC hour: hours streamed/watched, peak and average viewers, followers gained.';

create table public.channel_rollups_daily (
  channel_id uuid not null references public.channels (id) on delete cascade,
  -- a UTC calendar day
  day date not null,
  live_seconds numeric not null default 0 check (live_seconds between 0 and 86400),
  viewer_seconds numeric not null default 0 check (viewer_seconds >= 0),
  peak_viewers integer null check (peak_viewers >= 0),
  viewer_count_sum bigint not null default 0 check (viewer_count_sum >= 0),
  known_viewer_sample_count integer not null default 0 check (known_viewer_sample_count >= 0),
  live_sample_count integer not null default 0 check (live_sample_count >= 0),
  followers_gained bigint null,
  updated_at timestamptz not null default now(),
  primary key (channel_id, day),
  check (known_viewer_sample_count <= live_sample_count)
);
comment on table public.channel_rollups_daily is
  'Per channel per UTC day: hours streamed/watched, peak and average viewers, followers gained.';

create trigger channel_rollups_hourly_set_updated_at before update on public.channel_rollups_hourly
  for each row execute function public.set_updated_at();
create trigger channel_rollups_daily_set_updated_at before update on public.channel_rollups_daily
  for each row execute function public.set_updated_at();

alter table public.channel_rollups_hourly enable row level security;
alter table public.channel_rollups_daily enable row level security;
revoke all on public.channel_rollups_hourly, public.channel_rollups_daily from anon, authenticated;
grant select on public.channel_rollups_hourly, public.channel_rollups_daily to authenticated;

create policy channel_rollups_hourly_select_tracked on public.channel_rollups_hourly
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));
create policy channel_rollups_daily_select_tracked on public.channel_rollups_daily
  for select to authenticated
  using (channel_id in (select public.readable_channel_ids()));
