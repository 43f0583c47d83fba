-- Credentials belong to the team that supplied them (issue 11, item 2):
-- a channel polled with its owner's credential (a Rumble key) can only be
-- tracked by a team that supplied one of its own; a team's credential lives
-- exactly as long as that team's tracking row; clients never touch them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(16);

-- Team A tracks Rumble channel R with its owner's key. Bob's team B once
-- tracked R too (he knows R's id), and now tries to get it back without a
-- key. T is a Twitch channel (no credential needed).
select tests.create_user('00000015-0000-4000-8000-000000000001', 'alice@cred.test');
select tests.create_user('00000015-0000-4000-8000-000000000002', 'bob@cred.test');
insert into public.teams (id, name, plan_id, created_by) values
  ('00000015-0000-4000-8000-0000000000aa', 'Team A', 'pro', '00000015-0000-4000-8000-000000000001'),
  ('00000015-0000-4000-8000-0000000000bb', 'Team B', 'pro', '00000015-0000-4000-8000-000000000002');
insert into public.channels (id, platform, platform_channel_id, requires_credential) values
  ('00000015-0000-4000-8000-0000000000c1', 'rumble', 'cred-rumble', true),
  ('00000015-0000-4000-8000-0000000000c2', 'twitch', 'cred-twitch', false);
insert into public.team_channels (team_id, channel_id)
values ('00000015-0000-4000-8000-0000000000aa', '00000015-0000-4000-8000-0000000000c1');
insert into public.channel_credentials (channel_id, team_id, kind, ciphertext, nonce, key_version)
values ('00000015-0000-4000-8000-0000000000c1', '00000015-0000-4000-8000-0000000000aa',
        'rumble_livestream_api_key', '\x0a', '\x0b', 1);
insert into public.channel_status (channel_id, is_live, viewer_count)
values ('00000015-0000-4000-8000-0000000000c1', true, 7);
-- Orphan credentials fail at once below, not only at commit.
set constraints public.channel_credentials_tracking_fkey immediate;

-- ---------------------------------------------------------------------------
-- Bob cannot ride on team A's key
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000015-0000-4000-8000-000000000002');
select throws_ok(
  $$insert into public.team_channels (team_id, channel_id)
    values ('00000015-0000-4000-8000-0000000000bb', '00000015-0000-4000-8000-0000000000c1')$$,
  '42501', 'permission denied for table team_channels',
  'a direct insert of a known channel id is refused (no client insert)');
select throws_ok(
  $$select public.track_team_channel('00000015-0000-4000-8000-0000000000bb',
                                     '00000015-0000-4000-8000-0000000000c1')$$,
  '42501', 'this channel is polled with its owner''s credential, and your team has not supplied one',
  'the RPC refuses a credential-polled channel the team supplied no credential for');
select is(tests.visible_rows('public.channel_status'), 0::bigint,
  '...so Bob reads none of its data');
select throws_ok(
  $$insert into public.channel_credentials (channel_id, team_id, kind, ciphertext, nonce, key_version)
    values ('00000015-0000-4000-8000-0000000000c1', '00000015-0000-4000-8000-0000000000bb',
            'rumble_livestream_api_key', '\x00', '\x00', 1)$$,
  '42501', null,
  'clients cannot store a credential themselves');
select throws_ok(
  $$update public.channels set requires_credential = false
    where id = '00000015-0000-4000-8000-0000000000c1'$$,
  '42501', null,
  'clients cannot clear requires_credential');
select is(public.track_team_channel('00000015-0000-4000-8000-0000000000bb',
                                    '00000015-0000-4000-8000-0000000000c2'), true,
  'a channel that needs no credential is tracked without one');

-- ---------------------------------------------------------------------------
-- With a key of its own (what the API stores, on the service side, before
-- calling the RPC as the user), team B tracks R
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok(
  $$insert into public.channel_credentials (channel_id, team_id, kind, ciphertext, nonce, key_version)
    values ('00000015-0000-4000-8000-0000000000c2', '00000015-0000-4000-8000-0000000000aa',
            'x', '\x00', '\x00', 1)$$,
  '23503', null,
  'a credential for a channel its team does not track is refused');
set constraints public.channel_credentials_tracking_fkey deferred;
insert into public.channel_credentials (channel_id, team_id, kind, ciphertext, nonce, key_version)
values ('00000015-0000-4000-8000-0000000000c1', '00000015-0000-4000-8000-0000000000bb',
        'rumble_livestream_api_key', '\x1a', '\x1b', 1);
select tests.authenticate_as('00000015-0000-4000-8000-000000000002');
select is(public.track_team_channel('00000015-0000-4000-8000-0000000000bb',
                                    '00000015-0000-4000-8000-0000000000c1'), true,
  'with its own credential stored first, team B tracks R');
select tests.clear_authentication();
select lives_ok($$set constraints public.channel_credentials_tracking_fkey immediate$$,
  'B''s credential now has its tracking row (the deferred check passes)');
select is(
  array(select team_id::text from public.channel_credentials
        where channel_id = '00000015-0000-4000-8000-0000000000c1' order by 1),
  array['00000015-0000-4000-8000-0000000000aa', '00000015-0000-4000-8000-0000000000bb'],
  'each team holds its own credential for R');

-- ---------------------------------------------------------------------------
-- A credential goes with its team's tracking, and with the team
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000015-0000-4000-8000-000000000001');
delete from public.team_channels
where team_id = '00000015-0000-4000-8000-0000000000aa'
  and channel_id = '00000015-0000-4000-8000-0000000000c1';
select tests.clear_authentication();
select is(
  array(select team_id::text from public.channel_credentials
        where channel_id = '00000015-0000-4000-8000-0000000000c1'),
  array['00000015-0000-4000-8000-0000000000bb'],
  'team A stopped tracking R: A''s credential is gone at once, B''s stays');
delete from public.teams where id = '00000015-0000-4000-8000-0000000000bb';
select is((select count(*) from public.channel_credentials
           where channel_id = '00000015-0000-4000-8000-0000000000c1'), 0::bigint,
  'deleting team B deletes its credential');

-- Team A re-adding R needs a key again: its old one went.
select tests.authenticate_as('00000015-0000-4000-8000-000000000001');
select throws_ok(
  $$select public.track_team_channel('00000015-0000-4000-8000-0000000000aa',
                                     '00000015-0000-4000-8000-0000000000c1')$$,
  '42501', null,
  'a team that stopped tracking R cannot come back without a credential');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------
-- Shape
-- ---------------------------------------------------------------------------
select col_is_pk('public', 'channel_credentials', array['channel_id', 'team_id'],
  'one credential per channel and team');
select fk_ok('public', 'channel_credentials', array['team_id', 'channel_id'],
             'public', 'team_channels', array['team_id', 'channel_id'],
  'a credential references its team''s tracking row');
select hasnt_function('public', 'drop_untracked_channel_credentials', array[]::text[],
  'no trigger keeps a credential past its own team: the foreign key cascades');

select * from finish();
rollback;
