-- Role rules for the teams API (and for clients writing through PostgREST):
--   owner > admin > member > viewer; a team always keeps an owner; admins
--   manage only roles below admin; members may leave on their own.
-- Memberships now come from exactly two places: creating a team (the
-- creator becomes owner) and accepting an invitation. Clients can no longer
-- insert arbitrary user ids into team_members.

-- ---------------------------------------------------------------------------
-- team_members: no client inserts; self-removal (leaving) allowed
-- ---------------------------------------------------------------------------
drop policy team_members_insert_admin on public.team_members;
revoke insert on public.team_members from authenticated;

-- Leaving needs no MFA step-up: a member can always walk away. Removing
-- someone else needs admin and, on teams that require it, aal2.
drop policy team_members_delete_admin on public.team_members;
create policy team_members_delete_admin_or_self on public.team_members
  for delete to authenticated
  using (
    user_id = (select auth.uid())
    or (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id))
  );

-- ---------------------------------------------------------------------------
-- enforce_team_member_rules(): the invariants of 20261124120000 plus
--   4. an admin (not owner) changes or removes only members and viewers and
--      grants only those roles; on their own row an admin may step down or
--      leave.
-- ---------------------------------------------------------------------------
create or replace function public.enforce_team_member_rules()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_team_id uuid;
  v_actor uuid := auth.uid();
  v_actor_role public.team_role;
begin
  if tg_op = 'INSERT' then
    v_team_id := new.team_id;
  else
    v_team_id := old.team_id;
  end if;

  if tg_op = 'UPDATE' and (new.team_id <> old.team_id or new.user_id <> old.user_id) then
    raise exception using
      errcode = 'check_violation',
      message = 'a membership cannot be moved to another team or user; delete it and add a new one';
  end if;

  -- Locking the team row serialises concurrent membership changes of one
  -- team, so two owners cannot demote each other at the same time. No row:
  -- the team itself is being deleted and this membership goes with it.
  perform 1 from public.teams t where t.id = v_team_id for no key update;
  if not found then
    if tg_op = 'DELETE' then
      return old;
    end if;
    return new;
  end if;

  if v_actor is not null then
    select m.role into v_actor_role
    from public.team_members m
    where m.team_id = v_team_id and m.user_id = v_actor;

    -- Rule 2: owner rows are managed by owners only. The very first member
    -- of a new team (added by the creator trigger) is the only owner row
    -- created by a non-owner.
    if ((tg_op in ('UPDATE', 'DELETE') and old.role = 'owner')
        or (tg_op in ('INSERT', 'UPDATE') and new.role = 'owner'))
       and v_actor_role is distinct from 'owner'
       and not (tg_op = 'INSERT'
                and not exists (select 1 from public.team_members m where m.team_id = v_team_id)) then
      raise exception using
        errcode = 'insufficient_privilege',
        message = 'only a team owner can add, change or remove an owner';
    end if;

    -- Rule 4: admins manage the roles below admin only.
    if v_actor_role = 'admin' then
      if tg_op in ('UPDATE', 'DELETE') and old.role = 'admin' and old.user_id <> v_actor then
        raise exception using
          errcode = 'insufficient_privilege',
          message = 'an admin cannot change or remove another admin; ask an owner';
      end if;
      if tg_op in ('INSERT', 'UPDATE') and new.role = 'admin'
         and (tg_op = 'INSERT' or old.role <> 'admin') then
        raise exception using
          errcode = 'insufficient_privilege',
          message = 'only an owner can make someone an admin';
      end if;
    end if;
  end if;

  -- Rule 1: keep at least one owner. Rows processed earlier by the same
  -- statement are visible here, so a multi-row delete cannot remove them all.
  if tg_op in ('UPDATE', 'DELETE')
     and old.role = 'owner'
     and (tg_op = 'DELETE' or new.role <> 'owner')
     and not exists (
       select 1 from public.team_members m
       where m.team_id = v_team_id and m.role = 'owner' and m.user_id <> old.user_id
     ) then
    raise exception using
      errcode = 'check_violation',
      constraint = 'team_members_last_owner',
      message = 'a team must keep at least one owner',
      hint = 'make someone else an owner first';
  end if;

  if tg_op = 'DELETE' then
    return old;
  end if;
  return new;
end;
$$;

