"""`make demo`: bring up the local Supabase-compatible database and exercise the app.

Until the monitor lands this shows the foundation end to end: the seeded
database, its row level security, and `GET /api/health` answered by the real
function app against it.
"""

import json
import os

import azure.functions as func

from localdev import supabase
from localdev.postgres import Cluster


def run() -> int:
    url = supabase.up(Cluster("dev"))
    os.environ["DATABASE_URL"] = url

    from function_app import app
    from shared.db import get_database

    health = next(f for f in app.get_functions() if f.get_function_name() == "health")
    response = health.get_user_function()(func.HttpRequest("GET", "/api/health", body=b""))
    print(f"database: {url}")
    print(f"GET /api/health -> {response.status_code} {response.get_body().decode()}")

    with get_database().service() as conn:
        tables = conn.execute(
            """
            select c.relname, c.relrowsecurity,
                   (select count(*) from pg_policy p where p.polrelid = c.oid)
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p')
            order by c.relname
            """
        ).fetchall()
        print(f"\n{'table (public)':<28} {'RLS':<4} policies  rows")
        for name, rls, policies in tables:
            (rows,) = conn.execute(f'select count(*) from public."{name}"').fetchone() or (0,)
            print(f"{name:<28} {'on' if rls else 'OFF':<4} {policies:>8}  {rows:>4}")
        plans = conn.execute("select to_jsonb(p) from public.plans p order by 1").fetchall()
        print("\nplans:")
        for (plan,) in plans:
            print("  " + json.dumps(plan, sort_keys=True, default=str))
    get_database().close()
    unprotected = [name for name, rls, _ in tables if not rls]
    return 1 if unprotected or response.status_code != 200 else 0
