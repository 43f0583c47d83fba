"""The Supabase side of the local database: compatibility layer, CLI, seed.

The compatibility layer (`localdev/supabase_compat.sql`) recreates what the
Supabase platform provides before any migration runs: its roles, the `auth`
schema and functions, the `extensions` schema, the `supabase_realtime`
publication and the default privileges on `public`. It lives here and never in
`supabase/migrations`, which must apply unchanged to a real Supabase project.
"""

import os
import subprocess
import sys
from hashlib import sha256
from pathlib import Path

from localdev import REPO_ROOT
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


def psql_file(cluster: Cluster, path: Path) -> None:
    """Run one SQL file, stopping at the first error."""
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
            cluster.url,
            "-f",
            str(path),
        ],
        text=True,
        capture_output=True,
        env=_env(),
        check=False,
    )
    if result.returncode != 0:
        raise LocaldevError(f"{path.relative_to(REPO_ROOT)} failed:\n{result.stderr.strip()}")


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


def up(cluster: Cluster, *, seed: bool = True) -> str:
    """Create (if needed) and start the cluster, bring its schema up to date, return its URL."""
    created = not cluster.is_initialised()
    if created:
        cluster.destroy()  # leftovers of a half-made cluster
        cluster.init()
    cluster.start()
    if created:
        psql_file(cluster, COMPAT_SQL)
        cluster.record_compat(compat_digest())
    else:
        state = cluster.load_state()
        if state is not None and state.compat_sha256 != compat_digest():
            print(
                f"localdev: {COMPAT_SQL.name} changed since this database was made; "
                f"`python -m localdev db reset --name {cluster.name}` rebuilds it",
                file=sys.stderr,
            )
    push_migrations(cluster.url, cluster_name=cluster.name)
    if created and seed and SEED_SQL.is_file():
        psql_file(cluster, SEED_SQL)
    return cluster.url
