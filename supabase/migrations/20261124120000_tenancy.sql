-- Tenancy: the plan catalogue a team is on, teams, memberships, invitations
-- and the audit trail, with the role helpers every other migration's
-- policies build on and the role rules of the teams API.
--
-- Access model (the Next.js frontend talks to these tables directly):
--   * anon reads the public plan catalogue and nothing else.
--   * authenticated users read only their own teams' rows; writes are
--     narrowed twice: column-level grants decide WHICH columns a client may
--     write at all, RLS policies decide WHICH rows.
--   * the backend (service_role / postgres) bypasses RLS.
--   * roles rank owner > admin > member > viewer; a team always keeps an
--     owner; admins manage only the roles below admin; anyone may leave.
--   * memberships come from exactly two places: creating a team (the
--     creator becomes owner) and accepting an invitation. Clients cannot
--     insert arbitrary user ids into team_members.
--   * invitations are made by the backend only (create_team_invitation():
--     the token hash, the expiry and the hourly limits come from the
--     server); clients may read and revoke them, never insert them.
--   * only owners switch a team's MFA rule; plan_id is the billing
--     backend's (no client column privilege).
--   * the helpers granted to clients answer only about the caller's own
--     teams: for another team's id they answer exactly as for an id that
--     names no team, so team ids cannot be probed.
-- Schema `public` carries Supabase's default privileges (everything granted
-- to anon/authenticated), so every table below starts with an explicit
-- `revoke all ... from anon, authenticated` and grants back only what it needs.
--
-- Layout: the shared helpers first, then one section per table holding the
-- table, its indexes and triggers, then its RLS, grants and policies.

-- ---------------------------------------------------------------------------
-- Types
-- ---------------------------------------------------------------------------

-- Rank, highest first: owner > admin > member > viewer (see team_role_rank).
create type public.team_role as enum ('owner', 'admin', 'member', 'viewer');
comment on type public.team_role is
  'owner: billing, owners, delete team; admin: members, invitations; member: channels; viewer: read only.';

-- ---------------------------------------------------------------------------
-- Generic triggers: updated_at, and the audit trail of team-scoped tables
-- ---------------------------------------------------------------------------
create function public.set_updated_at()
  returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
revoke all on function public.set_updated_at() from public, anon, authenticated;

-- --- directory sync (20261124120600_directory.sql) -------------------------
-- The service process acting without a user: a backend transaction names
-- itself with `select set_config('streamtrack.actor', 'directory-sync', true)`
-- (transaction-local). Only honoured when no user is signed in, so a client
-- cannot pass itself off as the sync; null otherwise.
create function public.service_actor()
  returns text
  language sql
  stable
  set search_path = ''
as $$
  select case when auth.uid() is null
    then nullif(pg_catalog.current_setting('streamtrack.actor', true), '')
  end
$$;
revoke all on function public.service_actor() from public, anon, authenticated;
-- --- end directory sync -----------------------------------------------------

-- One audit trigger for every team-scoped table (teams, team_members,
-- team_invitations here; team_channels in the channels migration). Action is
-- '<table>.<insert|update|delete>'; details hold the row (token_hash never).
-- Rows removed by a cascading team deletion are not logged one by one: the
-- 'teams.delete' entry covers them. Writes public.audit_log (below).
create function public.audit_team_change()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_old jsonb;
  v_new jsonb;
  v_row jsonb;
  v_team_id uuid;
  v_target_id text;
begin
  if tg_op <> 'INSERT' then
    v_old := to_jsonb(old) - 'token_hash' - 'updated_at';
  end if;
  if tg_op <> 'DELETE' then
    v_new := to_jsonb(new) - 'token_hash' - 'updated_at';
  end if;
  v_row := coalesce(v_new, v_old);

  if tg_op = 'UPDATE' and v_old = v_new then
    return null;  -- nothing but updated_at changed
  end if;

  if tg_table_name = 'teams' then
    v_team_id := (v_row ->> 'id')::uuid;
  else
    v_team_id := (v_row ->> 'team_id')::uuid;
    if tg_op = 'DELETE'
       and not exists (select 1 from public.teams t where t.id = v_team_id) then
      return null;
    end if;
  end if;

  v_target_id := coalesce(v_row ->> 'user_id', v_row ->> 'channel_id', v_row ->> 'id');

  insert into public.audit_log (team_id, actor_id, actor, action, target_type, target_id, details)
  values (
    v_team_id,
    auth.uid(),
    public.service_actor(),  -- directory sync: 'directory-sync'
    tg_table_name || '.' || lower(tg_op),
    tg_table_name,
    v_target_id,
    jsonb_strip_nulls(jsonb_build_object('old', v_old, 'new', v_new))
  );
  return null;
end;
$$;
revoke all on function public.audit_team_change() from public, anon, authenticated;

-- ---------------------------------------------------------------------------
-- RLS helper functions
--
-- All are `security definer` with an empty search_path: they read
-- team_members/teams without going through those tables' own policies
-- (which would recurse) and cannot be hijacked by objects a caller puts on
-- the search path. Each answers only about the calling user (auth.uid()).
--
-- They read tables created further down, so their bodies are checked when
-- first called instead of now (as pg_dump does it): that lets each table's
-- policies stand beside the table.
-- ---------------------------------------------------------------------------
set check_function_bodies = off;

create function public.team_role_rank(role public.team_role)
  returns integer
  language sql
  immutable
  set search_path = ''
as $$
  select case team_role_rank.role
    when 'owner' then 4
    when 'admin' then 3
    when 'member' then 2
    when 'viewer' then 1
  end
$$;
comment on function public.team_role_rank(public.team_role) is
  'Numeric rank of a team role: owner 4 > admin 3 > member 2 > viewer 1.';
-- Only the helpers below (security definer) use it: clients need not call it.
revoke all on function public.team_role_rank(public.team_role) from public, anon, authenticated;
grant execute on function public.team_role_rank(public.team_role) to service_role;

create function public.is_team_member(team_id uuid)
  returns boolean
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select exists (
    select 1
    from public.team_members m
    where m.team_id = is_team_member.team_id
      and m.user_id = (select auth.uid())
  )
$$;
comment on function public.is_team_member(uuid) is
  'True when the calling user belongs to the team, whatever the role.';
revoke all on function public.is_team_member(uuid) from public, anon;
grant execute on function public.is_team_member(uuid) to authenticated, service_role;

create function public.has_team_role(team_id uuid, min_role public.team_role)
  returns boolean
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select exists (
    select 1
    from public.team_members m
    where m.team_id = has_team_role.team_id
      and m.user_id = (select auth.uid())
      and public.team_role_rank(m.role) >= public.team_role_rank(has_team_role.min_role)
  )
$$;
comment on function public.has_team_role(uuid, public.team_role) is
  'True when the calling user holds min_role or a higher role in the team.';
revoke all on function public.has_team_role(uuid, public.team_role) from public, anon;
grant execute on function public.has_team_role(uuid, public.team_role) to authenticated, service_role;

-- True unless the caller's team requires MFA and the session is not aal2.
-- Used in the write policies of team-scoped tables; reads stay allowed so a
-- user can still see the team and be told to step up. It looks only at the
-- caller's own teams: for anyone else's team it answers true, as for an id
-- that names no team (the write policies refuse non-members anyway), so the
-- setting of another team cannot be read through it.
create function public.mfa_satisfied(team_id uuid)
  returns boolean
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select coalesce((select auth.jwt()) ->> 'aal', '') = 'aal2'
      or not exists (
        select 1
        from public.teams t
        join public.team_members m on m.team_id = t.id and m.user_id = (select auth.uid())
        where t.id = mfa_satisfied.team_id
          and t.require_mfa
      )
$$;
comment on function public.mfa_satisfied(uuid) is
  'False only when the caller''s team requires MFA and the caller''s JWT is not aal2; '
  'true for a team the caller is not in, as for no team.';
revoke all on function public.mfa_satisfied(uuid) from public, anon;
grant execute on function public.mfa_satisfied(uuid) to authenticated, service_role;

-- A plan feature of one of the caller's teams (plans.features ->> feature
-- is true). False for a team the caller is not in, as for no team. Plan
-- features are enforced with it in the database: the realtime topic's join
-- policy, the followers figures of the dashboard functions.
create function public.team_has_feature(team_id uuid, feature text)
  returns boolean
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select exists (
    select 1
    from public.team_members m
    join public.teams t on t.id = m.team_id
    join public.plans p on p.id = t.plan_id
    where m.team_id = team_has_feature.team_id
      and m.user_id = (select auth.uid())
      and p.features -> team_has_feature.feature = 'true'::jsonb
  )
