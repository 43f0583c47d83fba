-- Invitations are the server's (issue 11, items 3, 8 and 9):
--   * no client inserts one (token and expiry of its choosing), nor calls
--     create_team_invitation; the server bounds the validity;
--   * an invitation dies with its inviter's right to grant its role;
--   * acceptance needs a confirmed address equal to the invited one under
--     email_address_key (NFC, simple lowercase): the same address in another
--     form matches, a look-alike of another mailbox does not;
--   * the hourly limits per team and per inviter hold in the database.
begin;
create extension if not exists pgtap with schema extensions;
select plan(41);

-- Team T: owner Olga, second owner Oscar, admin Ada. Team U: Ada owns it.
select tests.create_user('00000016-0000-4000-8000-000000000001', 'olga@inv.test');
select tests.create_user('00000016-0000-4000-8000-000000000002', 'oscar@inv.test');
select tests.create_user('00000016-0000-4000-8000-000000000003', 'ada@inv.test');
insert into public.teams (id, name, created_by) values
  ('00000016-0000-4000-8000-0000000000aa', 'Team T', '00000016-0000-4000-8000-000000000001'),
  ('00000016-0000-4000-8000-0000000000bb', 'Team U', '00000016-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('00000016-0000-4000-8000-0000000000aa', '00000016-0000-4000-8000-000000000002', 'owner'),
  ('00000016-0000-4000-8000-0000000000aa', '00000016-0000-4000-8000-000000000003', 'admin');

-- The backend's call, on behalf of whoever tests.act_for() set.
create function pg_temp.invite(team uuid, address text, invited_role public.team_role, token text,
                               valid_for interval default interval '7 days',
                               team_limit integer default 50, inviter_limit integer default 50)
  returns uuid language sql as $$
  select (public.create_team_invitation(team, address, invited_role,
            sha256(convert_to(token, 'UTF8')), valid_for, team_limit, inviter_limit)).id
$$;
create function pg_temp.accept_as(user_id uuid, token text) returns uuid
  language plpgsql as $$
begin
  perform tests.authenticate_as(user_id);
  return public.accept_team_invitation(token);
end $$;
create function pg_temp.role_in(team uuid, who uuid) returns public.team_role
  language sql security definer set search_path = '' as $$
  select m.role from public.team_members m where m.team_id = team and m.user_id = who
$$;

-- ---------------------------------------------------------------------------
-- 3. Only the server makes invitations
-- ---------------------------------------------------------------------------
select tests.authenticate_as('00000016-0000-4000-8000-000000000003', 'aal2');  -- admin Ada
select throws_ok(
  $$insert into public.team_invitations (team_id, email, role, token_hash, expires_at)
    values ('00000016-0000-4000-8000-0000000000aa', 'alt@inv.test', 'member',
            sha256('chosen-token'::bytea), now() + interval '50 years')$$,
  '42501', 'permission denied for table team_invitations',
  'an admin cannot insert an invitation with a token and expiry of their choosing');
select throws_ok(
  $$select public.create_team_invitation('00000016-0000-4000-8000-0000000000aa', 'alt@inv.test',
          'member', sha256('chosen-token'::bytea), interval '50 years', 1000, 1000)$$,
  '42501', null,
  'nor call the backend''s create_team_invitation');
select tests.act_for('00000016-0000-4000-8000-000000000003');
select throws_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', 'alt@inv.test', 'member',
                          'long-lived', interval '50 years')$$,
  '22023', 'an invitation is valid for 1 hour to 30 days',
  'even the backend cannot make an invitation valid for 50 years');
select tests.clear_authentication();
select throws_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', 'alt@inv.test', 'member', 'x')$$,
  '42501', 'an invitation is made on behalf of a signed-in user',
  'the backend must say on whose behalf');
select tests.act_for('00000016-0000-4000-8000-000000000003');
select lives_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', 'alt@inv.test', 'member',
                          'ada-alt-token', interval '2 days')$$,
  'the admin invites through the backend');
select tests.clear_authentication();
select ok(
  (select expires_at = created_at + interval '2 days' and invited_by = '00000016-0000-4000-8000-000000000003'
   from public.team_invitations where email = 'alt@inv.test'),
  'the expiry is the server''s and invited_by the inviter');
