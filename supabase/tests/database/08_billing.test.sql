-- Billing: members read their own team's customer and subscriptions and
-- nobody else's; no client writes any billing table or the team's plan;
-- stripe_events is invisible to clients; a channel a downgrade paused
-- cannot be resumed beyond the plan, and only the backend marks a pause as
-- the plan's.
begin;
create extension if not exists pgtap with schema extensions;
select plan(23);

-- Team A (pro, paying): owner a1, viewer a2. Team B: owner b1. u9 belongs nowhere.
select tests.create_user('00000008-0000-4000-8000-0000000000a1', 'a1@billing.test');
select tests.create_user('00000008-0000-4000-8000-0000000000a2', 'a2@billing.test');
select tests.create_user('00000008-0000-4000-8000-0000000000b1', 'b1@billing.test');
select tests.create_user('00000008-0000-4000-8000-0000000000f9', 'u9@billing.test');
insert into public.teams (id, name, plan_id, created_by) values
  ('00000008-0000-4000-8000-00000000aaaa', 'Billing A', 'pro', '00000008-0000-4000-8000-0000000000a1'),
  ('00000008-0000-4000-8000-00000000bbbb', 'Billing B', 'business', '00000008-0000-4000-8000-0000000000b1');
insert into public.team_members (team_id, user_id, role)
values ('00000008-0000-4000-8000-00000000aaaa', '00000008-0000-4000-8000-0000000000a2', 'viewer');
insert into public.billing_customers (team_id, stripe_customer_id) values
  ('00000008-0000-4000-8000-00000000aaaa', 'cus_billingA'),
  ('00000008-0000-4000-8000-00000000bbbb', 'cus_billingB');
insert into public.billing_subscriptions (stripe_subscription_id, team_id, plan_id, status) values
  ('sub_billingA', '00000008-0000-4000-8000-00000000aaaa', 'pro', 'active'),
  ('sub_billingB', '00000008-0000-4000-8000-00000000bbbb', 'business', 'active');
insert into public.stripe_events (id, type) values ('evt_billingTest', 'invoice.paid');

-- ---------------------------------------------------------------------------
-- Reads
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000008-0000-4000-8000-0000000000a2');  -- viewer of A
select is((select array_agg(stripe_customer_id) from public.billing_customers),
  array['cus_billingA'], 'a viewer sees their team''s customer only');
select is((select array_agg(stripe_subscription_id) from public.billing_subscriptions),
  array['sub_billingA'], 'a viewer sees their team''s subscription only');

select tests.authenticate_as('00000008-0000-4000-8000-0000000000b1');  -- owner of B
select is((select array_agg(stripe_subscription_id) from public.billing_subscriptions),
  array['sub_billingB'], 'another team''s owner sees their own subscription only');

select tests.authenticate_as('00000008-0000-4000-8000-0000000000f9');  -- nobody's
select is((select count(*) from public.billing_customers), 0::bigint,
  'a user in no team sees no customer');
select is((select count(*) from public.billing_subscriptions), 0::bigint,
  'a user in no team sees no subscription');

select throws_ok($$select * from public.stripe_events$$, '42501', null,
  'clients cannot read stripe_events');

-- ---------------------------------------------------------------------------
-- Writes: not even the owner of the team
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000008-0000-4000-8000-0000000000a1', 'aal2');  -- owner of A
select throws_ok($$insert into public.billing_customers (team_id, stripe_customer_id)
                   values ('00000008-0000-4000-8000-00000000aaaa', 'cus_forged')$$,
  '42501', null, 'an owner cannot insert a customer');
select throws_ok($$update public.billing_customers set stripe_customer_id = 'cus_forged'$$,
  '42501', null, 'an owner cannot update the customer');
select throws_ok($$delete from public.billing_customers$$,
  '42501', null, 'an owner cannot delete the customer');
select throws_ok($$insert into public.billing_subscriptions (stripe_subscription_id, team_id, plan_id, status)
                   values ('sub_forged', '00000008-0000-4000-8000-00000000aaaa', 'business', 'active')$$,
  '42501', null, 'an owner cannot insert a subscription');
select throws_ok($$update public.billing_subscriptions set plan_id = 'business', status = 'active'$$,
  '42501', null, 'an owner cannot update a subscription');
select throws_ok($$delete from public.billing_subscriptions$$,
  '42501', null, 'an owner cannot delete a subscription');
select throws_ok($$insert into public.stripe_events (id, type) values ('evt_forged', 'invoice.paid')$$,
  '42501', null, 'an owner cannot record a Stripe event');
select throws_ok($$update public.stripe_events set processed_at = null$$,
  '42501', null, 'an owner cannot touch stripe_events');
select throws_ok($$update public.teams set plan_id = 'business'
                   where id = '00000008-0000-4000-8000-00000000aaaa'$$,
  '42501', null, 'an owner cannot change the team''s plan');

select tests.clear_authentication();
select is((select count(*) from public.billing_subscriptions where stripe_subscription_id = 'sub_forged'),
  0::bigint, 'nothing forged reached the billing tables');

-- ---------------------------------------------------------------------------
-- Channels paused by a downgrade: team A is now on free (3 channels) with
-- five, two of them paused by the plan.
-- ---------------------------------------------------------------------------
insert into public.channels (id, platform, platform_channel_id)
select ('00000008-0000-4000-8000-0000000c000' || i)::uuid, 'twitch', 'billing-pgtap-' || i
from generate_series(1, 5) as i;
insert into public.team_channels (team_id, channel_id, added_at, paused_at, paused_by_plan)
select '00000008-0000-4000-8000-00000000aaaa', ('00000008-0000-4000-8000-0000000c000' || i)::uuid,
       now() - (10 - i) * interval '1 minute',
       case when i > 3 then now() end, i > 3
from generate_series(1, 5) as i;
update public.teams set plan_id = 'free' where id = '00000008-0000-4000-8000-00000000aaaa';

select tests.authenticate_as('00000008-0000-4000-8000-0000000000a1');  -- owner of A
select throws_ok($$update public.team_channels set paused_at = null
                   where channel_id = '00000008-0000-4000-8000-0000000c0004'$$,
  '23514', 'the team''s plan allows at most 3 tracked channels',
  'resuming a channel beyond the plan is refused');
select throws_ok($$update public.team_channels set paused_by_plan = false
                   where channel_id = '00000008-0000-4000-8000-0000000c0004'$$,
  '42501', null, 'clients cannot write paused_by_plan');
select lives_ok($$update public.team_channels set paused_at = now()
                  where channel_id = '00000008-0000-4000-8000-0000000c0001'$$,
  'a member may pause a tracked channel');
select lives_ok($$update public.team_channels set paused_at = null
                  where channel_id = '00000008-0000-4000-8000-0000000c0004'$$,
  'with room under the plan, a plan-paused channel can be resumed');
select is((select paused_by_plan from public.team_channels
           where channel_id = '00000008-0000-4000-8000-0000000c0004'),
  false, 'a resumed channel is no longer marked as paused by the plan');
select is((select paused_by_plan from public.team_channels
           where channel_id = '00000008-0000-4000-8000-0000000c0001'),
  false, 'a member''s pause is not the plan''s');
select is((select count(*) from public.team_channels
           where team_id = '00000008-0000-4000-8000-00000000aaaa' and paused_at is null),
  3::bigint, 'the team tracks exactly its plan''s three channels');

select * from finish();
rollback;