$$;
comment on function public.team_has_feature(uuid, text) is
  'True when the caller belongs to the team and its plan has the feature; false otherwise.';
revoke all on function public.team_has_feature(uuid, text) from public, anon;
grant execute on function public.team_has_feature(uuid, text) to authenticated, service_role;

-- The checks a backend function or RPC makes before it writes for the caller,
-- in this order, each with the message the teams API would give: a member of
-- the team (else the same answer as for no such team), holding min_role or
-- higher, with an aal2 session if the team requires MFA. Returns the
-- caller's role. For the security definer functions below; not for clients.
create function public.assert_team_role(team_id uuid, min_role public.team_role, action text)
  returns public.team_role
  language plpgsql
  stable
  security definer
  set search_path = ''
as $$
declare
  v_role public.team_role;
begin
  select m.role into v_role
  from public.team_members m
  where m.team_id = assert_team_role.team_id and m.user_id = (select auth.uid());
  if not found then
    raise exception using errcode = 'insufficient_privilege',
      message = 'no such team, or you are not a member of it';
  end if;
  if public.team_role_rank(v_role) < public.team_role_rank(assert_team_role.min_role) then
    raise exception using errcode = 'insufficient_privilege',
      message = format('to %s you must be %s; you are %s', assert_team_role.action,
                       case when assert_team_role.min_role = 'owner' then 'an owner'
                            else assert_team_role.min_role || ' or higher' end,
                       v_role);
  end if;
  if not public.mfa_satisfied(assert_team_role.team_id) then
    raise exception using errcode = 'insufficient_privilege',
      message = 'this team requires multi-factor authentication for changes',
      hint = 'sign in again with your authenticator app (an aal2 session)';
  end if;
  return v_role;
end;
$$;
comment on function public.assert_team_role(uuid, public.team_role, text) is
  'Raises unless the caller is a member of the team with min_role or higher and MFA satisfied; returns the role.';
revoke all on function public.assert_team_role(uuid, public.team_role, text) from public, anon, authenticated;
grant execute on function public.assert_team_role(uuid, public.team_role, text) to service_role;

reset check_function_bodies;

-- ---------------------------------------------------------------------------
-- plans: the public catalogue (reference data, inserted below, not seed).
-- Plans live here rather than with billing because teams reference them;
-- the signed-in users' select policy reads teams, so it follows that table.
-- ---------------------------------------------------------------------------
create table public.plans (
  id text primary key check (id ~ '^[a-z][a-z0-9_]{0,31}$'),
  name text not null check (char_length(name) between 1 and 60),
  max_channels integer not null check (max_channels > 0),
  -- the monitor never samples a team's channels more often than this
  min_sample_interval_seconds integer not null check (min_sample_interval_seconds >= 5),
  -- how long viewer samples stay queryable for teams on this plan
  retention_days integer not null check (retention_days between 1 and 3660),
  features jsonb not null default '{}'::jsonb check (jsonb_typeof(features) = 'object'),
  sort_order integer not null default 0,
  -- false: custom/legacy plans, shown only to teams that are on them
  is_public boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.plans is 'Plan catalogue; readable by everyone, written by migrations/the service only.';

create trigger plans_set_updated_at before update on public.plans
  for each row execute function public.set_updated_at();

-- Features, each enforced on the server whatever the client shows:
--   realtime           the live-status Broadcast (sent only to such teams;
--                      only their members may join the topic)
--   csv_export         the export service refuses teams without it
--   followers_history  channel_stats rows and followers_gained figures
--                      (RLS and the dashboard functions)
-- Requiring MFA is not a plan feature: every team's owner may switch it on.
insert into public.plans
  (id, name, max_channels, min_sample_interval_seconds, retention_days, features, sort_order)
values
  ('free', 'Free', 3, 300, 7,
   '{"realtime": false, "csv_export": false, "followers_history": false}', 10),
  ('pro', 'Pro', 25, 60, 90,
   '{"realtime": true, "csv_export": true, "followers_history": true}', 20),
  ('business', 'Business', 200, 30, 365,
   '{"realtime": true, "csv_export": true, "followers_history": true}', 30);

alter table public.plans enable row level security;
revoke all on public.plans from anon, authenticated;
grant select on public.plans to anon, authenticated;

-- One policy per role (several permissive policies for the same role and
-- action would all be evaluated for every row). Signed-in users: see
-- plans_select_authenticated after the teams table.
create policy plans_select_anon on public.plans
  for select to anon
  using (is_public);

-- ---------------------------------------------------------------------------
-- teams
-- ---------------------------------------------------------------------------
create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(btrim(name)) between 1 and 100),
  -- when true, writes by members need an aal2 (MFA) session: see mfa_satisfied()
  require_mfa boolean not null default false,
  -- effective plan; kept in sync with Stripe by the backend, never by clients
  plan_id text not null default 'free' references public.plans (id),
  -- defaults to the caller, so the frontend inserts just {name}
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index teams_plan_id_idx on public.teams (plan_id);
create index teams_created_by_idx on public.teams (created_by);

create trigger teams_set_updated_at before update on public.teams
  for each row execute function public.set_updated_at();

-- The creator of a team becomes its first owner. A team inserted by the
-- backend without created_by gets no member here: the backend adds one.
create function public.add_team_creator_as_owner()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  if new.created_by is not null then
    insert into public.team_members (team_id, user_id, role)
    values (new.id, new.created_by, 'owner');
  end if;
  return new;
end;
$$;
revoke all on function public.add_team_creator_as_owner() from public, anon, authenticated;

-- Same-event triggers fire in name order: teams_audit logs the new team
-- before this one adds (and logs) the owner membership.
create trigger teams_make_creator_owner after insert on public.teams
  for each row execute function public.add_team_creator_as_owner();
create trigger teams_audit after insert or update or delete on public.teams
  for each row execute function public.audit_team_change();

-- Whether the team requires MFA decides how every member must sign in, so
-- only an owner switches it, either way (admins still rename the team; the
-- update policy lets them through). A creator sets it on insert, as the
-- owner to be. The backend (no user: auth.uid() is null) is not bound.
create function public.enforce_team_settings_rules()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  if new.require_mfa is distinct from old.require_mfa
     and (select auth.uid()) is not null
     and not public.has_team_role(old.id, 'owner') then
    raise exception using
      errcode = 'insufficient_privilege',
      message = 'only an owner can change whether the team requires multi-factor authentication';
  end if;
  return new;
end;
$$;
revoke all on function public.enforce_team_settings_rules() from public, anon, authenticated;

create trigger teams_enforce_settings_rules before update of require_mfa on public.teams
  for each row execute function public.enforce_team_settings_rules();

-- Clients write only name and require_mfa (owners only: the trigger above);
-- plan_id (billing), created_by and id are set by defaults / the backend.
alter table public.teams enable row level security;
revoke all on public.teams from anon, authenticated;
grant select, delete on public.teams to authenticated;
grant insert (name, require_mfa), update (name, require_mfa) on public.teams to authenticated;

-- The second branch exists for `insert ... returning`: RETURNING is checked
-- against this policy before the after-insert trigger adds the creator as
-- owner, and no helper could see the row yet (it is not in the statement's
-- snapshot). It matches only a team the caller created in the current
-- transaction (created_at defaults to now(), the transaction's start, and
-- clients cannot set it), so it needs no lookup another team's id could probe.
create policy teams_select_member on public.teams
  for select to authenticated
  using (
    public.is_team_member(id)
    or (created_by = (select auth.uid()) and created_at = now())
  );

create policy teams_insert_authenticated on public.teams
  for insert to authenticated
  with check (created_by = (select auth.uid()));

create policy teams_update_admin on public.teams
  for update to authenticated
  using (public.has_team_role(id, 'admin') and public.mfa_satisfied(id))
  with check (public.has_team_role(id, 'admin') and public.mfa_satisfied(id));

create policy teams_delete_owner on public.teams
  for delete to authenticated
  using (public.has_team_role(id, 'owner') and public.mfa_satisfied(id));

-- A policy of plans (it reads teams): signed-in users also see the
-- unlisted plan their team is on.
create policy plans_select_authenticated on public.plans
  for select to authenticated
  using (
    is_public
    or exists (
      select 1 from public.teams t
      where t.plan_id = plans.id and public.is_team_member(t.id)
    )
  );

