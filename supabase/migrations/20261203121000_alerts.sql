-- Alerts: a team is told when its channels go live, end, change title or
-- category, or pass a viewer count, on Discord, Slack, Microsoft Teams
-- (Power Automate Workflows URLs) or a signed generic webhook.
--
--   alert_destinations          where a team's alerts go (no secret); members read,
--                               admins and owners rename, switch off, delete
--   alert_destination_secrets   the sealed URL (and webhook signing secret) of each
--                               destination and its delivery state; service only
--   alert_rules                 which events of which channels go to which destination,
--                               with an optional message template; members read,
--                               admins and owners write
--   alert_deliveries            the outbox and the delivery log: one row per event per
--                               rule, written by the monitor in the transaction of the
--                               change that caused it; members read, the backend writes
--
-- Destinations are created by the backend (shared/alerts/service.py), which
-- seals the URL with the credentials key (AES-GCM, the destination id as
-- associated data, like channel credentials) and calls
-- create_alert_destination() on the user's behalf: the function checks the
-- role and MFA rule again and writes both rows. Nothing a client can call
-- ever returns a secret.
--
-- "Never lost, never twice": a delivery row exists if and only if the change
-- that caused it committed (shared/alerts/outbox.py runs in the monitor's
-- write transaction), and (rule_id, dedupe_key) is unique, so one stream
-- session gives one `live`, one `ended`, one `viewers_above` per rule, and a
-- restart within the grace period (the same session) gives nothing.

create type public.alert_destination_kind as enum ('discord', 'slack', 'teams', 'webhook');
comment on type public.alert_destination_kind is
  'Where alerts go: a Discord or Slack incoming webhook, a Teams Workflows URL, a signed webhook.';

create type public.alert_event as enum
  ('live', 'ended', 'title_changed', 'category_changed', 'viewers_above');
comment on type public.alert_event is
  'What a rule alerts on; viewers_above carries the rule''s threshold.';

-- ---------------------------------------------------------------------------
-- alert_destinations
-- ---------------------------------------------------------------------------
create table public.alert_destinations (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  kind public.alert_destination_kind not null,
  name text not null check (char_length(name) between 1 and 100 and name !~ '[\x00-\x1f]'),
  -- the URL's host, shown instead of the URL (which is a secret)
  target_host text not null check (char_length(target_host) between 1 and 253),
  enabled boolean not null default true,
  -- why the backend switched it off (repeated 401/404), and when
  disabled_reason text null check (char_length(disabled_reason) <= 500),
  disabled_at timestamptz null,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- rules reference (team_id, id): a rule cannot point at another team's destination
  unique (team_id, id)
);
comment on table public.alert_destinations is
  'Where a team''s alerts are sent; the URL itself is sealed in alert_destination_secrets.';
create index alert_destinations_created_by_idx on public.alert_destinations (created_by);

create trigger alert_destinations_set_updated_at before update on public.alert_destinations
  for each row execute function public.set_updated_at();
create trigger alert_destinations_audit after insert or update or delete on public.alert_destinations
  for each row execute function public.audit_team_change();

-- Switching a destination back on clears why it was off and its failure count.
create function public.alert_destination_reenabled()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  if new.enabled and not old.enabled then
    new.disabled_reason := null;
    new.disabled_at := null;
    update public.alert_destination_secrets s
      set auth_failures = 0, paused_until = null
      where s.destination_id = new.id;
  end if;
  return new;
end;
$$;
revoke all on function public.alert_destination_reenabled() from public, anon, authenticated;

create trigger alert_destinations_reenabled before update of enabled on public.alert_destinations
  for each row execute function public.alert_destination_reenabled();

alter table public.alert_destinations enable row level security;
revoke all on public.alert_destinations from anon, authenticated;
grant select, delete on public.alert_destinations to authenticated;
grant update (name, enabled) on public.alert_destinations to authenticated;

create policy alert_destinations_select_member on public.alert_destinations
  for select to authenticated
  using (public.is_team_member(team_id));

create policy alert_destinations_update_admin on public.alert_destinations
  for update to authenticated
  using (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id))
  with check (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id));

create policy alert_destinations_delete_admin on public.alert_destinations
  for delete to authenticated
  using (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id));

