-- Invitations (hashed tokens, accept_team_invitation), require_mfa
-- (mfa_satisfied in write policies), the plan catalogue and plan limits.
begin;
create extension if not exists pgtap with schema extensions;
select plan(32);

select tests.create_user('0000000d-0000-4000-8000-000000000001', 'owner@invite.test');
select tests.create_user('0000000d-0000-4000-8000-000000000002', 'member@invite.test');
select tests.create_user('0000000d-0000-4000-8000-000000000003', 'Invitee@Invite.test');
select tests.create_user('0000000d-0000-4000-8000-000000000004', 'someone-else@invite.test');

insert into public.teams (id, name, created_by)
values ('0000000d-0000-4000-8000-0000000000aa', 'Invite team', '0000000d-0000-4000-8000-000000000001');
insert into public.team_members (team_id, user_id, role)
values ('0000000d-0000-4000-8000-0000000000aa', '0000000d-0000-4000-8000-000000000002', 'member');

-- ---------------------------------------------------------------------------
-- Invitations (made by the backend on a user's behalf: create_team_invitation)
-- ---------------------------------------------------------------------------
create function pg_temp.invite(team uuid, address text, invited_role public.team_role, token text)
  returns uuid language sql as $$
  select (public.create_team_invitation(team, address, invited_role,
            sha256(convert_to(token, 'UTF8')), interval '7 days', 50, 50)).id
$$;

select tests.act_for('0000000d-0000-4000-8000-000000000001');  -- the owner, via the backend

select lives_ok(
  $$select pg_temp.invite('0000000d-0000-4000-8000-0000000000aa', 'invitee@invite.test', 'admin',
                          'secret-token-1')$$,
  'an owner invites by email (the backend stores the token''s hash)'
);
select throws_ok(
  $$select pg_temp.invite('0000000d-0000-4000-8000-0000000000aa', 'x@invite.test', 'owner',
                          'secret-token-2')$$,
  '23514', null,
  'ownership cannot be handed out by invitation'
);
select throws_ok(
  $$select public.create_team_invitation('0000000d-0000-4000-8000-0000000000aa', 'y@invite.test',
          'member', convert_to('not-a-hash', 'UTF8'), interval '7 days', 50, 50)$$,
  '23514', null,
  'token_hash must be a 32-byte hash'
);
select tests.authenticate_as('0000000d-0000-4000-8000-000000000001');  -- owner
select results_eq(
  $$select invited_by, accepted_at from public.team_invitations$$,
  $$values ('0000000d-0000-4000-8000-000000000001'::uuid, null::timestamptz)$$,
  'the owner reads the invitation; invited_by is the inviter'
);
select throws_ok(
  $$update public.team_invitations set accepted_at = now()$$,
  '42501', null,
  'clients cannot update invitations'
);

select tests.authenticate_as('0000000d-0000-4000-8000-000000000002');  -- member

select is_empty($$select token_hash from public.team_invitations$$,
  'a member cannot read invitations (nor their token hashes)');
select tests.act_for('0000000d-0000-4000-8000-000000000002');
select throws_ok(
  $$select pg_temp.invite('0000000d-0000-4000-8000-0000000000aa', 'z@invite.test', 'member', 't3')$$,
  '42501', 'to invite people you must be admin or higher; you are member',
  'a member cannot invite'
);

select tests.authenticate_as('0000000d-0000-4000-8000-000000000004');  -- wrong email

select throws_ok($$select public.accept_team_invitation('secret-token-1')$$,
  '42501', 'this invitation was sent to another email address',
  'an invitation cannot be accepted by another account');
select throws_ok($$select public.accept_team_invitation('wrong-token')$$,
  'P0002', null,
  'an unknown token is refused');

select tests.authenticate_as('0000000d-0000-4000-8000-000000000003');  -- the invitee

select is(
  public.accept_team_invitation('secret-token-1'),
  '0000000d-0000-4000-8000-0000000000aa'::uuid,
  'the invitee accepts (addresses compared case-insensitively) and gets the team id'
);
select results_eq(
  $$select role from public.team_members
    where team_id = '0000000d-0000-4000-8000-0000000000aa' and user_id = '0000000d-0000-4000-8000-000000000003'$$,
  $$values ('admin'::public.team_role)$$,
  'the invitee joined with the invited role'
);
select throws_ok($$select public.accept_team_invitation('secret-token-1')$$,
  '55000', 'this invitation has been used already',
  'an invitation is used once');

select tests.clear_authentication();
insert into public.team_invitations (team_id, email, token_hash, invited_by, created_at, expires_at)
values ('0000000d-0000-4000-8000-0000000000aa', 'someone-else@invite.test',
        sha256(convert_to('expired-token', 'UTF8')), '0000000d-0000-4000-8000-000000000001',
        now() - interval '8 days', now() - interval '1 day');
select tests.authenticate_as('0000000d-0000-4000-8000-000000000004');
select throws_ok($$select public.accept_team_invitation('expired-token')$$,
  '55000', 'this invitation has expired; ask the team for a new one',
  'an expired invitation is refused');

select tests.clear_authentication();
set local role anon;
select throws_ok($$select public.accept_team_invitation('secret-token-1')$$,
  '42501', null,
  'anon cannot call accept_team_invitation');
reset role;

-- ---------------------------------------------------------------------------
-- require_mfa
-- ---------------------------------------------------------------------------
update public.teams set require_mfa = true where id = '0000000d-0000-4000-8000-0000000000aa';
insert into public.channels (id, platform, platform_channel_id)
values ('0000000d-0000-4000-8000-0000000000c1', 'twitch', 'mfa-test-1'),
       ('0000000d-0000-4000-8000-0000000000c2', 'twitch', 'mfa-test-2'),
       ('0000000d-0000-4000-8000-0000000000c3', 'twitch', 'mfa-test-3'),
       ('0000000d-0000-4000-8000-0000000000c4', 'twitch', 'mfa-test-4');

select tests.authenticate_as('0000000d-0000-4000-8000-000000000001', 'aal1');

select is(public.mfa_satisfied('0000000d-0000-4000-8000-0000000000aa'), false,
  'mfa_satisfied is false at aal1 when the team requires MFA');
select results_eq($$select name from public.teams$$, $$values ('Invite team'::text)$$,
  'reads still work at aal1');
select is_empty(
  $$update public.teams set name = 'Renamed at aal1' returning id$$,
  'at aal1 an owner cannot change the team');
select throws_ok(
  $$select public.track_team_channel('0000000d-0000-4000-8000-0000000000aa', '0000000d-0000-4000-8000-0000000000c1')$$,
  '42501', 'this team requires multi-factor authentication for changes',
  'at aal1 an owner cannot add a channel');
select is_empty(
  $$delete from public.team_members where user_id = '0000000d-0000-4000-8000-000000000002' returning user_id$$,
  'at aal1 an owner cannot remove a member');
select tests.act_for('0000000d-0000-4000-8000-000000000001', 'aal1');
select throws_ok(
  $$select pg_temp.invite('0000000d-0000-4000-8000-0000000000aa', 'w@invite.test', 'member', 't4')$$,
  '42501', 'this team requires multi-factor authentication for changes',
  'at aal1 an owner cannot invite');

select tests.authenticate_as('0000000d-0000-4000-8000-000000000001', 'aal2');

select is(public.mfa_satisfied('0000000d-0000-4000-8000-0000000000aa'), true,
  'mfa_satisfied is true at aal2');
select is(
  public.track_team_channel('0000000d-0000-4000-8000-0000000000aa', '0000000d-0000-4000-8000-0000000000c1'),
  true,
  'at aal2 the owner adds a channel');
select results_eq(
  $$delete from public.team_members where user_id = '0000000d-0000-4000-8000-000000000002' returning user_id$$,
  $$values ('0000000d-0000-4000-8000-000000000002'::uuid)$$,
  'at aal2 the owner removes a member');

-- ---------------------------------------------------------------------------
-- Plan limit on tracked channels (free plan: 3)
-- ---------------------------------------------------------------------------
select lives_ok(
  $$select public.track_team_channel('0000000d-0000-4000-8000-0000000000aa', c)
    from unnest(array['0000000d-0000-4000-8000-0000000000c2',
                      '0000000d-0000-4000-8000-0000000000c3']::uuid[]) as c$$,
  'a free team tracks up to 3 channels');
select throws_ok(
  $$select public.track_team_channel('0000000d-0000-4000-8000-0000000000aa', '0000000d-0000-4000-8000-0000000000c4')$$,
  '23514', 'the team''s plan allows at most 3 channels',
  'the 4th channel is refused on the free plan');
select is(
  public.track_team_channel('0000000d-0000-4000-8000-0000000000aa', '0000000d-0000-4000-8000-0000000000c3'),
  false,
  'a full team adding a channel it tracks already is told so, not refused by the limit');
select results_eq(
  $$select added_by from public.team_channels where channel_id = '0000000d-0000-4000-8000-0000000000c2'$$,
  $$values ('0000000d-0000-4000-8000-000000000001'::uuid)$$,
  'added_by is the caller');

select tests.clear_authentication();
update public.teams set plan_id = 'pro' where id = '0000000d-0000-4000-8000-0000000000aa';
select lives_ok(
  $$insert into public.team_channels (team_id, channel_id)
    values ('0000000d-0000-4000-8000-0000000000aa', '0000000d-0000-4000-8000-0000000000c4')$$,
  'after an upgrade the limit follows the new plan');

-- ---------------------------------------------------------------------------
-- Plan catalogue
-- ---------------------------------------------------------------------------
insert into public.plans (id, name, max_channels, min_sample_interval_seconds, retention_days, is_public)
values ('custom_test', 'Custom', 1000, 15, 30, false);
update public.teams set plan_id = 'custom_test' where id = '0000000d-0000-4000-8000-0000000000aa';

set local role anon;
select set_eq($$select id from public.plans$$, array['free', 'pro', 'business'],
  'anon reads the public plans');
select is_empty($$select id from public.plans where id = 'custom_test'$$,
  'anon does not see unlisted plans');
reset role;

select tests.authenticate_as('0000000d-0000-4000-8000-000000000004');  -- not a member
select is_empty($$select id from public.plans where id = 'custom_test'$$,
  'a non-member does not see an unlisted plan');

select tests.authenticate_as('0000000d-0000-4000-8000-000000000003');  -- member (admin)
select results_eq($$select max_channels from public.plans where id = 'custom_test'$$,
  $$values (1000)$$,
  'members see the unlisted plan their team is on');

select tests.clear_authentication();

select * from finish();
rollback;