select ok(exists (select 1 from public.audit_log
                  where team_id = '00000016-0000-4000-8000-0000000000aa'
                    and action = 'team_invitations.insert'
                    and actor_id = '00000016-0000-4000-8000-000000000003'),
  'the invitation is audited with the inviter as actor');

-- ---------------------------------------------------------------------------
-- 3. An invitation dies with its inviter's right to grant it
-- ---------------------------------------------------------------------------
select tests.create_user('00000016-0000-4000-8000-000000000010', 'alt@inv.test');
-- Ada loses the admin role, then tries her alternate account's invitation.
select tests.authenticate_as('00000016-0000-4000-8000-000000000001', 'aal2');  -- owner Olga
update public.team_members set role = 'member'
where team_id = '00000016-0000-4000-8000-0000000000aa' and user_id = '00000016-0000-4000-8000-000000000003';
select throws_ok(
  $$select pg_temp.accept_as('00000016-0000-4000-8000-000000000010', 'ada-alt-token')$$,
  '55000', 'this invitation is no longer valid: whoever sent it may no longer grant its role',
  'an invitation from a demoted admin is dead');
select tests.clear_authentication();
select is(pg_temp.role_in('00000016-0000-4000-8000-0000000000aa', '00000016-0000-4000-8000-000000000010'),
  null, '...and made nobody a member');
-- Made admin again, her invitation works (the check is at acceptance).
update public.team_members set role = 'admin'
where team_id = '00000016-0000-4000-8000-0000000000aa' and user_id = '00000016-0000-4000-8000-000000000003';
select is(pg_temp.accept_as('00000016-0000-4000-8000-000000000010', 'ada-alt-token'),
  '00000016-0000-4000-8000-0000000000aa'::uuid,
  'the same invitation is accepted while its inviter may grant it');
select tests.clear_authentication();

-- An admin invitation needs its inviter to still be an owner.
select tests.act_for('00000016-0000-4000-8000-000000000002');  -- owner Oscar
select lives_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', 'new-admin@inv.test', 'admin', 'oscar-admin')$$,
  'an owner invites an admin');
select lives_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', 'new-member@inv.test', 'member', 'oscar-member')$$,
  'and a member');
select tests.clear_authentication();
update public.team_members set role = 'admin'
where team_id = '00000016-0000-4000-8000-0000000000aa' and user_id = '00000016-0000-4000-8000-000000000002';
select tests.create_user('00000016-0000-4000-8000-000000000011', 'new-admin@inv.test');
select tests.create_user('00000016-0000-4000-8000-000000000012', 'new-member@inv.test');
select throws_ok(
  $$select pg_temp.accept_as('00000016-0000-4000-8000-000000000011', 'oscar-admin')$$,
  '55000', null,
  'Oscar, now an admin, can no longer grant admin: his admin invitation is dead');
select is(pg_temp.accept_as('00000016-0000-4000-8000-000000000012', 'oscar-member'),
  '00000016-0000-4000-8000-0000000000aa'::uuid,
  '...his member invitation still holds');
select tests.clear_authentication();

-- An inviter who left, or whose account is gone, grants nothing.
select tests.act_for('00000016-0000-4000-8000-000000000002');
select lives_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', 'late@inv.test', 'viewer', 'oscar-viewer')$$,
  'Oscar invites a viewer, then leaves');
select tests.clear_authentication();
delete from public.team_members
where team_id = '00000016-0000-4000-8000-0000000000aa' and user_id = '00000016-0000-4000-8000-000000000002';
select tests.create_user('00000016-0000-4000-8000-000000000013', 'late@inv.test');
select throws_ok(
  $$select pg_temp.accept_as('00000016-0000-4000-8000-000000000013', 'oscar-viewer')$$,
  '55000', null,
  'an invitation from someone who left the team is dead');
select tests.clear_authentication();
insert into public.team_invitations (team_id, email, role, token_hash, invited_by)
values ('00000016-0000-4000-8000-0000000000aa', 'orphan@inv.test', 'viewer',
        sha256(convert_to('orphan-token', 'UTF8')), null);
