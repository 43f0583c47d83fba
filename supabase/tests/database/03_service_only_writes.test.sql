-- Monitoring, operations and billing tables are written by the backend only:
-- clients (even a team owner, even on channels their team tracks) cannot
-- insert, update or delete them, and have no privilege at all on
-- channel_credentials. Team-side tables accept only the columns clients own.
begin;
create extension if not exists pgtap with schema extensions;
select plan(30);

-- ---------------------------------------------------------------------------
-- An owner whose team tracks a channel with data of every kind
-- ---------------------------------------------------------------------------
select tests.create_user('0000000b-0000-4000-8000-000000000001', 'svc-owner@test.local');
insert into public.teams (id, name, plan_id, created_by)
values ('0000000b-0000-4000-8000-0000000000aa', 'Service test team', 'pro', '0000000b-0000-4000-8000-000000000001');
insert into public.channels (id, platform, platform_channel_id)
values ('0000000b-0000-4000-8000-0000000000c1', 'twitch', 'svc-test-1'),
       ('0000000b-0000-4000-8000-0000000000c2', 'youtube', 'svc-test-2');
insert into public.team_channels (team_id, channel_id)
values ('0000000b-0000-4000-8000-0000000000aa', '0000000b-0000-4000-8000-0000000000c1');
insert into public.channel_credentials (channel_id, team_id, kind, ciphertext, nonce, key_version)
values ('0000000b-0000-4000-8000-0000000000c1', '0000000b-0000-4000-8000-0000000000aa',
        'rumble_api_key', '\xdeadbeef', '\x00', 1);
insert into public.stream_sessions (channel_id, platform_stream_id, started_at, last_seen_at)
values ('0000000b-0000-4000-8000-0000000000c1', 'svc-stream', now() - interval '1 hour', now());
insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live)
values ('0000000b-0000-4000-8000-0000000000c1', now(), 5, true);
insert into public.channel_status (channel_id, is_live, viewer_count)
values ('0000000b-0000-4000-8000-0000000000c1', true, 5);
insert into public.channel_stats (channel_id, observed_at, followers)
values ('0000000b-0000-4000-8000-0000000000c1', now(), 1);
insert into public.billing_customers (team_id, stripe_customer_id)
values ('0000000b-0000-4000-8000-0000000000aa', 'cus_svcTest');
insert into public.billing_subscriptions (stripe_subscription_id, team_id, plan_id, status)
values ('sub_svcTest', '0000000b-0000-4000-8000-0000000000aa', 'pro', 'active');

select tests.authenticate_as('0000000b-0000-4000-8000-000000000001');

-- ---------------------------------------------------------------------------
-- Monitoring tables: readable, never writable
-- ---------------------------------------------------------------------------
select is((select count(*) from public.channel_status), 1::bigint, 'the owner reads the channel status');

select throws_ok($$insert into public.channels (platform, platform_channel_id) values ('twitch', 'client-made')$$,
  '42501', null, 'clients cannot insert channels');
select throws_ok($$update public.channels set display_name = 'hijacked'$$,
  '42501', null, 'clients cannot update channels');
select throws_ok($$delete from public.channels$$,
  '42501', null, 'clients cannot delete channels');

select throws_ok($$insert into public.channel_status (channel_id, is_live) values ('0000000b-0000-4000-8000-0000000000c2', true)$$,
  '42501', null, 'clients cannot insert channel_status');
select throws_ok($$update public.channel_status set viewer_count = 999999$$,
  '42501', null, 'clients cannot update channel_status');
select throws_ok($$delete from public.channel_status$$,
  '42501', null, 'clients cannot delete channel_status');

select throws_ok($$insert into public.stream_sessions (channel_id, platform_stream_id, started_at, last_seen_at)
                   values ('0000000b-0000-4000-8000-0000000000c1', 'fake', now(), now())$$,
  '42501', null, 'clients cannot insert stream_sessions');
select throws_ok($$update public.stream_sessions set peak_viewers = 1000000$$,
  '42501', null, 'clients cannot update stream_sessions');

