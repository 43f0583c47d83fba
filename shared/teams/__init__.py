"""Teams: the services behind `/api/teams/...` and `/api/invitations/accept`.

Every operation runs in the user-scoped transaction (`Database.user`), so row
level security decides what a user may see and do; the role and MFA rules are
also checked here first, so a refusal says why. The service side is used only
where a client has no privilege at all (creating a shared `channels` row and
the team's sealed key, creating an invitation through the backend-only
`create_team_invitation` with the user's claims, mailing it), after those
checks.

    models       request and response bodies (TeamCreate, TeamPublic, ...)
    access       the caller's membership and the role/MFA rules
    teams        create, list, read, update, delete a team
    members      list, change role, remove, leave
    invitations  invite, list, revoke, accept
    addresses    when two email addresses are the same (invitations)
    channels     track (resolved through the platform clients), list, untrack

Errors come from `shared.errors`.
"""