-- ---------------------------------------------------------------------------
-- team_members
-- ---------------------------------------------------------------------------
create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.team_role not null default 'member',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (team_id, user_id)
);
-- The RLS helpers look memberships up by user.
create index team_members_user_id_idx on public.team_members (user_id, team_id);

create trigger team_members_set_updated_at before update on public.team_members
  for each row execute function public.set_updated_at();

-- Membership invariants, enforced for every writer (RLS only decides who
-- may write at all):
--   1. a team always keeps at least one owner: the last owner cannot be
--      removed or demoted (a whole team deletion cascading is fine);
--   2. only an owner may add, promote to, change, demote or remove an owner
--      (so an admin manages members/viewers/admins only). Callers without a
--      user (backend, migrations, seed: auth.uid() is null) skip rules 2 and 4;
--   3. a membership row never moves to another team or user;
--   4. an admin (not owner) changes or removes only members and viewers and
--      grants only those roles; on their own row an admin may step down or
--      leave;
--   5. directory sync (service_actor() 'directory-sync') never touches an
--      owner row: it adds, changes and removes admins, members and viewers.
-- Deleting an auth user who is the last owner of a team is refused too:
-- delete or hand over the team first.
create function public.enforce_team_member_rules()
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

  -- --- directory sync: it never adds, changes or removes an owner --------
  if public.service_actor() = 'directory-sync'
     and ((tg_op in ('UPDATE', 'DELETE') and old.role = 'owner')
          or (tg_op in ('INSERT', 'UPDATE') and new.role = 'owner')) then
    raise exception using
      errcode = 'insufficient_privilege',
      message = 'directory sync never adds, changes or removes a team owner';
  end if;
  -- --- end directory sync ---------------------------------------------------

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
revoke all on function public.enforce_team_member_rules() from public, anon, authenticated;

create trigger team_members_enforce_rules
  before insert or update or delete on public.team_members
  for each row execute function public.enforce_team_member_rules();
create trigger team_members_audit after insert or update or delete on public.team_members
  for each row execute function public.audit_team_change();

-- Readable by the team; roles changed by owners/admins (owner rows by owners
-- only: enforce_team_member_rules()). No client inserts: memberships come
-- from team creation and accept_team_invitation().
alter table public.team_members enable row level security;
revoke all on public.team_members from anon, authenticated;
grant select, delete on public.team_members to authenticated;
grant update (role) on public.team_members to authenticated;

create policy team_members_select_member on public.team_members
  for select to authenticated
  using (public.is_team_member(team_id));

create policy team_members_update_admin on public.team_members
  for update to authenticated
  using (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id))
  with check (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id));

-- Leaving needs no MFA step-up: a member can always walk away. Removing
-- someone else needs admin and, on teams that require it, aal2.
create policy team_members_delete_admin_or_self on public.team_members
  for delete to authenticated
  using (
    user_id = (select auth.uid())
    or (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id))
  );

-- Supabase Auth reads memberships for the custom access token hook
-- (20261124120500_auth_hook.sql); as Supabase documents for hooks, through a
-- policy of its own.
grant select on public.team_members to supabase_auth_admin;
create policy team_members_select_auth_admin on public.team_members
  for select to supabase_auth_admin
  using (true);

