-- Billing: the team's Stripe customer, its subscriptions and the webhook
-- events received. Written by the backend only (Stripe webhooks); members
-- of a team read their team's customer and subscriptions; webhook events
-- are not readable by clients at all. The effective plan is teams.plan_id,
-- which the backend derives from the subscriptions below. The plan
-- catalogue itself (public.plans) is in the tenancy migration, since teams
-- reference it; the plan's channel limit is enforced by the team_channels
-- triggers in the channels migration.

-- ---------------------------------------------------------------------------
-- billing_customers: one Stripe customer per team
-- ---------------------------------------------------------------------------
create table public.billing_customers (
  team_id uuid primary key references public.teams (id) on delete cascade,
  stripe_customer_id text not null unique check (stripe_customer_id ~ '^cus_[A-Za-z0-9]+$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger billing_customers_set_updated_at before update on public.billing_customers
  for each row execute function public.set_updated_at();

alter table public.billing_customers enable row level security;
revoke all on public.billing_customers from anon, authenticated;
grant select on public.billing_customers to authenticated;

create policy billing_customers_select_member on public.billing_customers
  for select to authenticated
  using (public.is_team_member(team_id));

-- ---------------------------------------------------------------------------
-- billing_subscriptions: the team's Stripe subscriptions, as last seen
-- ---------------------------------------------------------------------------
create table public.billing_subscriptions (
  stripe_subscription_id text primary key check (stripe_subscription_id ~ '^sub_[A-Za-z0-9]+$'),
  team_id uuid not null references public.teams (id) on delete cascade,
  -- null: a Stripe price the backend does not map to a plan
  plan_id text null references public.plans (id),
  -- Stripe's subscription statuses
  status text not null check (status in (
    'incomplete', 'incomplete_expired', 'trialing', 'active',
    'past_due', 'canceled', 'unpaid', 'paused')),
  price_id text null,
  -- since Stripe API 2025-03-31 these come from the subscription items
  current_period_start timestamptz null,
  current_period_end timestamptz null,
  cancel_at_period_end boolean not null default false,
  canceled_at timestamptz null,
  -- paid features stay on until then after a failed payment
  grace_until timestamptz null,
  -- Stripe's own timestamp of the state stored here: events arrive out of
  -- order, so the backend ignores data older than this
  stripe_updated_at timestamptz null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index billing_subscriptions_team_id_idx on public.billing_subscriptions (team_id);
create index billing_subscriptions_plan_id_idx on public.billing_subscriptions (plan_id);
-- The daily reconciliation re-evaluates teams whose grace period or
-- cancelled period has run out.
create index billing_subscriptions_grace_until_idx on public.billing_subscriptions (grace_until)
  where grace_until is not null;
create index billing_subscriptions_period_end_idx on public.billing_subscriptions (current_period_end)
  where status in ('active', 'trialing', 'past_due', 'unpaid');

create trigger billing_subscriptions_set_updated_at before update on public.billing_subscriptions
  for each row execute function public.set_updated_at();

alter table public.billing_subscriptions enable row level security;
revoke all on public.billing_subscriptions from anon, authenticated;
grant select on public.billing_subscriptions to authenticated;

create policy billing_subscriptions_select_member on public.billing_subscriptions
  for select to authenticated
  using (public.is_team_member(team_id));

-- ---------------------------------------------------------------------------
-- stripe_events: webhook events by Stripe event id. Delivery is at least
-- once, so the id is recorded first and an event is processed once.
-- ---------------------------------------------------------------------------
create table public.stripe_events (
  id text primary key check (id ~ '^evt_[A-Za-z0-9]+$'),
  type text not null,
  livemode boolean not null default false,
  -- Stripe's `created` of the event
  stripe_created_at timestamptz null,
  received_at timestamptz not null default now(),
  processed_at timestamptz null,
  attempts integer not null default 0 check (attempts >= 0),
  last_error text null
);
create index stripe_events_unprocessed_idx on public.stripe_events (received_at)
  where processed_at is null;

alter table public.stripe_events enable row level security;
revoke all on public.stripe_events from anon, authenticated;
-- No grant and no policy for clients, on purpose.
