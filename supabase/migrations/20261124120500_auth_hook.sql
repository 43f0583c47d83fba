-- Supabase Auth's custom access token hook: adds a `team_roles` claim,
-- {"<team_id>": "<role>", ...}, to every access token, so the frontend can
-- show and hide team features without a round trip. With directory sync it
-- also joins pending directory teams at sign-in and adds `directory_roles`
-- and `directory` (20261124120600_directory.sql).
--
-- The claim is only as fresh as the token (up to its expiry): authorisation
-- never trusts it. RLS keeps checking public.team_members itself.
--
-- As Supabase documents for hooks: the function runs as supabase_auth_admin
-- (not security definer), which alone may execute it and gets exactly the
-- read access it needs, through a policy of its own (grant and policy stand
-- beside public.team_members in the tenancy migration).

-- volatile: joining pending directory teams writes (see below).
create function public.custom_access_token_hook(event jsonb)
  returns jsonb
  language plpgsql
  volatile
  set search_path = ''
as $$
declare
  v_claims jsonb := coalesce(event -> 'claims', '{}'::jsonb);
  v_roles jsonb;
  v_directory jsonb := '{}'::jsonb;
begin
  -- --- directory sync (20261124120600_directory.sql) -----------------------
  -- Join the teams whose mapped directory groups list this user (first
  -- sign-in), then add directory_roles and the configured directory
  -- attributes. A failure here never blocks a sign-in: it is logged and the
  -- token goes out without the directory claims.
  begin
    perform public.directory_join_pending((event ->> 'user_id')::uuid);
    v_directory := public.directory_token_claims((event ->> 'user_id')::uuid);
  exception when others then
    raise warning 'custom_access_token_hook: directory claims skipped (%: %)', sqlstate, sqlerrm;
    v_directory := '{}'::jsonb;
  end;
  -- --- end directory sync ---------------------------------------------------

  select coalesce(jsonb_object_agg(m.team_id::text, m.role::text), '{}'::jsonb)
    into v_roles
  from public.team_members m
  where m.user_id = (event ->> 'user_id')::uuid;

  return jsonb_build_object('claims', jsonb_set(v_claims, '{team_roles}', v_roles) || v_directory);
end;
$$;
comment on function public.custom_access_token_hook(jsonb) is
  'Auth hook: adds team_roles {team_id: role} to access tokens. Executable by supabase_auth_admin only.';

grant usage on schema public to supabase_auth_admin;
revoke all on function public.custom_access_token_hook(jsonb) from public, anon, authenticated;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;