-- team_member_list(team_id): the members with their email addresses, which
-- clients cannot read from auth.users themselves. Empty for a non-member.
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
-- Email addresses: when two are the same address.
--
-- key = NFC(simple_lowercase(NFC(address))): canonical composition (so NFD
-- forms and singletons such as U+212A KELVIN SIGN are the letters they stand
-- for), then the Unicode simple lowercase mapping, one code point to one,
-- which is what Supabase Auth applies to every address it stores (Go's
-- strings.ToLower). Nothing else is folded: 'ß' is not 'ss', dotless 'ı' is
-- not 'i', fullwidth or other-script look-alikes stay different. The full
-- rule and its reasons: shared/teams/addresses.py, which is the same rule in
-- Python and generates the translate() arguments below (a test keeps them
-- equal; the database's collation plays no part, lower() would depend on it).
-- ---------------------------------------------------------------------------
create function public.email_address_key(address text)
  returns text
  language sql
  immutable
  strict
  parallel safe
  set search_path = ''
as $$
  select pg_catalog.normalize(
    pg_catalog.translate(
      pg_catalog.normalize(email_address_key.address, 'NFC'),
    -- lowercase-from:begin
    U&'\0041\0042\0043\0044\0045\0046\0047\0048\0049\004A\004B\004C'
    || U&'\004D\004E\004F\0050\0051\0052\0053\0054\0055\0056\0057\0058'
    || U&'\0059\005A\00C0\00C1\00C2\00C3\00C4\00C5\00C6\00C7\00C8\00C9'
    || U&'\00CA\00CB\00CC\00CD\00CE\00CF\00D0\00D1\00D2\00D3\00D4\00D5'
    || U&'\00D6\00D8\00D9\00DA\00DB\00DC\00DD\00DE\0100\0102\0104\0106'
    || U&'\0108\010A\010C\010E\0110\0112\0114\0116\0118\011A\011C\011E'
    || U&'\0120\0122\0124\0126\0128\012A\012C\012E\0130\0132\0134\0136'
    || U&'\0139\013B\013D\013F\0141\0143\0145\0147\014A\014C\014E\0150'
    || U&'\0152\0154\0156\0158\015A\015C\015E\0160\0162\0164\0166\0168'
    || U&'\016A\016C\016E\0170\0172\0174\0176\0178\0179\017B\017D\0181'
    || U&'\0182\0184\0186\0187\0189\018A\018B\018E\018F\0190\0191\0193'
    || U&'\0194\0196\0197\0198\019C\019D\019F\01A0\01A2\01A4\01A6\01A7'
    || U&'\01A9\01AC\01AE\01AF\01B1\01B2\01B3\01B5\01B7\01B8\01BC\01C4'
    || U&'\01C5\01C7\01C8\01CA\01CB\01CD\01CF\01D1\01D3\01D5\01D7\01D9'
    || U&'\01DB\01DE\01E0\01E2\01E4\01E6\01E8\01EA\01EC\01EE\01F1\01F2'
    || U&'\01F4\01F6\01F7\01F8\01FA\01FC\01FE\0200\0202\0204\0206\0208'
    || U&'\020A\020C\020E\0210\0212\0214\0216\0218\021A\021C\021E\0220'
    || U&'\0222\0224\0226\0228\022A\022C\022E\0230\0232\023A\023B\023D'
    || U&'\023E\0241\0243\0244\0245\0246\0248\024A\024C\024E\0370\0372'
    || U&'\0376\037F\0386\0388\0389\038A\038C\038E\038F\0391\0392\0393'
    || U&'\0394\0395\0396\0397\0398\0399\039A\039B\039C\039D\039E\039F'
    || U&'\03A0\03A1\03A3\03A4\03A5\03A6\03A7\03A8\03A9\03AA\03AB\03CF'
    || U&'\03D8\03DA\03DC\03DE\03E0\03E2\03E4\03E6\03E8\03EA\03EC\03EE'
    || U&'\03F4\03F7\03F9\03FA\03FD\03FE\03FF\0400\0401\0402\0403\0404'
    || U&'\0405\0406\0407\0408\0409\040A\040B\040C\040D\040E\040F\0410'
    || U&'\0411\0412\0413\0414\0415\0416\0417\0418\0419\041A\041B\041C'
    || U&'\041D\041E\041F\0420\0421\0422\0423\0424\0425\0426\0427\0428'
    || U&'\0429\042A\042B\042C\042D\042E\042F\0460\0462\0464\0466\0468'
    || U&'\046A\046C\046E\0470\0472\0474\0476\0478\047A\047C\047E\0480'
    || U&'\048A\048C\048E\0490\0492\0494\0496\0498\049A\049C\049E\04A0'
    || U&'\04A2\04A4\04A6\04A8\04AA\04AC\04AE\04B0\04B2\04B4\04B6\04B8'
    || U&'\04BA\04BC\04BE\04C0\04C1\04C3\04C5\04C7\04C9\04CB\04CD\04D0'
    || U&'\04D2\04D4\04D6\04D8\04DA\04DC\04DE\04E0\04E2\04E4\04E6\04E8'
    || U&'\04EA\04EC\04EE\04F0\04F2\04F4\04F6\04F8\04FA\04FC\04FE\0500'
    || U&'\0502\0504\0506\0508\050A\050C\050E\0510\0512\0514\0516\0518'
    || U&'\051A\051C\051E\0520\0522\0524\0526\0528\052A\052C\052E\0531'
    || U&'\0532\0533\0534\0535\0536\0537\0538\0539\053A\053B\053C\053D'
    || U&'\053E\053F\0540\0541\0542\0543\0544\0545\0546\0547\0548\0549'
    || U&'\054A\054B\054C\054D\054E\054F\0550\0551\0552\0553\0554\0555'
    || U&'\0556\10A0\10A1\10A2\10A3\10A4\10A5\10A6\10A7\10A8\10A9\10AA'
    || U&'\10AB\10AC\10AD\10AE\10AF\10B0\10B1\10B2\10B3\10B4\10B5\10B6'
    || U&'\10B7\10B8\10B9\10BA\10BB\10BC\10BD\10BE\10BF\10C0\10C1\10C2'
    || U&'\10C3\10C4\10C5\10C7\10CD\13A0\13A1\13A2\13A3\13A4\13A5\13A6'
    || U&'\13A7\13A8\13A9\13AA\13AB\13AC\13AD\13AE\13AF\13B0\13B1\13B2'
    || U&'\13B3\13B4\13B5\13B6\13B7\13B8\13B9\13BA\13BB\13BC\13BD\13BE'
    || U&'\13BF\13C0\13C1\13C2\13C3\13C4\13C5\13C6\13C7\13C8\13C9\13CA'
    || U&'\13CB\13CC\13CD\13CE\13CF\13D0\13D1\13D2\13D3\13D4\13D5\13D6'
    || U&'\13D7\13D8\13D9\13DA\13DB\13DC\13DD\13DE\13DF\13E0\13E1\13E2'
    || U&'\13E3\13E4\13E5\13E6\13E7\13E8\13E9\13EA\13EB\13EC\13ED\13EE'
    || U&'\13EF\13F0\13F1\13F2\13F3\13F4\13F5\1C90\1C91\1C92\1C93\1C94'
    || U&'\1C95\1C96\1C97\1C98\1C99\1C9A\1C9B\1C9C\1C9D\1C9E\1C9F\1CA0'
    || U&'\1CA1\1CA2\1CA3\1CA4\1CA5\1CA6\1CA7\1CA8\1CA9\1CAA\1CAB\1CAC'
    || U&'\1CAD\1CAE\1CAF\1CB0\1CB1\1CB2\1CB3\1CB4\1CB5\1CB6\1CB7\1CB8'
    || U&'\1CB9\1CBA\1CBD\1CBE\1CBF\1E00\1E02\1E04\1E06\1E08\1E0A\1E0C'
    || U&'\1E0E\1E10\1E12\1E14\1E16\1E18\1E1A\1E1C\1E1E\1E20\1E22\1E24'
    || U&'\1E26\1E28\1E2A\1E2C\1E2E\1E30\1E32\1E34\1E36\1E38\1E3A\1E3C'
    || U&'\1E3E\1E40\1E42\1E44\1E46\1E48\1E4A\1E4C\1E4E\1E50\1E52\1E54'
    || U&'\1E56\1E58\1E5A\1E5C\1E5E\1E60\1E62\1E64\1E66\1E68\1E6A\1E6C'
    || U&'\1E6E\1E70\1E72\1E74\1E76\1E78\1E7A\1E7C\1E7E\1E80\1E82\1E84'
    || U&'\1E86\1E88\1E8A\1E8C\1E8E\1E90\1E92\1E94\1E9E\1EA0\1EA2\1EA4'
    || U&'\1EA6\1EA8\1EAA\1EAC\1EAE\1EB0\1EB2\1EB4\1EB6\1EB8\1EBA\1EBC'
    || U&'\1EBE\1EC0\1EC2\1EC4\1EC6\1EC8\1ECA\1ECC\1ECE\1ED0\1ED2\1ED4'
    || U&'\1ED6\1ED8\1EDA\1EDC\1EDE\1EE0\1EE2\1EE4\1EE6\1EE8\1EEA\1EEC'
    || U&'\1EEE\1EF0\1EF2\1EF4\1EF6\1EF8\1EFA\1EFC\1EFE\1F08\1F09\1F0A'
    || U&'\1F0B\1F0C\1F0D\1F0E\1F0F\1F18\1F19\1F1A\1F1B\1F1C\1F1D\1F28'
    || U&'\1F29\1F2A\1F2B\1F2C\1F2D\1F2E\1F2F\1F38\1F39\1F3A\1F3B\1F3C'
    || U&'\1F3D\1F3E\1F3F\1F48\1F49\1F4A\1F4B\1F4C\1F4D\1F59\1F5B\1F5D'
    || U&'\1F5F\1F68\1F69\1F6A\1F6B\1F6C\1F6D\1F6E\1F6F\1F88\1F89\1F8A'
    || U&'\1F8B\1F8C\1F8D\1F8E\1F8F\1F98\1F99\1F9A\1F9B\1F9C\1F9D\1F9E'
    || U&'\1F9F\1FA8\1FA9\1FAA\1FAB\1FAC\1FAD\1FAE\1FAF\1FB8\1FB9\1FBA'
    || U&'\1FBB\1FBC\1FC8\1FC9\1FCA\1FCB\1FCC\1FD8\1FD9\1FDA\1FDB\1FE8'
    || U&'\1FE9\1FEA\1FEB\1FEC\1FF8\1FF9\1FFA\1FFB\1FFC\2126\212A\212B'
    || U&'\2132\2160\2161\2162\2163\2164\2165\2166\2167\2168\2169\216A'
    || U&'\216B\216C\216D\216E\216F\2183\24B6\24B7\24B8\24B9\24BA\24BB'
    || U&'\24BC\24BD\24BE\24BF\24C0\24C1\24C2\24C3\24C4\24C5\24C6\24C7'
    || U&'\24C8\24C9\24CA\24CB\24CC\24CD\24CE\24CF\2C00\2C01\2C02\2C03'
    || U&'\2C04\2C05\2C06\2C07\2C08\2C09\2C0A\2C0B\2C0C\2C0D\2C0E\2C0F'
    || U&'\2C10\2C11\2C12\2C13\2C14\2C15\2C16\2C17\2C18\2C19\2C1A\2C1B'
    || U&'\2C1C\2C1D\2C1E\2C1F\2C20\2C21\2C22\2C23\2C24\2C25\2C26\2C27'
    || U&'\2C28\2C29\2C2A\2C2B\2C2C\2C2D\2C2E\2C2F\2C60\2C62\2C63\2C64'
    || U&'\2C67\2C69\2C6B\2C6D\2C6E\2C6F\2C70\2C72\2C75\2C7E\2C7F\2C80'
    || U&'\2C82\2C84\2C86\2C88\2C8A\2C8C\2C8E\2C90\2C92\2C94\2C96\2C98'
    || U&'\2C9A\2C9C\2C9E\2CA0\2CA2\2CA4\2CA6\2CA8\2CAA\2CAC\2CAE\2CB0'
    || U&'\2CB2\2CB4\2CB6\2CB8\2CBA\2CBC\2CBE\2CC0\2CC2\2CC4\2CC6\2CC8'
    || U&'\2CCA\2CCC\2CCE\2CD0\2CD2\2CD4\2CD6\2CD8\2CDA\2CDC\2CDE\2CE0'
    || U&'\2CE2\2CEB\2CED\2CF2\A640\A642\A644\A646\A648\A64A\A64C\A64E'
    || U&'\A650\A652\A654\A656\A658\A65A\A65C\A65E\A660\A662\A664\A666'
    || U&'\A668\A66A\A66C\A680\A682\A684\A686\A688\A68A\A68C\A68E\A690'
    || U&'\A692\A694\A696\A698\A69A\A722\A724\A726\A728\A72A\A72C\A72E'
    || U&'\A732\A734\A736\A738\A73A\A73C\A73E\A740\A742\A744\A746\A748'
    || U&'\A74A\A74C\A74E\A750\A752\A754\A756\A758\A75A\A75C\A75E\A760'
    || U&'\A762\A764\A766\A768\A76A\A76C\A76E\A779\A77B\A77D\A77E\A780'
    || U&'\A782\A784\A786\A78B\A78D\A790\A792\A796\A798\A79A\A79C\A79E'
    || U&'\A7A0\A7A2\A7A4\A7A6\A7A8\A7AA\A7AB\A7AC\A7AD\A7AE\A7B0\A7B1'
    || U&'\A7B2\A7B3\A7B4\A7B6\A7B8\A7BA\A7BC\A7BE\A7C0\A7C2\A7C4\A7C5'
    || U&'\A7C6\A7C7\A7C9\A7D0\A7D6\A7D8\A7F5\FF21\FF22\FF23\FF24\FF25'
    || U&'\FF26\FF27\FF28\FF29\FF2A\FF2B\FF2C\FF2D\FF2E\FF2F\FF30\FF31'
    || U&'\FF32\FF33\FF34\FF35\FF36\FF37\FF38\FF39\FF3A\+010400\+010401\+010402'
    || U&'\+010403\+010404\+010405\+010406\+010407\+010408\+010409\+01040A\+01040B\+01040C\+01040D\+01040E'
    || U&'\+01040F\+010410\+010411\+010412\+010413\+010414\+010415\+010416\+010417\+010418\+010419\+01041A'
    || U&'\+01041B\+01041C\+01041D\+01041E\+01041F\+010420\+010421\+010422\+010423\+010424\+010425\+010426'
    || U&'\+010427\+0104B0\+0104B1\+0104B2\+0104B3\+0104B4\+0104B5\+0104B6\+0104B7\+0104B8\+0104B9\+0104BA'
    || U&'\+0104BB\+0104BC\+0104BD\+0104BE\+0104BF\+0104C0\+0104C1\+0104C2\+0104C3\+0104C4\+0104C5\+0104C6'
    || U&'\+0104C7\+0104C8\+0104C9\+0104CA\+0104CB\+0104CC\+0104CD\+0104CE\+0104CF\+0104D0\+0104D1\+0104D2'
    || U&'\+0104D3\+010570\+010571\+010572\+010573\+010574\+010575\+010576\+010577\+010578\+010579\+01057A'
    || U&'\+01057C\+01057D\+01057E\+01057F\+010580\+010581\+010582\+010583\+010584\+010585\+010586\+010587'
    || U&'\+010588\+010589\+01058A\+01058C\+01058D\+01058E\+01058F\+010590\+010591\+010592\+010594\+010595'
    || U&'\+010C80\+010C81\+010C82\+010C83\+010C84\+010C85\+010C86\+010C87\+010C88\+010C89\+010C8A\+010C8B'
    || U&'\+010C8C\+010C8D\+010C8E\+010C8F\+010C90\+010C91\+010C92\+010C93\+010C94\+010C95\+010C96\+010C97'
    || U&'\+010C98\+010C99\+010C9A\+010C9B\+010C9C\+010C9D\+010C9E\+010C9F\+010CA0\+010CA1\+010CA2\+010CA3'
    || U&'\+010CA4\+010CA5\+010CA6\+010CA7\+010CA8\+010CA9\+010CAA\+010CAB\+010CAC\+010CAD\+010CAE\+010CAF'
    || U&'\+010CB0\+010CB1\+010CB2\+0118A0\+0118A1\+0118A2\+0118A3\+0118A4\+0118A5\+0118A6\+0118A7\+0118A8'
    || U&'\+0118A9\+0118AA\+0118AB\+0118AC\+0118AD\+0118AE\+0118AF\+0118B0\+0118B1\+0118B2\+0118B3\+0118B4'
    || U&'\+0118B5\+0118B6\+0118B7\+0118B8\+0118B9\+0118BA\+0118BB\+0118BC\+0118BD\+0118BE\+0118BF\+016E40'
    || U&'\+016E41\+016E42\+016E43\+016E44\+016E45\+016E46\+016E47\+016E48\+016E49\+016E4A\+016E4B\+016E4C'
    || U&'\+016E4D\+016E4E\+016E4F\+016E50\+016E51\+016E52\+016E53\+016E54\+016E55\+016E56\+016E57\+016E58'
    || U&'\+016E59\+016E5A\+016E5B\+016E5C\+016E5D\+016E5E\+016E5F\+01E900\+01E901\+01E902\+01E903\+01E904'
    || U&'\+01E905\+01E906\+01E907\+01E908\+01E909\+01E90A\+01E90B\+01E90C\+01E90D\+01E90E\+01E90F\+01E910'
    || U&'\+01E911\+01E912\+01E913\+01E914\+01E915\+01E916\+01E917\+01E918\+01E919\+01E91A\+01E91B\+01E91C'
    || U&'\+01E91D\+01E91E\+01E91F\+01E920\+01E921',
    -- lowercase-from:end
    -- lowercase-to:begin
    U&'\0061\0062\0063\0064\0065\0066\0067\0068\0069\006A\006B\006C'
    || U&'\006D\006E\006F\0070\0071\0072\0073\0074\0075\0076\0077\0078'
    || U&'\0079\007A\00E0\00E1\00E2\00E3\00E4\00E5\00E6\00E7\00E8\00E9'
    || U&'\00EA\00EB\00EC\00ED\00EE\00EF\00F0\00F1\00F2\00F3\00F4\00F5'
    || U&'\00F6\00F8\00F9\00FA\00FB\00FC\00FD\00FE\0101\0103\0105\0107'
    || U&'\0109\010B\010D\010F\0111\0113\0115\0117\0119\011B\011D\011F'
    || U&'\0121\0123\0125\0127\0129\012B\012D\012F\0069\0133\0135\0137'
    || U&'\013A\013C\013E\0140\0142\0144\0146\0148\014B\014D\014F\0151'
    || U&'\0153\0155\0157\0159\015B\015D\015F\0161\0163\0165\0167\0169'
    || U&'\016B\016D\016F\0171\0173\0175\0177\00FF\017A\017C\017E\0253'
    || U&'\0183\0185\0254\0188\0256\0257\018C\01DD\0259\025B\0192\0260'
    || U&'\0263\0269\0268\0199\026F\0272\0275\01A1\01A3\01A5\0280\01A8'
    || U&'\0283\01AD\0288\01B0\028A\028B\01B4\01B6\0292\01B9\01BD\01C6'
    || U&'\01C6\01C9\01C9\01CC\01CC\01CE\01D0\01D2\01D4\01D6\01D8\01DA'
    || U&'\01DC\01DF\01E1\01E3\01E5\01E7\01E9\01EB\01ED\01EF\01F3\01F3'
    || U&'\01F5\0195\01BF\01F9\01FB\01FD\01FF\0201\0203\0205\0207\0209'
    || U&'\020B\020D\020F\0211\0213\0215\0217\0219\021B\021D\021F\019E'
    || U&'\0223\0225\0227\0229\022B\022D\022F\0231\0233\2C65\023C\019A'
    || U&'\2C66\0242\0180\0289\028C\0247\0249\024B\024D\024F\0371\0373'
    || U&'\0377\03F3\03AC\03AD\03AE\03AF\03CC\03CD\03CE\03B1\03B2\03B3'
    || U&'\03B4\03B5\03B6\03B7\03B8\03B9\03BA\03BB\03BC\03BD\03BE\03BF'
    || U&'\03C0\03C1\03C3\03C4\03C5\03C6\03C7\03C8\03C9\03CA\03CB\03D7'
    || U&'\03D9\03DB\03DD\03DF\03E1\03E3\03E5\03E7\03E9\03EB\03ED\03EF'
    || U&'\03B8\03F8\03F2\03FB\037B\037C\037D\0450\0451\0452\0453\0454'
    || U&'\0455\0456\0457\0458\0459\045A\045B\045C\045D\045E\045F\0430'
    || U&'\0431\0432\0433\0434\0435\0436\0437\0438\0439\043A\043B\043C'
    || U&'\043D\043E\043F\0440\0441\0442\0443\0444\0445\0446\0447\0448'
    || U&'\0449\044A\044B\044C\044D\044E\044F\0461\0463\0465\0467\0469'
    || U&'\046B\046D\046F\0471\0473\0475\0477\0479\047B\047D\047F\0481'
    || U&'\048B\048D\048F\0491\0493\0495\0497\0499\049B\049D\049F\04A1'
    || U&'\04A3\04A5\04A7\04A9\04AB\04AD\04AF\04B1\04B3\04B5\04B7\04B9'
    || U&'\04BB\04BD\04BF\04CF\04C2\04C4\04C6\04C8\04CA\04CC\04CE\04D1'
    || U&'\04D3\04D5\04D7\04D9\04DB\04DD\04DF\04E1\04E3\04E5\04E7\04E9'
    || U&'\04EB\04ED\04EF\04F1\04F3\04F5\04F7\04F9\04FB\04FD\04FF\0501'
    || U&'\0503\0505\0507\0509\050B\050D\050F\0511\0513\0515\0517\0519'
    || U&'\051B\051D\051F\0521\0523\0525\0527\0529\052B\052D\052F\0561'
    || U&'\0562\0563\0564\0565\0566\0567\0568\0569\056A\056B\056C\056D'
    || U&'\056E\056F\0570\0571\0572\0573\0574\0575\0576\0577\0578\0579'
    || U&'\057A\057B\057C\057D\057E\057F\0580\0581\0582\0583\0584\0585'
    || U&'\0586\2D00\2D01\2D02\2D03\2D04\2D05\2D06\2D07\2D08\2D09\2D0A'
    || U&'\2D0B\2D0C\2D0D\2D0E\2D0F\2D10\2D11\2D12\2D13\2D14\2D15\2D16'
    || U&'\2D17\2D18\2D19\2D1A\2D1B\2D1C\2D1D\2D1E\2D1F\2D20\2D21\2D22'
    || U&'\2D23\2D24\2D25\2D27\2D2D\AB70\AB71\AB72\AB73\AB74\AB75\AB76'
    || U&'\AB77\AB78\AB79\AB7A\AB7B\AB7C\AB7D\AB7E\AB7F\AB80\AB81\AB82'
    || U&'\AB83\AB84\AB85\AB86\AB87\AB88\AB89\AB8A\AB8B\AB8C\AB8D\AB8E'
    || U&'\AB8F\AB90\AB91\AB92\AB93\AB94\AB95\AB96\AB97\AB98\AB99\AB9A'
    || U&'\AB9B\AB9C\AB9D\AB9E\AB9F\ABA0\ABA1\ABA2\ABA3\ABA4\ABA5\ABA6'
    || U&'\ABA7\ABA8\ABA9\ABAA\ABAB\ABAC\ABAD\ABAE\ABAF\ABB0\ABB1\ABB2'
    || U&'\ABB3\ABB4\ABB5\ABB6\ABB7\ABB8\ABB9\ABBA\ABBB\ABBC\ABBD\ABBE'
    || U&'\ABBF\13F8\13F9\13FA\13FB\13FC\13FD\10D0\10D1\10D2\10D3\10D4'
    || U&'\10D5\10D6\10D7\10D8\10D9\10DA\10DB\10DC\10DD\10DE\10DF\10E0'
    || U&'\10E1\10E2\10E3\10E4\10E5\10E6\10E7\10E8\10E9\10EA\10EB\10EC'
    || U&'\10ED\10EE\10EF\10F0\10F1\10F2\10F3\10F4\10F5\10F6\10F7\10F8'
    || U&'\10F9\10FA\10FD\10FE\10FF\1E01\1E03\1E05\1E07\1E09\1E0B\1E0D'
    || U&'\1E0F\1E11\1E13\1E15\1E17\1E19\1E1B\1E1D\1E1F\1E21\1E23\1E25'
    || U&'\1E27\1E29\1E2B\1E2D\1E2F\1E31\1E33\1E35\1E37\1E39\1E3B\1E3D'
    || U&'\1E3F\1E41\1E43\1E45\1E47\1E49\1E4B\1E4D\1E4F\1E51\1E53\1E55'
    || U&'\1E57\1E59\1E5B\1E5D\1E5F\1E61\1E63\1E65\1E67\1E69\1E6B\1E6D'
    || U&'\1E6F\1E71\1E73\1E75\1E77\1E79\1E7B\1E7D\1E7F\1E81\1E83\1E85'
    || U&'\1E87\1E89\1E8B\1E8D\1E8F\1E91\1E93\1E95\00DF\1EA1\1EA3\1EA5'
    || U&'\1EA7\1EA9\1EAB\1EAD\1EAF\1EB1\1EB3\1EB5\1EB7\1EB9\1EBB\1EBD'
    || U&'\1EBF\1EC1\1EC3\1EC5\1EC7\1EC9\1ECB\1ECD\1ECF\1ED1\1ED3\1ED5'
    || U&'\1ED7\1ED9\1EDB\1EDD\1EDF\1EE1\1EE3\1EE5\1EE7\1EE9\1EEB\1EED'
    || U&'\1EEF\1EF1\1EF3\1EF5\1EF7\1EF9\1EFB\1EFD\1EFF\1F00\1F01\1F02'
    || U&'\1F03\1F04\1F05\1F06\1F07\1F10\1F11\1F12\1F13\1F14\1F15\1F20'
    || U&'\1F21\1F22\1F23\1F24\1F25\1F26\1F27\1F30\1F31\1F32\1F33\1F34'
    || U&'\1F35\1F36\1F37\1F40\1F41\1F42\1F43\1F44\1F45\1F51\1F53\1F55'
    || U&'\1F57\1F60\1F61\1F62\1F63\1F64\1F65\1F66\1F67\1F80\1F81\1F82'
    || U&'\1F83\1F84\1F85\1F86\1F87\1F90\1F91\1F92\1F93\1F94\1F95\1F96'
    || U&'\1F97\1FA0\1FA1\1FA2\1FA3\1FA4\1FA5\1FA6\1FA7\1FB0\1FB1\1F70'
    || U&'\1F71\1FB3\1F72\1F73\1F74\1F75\1FC3\1FD0\1FD1\1F76\1F77\1FE0'
    || U&'\1FE1\1F7A\1F7B\1FE5\1F78\1F79\1F7C\1F7D\1FF3\03C9\006B\00E5'
    || U&'\214E\2170\2171\2172\2173\2174\2175\2176\2177\2178\2179\217A'
    || U&'\217B\217C\217D\217E\217F\2184\24D0\24D1\24D2\24D3\24D4\24D5'
    || U&'\24D6\24D7\24D8\24D9\24DA\24DB\24DC\24DD\24DE\24DF\24E0\24E1'
    || U&'\24E2\24E3\24E4\24E5\24E6\24E7\24E8\24E9\2C30\2C31\2C32\2C33'
    || U&'\2C34\2C35\2C36\2C37\2C38\2C39\2C3A\2C3B\2C3C\2C3D\2C3E\2C3F'
    || U&'\2C40\2C41\2C42\2C43\2C44\2C45\2C46\2C47\2C48\2C49\2C4A\2C4B'
    || U&'\2C4C\2C4D\2C4E\2C4F\2C50\2C51\2C52\2C53\2C54\2C55\2C56\2C57'
    || U&'\2C58\2C59\2C5A\2C5B\2C5C\2C5D\2C5E\2C5F\2C61\026B\1D7D\027D'
    || U&'\2C68\2C6A\2C6C\0251\0271\0250\0252\2C73\2C76\023F\0240\2C81'
    || U&'\2C83\2C85\2C87\2C89\2C8B\2C8D\2C8F\2C91\2C93\2C95\2C97\2C99'
    || U&'\2C9B\2C9D\2C9F\2CA1\2CA3\2CA5\2CA7\2CA9\2CAB\2CAD\2CAF\2CB1'
    || U&'\2CB3\2CB5\2CB7\2CB9\2CBB\2CBD\2CBF\2CC1\2CC3\2CC5\2CC7\2CC9'
    || U&'\2CCB\2CCD\2CCF\2CD1\2CD3\2CD5\2CD7\2CD9\2CDB\2CDD\2CDF\2CE1'
    || U&'\2CE3\2CEC\2CEE\2CF3\A641\A643\A645\A647\A649\A64B\A64D\A64F'
    || U&'\A651\A653\A655\A657\A659\A65B\A65D\A65F\A661\A663\A665\A667'
    || U&'\A669\A66B\A66D\A681\A683\A685\A687\A689\A68B\A68D\A68F\A691'
    || U&'\A693\A695\A697\A699\A69B\A723\A725\A727\A729\A72B\A72D\A72F'
    || U&'\A733\A735\A737\A739\A73B\A73D\A73F\A741\A743\A745\A747\A749'
    || U&'\A74B\A74D\A74F\A751\A753\A755\A757\A759\A75B\A75D\A75F\A761'
    || U&'\A763\A765\A767\A769\A76B\A76D\A76F\A77A\A77C\1D79\A77F\A781'
    || U&'\A783\A785\A787\A78C\0265\A791\A793\A797\A799\A79B\A79D\A79F'
    || U&'\A7A1\A7A3\A7A5\A7A7\A7A9\0266\025C\0261\026C\026A\029E\0287'
    || U&'\029D\AB53\A7B5\A7B7\A7B9\A7BB\A7BD\A7BF\A7C1\A7C3\A794\0282'
    || U&'\1D8E\A7C8\A7CA\A7D1\A7D7\A7D9\A7F6\FF41\FF42\FF43\FF44\FF45'
    || U&'\FF46\FF47\FF48\FF49\FF4A\FF4B\FF4C\FF4D\FF4E\FF4F\FF50\FF51'
    || U&'\FF52\FF53\FF54\FF55\FF56\FF57\FF58\FF59\FF5A\+010428\+010429\+01042A'
    || U&'\+01042B\+01042C\+01042D\+01042E\+01042F\+010430\+010431\+010432\+010433\+010434\+010435\+010436'
    || U&'\+010437\+010438\+010439\+01043A\+01043B\+01043C\+01043D\+01043E\+01043F\+010440\+010441\+010442'
    || U&'\+010443\+010444\+010445\+010446\+010447\+010448\+010449\+01044A\+01044B\+01044C\+01044D\+01044E'
    || U&'\+01044F\+0104D8\+0104D9\+0104DA\+0104DB\+0104DC\+0104DD\+0104DE\+0104DF\+0104E0\+0104E1\+0104E2'
    || U&'\+0104E3\+0104E4\+0104E5\+0104E6\+0104E7\+0104E8\+0104E9\+0104EA\+0104EB\+0104EC\+0104ED\+0104EE'
    || U&'\+0104EF\+0104F0\+0104F1\+0104F2\+0104F3\+0104F4\+0104F5\+0104F6\+0104F7\+0104F8\+0104F9\+0104FA'
    || U&'\+0104FB\+010597\+010598\+010599\+01059A\+01059B\+01059C\+01059D\+01059E\+01059F\+0105A0\+0105A1'
    || U&'\+0105A3\+0105A4\+0105A5\+0105A6\+0105A7\+0105A8\+0105A9\+0105AA\+0105AB\+0105AC\+0105AD\+0105AE'
    || U&'\+0105AF\+0105B0\+0105B1\+0105B3\+0105B4\+0105B5\+0105B6\+0105B7\+0105B8\+0105B9\+0105BB\+0105BC'
    || U&'\+010CC0\+010CC1\+010CC2\+010CC3\+010CC4\+010CC5\+010CC6\+010CC7\+010CC8\+010CC9\+010CCA\+010CCB'
    || U&'\+010CCC\+010CCD\+010CCE\+010CCF\+010CD0\+010CD1\+010CD2\+010CD3\+010CD4\+010CD5\+010CD6\+010CD7'
    || U&'\+010CD8\+010CD9\+010CDA\+010CDB\+010CDC\+010CDD\+010CDE\+010CDF\+010CE0\+010CE1\+010CE2\+010CE3'
    || U&'\+010CE4\+010CE5\+010CE6\+010CE7\+010CE8\+010CE9\+010CEA\+010CEB\+010CEC\+010CED\+010CEE\+010CEF'
    || U&'\+010CF0\+010CF1\+010CF2\+0118C0\+0118C1\+0118C2\+0118C3\+0118C4\+0118C5\+0118C6\+0118C7\+0118C8'
    || U&'\+0118C9\+0118CA\+0118CB\+0118CC\+0118CD\+0118CE\+0118CF\+0118D0\+0118D1\+0118D2\+0118D3\+0118D4'
    || U&'\+0118D5\+0118D6\+0118D7\+0118D8\+0118D9\+0118DA\+0118DB\+0118DC\+0118DD\+0118DE\+0118DF\+016E60'
    || U&'\+016E61\+016E62\+016E63\+016E64\+016E65\+016E66\+016E67\+016E68\+016E69\+016E6A\+016E6B\+016E6C'
    || U&'\+016E6D\+016E6E\+016E6F\+016E70\+016E71\+016E72\+016E73\+016E74\+016E75\+016E76\+016E77\+016E78'
    || U&'\+016E79\+016E7A\+016E7B\+016E7C\+016E7D\+016E7E\+016E7F\+01E922\+01E923\+01E924\+01E925\+01E926'
    || U&'\+01E927\+01E928\+01E929\+01E92A\+01E92B\+01E92C\+01E92D\+01E92E\+01E92F\+01E930\+01E931\+01E932'
    || U&'\+01E933\+01E934\+01E935\+01E936\+01E937\+01E938\+01E939\+01E93A\+01E93B\+01E93C\+01E93D\+01E93E'
    || U&'\+01E93F\+01E940\+01E941\+01E942\+01E943'),
    -- lowercase-to:end
    'NFC')
$$;
comment on function public.email_address_key(text) is
  'The form email addresses are compared in: NFC, Unicode simple lowercase, NFC.';
revoke all on function public.email_address_key(text) from public, anon, authenticated;
grant execute on function public.email_address_key(text) to service_role;

-- ---------------------------------------------------------------------------
-- team_invitations: the token is mailed to the invitee and never stored;
-- only token_hash = sha256(utf-8 bytes of the token) is, 32 bytes (Python:
-- hashlib.sha256(token.encode()).digest()); see accept_team_invitation().
-- Rows are written by create_team_invitation() only, on the backend.
-- ---------------------------------------------------------------------------
create table public.team_invitations (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  email text not null check (email ~ '^[^@\s]+@[^@\s]+$' and char_length(email) <= 320),
  -- ownership is transferred by an owner, never handed out by invitation
  role public.team_role not null default 'member' check (role <> 'owner'),
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  invited_by uuid default auth.uid() references auth.users (id) on delete set null,
  expires_at timestamptz not null default (now() + interval '7 days'),
  accepted_at timestamptz null,
  accepted_by uuid null references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  check (expires_at > created_at),
  -- accepted_by may later become null (user deleted), accepted_at stays
  check (accepted_by is null or accepted_at is not null)
);
create index team_invitations_team_id_idx on public.team_invitations (team_id);
-- for the `on delete set null` when an auth user is deleted
create index team_invitations_invited_by_idx on public.team_invitations (invited_by);
create index team_invitations_accepted_by_idx on public.team_invitations (accepted_by);
-- One open invitation per team and address (compared by email_address_key).
-- Expired open invitations still occupy the slot: create_team_invitation()
-- deletes them before inviting the same address again.
create unique index team_invitations_one_open_per_email_idx
  on public.team_invitations (team_id, public.email_address_key(email))
  where accepted_at is null;

create trigger team_invitations_audit after insert or update or delete on public.team_invitations
  for each row execute function public.audit_team_change();

-- Owners/admins read and revoke them (members never see token_hash). No
-- client inserts or updates: invitations come from create_team_invitation()
-- (the backend), acceptance goes through accept_team_invitation().
alter table public.team_invitations enable row level security;
revoke all on public.team_invitations from anon, authenticated;
grant select, delete on public.team_invitations to authenticated;

create policy team_invitations_select_admin on public.team_invitations
  for select to authenticated
  using (public.has_team_role(team_id, 'admin'));

create policy team_invitations_delete_admin on public.team_invitations
  for delete to authenticated
  using (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id));

