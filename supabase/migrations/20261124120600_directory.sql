-- Directory sync: a team's membership follows groups in the customer's
-- directory (Microsoft Entra ID, Google Workspace).
--
--   directory_mappings        (provider, tenant, group) -> role, per team; owners manage them
--   directory_members         which memberships the sync manages (the rest are manual)
--   directory_pending         directory members with no account yet; joined at sign-in
--   directory_sync_runs       every run: its plan, what was applied or why not; owners read
--   directory_group_members   the last complete copy of each mapped group (service only)
--   directory_delta_links     Graph delta links per tenant and group set (service only)
--   directory_claim_attributes identity attributes copied into tokens (service only)
--
-- The sync runs on the service side (shared/directory): it fetches the groups,
-- plans each team's changes, and applies them in one transaction per team
-- as actor 'directory-sync' (public.service_actor(), tenancy migration), so
-- team_members' own rules still hold: a team keeps an owner, owners are
-- never touched by the sync, every change is audited.
--
-- People are matched to directory members through their Supabase identity:
--   azure   identity_data.custom_claims.oid + .tid (Supabase copies them when
--           the Azure provider is asked for the `profile` scope; its
--           provider_id is Entra's per-application `sub`, unknown to Graph)
--   google  the identity's provider_id (Google account id = the Directory
--           member id), or its email when Google marked it verified.
-- A signed-in user is never matched by auth.users.email alone: with email
-- confirmation off, anyone could claim an address.
--
-- Security: owners read and write mappings (writes need aal2 when the team
-- requires MFA) and read runs and pending people; members see which
-- memberships are directory-managed; the rest is the backend's.

-- ---------------------------------------------------------------------------
-- Identity keys: how a Supabase user appears in a directory
-- ---------------------------------------------------------------------------

-- Every directory key of one user (only_user) or of all users (null):
-- (user_id, provider, tenant, member_id, email). Entra keys carry the tenant;
-- Google keys the account id and, when verified, the lower-cased email.
-- Reads auth.identities, so it is for the backend and the security definer
-- functions below only.
create function public.directory_identity_keys(only_user uuid default null)
  returns table (user_id uuid, provider text, tenant text, member_id text, email text)
  language sql
  stable
  set search_path = ''
as $$
  select i.user_id, 'azure'::text,
         lower(i.identity_data -> 'custom_claims' ->> 'tid'),
         lower(i.identity_data -> 'custom_claims' ->> 'oid'),
         null::text
  from auth.identities i
  where i.provider = 'azure'
    and (only_user is null or i.user_id = only_user)
    and i.identity_data -> 'custom_claims' ->> 'tid' is not null
    and i.identity_data -> 'custom_claims' ->> 'oid' is not null
  union all
  select i.user_id, 'google'::text, null::text, i.provider_id,
         case when coalesce(i.identity_data ->> 'email_verified', 'false') = 'true'
              then lower(i.identity_data ->> 'email') end
  from auth.identities i
  where i.provider = 'google'
    and (only_user is null or i.user_id = only_user)
$$;
comment on function public.directory_identity_keys(uuid) is
  'Directory keys (provider, tenant, member_id, verified email) of a user''s Azure and Google identities.';
revoke all on function public.directory_identity_keys(uuid) from public, anon, authenticated;
grant execute on function public.directory_identity_keys(uuid) to service_role;

-- Whether the calling user has signed in with that directory: an Entra
-- identity of the tenant, or a verified Google identity of the domain. A
-- mapping needs it, so an owner cannot read the membership of another
-- customer's groups by mapping them into their own team.
create function public.directory_caller_in_tenant(provider text, tenant text)
  returns boolean
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select exists (
    select 1 from public.directory_identity_keys((select auth.uid())) k
    where k.provider = directory_caller_in_tenant.provider
      and ((k.provider = 'azure' and k.tenant = lower(directory_caller_in_tenant.tenant))
           or (k.provider = 'google'
               and split_part(k.email, '@', 2) = lower(directory_caller_in_tenant.tenant)))
  )
$$;
comment on function public.directory_caller_in_tenant(text, text) is
  'True when the caller signed in with an Entra identity of the tenant / a verified Google identity of the domain.';