select tests.create_user('00000016-0000-4000-8000-000000000014', 'orphan@inv.test');
select throws_ok(
  $$select pg_temp.accept_as('00000016-0000-4000-8000-000000000014', 'orphan-token')$$,
  '55000', null,
  'an invitation whose inviter''s account is gone is dead');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------
-- 9. The same address, and only it, with a confirmed account
-- ---------------------------------------------------------------------------
select is(public.email_address_key('Kate@Example.COM'), 'kate@example.com',
  'ASCII case is folded');
select is(public.email_address_key(U&'\212Aate@example.com'), 'kate@example.com',
  'U+212A KELVIN SIGN is the letter K (NFC), so k');
select is(public.email_address_key(U&'jose\0301@example.com'), U&'jos\00E9@example.com',
  'an NFD address equals its NFC form');
select is(public.email_address_key(U&'\00C9LODIE@example.com'), U&'\00E9lodie@example.com',
  'non-ASCII capitals are lowercased (as Supabase Auth does)');
select is(public.email_address_key(U&'\1E9E@example.com'), U&'\00DF@example.com',
  'capital sharp s is sharp s');
select isnt(public.email_address_key(U&'stra\00DFe@example.com'), 'strasse@example.com',
  'sharp s is not ss');
select isnt(public.email_address_key(U&'\0131lke@example.com'), 'ilke@example.com',
  'dotless i is not i');
select isnt(public.email_address_key(U&'\0430nna@example.com'), 'anna@example.com',
  'Cyrillic a is not Latin a');
select isnt(public.email_address_key(U&'\FF4Bate@example.com'), 'kate@example.com',
  'fullwidth k is not k (no compatibility folding)');

insert into public.team_invitations (team_id, email, role, token_hash, invited_by) values
  ('00000016-0000-4000-8000-0000000000aa', 'kate@example.com', 'viewer',
   sha256('kate'::bytea), '00000016-0000-4000-8000-000000000001'),
  ('00000016-0000-4000-8000-0000000000aa', U&'jos\00E9@example.com', 'viewer',
   sha256('jose'::bytea), '00000016-0000-4000-8000-000000000001'),
  ('00000016-0000-4000-8000-0000000000aa', 'strasse@example.com', 'viewer',
   sha256('strasse'::bytea), '00000016-0000-4000-8000-000000000001'),
  ('00000016-0000-4000-8000-0000000000aa', 'ilke@example.com', 'viewer',
   sha256('ilke'::bytea), '00000016-0000-4000-8000-000000000001'),
  ('00000016-0000-4000-8000-0000000000aa', 'anna@example.com', 'viewer',
   sha256('anna'::bytea), '00000016-0000-4000-8000-000000000001'),
  ('00000016-0000-4000-8000-0000000000aa', 'unconfirmed@example.com', 'viewer',
   sha256('unconfirmed'::bytea), '00000016-0000-4000-8000-000000000001');
select tests.create_user('00000016-0000-4000-8000-000000000020', U&'\212Aate@example.com');
select tests.create_user('00000016-0000-4000-8000-000000000021', U&'JOSE\0301@EXAMPLE.COM');
select tests.create_user('00000016-0000-4000-8000-000000000022', U&'stra\00DFe@example.com');
select tests.create_user('00000016-0000-4000-8000-000000000023', U&'\0131lke@example.com');
select tests.create_user('00000016-0000-4000-8000-000000000024', U&'\0430nna@example.com');
select tests.create_user('00000016-0000-4000-8000-000000000025', 'unconfirmed@example.com', false);

select is(pg_temp.accept_as('00000016-0000-4000-8000-000000000020', 'kate'),
  '00000016-0000-4000-8000-0000000000aa'::uuid,
  'an account whose address is the invited one with a KELVIN SIGN accepts');
select is(pg_temp.accept_as('00000016-0000-4000-8000-000000000021', 'jose'),
  '00000016-0000-4000-8000-0000000000aa'::uuid,
  'an NFD, upper-case spelling of the invited address accepts');
select throws_ok($$select pg_temp.accept_as('00000016-0000-4000-8000-000000000022', 'strasse')$$,
  '42501', 'this invitation was sent to another email address',
  'a sharp-s mailbox cannot take an invitation for strasse');