-- create_team_invitation(...): the backend invites `email` as `role` on behalf
-- of the signed-in user whose claims it has set (request.jwt.claims: auth.uid()
-- is the inviter, and the audit trail says so). The server picks the token
-- (its sha256 comes in), the validity (at most 30 days) and the hourly limits
-- (Settings); clients can call none of this. Refusals:
--   42501 insufficient_privilege  no user / not a member / below admin /
--                                 an admin inviting an admin / MFA rule
--   23505 unique_violation        already a member, or a pending invitation
--   22023 invalid_parameter_value a validity or limit out of range
--   PT429                         the team's or the inviter's hourly limit is
--                                 reached; DETAIL 'retry_after_seconds=<n>'
-- The limits count the 'team_invitations.insert' entries of the audit log
-- over the last hour (per team, and per inviter across teams), so revoking
-- and re-inviting does not reset them and several backend instances share
-- them. Two transaction-scoped advisory locks (namespaces 0x5449 'TI' per
-- team, then 0x5455 'TU' per inviter, always in that order) make the count
-- and the insert atomic.
create function public.create_team_invitation(
  team_id uuid,
  email text,
  role public.team_role,
  token_hash bytea,
  valid_for interval,
  team_hourly_limit integer,
  inviter_hourly_limit integer
)
  returns public.team_invitations
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_role public.team_role;
  v_key text := public.email_address_key(create_team_invitation.email);
  v_team_free_at timestamptz;
  v_inviter_free_at timestamptz;
  v_invitation public.team_invitations;