select throws_ok($$insert into public.viewer_samples (channel_id, observed_at, viewer_count, is_live)
                   values ('0000000b-0000-4000-8000-0000000000c1', now() - interval '1 second', 1000000, true)$$,
  '42501', null, 'clients cannot insert viewer_samples');
select throws_ok($$update public.viewer_samples set viewer_count = 1000000$$,
  '42501', null, 'clients cannot update viewer_samples');
select throws_ok($$delete from public.viewer_samples$$,
  '42501', null, 'clients cannot delete viewer_samples');

select throws_ok($$insert into public.channel_stats (channel_id, observed_at, followers)
                   values ('0000000b-0000-4000-8000-0000000000c1', now() - interval '1 day', 1)$$,
  '42501', null, 'clients cannot insert channel_stats');
select throws_ok($$truncate public.channel_stats$$,
  '42501', null, 'clients cannot truncate channel_stats');

-- ---------------------------------------------------------------------------
-- Secrets and operations: no privilege at all
-- ---------------------------------------------------------------------------
select throws_ok($$select * from public.channel_credentials$$,
  '42501', null, 'clients cannot read channel_credentials');
select throws_ok($$insert into public.channel_credentials (channel_id, team_id, kind, ciphertext, nonce, key_version)
                   values ('0000000b-0000-4000-8000-0000000000c2', '0000000b-0000-4000-8000-0000000000aa',
                           'x', '\x00', '\x00', 1)$$,
  '42501', null, 'clients cannot insert channel_credentials');
select throws_ok($$delete from public.channel_credentials$$,
  '42501', null, 'clients cannot delete channel_credentials');
select throws_ok($$select * from public.monitor_runs$$,
  '42501', null, 'clients cannot read monitor_runs');
select throws_ok($$insert into public.platform_quota_usage (platform, quota_day) values ('youtube', current_date)$$,
  '42501', null, 'clients cannot write platform_quota_usage');
select throws_ok($$select * from public.stripe_events$$,
  '42501', null, 'clients cannot read stripe_events');

-- ---------------------------------------------------------------------------
-- Billing and audit: read-only for the team
-- ---------------------------------------------------------------------------
select throws_ok($$update public.billing_subscriptions set plan_id = 'business', status = 'active'$$,
  '42501', null, 'clients cannot update billing_subscriptions');
select throws_ok($$insert into public.billing_customers (team_id, stripe_customer_id)
                   values ('0000000b-0000-4000-8000-0000000000aa', 'cus_fake')$$,
  '42501', null, 'clients cannot insert billing_customers');
select throws_ok($$delete from public.audit_log$$,
  '42501', null, 'clients cannot delete the audit log');
select throws_ok($$insert into public.audit_log (team_id, action) values ('0000000b-0000-4000-8000-0000000000aa', 'forged.entry')$$,
  '42501', null, 'clients cannot forge audit entries');
select throws_ok($$update public.plans set max_channels = 100000$$,
  '42501', null, 'clients cannot change plans');

-- ---------------------------------------------------------------------------
-- Team-side tables: only the client-owned columns are writable
-- ---------------------------------------------------------------------------
select throws_ok($$update public.teams set plan_id = 'business'$$,
  '42501', null, 'an owner cannot change the team plan (billing does)');
select throws_ok($$update public.team_channels set added_by = null$$,
  '42501', null, 'clients may only update paused_at of a tracked channel');
select lives_ok($$update public.team_channels set paused_at = now()
                  where channel_id = '0000000b-0000-4000-8000-0000000000c1'$$,
  'an owner pauses a tracked channel');

select tests.clear_authentication();

-- Nothing changed behind the errors.
select results_eq(
  $$select viewer_count, (select count(*) from public.viewer_samples where channel_id = '0000000b-0000-4000-8000-0000000000c1')
    from public.channel_status where channel_id = '0000000b-0000-4000-8000-0000000000c1'$$,
  $$values (5, 1::bigint)$$,
  'monitoring rows are unchanged'
);
select results_eq(
  $$select plan_id from public.teams where id = '0000000b-0000-4000-8000-0000000000aa'$$,
  $$values ('pro'::text)$$,
  'the team plan is unchanged'
);

select * from finish();
rollback;