select throws_ok($$select pg_temp.accept_as('00000016-0000-4000-8000-000000000023', 'ilke')$$,
  '42501', 'this invitation was sent to another email address',
  'a dotless-i mailbox cannot take an invitation for ilke');
select throws_ok($$select pg_temp.accept_as('00000016-0000-4000-8000-000000000024', 'anna')$$,
  '42501', 'this invitation was sent to another email address',
  'a Cyrillic look-alike cannot take an invitation for anna');
select throws_ok($$select pg_temp.accept_as('00000016-0000-4000-8000-000000000025', 'unconfirmed')$$,
  '42501', 'your email address is not confirmed yet',
  'the right address, unconfirmed, is refused');
select tests.clear_authentication();
select is(pg_temp.role_in('00000016-0000-4000-8000-0000000000aa', '00000016-0000-4000-8000-000000000025'),
  null, '...and is not a member');

-- One open invitation per address, compared by key.
select tests.act_for('00000016-0000-4000-8000-000000000001');
select throws_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', 'ANNA@Example.com', 'viewer', 'anna-2')$$,
  '23505', 'ANNA@Example.com has a pending invitation; revoke it to send a new one',
  'an invitation pending for the same address in another case blocks a second');
select throws_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', U&'\212Aate@EXAMPLE.com', 'viewer', 'kate-2')$$,
  '23505', null,
  'a member''s address in another form is "a member already"');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------
-- 8. Hourly limits, per team and per inviter, from the audit log
-- ---------------------------------------------------------------------------
-- Every invitation of team T in the last hour counts, whoever sent it (also
-- those the backend wrote directly above): the limit is set one above them.
create function pg_temp.team_sent() returns integer
  language sql security definer set search_path = '' as $$
  select count(*)::integer from public.audit_log
  where team_id = '00000016-0000-4000-8000-0000000000aa' and action = 'team_invitations.insert'
$$;
create temporary table limits on commit drop as select pg_temp.team_sent() + 1 as team_limit;
grant select on limits to public;
create function pg_temp.invite_limited(address text, token text) returns uuid
  language sql as $$
  select pg_temp.invite('00000016-0000-4000-8000-0000000000aa', address, 'viewer', token,
                        team_limit => (select team_limit from limits), inviter_limit => 50)
$$;
select tests.act_for('00000016-0000-4000-8000-000000000001');
select lives_ok($$select pg_temp.invite_limited('r1@inv.test', 'r1')$$,
  'up to the team''s hourly limit invitations go');
select throws_ok($$select pg_temp.invite_limited('r2@inv.test', 'r2')$$,
  'PT429', format('the team has sent %s invitations in the last hour, the most it may',
                  (select team_limit from limits)),
  'the team''s hourly limit refuses the one past it');
delete from public.team_invitations where email = 'r1@inv.test';
select throws_ok($$select pg_temp.invite_limited('r2@inv.test', 'r2')$$,
  'PT429', null,
  'revoking an invitation does not give its slot back');
create function pg_temp.retry_after() returns text language plpgsql as $$
declare
  d text;
begin
  perform pg_temp.invite_limited('r3@inv.test', 'r3');
  return 'no error';
exception when sqlstate 'PT429' then
  get stacked diagnostics d = pg_exception_detail;
  return d;
end $$;
select ok(pg_temp.retry_after() ~ '^retry_after_seconds=(3[0-5][0-9]{2}|3600)$',
  'the refusal says when to retry (within the hour)');

-- Per inviter, over all their teams: Ada owns team U too.
select tests.act_for('00000016-0000-4000-8000-000000000003');
select lives_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000bb', 'u1@inv.test', 'viewer', 'u1',
                          team_limit => 50, inviter_limit => 2)$$,
  'Ada''s second invitation this hour, in her own team');
select throws_ok(
  $$select pg_temp.invite('00000016-0000-4000-8000-0000000000bb', 'u2@inv.test', 'viewer', 'u2',
                          team_limit => 50, inviter_limit => 2)$$,
  'PT429', 'you have sent 2 invitations in the last hour, the most you may',
  'the inviter''s limit counts every team');
select tests.clear_authentication();

select * from finish();
rollback;
