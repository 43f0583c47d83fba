-- Billing entitlements: what the backend needs to apply a plan to a team's
-- channels, and the rule that keeps clients within it.
--
--   * team_channels.paused_by_plan: true when the backend paused the row
--     because the team's plan shrank below its channel count. An upgrade
--     resumes only those rows; a channel a member paused stays paused.
--     Clients cannot write the column (no column grant); it is cleared by
--     the trigger below whenever a row is resumed.
--   * Resuming a paused channel counts against the plan like adding one:
--     the plan limits the channels actually tracked (not paused). Before
--     this, a member could resume every channel the backend had paused on
--     a downgrade.
--   * Partial indexes for the daily reconciliation, which re-evaluates
--     teams whose grace period or cancelled period has run out.

alter table public.team_channels
  add column paused_by_plan boolean not null default false;
comment on column public.team_channels.paused_by_plan is
  'Set by the backend when a downgrade paused this channel; an upgrade resumes these first.';

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

-- The reconciliation looks for subscriptions whose grace or period ended.
create index billing_subscriptions_grace_until_idx on public.billing_subscriptions (grace_until)
  where grace_until is not null;
create index billing_subscriptions_period_end_idx on public.billing_subscriptions (current_period_end)
  where status in ('active', 'trialing', 'past_due', 'unpaid');