-- ---------------------------------------------------------------------------
-- alert_destination_secrets: service only (RLS on, no policy, no privilege)
-- ---------------------------------------------------------------------------
create table public.alert_destination_secrets (
  destination_id uuid primary key references public.alert_destinations (id) on delete cascade,
  -- AES-256-GCM of {"url": ..., "signing_secret": ...}, the destination id as associated data
  ciphertext bytea not null,
  nonce bytea not null,
  key_version integer not null check (key_version > 0),
  -- delivery state: one sender at a time per destination (a lease), the
  -- earliest next send (rate limits: Slack ~1/s, Discord's 429 Retry-After),
  -- and consecutive 401/403/404 answers (disabled at the backend's threshold)
  lease_until timestamptz null,
  paused_until timestamptz null,
  auth_failures integer not null default 0 check (auth_failures >= 0),
  updated_at timestamptz not null default now()
);
comment on table public.alert_destination_secrets is
  'Sealed URL and signing secret of each alert destination, and its delivery state; service only.';

alter table public.alert_destination_secrets enable row level security;
revoke all on public.alert_destination_secrets from anon, authenticated;
-- No grant and no policy for clients, on purpose.

-- ---------------------------------------------------------------------------
-- alert_rules
-- ---------------------------------------------------------------------------
create table public.alert_rules (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  destination_id uuid not null,
  -- null: every channel the team tracks
  channel_id uuid null,
  event public.alert_event not null,
  -- viewers_above only: alert once per stream when the viewer count reaches it
  viewer_threshold integer null check (viewer_threshold between 1 and 100000000),
  -- the message, with {placeholders} (shared/alerts/messages.py); null: the default one
  template text null check (char_length(template) between 1 and 1000),
  enabled boolean not null default true,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint alert_rules_threshold check ((event = 'viewers_above') = (viewer_threshold is not null)),
  constraint alert_rules_destination_fkey foreign key (team_id, destination_id)
    references public.alert_destinations (team_id, id) on delete cascade,
  -- a rule for one channel goes when the team stops tracking it
  constraint alert_rules_channel_fkey foreign key (team_id, channel_id)
    references public.team_channels (team_id, channel_id) on delete cascade
);
comment on table public.alert_rules is
  'Which events of which channels (or all) a team sends to a destination, and how they read.';
create index alert_rules_team_channel_idx on public.alert_rules (team_id, channel_id);
create index alert_rules_destination_idx on public.alert_rules (team_id, destination_id);
create index alert_rules_created_by_idx on public.alert_rules (created_by);
-- the outbox finds the rules of a changed channel by event
create index alert_rules_event_idx on public.alert_rules (event, channel_id) where enabled;

create trigger alert_rules_set_updated_at before update on public.alert_rules
  for each row execute function public.set_updated_at();
create trigger alert_rules_audit after insert or update or delete on public.alert_rules
  for each row execute function public.audit_team_change();

-- At most 100 rules per team (each change of each channel is matched against them).
create function public.enforce_alert_rule_limit()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  perform 1 from public.teams t where t.id = new.team_id for no key update;
  if (select count(*) from public.alert_rules r where r.team_id = new.team_id) >= 100 then
    raise exception using errcode = 'check_violation', constraint = 'alert_rules_team_limit',
      message = 'a team has at most 100 alert rules';
  end if;
  return new;
end;
$$;
revoke all on function public.enforce_alert_rule_limit() from public, anon, authenticated;

create trigger alert_rules_enforce_limit before insert on public.alert_rules
  for each row execute function public.enforce_alert_rule_limit();

alter table public.alert_rules enable row level security;
revoke all on public.alert_rules from anon, authenticated;
grant select, delete on public.alert_rules to authenticated;
grant insert (team_id, destination_id, channel_id, event, viewer_threshold, template, enabled),
  update (viewer_threshold, template, enabled)
  on public.alert_rules to authenticated;

create policy alert_rules_select_member on public.alert_rules
  for select to authenticated
  using (public.is_team_member(team_id));

create policy alert_rules_insert_admin on public.alert_rules
  for insert to authenticated
  with check (
    public.has_team_role(team_id, 'admin')
    and public.mfa_satisfied(team_id)
    and created_by = (select auth.uid())
  );

create policy alert_rules_update_admin on public.alert_rules
  for update to authenticated
  using (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id))
  with check (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id));

