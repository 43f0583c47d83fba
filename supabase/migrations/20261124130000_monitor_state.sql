-- What the monitor remembers about each channel between cycles, and the
-- columns the cycle's bookkeeping needs. Backend only: RLS on with no policy
-- and no privileges for the API roles.

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

-- Exact averages: avg_viewers = viewer_count_sum / known_viewer_sample_count,
-- kept as an integer sum so the figure equals avg() over the raw samples.
alter table public.stream_sessions
  add column viewer_count_sum bigint not null default 0 check (viewer_count_sum >= 0);

-- A cycle may be split into shards processed by queue-triggered functions.
alter table public.monitor_runs
  add column cycle_id uuid null,
  add column trigger text not null default 'timer' check (trigger in ('timer', 'queue', 'manual')),
  add column shard_index integer null check (shard_index >= 0),
  add column shard_count integer null check (shard_count > 0),
  add column past_due boolean not null default false,
  add check ((shard_index is null) = (shard_count is null) and (shard_index is null or shard_index < shard_count));
create index monitor_runs_cycle_id_idx on public.monitor_runs (cycle_id) where cycle_id is not null;
