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

  insert into public.audit_log (team_id, actor_id, action, target_type, target_id, details)
  values (
    v_team_id,
    auth.uid(),
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
--      leave.
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
-- team_invitations: the token is mailed to the invitee and never stored;
-- only token_hash = sha256(utf-8 bytes of the token) is, 32 bytes (Python:
-- hashlib.sha256(token.encode()).digest()); see accept_team_invitation().
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
create index team_invitations_email_idx on public.team_invitations (lower(email));
-- for the `on delete set null` when an auth user is deleted
create index team_invitations_invited_by_idx on public.team_invitations (invited_by);
create index team_invitations_accepted_by_idx on public.team_invitations (accepted_by);
-- One open invitation per team and address. Expired open invitations still
-- occupy the slot: the API deletes them before inviting the same address again.
create unique index team_invitations_one_open_per_email_idx
  on public.team_invitations (team_id, lower(email))
  where accepted_at is null;

create trigger team_invitations_audit after insert or update or delete on public.team_invitations
  for each row execute function public.audit_team_change();

-- Owners/admins only (members never see token_hash). No client updates:
-- acceptance goes through accept_team_invitation().
alter table public.team_invitations enable row level security;
revoke all on public.team_invitations from anon, authenticated;
grant select, delete on public.team_invitations to authenticated;
grant insert (team_id, email, role, token_hash, expires_at) on public.team_invitations to authenticated;

create policy team_invitations_select_admin on public.team_invitations
  for select to authenticated
  using (public.has_team_role(team_id, 'admin'));

-- Admins invite members and viewers, owners also admins.
create policy team_invitations_insert_admin on public.team_invitations
  for insert to authenticated
  with check (
    public.has_team_role(team_id, 'admin')
    and public.mfa_satisfied(team_id)
    and invited_by = (select auth.uid())
    and (role in ('member', 'viewer') or public.has_team_role(team_id, 'owner'))
  );

create policy team_invitations_delete_admin on public.team_invitations
  for delete to authenticated
  using (public.has_team_role(team_id, 'admin') and public.mfa_satisfied(team_id));

-- accept_team_invitation(token): the invitee, signed in with the invited
-- email address, turns the mailed token into a membership. An error per
-- reason, so the invitee is told what to do:
--   P0002 no_data_found                     no invitation has this token
--   55000 object_not_in_prerequisite_state  used already, or expired
--   42501 insufficient_privilege            not signed in / another address
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
  action text not null check (action ~ '^[a-z_]+\.[a-z_.]+$'),
  target_type text null,
  target_id text null,
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
  created_at timestamptz not null default now()
);
create index audit_log_team_id_created_at_idx on public.audit_log (team_id, created_at desc);

alter table public.audit_log enable row level security;
revoke all on public.audit_log from anon, authenticated;
-- The identity's sequence carries Supabase's default grants too: with them a
-- client could setval() it and make every audited write fail.
revoke all on sequence public.audit_log_id_seq from anon, authenticated;
grant select on public.audit_log to authenticated;

create policy audit_log_select_admin on public.audit_log
  for select to authenticated
  using (public.has_team_role(team_id, 'admin'));