begin
  if v_uid is null then
    raise exception using errcode = 'insufficient_privilege',
      message = 'an invitation is made on behalf of a signed-in user';
  end if;
  if create_team_invitation.valid_for is null
     or create_team_invitation.valid_for not between interval '1 hour' and interval '30 days' then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'an invitation is valid for 1 hour to 30 days';
  end if;
  if coalesce(create_team_invitation.team_hourly_limit, 0) < 1
     or coalesce(create_team_invitation.inviter_hourly_limit, 0) < 1 then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'the hourly invitation limits must be at least 1';
  end if;

  v_role := public.assert_team_role(create_team_invitation.team_id, 'admin', 'invite people');
  if create_team_invitation.role = 'admin' and v_role <> 'owner' then
    raise exception using errcode = 'insufficient_privilege',
      message = 'only an owner can invite an admin';
  end if;

  perform pg_catalog.pg_advisory_xact_lock(x'5449'::integer,
                                           pg_catalog.hashtext(create_team_invitation.team_id::text));
  perform pg_catalog.pg_advisory_xact_lock(x'5455'::integer, pg_catalog.hashtext(v_uid::text));

  if exists (
    select 1
    from public.team_members m
    join auth.users u on u.id = m.user_id
    where m.team_id = create_team_invitation.team_id
      and public.email_address_key(u.email) = v_key
  ) then
    raise exception using errcode = 'unique_violation',
      message = format('%s is a member of the team already', create_team_invitation.email);
  end if;
  -- An expired invitation still holds the address's slot: it goes now.
  delete from public.team_invitations i
  where i.team_id = create_team_invitation.team_id
    and public.email_address_key(i.email) = v_key
    and i.accepted_at is null
    and i.expires_at <= now();
  if exists (
    select 1
    from public.team_invitations i
    where i.team_id = create_team_invitation.team_id
      and public.email_address_key(i.email) = v_key
      and i.accepted_at is null
  ) then
    raise exception using errcode = 'unique_violation',
      message = format('%s has a pending invitation; revoke it to send a new one',
                       create_team_invitation.email);
  end if;

  -- A limit is reached when the last hour holds `limit` invitations of its
  -- scope; a slot frees when the limit-th most recent of them turns an hour
  -- old (both must, when both are reached).
  v_team_free_at := (
    select a.created_at + interval '1 hour'
    from public.audit_log a
    where a.team_id = create_team_invitation.team_id
      and a.action = 'team_invitations.insert' and a.created_at > now() - interval '1 hour'
    order by a.created_at desc
    offset create_team_invitation.team_hourly_limit - 1 limit 1);
  v_inviter_free_at := (
    select a.created_at + interval '1 hour'
    from public.audit_log a
    where a.actor_id = v_uid
      and a.action = 'team_invitations.insert' and a.created_at > now() - interval '1 hour'
    order by a.created_at desc
    offset create_team_invitation.inviter_hourly_limit - 1 limit 1);
  if v_team_free_at is not null or v_inviter_free_at is not null then
    raise exception using errcode = 'PT429',
      message = case
        when v_team_free_at is not null
          then format('the team has sent %s invitations in the last hour, the most it may',
                      create_team_invitation.team_hourly_limit)
        else format('you have sent %s invitations in the last hour, the most you may',
                    create_team_invitation.inviter_hourly_limit) end,
      detail = format('retry_after_seconds=%s', greatest(1, ceil(extract(epoch from
                 greatest(v_team_free_at, v_inviter_free_at) - now())))::bigint),
      hint = 'try again later';
  end if;

  insert into public.team_invitations (team_id, email, role, token_hash, invited_by, expires_at)
  values (create_team_invitation.team_id, create_team_invitation.email,
          create_team_invitation.role, create_team_invitation.token_hash, v_uid,
          now() + create_team_invitation.valid_for)
  returning * into v_invitation;
  return v_invitation;
