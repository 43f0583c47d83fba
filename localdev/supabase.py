"""The Supabase side of the local database: compatibility layer, CLI, seed.

The compatibility layer (`localdev/supabase_compat.sql`) recreates what the
Supabase platform provides before any migration runs: its roles (a superuser
`supabase_admin` for the platform's objects, `postgres` as Supabase's
non-superuser), the `auth`, `storage`, `realtime` and `extensions` schemas,
the `supabase_realtime` publication and the default privileges on `public`.
It lives here and never in `supabase/migrations`, which must apply unchanged
to a real Supabase project.

Who runs what:
- `supabase_admin` (superuser): the compatibility layer, once; Realtime's
  janitor (daily `realtime.messages` partitions) on every `up`; the check
  that the migrations did not take what supautils reserves.
- `postgres` (not a superuser): `supabase db push`, the seed, and everything
  else that connects (`Cluster.url`).
"""

import os
import subprocess
import sys
from hashlib import sha256
from pathlib import Path

import psycopg

from localdev import REPO_ROOT, realtime
from localdev.postgres import Cluster, LocaldevError

COMPAT_SQL = REPO_ROOT / "localdev" / "supabase_compat.sql"
SEED_SQL = REPO_ROOT / "supabase" / "seed.sql"
TYPES_TS = REPO_ROOT / "supabase" / "types" / "database.ts"
SUPABASE_CLI = REPO_ROOT / "node_modules" / ".bin" / "supabase"


def compat_digest() -> str:
    return sha256(COMPAT_SQL.read_bytes()).hexdigest()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PGSSLMODE": "disable",  # loopback only: skip the TLS attempt and its warning
            "DO_NOT_TRACK": "1",
            "SUPABASE_TELEMETRY_DISABLED": "1",
        }
    )
    return env


def psql_file(cluster: Cluster, path: Path, *, url: str | None = None) -> None:
    """Run one SQL file (as `postgres` unless another URL is given), stopping at the first error."""
    state = cluster.load_state()
    assert state is not None
    result = subprocess.run(
        [
            str(Path(state.bin_dir) / "psql"),
            "--no-psqlrc",
            "--quiet",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url or cluster.url,
            "-f",
            str(path),
        ],
        text=True,
        capture_output=True,
        env=_env(),
        check=False,
    )
    if result.returncode != 0:
        hint = (
            "\n(pgTAP is missing: `python -m localdev sysdeps` installs it)"
            if "pgtap.control" in result.stderr
            else ""
        )
        raise LocaldevError(f"{path.relative_to(REPO_ROOT)} failed:\n{result.stderr.strip()}{hint}")


def supabase_cli(*args: str) -> str:
    """Run the project's Supabase CLI (npm devDependency) and return its stdout."""
    if not SUPABASE_CLI.exists():
        raise LocaldevError("Supabase CLI not found in node_modules: run `npm ci`")
    result = subprocess.run(
        [str(SUPABASE_CLI), *args],
        cwd=REPO_ROOT,
        text=True,
        capture_output=True,
        env=_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise LocaldevError(
            f"supabase {' '.join(args[:2])} failed:\n"
            f"{result.stderr.strip()}\n{result.stdout.strip()}"
        )
    return result.stdout


def push_migrations(url: str, *, cluster_name: str) -> None:
    """Apply `supabase/migrations` the way a deploy does: `supabase db push --db-url`."""
    try:
        supabase_cli("db", "push", "--db-url", url, "--yes")
    except LocaldevError as exc:
        # The CLI's own advice (`migration repair`) would leave the schema
        # out of step with the files; a local database is rebuilt instead.
        if "Remote migration versions not found" not in str(exc):
            raise
        raise LocaldevError(
            f"{exc}\n\nlocaldev: this database was migrated with migration files that no "
            "longer exist (nothing is deployed yet, so migrations may be squashed); "
            f"`python -m localdev db reset --name {cluster_name}` rebuilds it"
        ) from exc


def generate_types(url: str) -> str:
    """TypeScript types of the `public` schema, as the frontend imports them."""
    return supabase_cli("gen", "types", "typescript", "--db-url", url, "--schema", "public")


# supautils.reserved_memberships on Supabase (conf.d/supautils.conf): no
# non-superuser may grant these roles to anyone. PostgreSQL 15 lets a
# CREATEROLE role do it, so the local check is after the fact.
RESERVED_MEMBERSHIPS = (
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
    "supabase_admin",
    "supabase_auth_admin",
    "supabase_storage_admin",
    "supabase_realtime_admin",
    "authenticator",
)
# `postgres`' attributes on Supabase (10000000000000_demote-postgres.sql).
POSTGRES_ATTRIBUTES = {
    "rolsuper": False,
    "rolcreatedb": True,
    "rolcreaterole": True,
    "rolcanlogin": True,
    "rolreplication": True,
    "rolbypassrls": True,
}


def check_platform_roles(cluster: Cluster) -> None:
    """Fail when the roles no longer look like Supabase's: what a migration may not do there."""
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        members = conn.execute(
            "select r.rolname, m.rolname from pg_auth_members a "
            "join pg_roles r on r.oid = a.roleid join pg_roles m on m.oid = a.member "
            "where r.rolname = any(%s) order by 1, 2",
            (list(RESERVED_MEMBERSHIPS),),
        ).fetchall()
        attributes = conn.execute(
            "select rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolreplication, "
            "rolbypassrls from pg_roles where rolname = 'postgres'"
        ).fetchone()
    problems = [f"{member} was granted the reserved role {role}" for role, member in members]
    if attributes is None:
        problems.append("role postgres is gone")
    else:
        for (name, expected), actual in zip(POSTGRES_ATTRIBUTES.items(), attributes, strict=True):
            if actual != expected:
                problems.append(f"postgres has {name} = {actual} (Supabase: {expected})")
    if problems:
        raise LocaldevError(
            "the database no longer matches Supabase's roles; on a Supabase project "
            "supautils refuses these changes, so the migration that made them would fail there:\n  "
            + "\n  ".join(problems)
        )


def up(cluster: Cluster, *, seed: bool = True) -> str:
    """Create (if needed) and start the cluster, bring its schema up to date, return its URL.

    The URL is `postgres`', Supabase's non-superuser role."""
    state = cluster.load_state()
    # No recorded compatibility layer: initdb or the layer failed half-way.
    created = not cluster.is_initialised() or state is None or not state.compat_sha256
    if created:
        cluster.destroy()  # leftovers of a half-made cluster
        cluster.init()
    cluster.start()
    admin_url = cluster.admin_url  # refuses a cluster made before this role layout
    if created:
        psql_file(cluster, COMPAT_SQL, url=admin_url)
        cluster.record_compat(compat_digest())
    else:
        state = cluster.load_state()
        if state is not None and state.compat_sha256 != compat_digest():
            print(
                f"localdev: {COMPAT_SQL.name} changed since this database was made; "
                f"`python -m localdev db reset --name {cluster.name}` rebuilds it",
                file=sys.stderr,
            )
    realtime.maintain_messages_partitions(admin_url)
    push_migrations(cluster.url, cluster_name=cluster.name)
    check_platform_roles(cluster)
    if created and seed and SEED_SQL.is_file():
        psql_file(cluster, SEED_SQL)
    return cluster.url
