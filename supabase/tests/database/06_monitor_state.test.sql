-- channel_poll_state and the monitor's bookkeeping columns: backend only.
begin;
create extension if not exists pgtap with schema extensions;
select plan(8);

select has_table('public', 'channel_poll_state', 'channel_poll_state exists');
select ok(
  (select relrowsecurity from pg_class where oid = 'public.channel_poll_state'::regclass),
  'channel_poll_state has RLS enabled'
);
select is(
  (select count(*)::int from pg_policy where polrelid = 'public.channel_poll_state'::regclass),
  0,
  'channel_poll_state has no policy: clients get nothing'
);
select ok(
  not has_table_privilege('authenticated', 'public.channel_poll_state', 'select')
  and not has_table_privilege('anon', 'public.channel_poll_state', 'select')
  and not has_table_privilege('authenticated', 'public.channel_poll_state', 'insert'),
  'the API roles hold no privilege on channel_poll_state'
);

insert into public.channels (id, platform, platform_channel_id)
values ('00000000-0000-0000-0000-00000000c001', 'youtube', 'UCmonitorstate0000000001');
insert into public.channel_poll_state (channel_id, candidate_video_ids)
values ('00000000-0000-0000-0000-00000000c001', array['v1', 'v2']);

select throws_ok(
  $$ update public.channel_poll_state
     set candidate_video_ids = array(select 'v' || g from generate_series(1, 51) g) $$,
  '23514',
  null,
  'at most 50 candidate videos per channel: one videos.list call'
);

select throws_ok(
  $$ insert into public.monitor_runs (shard_index, shard_count) values (3, 2) $$,
  '23514',
  null,
  'a shard index lies below the shard count'
);
select lives_ok(
  $$ insert into public.monitor_runs (trigger, shard_index, shard_count) values ('queue', 1, 2) $$,
  'a queue shard run is recorded'
);

delete from public.channels where id = '00000000-0000-0000-0000-00000000c001';
select is(
  (select count(*)::int from public.channel_poll_state
   where channel_id = '00000000-0000-0000-0000-00000000c001'),
  0,
  'poll state goes with its channel'
);

select * from finish();
rollback;