end;
$$;
comment on function public.create_team_invitation(uuid, text, public.team_role, bytea, interval, integer, integer) is
  'Backend only: invites an address on behalf of the signed-in inviter (role, MFA, duplicate and hourly-limit checks).';
revoke all on function public.create_team_invitation(uuid, text, public.team_role, bytea, interval, integer, integer)
  from public, anon, authenticated;
grant execute on function public.create_team_invitation(uuid, text, public.team_role, bytea, interval, integer, integer)
  to service_role;

-- accept_team_invitation(token): the invitee, signed in with the invited
-- address (compared by email_address_key) and with that address confirmed,
-- turns the mailed token into a membership, provided whoever sent the
-- invitation still holds a role that may grant it (admin or owner; owner for
-- an admin invitation): an invitation dies with its inviter's role. An error
-- per reason, so the invitee is told what to do:
--   P0002 no_data_found                     no invitation has this token
--   55000 object_not_in_prerequisite_state  used already, expired, or its
--                                           inviter may no longer grant it
--   42501 insufficient_privilege            not signed in / another address /
--                                           address not confirmed
create function public.accept_team_invitation(token text)
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
  v_confirmed_at timestamptz;
  v_inviter_role public.team_role;
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

  select u.email, u.email_confirmed_at into v_email, v_confirmed_at
  from auth.users u where u.id = v_uid;
  if v_email is null
     or public.email_address_key(v_email) <> public.email_address_key(v_invitation.email) then
    raise exception using errcode = 'insufficient_privilege',
      message = 'this invitation was sent to another email address',
      hint = 'sign in with the address the invitation was sent to';
  end if;
  if v_confirmed_at is null then
    raise exception using errcode = 'insufficient_privilege',
      message = 'your email address is not confirmed yet',
      hint = 'open the confirmation link Supabase mailed you, then accept the invitation';
  end if;

  select m.role into v_inviter_role
  from public.team_members m
  where m.team_id = v_invitation.team_id and m.user_id = v_invitation.invited_by;
  if v_inviter_role is null
     or public.team_role_rank(v_inviter_role) < public.team_role_rank('admin')
     or (v_invitation.role = 'admin' and v_inviter_role <> 'owner') then
    raise exception using errcode = 'object_not_in_prerequisite_state',
      message = 'this invitation is no longer valid: whoever sent it may no longer grant its role',
      hint = 'ask the team for a new invitation';
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
comment on function public.accept_team_invitation(text) is
  'Accepts an invitation by its mailed token (stored as sha256(token)); returns the team id.';
