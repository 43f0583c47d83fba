-- Billing: the team's Stripe customer, its subscriptions and the webhook
-- events received. Written by the backend only (Stripe webhooks); members
-- of a team read their team's customer and subscriptions; webhook events
-- are not readable by clients at all. The effective plan is teams.plan_id,
-- which the backend derives from the subscriptions below.

create table public.billing_customers (
  team_id uuid primary key references public.teams (id) on delete cascade,
  stripe_customer_id text not null unique check (stripe_customer_id ~ '^cus_[A-Za-z0-9]+$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger billing_customers_set_updated_at before update on public.billing_customers
  for each row execute function public.set_updated_at();

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

create trigger billing_subscriptions_set_updated_at before update on public.billing_subscriptions
  for each row execute function public.set_updated_at();

-- Webhook events by Stripe event id: delivery is at least once, so the id
-- is recorded first and an event is processed once.
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

alter table public.billing_customers enable row level security;
alter table public.billing_subscriptions enable row level security;
alter table public.stripe_events enable row level security;

revoke all on public.billing_customers, public.billing_subscriptions, public.stripe_events
  from anon, authenticated;

grant select on public.billing_customers, public.billing_subscriptions to authenticated;

create policy billing_customers_select_member on public.billing_customers
  for select to authenticated
  using (public.is_team_member(team_id));

create policy billing_subscriptions_select_member on public.billing_subscriptions
  for select to authenticated
  using (public.is_team_member(team_id));

-- stripe_events: no grant and no policy for clients, on purpose.