revoke all on function public.directory_caller_in_tenant(text, text) from public, anon;
grant execute on function public.directory_caller_in_tenant(text, text) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- directory_mappings: (provider, tenant, group) -> role in a team
-- ---------------------------------------------------------------------------
create table public.directory_mappings (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  provider text not null check (provider in ('azure', 'google')),
  -- azure: the Entra tenant id (a GUID); google: the Workspace domain. Lower case.
  tenant text not null,
  -- azure: the group's object id (a GUID); google: the group's email or id. Lower case.
  group_id text not null,
  -- ownership is never handed out by a directory
  role public.team_role not null default 'member' check (role <> 'owner'),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint directory_mappings_tenant_format check (
    tenant = lower(tenant) and (
      (provider = 'azure' and tenant ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
      or (provider = 'google' and tenant ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
          and char_length(tenant) <= 253))),
  constraint directory_mappings_group_format check (
    group_id = lower(group_id) and (
      (provider = 'azure' and group_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
      or (provider = 'google' and char_length(group_id) <= 320
          and (group_id ~ '^[a-z0-9._%+''-]+@[a-z0-9.-]+$' or group_id ~ '^[0-9a-z]{6,64}$')))),
  unique (team_id, provider, tenant, group_id)
);
comment on table public.directory_mappings is
  'A directory group whose members get a role in the team; managed by the team''s owners.';
-- The sync reads the mappings by directory.
create index directory_mappings_group_idx on public.directory_mappings (provider, tenant, group_id);
create index directory_mappings_created_by_idx on public.directory_mappings (created_by);

create trigger directory_mappings_set_updated_at before update on public.directory_mappings
  for each row execute function public.set_updated_at();
create trigger directory_mappings_audit after insert or update or delete on public.directory_mappings
  for each row execute function public.audit_team_change();

alter table public.directory_mappings enable row level security;
revoke all on public.directory_mappings from anon, authenticated;
grant select, delete on public.directory_mappings to authenticated;
grant insert (team_id, provider, tenant, group_id, role), update (role)
  on public.directory_mappings to authenticated;

create policy directory_mappings_select_owner on public.directory_mappings
  for select to authenticated
  using (public.has_team_role(team_id, 'owner'));

create policy directory_mappings_insert_owner on public.directory_mappings
  for insert to authenticated
  with check (
    public.has_team_role(team_id, 'owner')
    and public.mfa_satisfied(team_id)
    and created_by = (select auth.uid())
    and public.directory_caller_in_tenant(provider, tenant)
  );

create policy directory_mappings_update_owner on public.directory_mappings
  for update to authenticated
  using (public.has_team_role(team_id, 'owner') and public.mfa_satisfied(team_id))
  with check (public.has_team_role(team_id, 'owner') and public.mfa_satisfied(team_id));

create policy directory_mappings_delete_owner on public.directory_mappings
  for delete to authenticated
  using (public.has_team_role(team_id, 'owner') and public.mfa_satisfied(team_id));

-- ---------------------------------------------------------------------------
-- directory_members: the memberships the sync manages. A membership the sync
-- did not create (an invitation, the creator) is manual and left alone; when
-- the membership goes (removed, left, team deleted) this row goes with it.
-- ---------------------------------------------------------------------------
create table public.directory_members (
  team_id uuid not null,
  user_id uuid not null,
  -- the role the directory grants: the highest of the user's mapped groups
  role public.team_role not null check (role <> 'owner'),
  -- the mappings that grant it
  mapping_ids uuid[] not null default '{}',
  synced_at timestamptz not null default now(),
  primary key (team_id, user_id),
  foreign key (team_id, user_id) references public.team_members (team_id, user_id) on delete cascade
);
comment on table public.directory_members is
  'Memberships managed by directory sync; written by the backend, readable by the team.';

alter table public.directory_members enable row level security;
revoke all on public.directory_members from anon, authenticated;
grant select on public.directory_members to authenticated;

create policy directory_members_select_member on public.directory_members
  for select to authenticated
  using (public.is_team_member(team_id));

-- ---------------------------------------------------------------------------
-- directory_pending: members of mapped groups who have no account yet (or no
-- matching identity). Replaced by every applied run; consumed at sign-in by
-- directory_join_pending(), called from the custom access token hook.
-- ---------------------------------------------------------------------------
create table public.directory_pending (
  team_id uuid not null references public.teams (id) on delete cascade,
  provider text not null check (provider in ('azure', 'google')),
  tenant text not null,
  -- Entra object id / Google member id, lower case
  member_id text not null,
  -- Google gives the address; Graph's delta gives ids only
  email text null,
  role public.team_role not null check (role <> 'owner'),
  mapping_ids uuid[] not null default '{}',
  created_at timestamptz not null default now(),
  primary key (team_id, provider, tenant, member_id)
);
comment on table public.directory_pending is
  'Directory members with no matching account yet; they join at first sign-in. Owners read it.';
-- The sign-in lookups: by Entra (tenant, oid) or Google id, and by verified email.
create index directory_pending_member_idx on public.directory_pending (provider, member_id, tenant);
create index directory_pending_email_idx on public.directory_pending (lower(email)) where email is not null;

alter table public.directory_pending enable row level security;
revoke all on public.directory_pending from anon, authenticated;
grant select on public.directory_pending to authenticated;

create policy directory_pending_select_owner on public.directory_pending
  for select to authenticated
  using (public.has_team_role(team_id, 'owner'));

-- ---------------------------------------------------------------------------
-- directory_sync_runs: one row per team per run, whatever happened.
-- ---------------------------------------------------------------------------
create table public.directory_sync_runs (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  trigger text not null check (trigger in ('timer', 'manual')),
  -- who asked for a manual run
  requested_by uuid null references auth.users (id) on delete set null,
  dry_run boolean not null default false,
  -- applied: changes made (or none needed); planned: a dry run; blocked: the
  -- safety fuse stopped it; failed: nothing could be fetched or applied
  status text not null check (status in ('applied', 'planned', 'blocked', 'failed')),
  -- counts: added, updated, removed, pending, held, skipped
  summary jsonb not null default '{}'::jsonb check (jsonb_typeof(summary) = 'object'),
  -- the plan: {"add": [...], "update": [...], "remove": [...], "pending": [...], ...}
  plan jsonb not null default '{}'::jsonb check (jsonb_typeof(plan) = 'object'),
  -- what went wrong or stopped the run: [{"mapping_id", "code", "message"}, ...]
  problems jsonb not null default '[]'::jsonb check (jsonb_typeof(problems) = 'array'),
  started_at timestamptz not null,
  finished_at timestamptz not null default now(),
  check (finished_at >= started_at)
);
comment on table public.directory_sync_runs is
  'Directory sync runs of a team (plan, outcome, problems); written by the backend, owners read.';
create index directory_sync_runs_team_idx on public.directory_sync_runs (team_id, started_at desc);
create index directory_sync_runs_requested_by_idx on public.directory_sync_runs (requested_by);

alter table public.directory_sync_runs enable row level security;
revoke all on public.directory_sync_runs from anon, authenticated;
grant select on public.directory_sync_runs to authenticated;

create policy directory_sync_runs_select_owner on public.directory_sync_runs
  for select to authenticated
  using (public.has_team_role(team_id, 'owner'));

-- ---------------------------------------------------------------------------
-- Service-only: the last complete copy of each mapped group, Graph's delta
-- links, and the identity attributes copied into tokens. No client privilege.
-- ---------------------------------------------------------------------------

-- A group's row exists once a complete fetch of it succeeded; its members
-- are then exactly the rows in directory_group_members.
create table public.directory_groups (
  provider text not null check (provider in ('azure', 'google')),
  tenant text not null,
  group_id text not null,
  -- Graph reported the group deleted (@removed): it has no members any more
  deleted boolean not null default false,
  synced_at timestamptz not null default now(),
  primary key (provider, tenant, group_id)
);
comment on table public.directory_groups is
  'Mapped directory groups fetched completely at least once; service only.';

create table public.directory_group_members (
  provider text not null,
  tenant text not null,
  group_id text not null,
  member_id text not null,
  email text null,
  primary key (provider, tenant, group_id, member_id),
  foreign key (provider, tenant, group_id)
    references public.directory_groups (provider, tenant, group_id) on delete cascade
);
comment on table public.directory_group_members is
  'Users in each mapped directory group as last fetched; service only.';

-- One delta chain per tenant and set of (at most 50) group ids: Graph
-- encodes the $filter in the link, so another set needs a full round.
create table public.directory_delta_links (
  tenant text not null,
  group_ids text[] not null check (cardinality(group_ids) between 1 and 50),
  delta_link text not null check (delta_link ~ '^https://'),
  -- the last full round (initial, or a resync after 410 Gone / syncStateNotFound)
  full_sync_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (tenant, group_ids)
);
comment on table public.directory_delta_links is
  'Microsoft Graph @odata.deltaLink per tenant and group set (tokens last 7 days); service only.';

-- Which identity attributes the access token hook copies into the
-- `directory` claim: claims.directory.<provider>.<claim> =
-- identity_data #>> source_path. Operators change rows with SQL.
create table public.directory_claim_attributes (
  provider text not null check (provider in ('azure', 'google')),
  claim text not null check (claim ~ '^[a-z][a-z0-9_]{0,39}$'),
  source_path text[] not null check (cardinality(source_path) between 1 and 4),
  primary key (provider, claim)
);
comment on table public.directory_claim_attributes is
  'Identity attributes copied into access tokens as claims.directory.<provider>.<claim>; service only.';
insert into public.directory_claim_attributes (provider, claim, source_path) values
  ('azure', 'tenant_id', '{custom_claims,tid}'),
  ('azure', 'object_id', '{custom_claims,oid}'),
  ('google', 'hosted_domain', '{custom_claims,hd}');

alter table public.directory_groups enable row level security;
alter table public.directory_group_members enable row level security;
alter table public.directory_delta_links enable row level security;
alter table public.directory_claim_attributes enable row level security;
revoke all on public.directory_groups, public.directory_group_members,
  public.directory_delta_links, public.directory_claim_attributes from anon, authenticated;

-- ---------------------------------------------------------------------------
-- Sign-in: the custom access token hook (20261124120500_auth_hook.sql) calls
-- these two as supabase_auth_admin, the only client allowed to. On hosted
-- Supabase `postgres` cannot put triggers on auth.users/auth.identities, so
-- a person who signs up after the sync listed them joins here, when their
-- first access token is issued (and at any later refresh that finds them).
-- ---------------------------------------------------------------------------

-- Turns the user's pending rows into memberships (role as the directory
-- grants it, managed by the sync, audited as 'directory-sync'); a person who
-- is already a member keeps their manual membership. Returns how many teams
-- were joined.
create function public.directory_join_pending(user_id uuid)
  returns integer
  language plpgsql
  volatile
  security definer
  set search_path = ''
as $$
declare
  v_previous text := pg_catalog.current_setting('streamtrack.actor', true);
  v_joined integer := 0;
  v_row record;
begin
  for v_row in
    select distinct on (p.team_id) p.team_id, p.role, p.mapping_ids
    from public.directory_pending p
    join public.directory_identity_keys(directory_join_pending.user_id) k
      on k.provider = p.provider
     and ((p.provider = 'azure' and k.tenant = p.tenant and k.member_id = p.member_id)
          or (p.provider = 'google'
              and (k.member_id = p.member_id or (k.email is not null and k.email = lower(p.email)))))
    join public.teams t on t.id = p.team_id
    order by p.team_id, public.team_role_rank(p.role) desc
  loop
    perform pg_catalog.set_config('streamtrack.actor', 'directory-sync', true);
    insert into public.team_members (team_id, user_id, role)
    values (v_row.team_id, directory_join_pending.user_id, v_row.role)
    on conflict on constraint team_members_pkey do nothing;
    if found then
      insert into public.directory_members (team_id, user_id, role, mapping_ids)
      values (v_row.team_id, directory_join_pending.user_id, v_row.role, v_row.mapping_ids);
      v_joined := v_joined + 1;
    end if;
    delete from public.directory_pending p
    where p.team_id = v_row.team_id
      and exists (
        select 1 from public.directory_identity_keys(directory_join_pending.user_id) k
        where k.provider = p.provider
          and ((p.provider = 'azure' and k.tenant = p.tenant and k.member_id = p.member_id)
               or (p.provider = 'google'
                   and (k.member_id = p.member_id
                        or (k.email is not null and k.email = lower(p.email))))));
  end loop;
  perform pg_catalog.set_config('streamtrack.actor', coalesce(v_previous, ''), true);
  return v_joined;
end;
$$;
comment on function public.directory_join_pending(uuid) is
  'Sign-in: joins the teams whose mapped directory groups list this user (pending rows). Auth hook only.';
revoke all on function public.directory_join_pending(uuid) from public, anon, authenticated;
grant execute on function public.directory_join_pending(uuid) to supabase_auth_admin, service_role;

-- The directory part of a user's token claims:
--   directory_roles  {"<team_id>": "<role>"} for memberships the sync manages
--   directory        {"<provider>": {"<claim>": value}} per directory_claim_attributes
-- Each only when it has something: a user the directory does not know gets
-- the token they got before directory sync existed.
-- Informational, like team_roles: RLS never reads the token for decisions.
create function public.directory_token_claims(user_id uuid)
  returns jsonb
  language sql
  stable
  security definer
  set search_path = ''
as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'directory_roles', (
      select jsonb_object_agg(d.team_id::text, d.role::text)
      from public.directory_members d
      where d.user_id = directory_token_claims.user_id
    ),
    'directory', (
      select jsonb_object_agg(x.provider, x.attributes)
      from (
        select a.provider, jsonb_object_agg(a.claim, i.identity_data #>> a.source_path) as attributes
        from public.directory_claim_attributes a
        join auth.identities i
          on i.provider = a.provider and i.user_id = directory_token_claims.user_id
        where i.identity_data #>> a.source_path is not null
        group by a.provider
      ) x
    )
  ))
$$;
comment on function public.directory_token_claims(uuid) is
  'Auth hook: directory_roles and configured directory attributes of a user. Auth hook and backend only.';
revoke all on function public.directory_token_claims(uuid) from public, anon, authenticated;
grant execute on function public.directory_token_claims(uuid) to supabase_auth_admin, service_role;
