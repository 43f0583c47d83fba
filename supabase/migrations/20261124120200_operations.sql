-- Operations data of the monitor: one row per run and the platform quota
-- spent per day. Backend only: RLS on with no policy, and the API roles
-- hold no privilege at all (not even select).

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
  check (finished_at is null or finished_at >= started_at)
);
create index monitor_runs_started_at_idx on public.monitor_runs (started_at desc);

-- quota_day is the platform's own quota day: YouTube's resets at midnight
-- Pacific time, so the backend computes it in that zone, not in UTC.
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

alter table public.monitor_runs enable row level security;
alter table public.platform_quota_usage enable row level security;

revoke all on public.monitor_runs, public.platform_quota_usage from anon, authenticated;
revoke all on sequence public.monitor_runs_id_seq from anon, authenticated;
-- No policies: service_role and postgres bypass RLS; nobody else reads these.
