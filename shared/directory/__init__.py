"""Directory sync: a team's membership follows groups in Microsoft Entra ID and
Google Workspace (issue 17).

    models   request/response bodies of the directory endpoints
    api      the endpoints' services (mappings, runs, pending, sync now)
    sync     one run: fetch per directory, plan and apply per team
    plan     the pure planner and its safety fuse
    fetch    a directory's mapped groups into complete memberships
    graph    MSAL tokens + Microsoft Graph group delta
    google   google-auth delegated tokens + Admin SDK members.list
    retry    the clients' retry policy (tenacity, Retry-After, capped)
    store    the SQL
    errors   the clients' error tree

Schema and rules: supabase/migrations/20261124120600_directory.sql.
"""
