-- Storage for CSV exports: a private bucket `exports`, one folder per team
-- (`<team_id>/<file>.csv`).
--
-- The backend writes with the service role key (the Storage API then runs
-- as service_role, which bypasses RLS) and hands out signed URLs. With their
-- own session, members of a team may list and download their team's
-- folder; nobody else may read it, and no client may write, change or
-- delete anything in the bucket. The write rules are RESTRICTIVE policies,
-- so a permissive policy some other migration adds on storage.objects (for
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
