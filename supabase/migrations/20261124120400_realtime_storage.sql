-- Realtime and Storage: what the frontend reaches through Supabase's
-- Realtime and Storage services rather than through PostgREST. Two parts:
--   1. Realtime: the per-team Broadcast of live channel status, and who may
--      join its topics (policies on realtime.messages).
--   2. Storage: the private `exports` bucket of CSV exports and its policies
--      (on storage.objects).

-- ===========================================================================
-- 1. Realtime
-- ===========================================================================
-- Live channel status is broadcast from the database to one private
-- topic per team, `team:<team_id>:status` (team id in lowercase, as
-- uuid::text prints it).
--
-- The monitor calls broadcast_channel_status_changes() once per cycle, in
-- its write transaction, with the channels whose status row changed. Every
-- team tracking one of them (paused or not: a paused team still reads the
-- channel's status) on a plan whose features include "realtime" gets ONE
-- message carrying all of its changed channels, through realtime.send(),
-- Supabase's Broadcast from the database. Realtime delivers a message only
-- after it commits, so a cycle rolled back broadcasts nothing.
--
-- Who may join: Realtime checks a client's join to a private channel against
-- the SELECT policies on realtime.messages, with realtime.topic() set to the
-- channel's topic. Members of a team whose plan has "realtime" may receive;
-- nobody may send (no insert policy: clients cannot broadcast into a team's
-- topic).
--
-- This Broadcast is the only live push: channel_status is not in the
-- supabase_realtime publication (see the channels migration), so the plan
-- feature holds in the database, not by the UI leaving it out.
-- See docs/realtime.md for the supabase-js subscription and the payload.

-- The team of a status topic; null for anything else (never raises, so a
-- malformed topic in a policy just matches nothing).
create function public.team_id_from_status_topic(topic text)
  returns uuid
  language sql
  immutable
  set search_path = ''
as $$
  select case
    when team_id_from_status_topic.topic
         ~ '^team:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:status$'
    then substr(team_id_from_status_topic.topic, 6, 36)::uuid
  end
$$;
comment on function public.team_id_from_status_topic(text) is
  'The team id of a topic ''team:<uuid>:status'' (lowercase uuid), else null.';
-- For the join policy below (authenticated); nobody else needs it.
revoke all on function public.team_id_from_status_topic(text) from public, anon;
grant execute on function public.team_id_from_status_topic(text) to authenticated, service_role;

-- Members of a team with the realtime feature receive broadcasts on its
-- status topic, and only on it: the row's topic must be the topic being
-- joined.
create policy team_status_topic_select_member on realtime.messages
  for select to authenticated
  using (
    realtime.messages.extension = 'broadcast'
    and realtime.messages.topic = (select realtime.topic())
    and public.team_has_feature(public.team_id_from_status_topic((select realtime.topic())), 'realtime')
  );

-- One message per team per call, carrying every changed channel of that
-- team. Returns how many messages were stored, i.e. will reach Realtime.
-- Backend only.
--
-- realtime.send() never raises: when it cannot store a message (on Supabase,
-- no daily partition of realtime.messages covers now(), say, because
-- Realtime's janitor has not run), it logs a WARNING and the broadcast is
-- lost. So each message gets its own id in the payload, and a message counts
-- only once a row carrying it is found: a lost broadcast is reported as
-- lost (the count falls short), never as sent.
create function public.broadcast_channel_status_changes(channel_ids uuid[])
  returns integer
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
declare
  v_team record;
  v_id uuid;
  v_topic text;
  v_stored integer := 0;
begin
  if broadcast_channel_status_changes.channel_ids is null
     or cardinality(broadcast_channel_status_changes.channel_ids) = 0 then
    return 0;
  end if;
  for v_team in
    select tc.team_id,
           jsonb_agg(
             jsonb_build_object(
               'channel_id', s.channel_id,
               'is_live', s.is_live,
               'platform_stream_id', s.platform_stream_id,
               'title', s.title,
               'category', s.category,
               'viewer_count', s.viewer_count,
               'started_at', s.started_at,
               'session_id', s.session_id,
               'last_checked_at', s.last_checked_at,
               'changed_at', s.changed_at)
             order by s.channel_id) as channels
    from public.channel_status s
    join public.team_channels tc on tc.channel_id = s.channel_id
    join public.teams t on t.id = tc.team_id
    join public.plans p on p.id = t.plan_id
    where s.channel_id = any (broadcast_channel_status_changes.channel_ids)
      and coalesce((p.features ->> 'realtime')::boolean, false)
    group by tc.team_id
    order by tc.team_id
  loop
    v_id := gen_random_uuid();
    v_topic := 'team:' || v_team.team_id::text || ':status';
    perform realtime.send(
      jsonb_build_object('id', v_id, 'team_id', v_team.team_id, 'channels', v_team.channels),
      'channel_status',
      v_topic,
      true);
    -- realtime.send stores the row with inserted_at = now() (this
    -- transaction's start): look in that one partition only.
    if exists (
      select 1 from realtime.messages m
      where m.inserted_at = now()::timestamp
        and m.topic = v_topic
        and m.extension = 'broadcast'
        and m.private is true
        and m.payload ->> 'id' = v_id::text
    ) then
      v_stored := v_stored + 1;
    end if;
  end loop;
  return v_stored;
end;
$$;
comment on function public.broadcast_channel_status_changes(uuid[]) is
  'Broadcasts the current status of the given channels: one private message per team tracking any of them (plans with the realtime feature). Returns the messages stored (a broadcast Realtime could not store is not counted). Backend only.';
revoke all on function public.broadcast_channel_status_changes(uuid[]) from public, anon, authenticated;
grant execute on function public.broadcast_channel_status_changes(uuid[]) to service_role;

-- ===========================================================================
-- 2. Storage
-- ===========================================================================
-- CSV exports go to a private bucket `exports`, one folder per team
-- (`<team_id>/<file>.csv`).
--
-- The backend writes with the service role key (the Storage API then runs
-- as service_role, which bypasses RLS) and hands out signed URLs. With their
-- own session, members of a team may list and download their team's
-- folder; nobody else may read it, and no client may write, change or
-- delete anything in the bucket. The write rules are RESTRICTIVE policies,
-- so a permissive policy a later migration adds on storage.objects (for
-- another bucket, say) can never open this one.

insert into storage.buckets (id, name, public)
values ('exports', 'exports', false)
on conflict (id) do update set public = false;

-- The team of an export object's path; null when the first folder is not a
-- team id (never raises, so a malformed name just matches nothing).
create function public.team_id_from_export_path(name text)
  returns uuid
  language sql
  immutable
  set search_path = ''
as $$
  select case
    when (storage.foldername(team_id_from_export_path.name))[1]
         ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    then ((storage.foldername(team_id_from_export_path.name))[1])::uuid
  end
$$;
comment on function public.team_id_from_export_path(text) is
  'The team id of an exports object name ''<team_id>/...'', else null.';
-- For the policies below. anon never evaluates them: it has no permissive
-- policy on storage.objects, so its rows are refused before these run (were
-- one added, anon would need is_team_member() too).
revoke all on function public.team_id_from_export_path(text) from public, anon;
grant execute on function public.team_id_from_export_path(text) to authenticated, service_role;

create policy exports_select_team_member on storage.objects
  for select to authenticated
  using (
    bucket_id = 'exports'
    and public.is_team_member(public.team_id_from_export_path(name))
  );

-- Restrictive: whatever else is allowed on storage.objects, in this bucket
-- clients read only their teams' folders and write nothing.
create policy exports_restrict_select on storage.objects
  as restrictive for select to anon, authenticated
  using (
    bucket_id is distinct from 'exports'
    or public.is_team_member(public.team_id_from_export_path(name))
  );
create policy exports_no_client_insert on storage.objects
  as restrictive for insert to anon, authenticated
  with check (bucket_id is distinct from 'exports');
create policy exports_no_client_update on storage.objects
  as restrictive for update to anon, authenticated
  using (bucket_id is distinct from 'exports')
  with check (bucket_id is distinct from 'exports');
create policy exports_no_client_delete on storage.objects
  as restrictive for delete to anon, authenticated
  using (bucket_id is distinct from 'exports');