revoke all on function public.accept_team_invitation(text) from public, anon;
grant execute on function public.accept_team_invitation(text) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- audit_log: written by audit_team_change() (security definer) and by the
-- backend; clients only read it (owners/admins of the team).
-- team_id deliberately has NO foreign key: the trail must outlive the team
-- (the 'teams.delete' entry is written after the team row is gone). Rows of
-- deleted teams are then readable by the service side only.
-- ---------------------------------------------------------------------------
create table public.audit_log (
  id bigint generated always as identity primary key,
  team_id uuid null,
  -- null: the backend acted (no user session)
  actor_id uuid null,
  -- which backend process acted when actor_id is null ('directory-sync'); see service_actor()
  actor text null check (actor ~ '^[a-z][a-z0-9-]{0,39}$'),
  action text not null check (action ~ '^[a-z_]+\.[a-z_.]+$'),
  target_type text null,
  target_id text null,
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
  created_at timestamptz not null default now()
);
create index audit_log_team_id_created_at_idx on public.audit_log (team_id, created_at desc);
-- create_team_invitation() counts an inviter's invitations of the last hour.
create index audit_log_invitations_by_actor_idx on public.audit_log (actor_id, created_at desc)
  where action = 'team_invitations.insert';

alter table public.audit_log enable row level security;
revoke all on public.audit_log from anon, authenticated;
-- The identity's sequence carries Supabase's default grants too: with them a
-- client could setval() it and make every audited write fail.
revoke all on sequence public.audit_log_id_seq from anon, authenticated;
grant select on public.audit_log to authenticated;

create policy audit_log_select_admin on public.audit_log
  for select to authenticated
  using (public.has_team_role(team_id, 'admin'));