-- ---------------------------------------------------------------------------
-- team_invitations: admins invite members and viewers, owners also admins;
-- one open invitation per team and address.
-- ---------------------------------------------------------------------------
drop policy team_invitations_insert_admin on public.team_invitations;
create policy team_invitations_insert_admin on public.team_invitations
  for insert to authenticated
  with check (
    public.has_team_role(team_id, 'admin')
    and public.mfa_satisfied(team_id)
    and invited_by = (select auth.uid())
    and (role in ('member', 'viewer') or public.has_team_role(team_id, 'owner'))
  );

-- Expired open invitations still occupy the slot: the API deletes them
-- before inviting the same address again.
create unique index team_invitations_one_open_per_email_idx
  on public.team_invitations (team_id, lower(email))
  where accepted_at is null;

-- ---------------------------------------------------------------------------
-- accept_team_invitation(token): as before, with an error per reason so the
-- invitee is told what to do:
--   P0002 no_data_found                   no invitation has this token
--   55000 object_not_in_prerequisite_state  used already, or expired
--   42501 insufficient_privilege          not signed in / another address
-- ---------------------------------------------------------------------------
create or replace function public.accept_team_invitation(token text)
  returns uuid
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_invitation public.team_invitations;
  v_email text;
begin
  if v_uid is null then
    raise exception using errcode = 'insufficient_privilege', message = 'sign in to accept an invitation';
  end if;

  select i.* into v_invitation
  from public.team_invitations i
  where i.token_hash = pg_catalog.sha256(pg_catalog.convert_to(accept_team_invitation.token, 'UTF8'))
  for update;

  if not found then
    raise exception using errcode = 'no_data_found', message = 'no invitation has this token; check the link';
  end if;
  if v_invitation.accepted_at is not null then
    raise exception using errcode = 'object_not_in_prerequisite_state',
      message = 'this invitation has been used already';
  end if;
  if v_invitation.expires_at <= now() then
    raise exception using errcode = 'object_not_in_prerequisite_state',
      message = 'this invitation has expired; ask the team for a new one';
  end if;

  select u.email into v_email from auth.users u where u.id = v_uid;
  if lower(coalesce(v_email, '')) <> lower(v_invitation.email) then
    raise exception using errcode = 'insufficient_privilege',
      message = 'this invitation was sent to another email address',
      hint = 'sign in with the address the invitation was sent to';
  end if;

  -- Already a member: keep the current role, just consume the invitation.
  insert into public.team_members (team_id, user_id, role)
  values (v_invitation.team_id, v_uid, v_invitation.role)
  on conflict (team_id, user_id) do nothing;

  update public.team_invitations
  set accepted_at = now(), accepted_by = v_uid
  where id = v_invitation.id;

  return v_invitation.team_id;
end;
$$;

-- ---------------------------------------------------------------------------
-- team_member_list(team_id): the members with their email addresses, which
-- clients cannot read from auth.users themselves. Empty for a non-member.
-- ---------------------------------------------------------------------------
create function public.team_member_list(team_id uuid)
  returns table (user_id uuid, email text, role public.team_role, created_at timestamptz)
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select m.user_id, u.email::text, m.role, m.created_at
  from public.team_members m
  join auth.users u on u.id = m.user_id
  where m.team_id = team_member_list.team_id
    and public.is_team_member(team_member_list.team_id)
  order by public.team_role_rank(m.role) desc, m.created_at, m.user_id
$$;
comment on function public.team_member_list(uuid) is
  'Members of a team with their email, for the team''s members; empty for anyone else.';
revoke all on function public.team_member_list(uuid) from public, anon;
grant execute on function public.team_member_list(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- A channel's stored secret (a Rumble key) goes when no team tracks the
-- channel any more: nobody may use it then, so it is not kept.
-- ---------------------------------------------------------------------------
create function public.drop_untracked_channel_credentials()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  delete from public.channel_credentials c
  where c.channel_id = old.channel_id
    and not exists (select 1 from public.team_channels tc where tc.channel_id = old.channel_id);
  return null;
end;
$$;
revoke all on function public.drop_untracked_channel_credentials() from public, anon, authenticated;

create trigger team_channels_drop_untracked_credentials after delete on public.team_channels
  for each row execute function public.drop_untracked_channel_credentials();
