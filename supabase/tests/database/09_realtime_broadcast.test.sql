-- Realtime broadcast: public.broadcast_channel_status_changes() sends one
-- private message per team (plans with the realtime feature) carrying its
-- changed channels; the policies on realtime.messages let only the team's
-- members receive on `team:<team_id>:status`, and nobody send.
-- realtime.messages is as on Supabase Realtime's main branch: daily
-- partitions made by Realtime's janitor, no default partition (the lost
-- broadcast when a day has none: tests/integration/test_realtime_broadcast.py).
begin;
create extension if not exists pgtap with schema extensions;
select plan(27);

-- ---------------------------------------------------------------------------
-- The table Realtime keeps
-- ---------------------------------------------------------------------------
select is(
  (select partdefid from pg_partitioned_table where partrelid = 'realtime.messages'::regclass),
  0::oid,
  'realtime.messages has no default partition'
);
select ok(
  (select bool_and(
     pg_get_expr(c.relpartbound, c.oid)
       = format('FOR VALUES FROM (''%s 00:00:00'') TO (''%s 00:00:00'')',
                to_date(substr(c.relname, 10), 'YYYY_MM_DD'),
                to_date(substr(c.relname, 10), 'YYYY_MM_DD') + 1)
     and c.relowner = 'supabase_realtime_admin'::regrole)
   from pg_inherits i join pg_class c on c.oid = i.inhrelid
   where i.inhparent = 'realtime.messages'::regclass),
  'each partition is one UTC day, named messages_YYYY_MM_DD and owned by supabase_realtime_admin'
);
-- Made when the database came up: yesterday .. today + 3 then, so at least
-- yesterday .. today + 2 now, even across a midnight.
select ok(
  (select bool_and(to_regclass(format('realtime.messages_%s',
                                      to_char(d, 'YYYY_MM_DD'))) is not null)
   from generate_series((now() at time zone 'utc')::date - 1,
                        (now() at time zone 'utc')::date + 2, interval '1 day') d),
  'partitions exist from yesterday to two days ahead (Realtime makes them to three days ahead)'
);
select ok(
  (select relowner = 'supabase_realtime_admin'::regrole from pg_class
   where oid = 'realtime.messages'::regclass)
  and not has_table_privilege('postgres', 'realtime.messages', 'delete')
  and not has_table_privilege('postgres', 'realtime.messages', 'truncate'),
  'realtime.messages belongs to supabase_realtime_admin; postgres may not delete or truncate'
);
select ok(
  (select proowner = 'supabase_realtime_admin'::regrole and not prosecdef
   from pg_proc where oid = 'realtime.send(jsonb, text, text, boolean)'::regprocedure),
  'realtime.send runs as its caller (owner supabase_realtime_admin, not security definer)'
);

-- ---------------------------------------------------------------------------
-- Data: teams A and B (pro), F (free, no realtime feature); alice in A,
-- bob in B, carol in none. c1: A; c2: B; c3: A (paused) and B; c4: F; c5: nobody.
-- ---------------------------------------------------------------------------
select tests.create_user('a1000000-0000-4000-8000-000000000001', 'alice@rt.test');
select tests.create_user('b1000000-0000-4000-8000-000000000001', 'bob@rt.test');
select tests.create_user('c1000000-0000-4000-8000-000000000001', 'carol@rt.test');
insert into public.teams (id, name, plan_id, created_by) values
  ('aaaa0000-0000-4000-8000-00000000000a', 'RT A', 'pro', 'a1000000-0000-4000-8000-000000000001'),
  ('bbbb0000-0000-4000-8000-00000000000b', 'RT B', 'pro', 'b1000000-0000-4000-8000-000000000001'),
  ('ffff0000-0000-4000-8000-00000000000f', 'RT F', 'free', 'a1000000-0000-4000-8000-000000000001');
