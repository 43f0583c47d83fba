-- Push detection's tables (issue 14), attacked as a client would: a team's
-- owner tracking the channel, anon, direct reads, writes and deletes that skip
-- the API. Clients read nothing operational: deliveries carry what platforms
-- said about any channel, subscriptions what StreamTrack holds with them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(22);

select tests.create_user('e1000000-0000-4000-8000-000000000001', 'push-owner@test.local');
insert into public.teams (id, name, created_by) values
  ('e2000000-0000-4000-8000-00000000000a', 'Push A', 'e1000000-0000-4000-8000-000000000001');
insert into public.channels (id, platform, platform_channel_id) values
  ('e3000000-0000-4000-8000-000000000001', 'twitch', '90000001');
insert into public.team_channels (team_id, channel_id) values
  ('e2000000-0000-4000-8000-00000000000a', 'e3000000-0000-4000-8000-000000000001');
insert into public.push_subscriptions (channel_id, platform, event_type, remote_id, status, cost)
values ('e3000000-0000-4000-8000-000000000001', 'twitch', 'stream.online', 'sub-1', 'enabled', 1);
insert into public.push_deliveries (platform, message_id, kind, payload)
values ('twitch', 'msg-1', 'notification', '{"events": []}');

-- 1-4: the catalogue: RLS on, no policy.
select ok((select relrowsecurity from pg_class where oid = 'public.push_deliveries'::regclass),
  'push_deliveries has RLS enabled');
select ok((select relrowsecurity from pg_class where oid = 'public.push_subscriptions'::regclass),
  'push_subscriptions has RLS enabled');
select is((select count(*)::int from pg_policy
           where polrelid in ('public.push_deliveries'::regclass, 'public.push_subscriptions'::regclass)),
  0, 'no policy on either table: clients get nothing');
select ok(
  not has_table_privilege('authenticated', 'public.push_deliveries', 'select,insert,update,delete,truncate')
  and not has_table_privilege('anon', 'public.push_deliveries', 'select,insert,update,delete,truncate')
  and not has_table_privilege('authenticated', 'public.push_subscriptions', 'select,insert,update,delete,truncate')
  and not has_table_privilege('anon', 'public.push_subscriptions', 'select,insert,update,delete,truncate')
  and not has_sequence_privilege('authenticated', 'public.push_subscriptions_id_seq', 'usage,select,update'),
  'the API roles hold no privilege on the push tables or their sequence');

-- 5-12: the owner of a team tracking the channel, by hand.
select tests.authenticate_as('e1000000-0000-4000-8000-000000000001');
select throws_ok($$select * from public.push_deliveries$$, '42501', null,
  'a signed-in user cannot read deliveries');
select throws_ok($$select * from public.push_subscriptions$$, '42501', null,
  'a signed-in user cannot read subscriptions, even of a channel their team tracks');
select throws_ok($$insert into public.push_deliveries (platform, message_id, kind, payload)
                   values ('twitch', 'forged', 'notification',
                           '{"events": [{"platform_channel_id": "90000001", "event_type": "stream.online"}]}')$$,
  '42501', null, 'a signed-in user cannot forge a delivery (it would be applied as the platform''s word)');
select throws_ok($$update public.push_subscriptions set status = 'revoked'$$, '42501', null,
  'a signed-in user cannot revoke a subscription (the channel would be polled less or more)');
select throws_ok($$delete from public.push_subscriptions$$, '42501', null,
  'a signed-in user cannot delete subscriptions');
select throws_ok($$update public.push_deliveries set processed_at = null$$, '42501', null,
  'a signed-in user cannot replay deliveries');
select throws_ok($$truncate public.push_deliveries$$, '42501', null,
  'a signed-in user cannot truncate deliveries');
select throws_ok($$insert into public.monitor_runs (trigger) values ('push')$$, '42501', null,
  'a signed-in user cannot record a push run');

-- 13-15: anon.
select tests.authenticate_as_anon();
select throws_ok($$select * from public.push_deliveries$$, '42501', null, 'anon cannot read deliveries');
select throws_ok($$select * from public.push_subscriptions$$, '42501', null, 'anon cannot read subscriptions');
select throws_ok($$insert into public.push_subscriptions (channel_id, platform, event_type)
                   values ('e3000000-0000-4000-8000-000000000001', 'twitch', 'stream.offline')$$,
  '42501', null, 'anon cannot add a subscription');
select tests.clear_authentication();

-- 16-22: the rows themselves (service side).
select throws_ok($$insert into public.push_deliveries (platform, message_id, kind, payload)
                   values ('twitch', 'msg-1', 'notification', '{}')$$,
  '23505', null, 'a message id is recorded once per platform (deduplication)');
select lives_ok($$insert into public.push_deliveries (platform, message_id, kind, payload)
                  values ('kick', 'msg-1', 'notification', '{}')$$,
  'the same message id on another platform is another delivery');
select throws_ok($$insert into public.push_deliveries (platform, message_id, kind, payload)
                   values ('twitch', 'msg-2', 'gossip', '{}')$$,
  '23514', null, 'a delivery kind is a notification or a revocation');
select throws_ok($$insert into public.push_subscriptions (channel_id, platform, event_type)
                   values ('e3000000-0000-4000-8000-000000000001', 'twitch', 'stream.online')$$,
  '23505', null, 'one subscription per channel and event type');
select throws_ok($$update public.push_subscriptions set status = 'sleeping'$$,
  '23514', null, 'a subscription status is pending, enabled, failed or revoked');
select lives_ok($$insert into public.monitor_runs (trigger) values ('push')$$,
  'the push timer records its runs');
delete from public.channels where id = 'e3000000-0000-4000-8000-000000000001';
select is((select count(*)::int from public.push_subscriptions
           where channel_id = 'e3000000-0000-4000-8000-000000000001'),
  0, 'a deleted channel takes its subscriptions with it');

select * from finish();
rollback;