create policy alert_rules_delete_admin on public.alert_rules
  for delete to authenticated
  using (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id));

-- ---------------------------------------------------------------------------
-- alert_deliveries: the outbox, and what became of each alert
-- ---------------------------------------------------------------------------
create table public.alert_deliveries (
  id bigint generated always as identity primary key,
  team_id uuid not null references public.teams (id) on delete cascade,
  -- kept when the rule or destination goes, for the log (then dropped if pending)
  rule_id uuid null references public.alert_rules (id) on delete set null,
  destination_id uuid null references public.alert_destinations (id) on delete set null,
  channel_id uuid not null references public.channels (id) on delete cascade,
  event public.alert_event not null,
  -- one alert per rule and key: 'live:<session id>', 'ended:<session id>', ...
  dedupe_key text not null check (char_length(dedupe_key) <= 200),
  -- the facts the message is made of (channel, title, viewers, ...) as of the change
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  template text null,
  occurred_at timestamptz not null,
  created_at timestamptz not null default now(),
  -- pending: to send (again) at next_attempt_at; a sender claims a row by
  -- moving next_attempt_at past its lease, so a crash resends it once
  status text not null default 'pending'
    check (status in ('pending', 'delivered', 'failed', 'dropped')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_status_code integer null,
  last_error text null check (char_length(last_error) <= 500),
  delivered_at timestamptz null,
  unique (rule_id, dedupe_key)
);
comment on table public.alert_deliveries is
  'Alert outbox and delivery log: one row per event per rule, written with the change; backend only.';
comment on column public.alert_deliveries.id is
  'Also the idempotency key of signed webhooks (webhook-id: alert_<id>).';
create index alert_deliveries_team_idx on public.alert_deliveries (team_id, created_at desc);
create index alert_deliveries_channel_idx on public.alert_deliveries (channel_id);
create index alert_deliveries_destination_idx on public.alert_deliveries (destination_id);
-- what the sender looks for
create index alert_deliveries_due_idx on public.alert_deliveries (next_attempt_at)
  where status = 'pending';

alter table public.alert_deliveries enable row level security;
revoke all on public.alert_deliveries from anon, authenticated;
revoke all on sequence public.alert_deliveries_id_seq from anon, authenticated;
grant select on public.alert_deliveries to authenticated;

create policy alert_deliveries_select_member on public.alert_deliveries
  for select to authenticated
  using (public.is_team_member(team_id));

-- ---------------------------------------------------------------------------
-- create_alert_destination(): the only way a destination is made. Called by
-- the backend on the user's behalf (their claims set, shared/teams/access.py
-- on_behalf_of): admins and owners, with aal2 when the team requires MFA; at
-- most 20 destinations per team. The id is the backend's: it sealed the
-- secret with it as associated data.
-- ---------------------------------------------------------------------------
create function public.create_alert_destination(
  destination_id uuid,
  team_id uuid,
  kind public.alert_destination_kind,
  name text,
  target_host text,
  ciphertext bytea,
  nonce bytea,
  key_version integer
)
  returns uuid
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
begin
  perform public.assert_team_role(create_alert_destination.team_id, 'admin',
                                  'manage alert destinations');
  perform 1 from public.teams t where t.id = create_alert_destination.team_id for no key update;
  if (select count(*) from public.alert_destinations d
      where d.team_id = create_alert_destination.team_id) >= 20 then
    raise exception using errcode = 'check_violation', constraint = 'alert_destinations_team_limit',
      message = 'a team has at most 20 alert destinations';
  end if;
  insert into public.alert_destinations (id, team_id, kind, name, target_host, created_by)
  values (create_alert_destination.destination_id, create_alert_destination.team_id,
          create_alert_destination.kind, create_alert_destination.name,
          create_alert_destination.target_host, auth.uid());
  insert into public.alert_destination_secrets (destination_id, ciphertext, nonce, key_version)
  values (create_alert_destination.destination_id, create_alert_destination.ciphertext,
          create_alert_destination.nonce, create_alert_destination.key_version);
  return create_alert_destination.destination_id;
