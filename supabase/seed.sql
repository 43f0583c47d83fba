-- Local demo data only (never run against production). Applied after the
-- migrations; safe to re-run (every insert skips existing rows).
--
-- Users (password for all three: "streamtrack-demo"):
--   alice@example.com  owner of "Demo Team"
--   bob@example.com    member
--   carol@example.com  viewer

-- ---------------------------------------------------------------------------
-- auth.users + auth.identities, shaped like GoTrue's own rows so the demo
-- users can also sign in on a local Supabase stack (token columns must be ''
-- rather than null there).
-- ---------------------------------------------------------------------------
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  confirmation_token, recovery_token, email_change_token_new, email_change,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
select
  '00000000-0000-0000-0000-000000000000'::uuid,
  u.id,
  'authenticated',
  'authenticated',
  u.email,
  extensions.crypt('streamtrack-demo', extensions.gen_salt('bf')),
  now(),
  '', '', '', '',
  '{"provider": "email", "providers": ["email"]}'::jsonb,
  jsonb_build_object('display_name', u.display_name),
  now(),
  now()
from (values
  ('a11ce000-0000-4000-8000-000000000001'::uuid, 'alice@example.com', 'Alice'),
  ('b0b00000-0000-4000-8000-000000000002'::uuid, 'bob@example.com', 'Bob'),
  ('ca201000-0000-4000-8000-000000000003'::uuid, 'carol@example.com', 'Carol')
) as u (id, email, display_name)
on conflict (id) do nothing;

insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
select
  u.id::text,
  u.id,
  jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true),
  'email',
  now(), now(), now()
from auth.users u
where u.id in ('a11ce000-0000-4000-8000-000000000001',
               'b0b00000-0000-4000-8000-000000000002',
               'ca201000-0000-4000-8000-000000000003')
on conflict (provider_id, provider) do nothing;

-- ---------------------------------------------------------------------------
-- One team; the insert trigger makes its creator (Alice) the owner.
-- ---------------------------------------------------------------------------
insert into public.teams (id, name, plan_id, created_by)
values ('de300000-0000-4000-8000-000000000001', 'Demo Team', 'pro',
        'a11ce000-0000-4000-8000-000000000001')
on conflict (id) do nothing;

insert into public.team_members (team_id, user_id, role)
values
  ('de300000-0000-4000-8000-000000000001', 'b0b00000-0000-4000-8000-000000000002', 'member'),
  ('de300000-0000-4000-8000-000000000001', 'ca201000-0000-4000-8000-000000000003', 'viewer')
on conflict (team_id, user_id) do nothing;

-- ---------------------------------------------------------------------------
-- Channels (fictional ids) tracked by the team, with a little history.
-- ---------------------------------------------------------------------------
insert into public.channels (id, platform, platform_channel_id, handle, display_name, url)
values
  ('c4a00000-0000-4000-8000-000000000001', 'twitch', '900000001', 'demo_twitch',
   'Demo Twitch', 'https://www.twitch.tv/demo_twitch'),
  ('c4a00000-0000-4000-8000-000000000002', 'youtube', 'UCdemo000000000000000001', '@demoyoutube',
   'Demo YouTube', 'https://www.youtube.com/@demoyoutube'),
  ('c4a00000-0000-4000-8000-000000000003', 'rumble', 'demorumble', 'demorumble',
   'Demo Rumble', 'https://rumble.com/c/demorumble')
on conflict (platform, platform_channel_id) do nothing;

insert into public.team_channels (team_id, channel_id, added_by)
select 'de300000-0000-4000-8000-000000000001', c.id, 'a11ce000-0000-4000-8000-000000000001'
from public.channels c
where c.id in ('c4a00000-0000-4000-8000-000000000001',
               'c4a00000-0000-4000-8000-000000000002',
               'c4a00000-0000-4000-8000-000000000003')
on conflict (team_id, channel_id) do nothing;

-- The Twitch channel has been live for 30 minutes; YouTube hides its count.
insert into public.stream_sessions (
  channel_id, platform_stream_id, title, category, started_at, last_seen_at,
  peak_viewers, avg_viewers, viewer_seconds, sample_count, known_viewer_sample_count
)
values
  ('c4a00000-0000-4000-8000-000000000001', 'demo-stream-1', 'Demo speedrun', 'Just Chatting',
   now() - interval '30 minutes', now(), 150, 120, 120 * 1800, 7, 7),
  ('c4a00000-0000-4000-8000-000000000002', 'demoVideo01', 'Demo live podcast', null,
   now() - interval '10 minutes', now(), null, null, 0, 3, 0)
on conflict (channel_id, platform_stream_id) do nothing;

insert into public.viewer_samples (channel_id, observed_at, viewer_count, session_id, is_live)
select s.channel_id,
       date_trunc('minute', now()) - make_interval(mins => g * 5),
       case when s.known_viewer_sample_count > 0 then 90 + g * 10 end,
       s.id,
       true
from public.stream_sessions s
cross join generate_series(0, 2) as g
where s.channel_id in ('c4a00000-0000-4000-8000-000000000001', 'c4a00000-0000-4000-8000-000000000002')
  and s.ended_at is null
on conflict (channel_id, observed_at) do nothing;

insert into public.channel_status (
  channel_id, is_live, platform_stream_id, title, category, viewer_count,
  started_at, session_id, last_checked_at, changed_at
)
select c.id,
       s.id is not null,
       s.platform_stream_id,
       s.title,
       s.category,
       case when s.known_viewer_sample_count > 0 then s.peak_viewers end,
       s.started_at,
       s.id,
       now(),
       coalesce(s.started_at, now() - interval '1 day')
from public.channels c
left join public.stream_sessions s on s.channel_id = c.id and s.ended_at is null
where c.id in ('c4a00000-0000-4000-8000-000000000001',
               'c4a00000-0000-4000-8000-000000000002',
               'c4a00000-0000-4000-8000-000000000003')
on conflict (channel_id) do nothing;

insert into public.channel_stats (channel_id, observed_at, followers, subscribers)
values
  ('c4a00000-0000-4000-8000-000000000001', date_trunc('hour', now()), 12345, null),
  ('c4a00000-0000-4000-8000-000000000002', date_trunc('hour', now()), null, 56000),
  ('c4a00000-0000-4000-8000-000000000003', date_trunc('hour', now()), 789, 12)
on conflict (channel_id, observed_at) do nothing;