insert into public.channels (id, platform, platform_channel_id) values
  ('0c000000-0000-4000-8000-000000000001', 'twitch', 'rt-c1'),
  ('0c000000-0000-4000-8000-000000000002', 'twitch', 'rt-c2'),
  ('0c000000-0000-4000-8000-000000000003', 'twitch', 'rt-c3'),
  ('0c000000-0000-4000-8000-000000000004', 'twitch', 'rt-c4'),
  ('0c000000-0000-4000-8000-000000000005', 'twitch', 'rt-c5');
insert into public.team_channels (team_id, channel_id, paused_at) values
  ('aaaa0000-0000-4000-8000-00000000000a', '0c000000-0000-4000-8000-000000000001', null),
  ('aaaa0000-0000-4000-8000-00000000000a', '0c000000-0000-4000-8000-000000000003', now()),
  ('bbbb0000-0000-4000-8000-00000000000b', '0c000000-0000-4000-8000-000000000002', null),
  ('bbbb0000-0000-4000-8000-00000000000b', '0c000000-0000-4000-8000-000000000003', null),
  ('ffff0000-0000-4000-8000-00000000000f', '0c000000-0000-4000-8000-000000000004', null);
insert into public.channel_status (channel_id, is_live, viewer_count, title, last_checked_at)
select id, true, 42, 'title ' || platform_channel_id, now()
from public.channels where platform_channel_id like 'rt-c%';

create temporary table topics (team text primary key, topic text not null);
insert into topics values
  ('A', 'team:aaaa0000-0000-4000-8000-00000000000a:status'),
  ('B', 'team:bbbb0000-0000-4000-8000-00000000000b:status'),
  ('F', 'team:ffff0000-0000-4000-8000-00000000000f:status');
grant select on topics to authenticated, anon;

-- ---------------------------------------------------------------------------
-- Batching
-- ---------------------------------------------------------------------------
select is(
  public.broadcast_channel_status_changes(array[
    '0c000000-0000-4000-8000-000000000001', '0c000000-0000-4000-8000-000000000002',
    '0c000000-0000-4000-8000-000000000003', '0c000000-0000-4000-8000-000000000004',
    '0c000000-0000-4000-8000-000000000005']::uuid[]),
  2,
  'one message per team with the realtime feature (A and B), none for the free team or nobody'
);
select is(
  (select count(*)::int from realtime.messages m join topics t on t.topic = m.topic where t.team = 'A'),
  1, 'team A got exactly one message'
);
select is(
  (select array_agg(c ->> 'channel_id' order by c ->> 'channel_id')
   from realtime.messages m join topics t on t.topic = m.topic,
        jsonb_array_elements(m.payload -> 'channels') c
   where t.team = 'A'),
  array['0c000000-0000-4000-8000-000000000001', '0c000000-0000-4000-8000-000000000003'],
  'team A''s message carries its changed channels, the paused one included'
);
select is(
  (select array_agg(c ->> 'channel_id' order by c ->> 'channel_id')
   from realtime.messages m join topics t on t.topic = m.topic,
        jsonb_array_elements(m.payload -> 'channels') c
   where t.team = 'B'),
  array['0c000000-0000-4000-8000-000000000002', '0c000000-0000-4000-8000-000000000003'],
  'team B''s message carries exactly its changed channels'
);
select is(
  (select count(*)::int from realtime.messages m join topics t on t.topic = m.topic where t.team = 'F'),
  0, 'no message for a team whose plan has no realtime feature'
);
select ok(
  (select bool_and(m.private and m.extension = 'broadcast' and m.event = 'channel_status'
                   and m.payload ->> 'team_id' = substr(m.topic, 6, 36)
                   and m.payload ? 'id')
   from realtime.messages m join topics t on t.topic = m.topic),
  'messages are private broadcasts of event channel_status naming their team, with an id'
);
select is(
  (select c -> 'viewer_count' from realtime.messages m join topics t on t.topic = m.topic,
          jsonb_array_elements(m.payload -> 'channels') c
   where t.team = 'A' and c ->> 'channel_id' = '0c000000-0000-4000-8000-000000000001'),
  '42'::jsonb,
  'each channel entry carries the channel_status row'
);
select is(
  public.broadcast_channel_status_changes('{}'::uuid[]), 0, 'no changed channel: no message'
);
select is(
  public.broadcast_channel_status_changes(array['0c000000-0000-4000-8000-000000000005']::uuid[]),
  0, 'an untracked channel: no message'
);