end;
$$;
comment on function public.create_alert_destination(uuid, uuid, public.alert_destination_kind, text, text, bytea, bytea, integer) is
  'Creates a destination with its sealed secret, for the calling admin (backend only).';
revoke all on function public.create_alert_destination(uuid, uuid, public.alert_destination_kind, text, text, bytea, bytea, integer)
  from public, anon, authenticated;
grant execute on function public.create_alert_destination(uuid, uuid, public.alert_destination_kind, text, text, bytea, bytea, integer)
  to service_role;

-- ---------------------------------------------------------------------------
-- enqueue_alerts(): the outbox insert, set-based, in the caller's
-- transaction. Each element of `changes` is one candidate change of one
-- channel: {channel_id, event, session_id, title, category, viewers,
-- started_at, ended_at, occurred_at}. It is matched against the enabled
-- rules of the teams tracking the channel (not paused) whose destination is
-- on; viewers_above needs viewers >= the rule's threshold. One row per rule
-- and key; a candidate seen before does nothing. Returns the rows written.
-- The monitor calls it (shared/monitor/store.py write_cycle) and so can any
-- other writer of status changes (push handlers).
-- ---------------------------------------------------------------------------
create function public.enqueue_alerts(changes jsonb)
  returns integer
  language plpgsql
  volatile
  set search_path = ''
as $$
declare
  v_count integer;
begin
  if changes is null or jsonb_typeof(changes) <> 'array' or jsonb_array_length(changes) = 0
     or not exists (select 1 from public.alert_rules r where r.enabled) then
    return 0;  -- the common case of a cycle no rule watches costs one index probe
  end if;
  with candidate as (
    select x.channel_id, x.event, x.session_id, x.title, x.category, x.viewers,
           x.started_at, x.ended_at, coalesce(x.occurred_at, now()) as occurred_at
    from jsonb_to_recordset(changes) as x (
      channel_id uuid, event public.alert_event, session_id bigint, title text, category text,
      viewers integer, started_at timestamptz, ended_at timestamptz, occurred_at timestamptz)
    where x.channel_id is not null and x.event is not null
  )
  insert into public.alert_deliveries
    (team_id, rule_id, destination_id, channel_id, event, dedupe_key, payload, template,
     occurred_at)
  select r.team_id, r.id, r.destination_id, c.channel_id, c.event,
         case when c.event in ('live', 'ended', 'viewers_above')
              then c.event::text || ':' || coalesce(c.session_id::text, c.started_at::text, '')
              -- a change: once per session and new value
              else c.event::text || ':' || coalesce(c.session_id::text, '') || ':'
                   || md5(coalesce(case when c.event = 'title_changed' then c.title
                                        else c.category end, ''))
         end,
         jsonb_strip_nulls(jsonb_build_object(
           'channel_id', ch.id, 'platform', ch.platform, 'channel', ch.display_name,
           'handle', ch.handle, 'url', ch.url, 'title', c.title, 'category', c.category,
           'viewers', c.viewers, 'threshold', r.viewer_threshold, 'session_id', c.session_id,
           'started_at', coalesce(c.started_at, s.started_at),
           'ended_at', coalesce(c.ended_at, s.ended_at),
           'peak_viewers', s.peak_viewers, 'avg_viewers', round(s.avg_viewers),
           'hours_watched', round(s.viewer_seconds / 3600, 1))),
         r.template, c.occurred_at
  from candidate c
  join public.alert_rules r
    on r.event = c.event and r.enabled and (r.channel_id = c.channel_id or r.channel_id is null)
  join public.team_channels tc
    on tc.team_id = r.team_id and tc.channel_id = c.channel_id and tc.paused_at is null
  join public.alert_destinations d on d.id = r.destination_id and d.enabled
  join public.channels ch on ch.id = c.channel_id
  left join public.stream_sessions s on s.id = c.session_id
  where c.event <> 'viewers_above' or c.viewers >= r.viewer_threshold
  order by c.occurred_at, r.id
  on conflict (rule_id, dedupe_key) do nothing;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
comment on function public.enqueue_alerts(jsonb) is
  'Writes the alert outbox rows of a batch of channel changes, in the caller''s transaction (backend only).';
revoke all on function public.enqueue_alerts(jsonb) from public, anon, authenticated;
grant execute on function public.enqueue_alerts(jsonb) to service_role;
