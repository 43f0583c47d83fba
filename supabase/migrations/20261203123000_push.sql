-- Push detection (issue 14): platform webhooks (EventSub, WebSub, Kick's
-- events) tell the monitor about a stream within seconds; polling stays for
-- viewer counts and as a safety sweep (shared/push/, docs in README "Push").
--
-- Two tables, both operational and written by the backend only: clients read
-- nothing here (RLS on, no policy, no privilege), like channel_poll_state.

-- One row per delivery a platform made to a callback, keyed by the
-- platform's message id: deliveries are at least once, so the primary key is
-- the deduplication. The verified body is kept until it is applied by the
-- push timer (processed_at), then for a while for operators.
create table public.push_deliveries (
  platform public.platform not null,
  -- Twitch-Eventsub-Message-Id, Kick-Event-Message-Id, or for WebSub (which
  -- has none) the SHA-256 of the verified body.
  message_id text not null check (char_length(message_id) between 1 and 200),
  kind text not null check (kind in ('notification', 'revocation')),
  received_at timestamptz not null default now(),
  -- The platform's own timestamp of the message, when it sends one.
  sent_at timestamptz null,
  -- What the delivery said, already parsed and validated by the platform's
  -- package: {"events": [...]} or {"subscription": ..., "reason": ...}.
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  processed_at timestamptz null,
  attempts integer not null default 0 check (attempts >= 0),
  last_error text null check (char_length(last_error) <= 500),
  primary key (platform, message_id)
);
comment on table public.push_deliveries is
  'Verified push deliveries by platform message id (deduplication), applied by the push timer.';
create index push_deliveries_pending_idx on public.push_deliveries (received_at)
  where processed_at is null;
create index push_deliveries_received_idx on public.push_deliveries (platform, received_at desc);

alter table public.push_deliveries enable row level security;
revoke all on public.push_deliveries from anon, authenticated;
-- No grant and no policy for clients, on purpose.

-- The subscriptions StreamTrack holds (or tried to hold) with each platform,
-- one per channel and event type, as the subscription manager keeps them.
create table public.push_subscriptions (
  id bigint generated always as identity primary key,
  channel_id uuid not null references public.channels (id) on delete cascade,
  platform public.platform not null,
  -- The platform's event type: stream.online, livestream.status.updated, or
  -- `feed` for a WebSub topic.
  event_type text not null check (char_length(event_type) between 1 and 100),
  -- The platform's id of the subscription (WebSub has none: the topic URL).
  remote_id text null check (char_length(remote_id) <= 500),
  status text not null default 'pending'
    check (status in ('pending', 'enabled', 'failed', 'revoked')),
  -- Cost units the platform counts against its budget (EventSub's total_cost).
  cost integer not null default 0 check (cost >= 0),
  -- WebSub leases end: renewed well before.
  lease_expires_at timestamptz null,
  last_error text null check (char_length(last_error) <= 500),
  revoked_reason text null check (char_length(revoked_reason) <= 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (channel_id, event_type)
);
comment on table public.push_subscriptions is
  'Push subscriptions per channel and event type, kept by the subscription manager.';
create index push_subscriptions_platform_idx on public.push_subscriptions (platform, status);
create index push_subscriptions_remote_idx on public.push_subscriptions (platform, remote_id);
create trigger push_subscriptions_set_updated_at before update on public.push_subscriptions
  for each row execute function public.set_updated_at();

alter table public.push_subscriptions enable row level security;
revoke all on public.push_subscriptions from anon, authenticated;
revoke all on sequence public.push_subscriptions_id_seq from anon, authenticated;
-- No grant and no policy for clients, on purpose.

-- Applying push deliveries records a monitor run of its own (trigger 'push'),
-- written through the monitor's one write path.
alter table public.monitor_runs drop constraint monitor_runs_trigger_check;
alter table public.monitor_runs add constraint monitor_runs_trigger_check
  check (trigger in ('timer', 'queue', 'manual', 'push'));