-- ---------------------------------------------------------------------------
-- Who may receive
-- ---------------------------------------------------------------------------
select tests.set_realtime_topic((select topic from topics where team = 'A'));
select tests.authenticate_as('a1000000-0000-4000-8000-000000000001');
select is(tests.visible_rows('realtime.messages'), 1::bigint, 'a member of A joining A''s topic sees A''s message');
select tests.clear_authentication();

select tests.set_realtime_topic((select topic from topics where team = 'B'));
select tests.authenticate_as('a1000000-0000-4000-8000-000000000001');
select is(tests.visible_rows('realtime.messages'), 0::bigint, 'a member of A cannot join B''s topic');
select tests.clear_authentication();

select tests.set_realtime_topic((select topic from topics where team = 'A'));
select tests.authenticate_as('b1000000-0000-4000-8000-000000000001');
select is(tests.visible_rows('realtime.messages'), 0::bigint, 'a member of B cannot join A''s topic');
select tests.clear_authentication();

select tests.set_realtime_topic((select topic from topics where team = 'A'));
select tests.authenticate_as('c1000000-0000-4000-8000-000000000001');
select is(tests.visible_rows('realtime.messages'), 0::bigint, 'a user in no team cannot join A''s topic');
select tests.clear_authentication();

select tests.set_realtime_topic((select topic from topics where team = 'A'));
select tests.authenticate_as_anon();
select is(tests.visible_rows('realtime.messages'), 0::bigint, 'anon cannot join A''s topic');
select tests.clear_authentication();

select tests.set_realtime_topic(null);
select tests.authenticate_as('a1000000-0000-4000-8000-000000000001');
select is(tests.visible_rows('realtime.messages'), 0::bigint, 'without a topic a member sees nothing');
select tests.clear_authentication();

select tests.set_realtime_topic('team:not-a-uuid:status');
select tests.authenticate_as('a1000000-0000-4000-8000-000000000001');
select lives_ok($$select count(*) from realtime.messages$$, 'a malformed topic does not raise');
select is(tests.visible_rows('realtime.messages'), 0::bigint, '...and shows nothing');
select tests.clear_authentication();

select tests.set_realtime_topic('team:AAAA0000-0000-4000-8000-00000000000A:status');
select tests.authenticate_as('a1000000-0000-4000-8000-000000000001');
select is(tests.visible_rows('realtime.messages'), 0::bigint, 'only the canonical (lowercase) topic matches');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------
-- Nobody sends
-- ---------------------------------------------------------------------------
select tests.set_realtime_topic((select topic from topics where team = 'A'));
select tests.authenticate_as('a1000000-0000-4000-8000-000000000001');
select throws_ok(
  $$insert into realtime.messages (topic, extension, event, payload, private)
    values ('team:aaaa0000-0000-4000-8000-00000000000a:status', 'broadcast', 'x', '{}', true)$$,
  '42501', null, 'a member cannot broadcast into the team''s topic'
);
set local client_min_messages = error;  -- the WARNING realtime.send raises instead
select lives_ok(
  $$select realtime.send('{"x": 1}', 'x', 'team:aaaa0000-0000-4000-8000-00000000000a:status', true)$$,
  'realtime.send swallows its own errors, as on Supabase'
);
select tests.clear_authentication();
reset client_min_messages;
select is(
  (select count(*)::int from realtime.messages where topic = (select topic from topics where team = 'A')),
  1, '...and the refused send left no message'
);

select ok(
  not has_function_privilege('authenticated', 'public.broadcast_channel_status_changes(uuid[])', 'execute')
  and not has_function_privilege('anon', 'public.broadcast_channel_status_changes(uuid[])', 'execute'),
  'clients cannot call the broadcast function'
);

select * from finish();
rollback;
