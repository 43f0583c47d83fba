"""A throwaway PostgreSQL cluster built from the system binaries.

Each named cluster keeps its state under `.localdev/<name>/`; it listens on
127.0.0.1 only, on a free port, with `wal_level=logical` like Supabase. As root
the server programs run as the `postgres` system user through `runuser`, since
PostgreSQL refuses to run as root.

Database roles are Supabase's: initdb makes the bootstrap superuser
`supabase_admin`, which only the platform's own set-up uses
(`localdev/supabase_compat.sql`, Realtime's janitor); everything else
(migrations, seed, tests, demo, bench, `db psql`) connects as `postgres`, a
non-superuser exactly as on a Supabase project (`Cluster.url`).
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
from dataclasses import asdict, dataclass
from hashlib import sha256
from pathlib import Path

from localdev import STATE_ROOT

PG_ROOT = Path("/usr/lib/postgresql")
# The operating-system user the server runs as when we are root.
SERVER_USER = "postgres"
# The database role applications, the CLI and the tests use (not a superuser).
USER = "postgres"
# The bootstrap superuser, for the platform's objects only.
ADMIN_USER = "supabase_admin"
PASSWORD = "postgres"  # a local throwaway cluster on loopback, as `supabase start` does

# Tuned for a disposable cluster: durability is worth nothing here, speed is.
SERVER_CONF = """
listen_addresses = '127.0.0.1'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
fsync = off
synchronous_commit = off
full_page_writes = off
unix_socket_permissions = 0700
timezone = 'UTC'
log_timezone = 'UTC'
shared_preload_libraries = 'pg_stat_statements'
"""


class LocaldevError(RuntimeError):
    """A local-environment problem with a message that says what to do."""


def find_bin_dir(pg_root: Path = PG_ROOT) -> Path:
    """The newest `/usr/lib/postgresql/<major>/bin` that has the server programs."""
    override = os.environ.get("STREAMTRACK_PG_BIN")
    candidates = [Path(override)] if override else []
    majors = sorted(
        (p for p in pg_root.glob("*/bin") if p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
        reverse=True,
    )
    for bin_dir in [*candidates, *majors]:
        if all((bin_dir / prog).is_file() for prog in ("initdb", "pg_ctl", "postgres")):
            return bin_dir
    raise LocaldevError(
        f"PostgreSQL server binaries not found in {pg_root}/*/bin: "
        "install them with `apt-get install postgresql-15`"
    )


def is_root() -> bool:
    return os.geteuid() == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class ClusterState:
    """What `.localdev/<name>/state.json` records."""

    port: int
    work_dir: str
    bin_dir: str
    compat_sha256: str = ""
    # initdb's superuser: clusters made before the Supabase role layout used `postgres`.
    bootstrap_user: str = USER


class Cluster:
    """One named local cluster."""

    def __init__(self, name: str = "dev", root: Path = STATE_ROOT) -> None:
        self.name = name
        self.base = root / name
        self.state_file = self.base / "state.json"

    # --- state ---------------------------------------------------------------
    def load_state(self) -> ClusterState | None:
        if not self.state_file.is_file():
            return None
        return ClusterState(**json.loads(self.state_file.read_text()))

    def _save_state(self, state: ClusterState) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(asdict(state), indent=2) + "\n")

    def _state(self) -> ClusterState:
        state = self.load_state()
        if state is None:
            raise LocaldevError(
                f"no local database {self.name!r}: "
                f"run `python -m localdev db up --name {self.name}`"
            )
        return state

    @property
    def url(self) -> str:
        """The connection string for `postgres`, the project's own role (not a superuser)."""
        return self.url_for(USER)

    @property
    def admin_url(self) -> str:
        """The bootstrap superuser's connection string: platform set-up only."""
        state = self._state()
        if state.bootstrap_user != ADMIN_USER:
            raise LocaldevError(
                f"local database {self.name!r} was made before localdev used Supabase's roles "
                f"(its superuser is {state.bootstrap_user!r}): "
                f"`python -m localdev db reset --name {self.name}` rebuilds it"
            )
        return self.url_for(ADMIN_USER)

    def url_for(self, role: str, *, dbname: str = "postgres") -> str:
        """A connection string for a login role the compatibility layer gave a password."""
        port = self._state().port
        return f"postgresql://{role}:{PASSWORD}@127.0.0.1:{port}/{dbname}"

    # --- running programs ----------------------------------------------------
    def _run_as_server_user(
        self, argv: list[str], **kwargs: object
    ) -> "subprocess.CompletedProcess[str]":
        if is_root():
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        return subprocess.run(argv, text=True, capture_output=True, check=False, **kwargs)  # type: ignore[call-overload]

    def _work_dir_for_new_cluster(self) -> Path:
        """Where data, socket and log live: `.localdev/<name>/` if the server user can use it."""
        self.base.mkdir(parents=True, exist_ok=True)
        work = self.base / "server"
        if not is_root():
            return work
        work.mkdir(exist_ok=True)
        shutil.chown(work, SERVER_USER, SERVER_USER)
        probe = self._run_as_server_user(["test", "-w", str(work)])
        if probe.returncode == 0:
            return work
        # The checkout sits below a directory `postgres` cannot enter (such as
        # /root): keep the server's files in a private directory under /tmp.
        shutil.rmtree(work)
        digest = sha256(str(self.base).encode()).hexdigest()[:12]
        work = Path("/tmp") / f"streamtrack-localdev-{digest}"
        work.mkdir(mode=0o700, exist_ok=True)
        shutil.chown(work, SERVER_USER, SERVER_USER)
        return work

    # --- lifecycle -----------------------------------------------------------
    def is_initialised(self) -> bool:
        state = self.load_state()
        return state is not None and (Path(state.work_dir) / "data" / "PG_VERSION").is_file()

    def is_running(self) -> bool:
        state = self.load_state()
        if state is None:
            return False
        result = self._run_as_server_user(
            [
                str(Path(state.bin_dir) / "pg_ctl"),
                "status",
                "-D",
                str(Path(state.work_dir) / "data"),
            ]
        )
        return result.returncode == 0

    def init(self) -> None:
        bin_dir = find_bin_dir()
        work = self._work_dir_for_new_cluster()
        work.mkdir(parents=True, exist_ok=True)
        pwfile = work / f".pw-{secrets.token_hex(4)}"
        pwfile.write_text(PASSWORD + "\n")
        if is_root():
            shutil.chown(pwfile, SERVER_USER, SERVER_USER)
        try:
            result = self._run_as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(work / "data"),
                    "-U",
                    ADMIN_USER,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise LocaldevError(f"initdb failed:\n{result.stderr.strip()}")
        conf = work / "data" / "postgresql.conf"
        socket_dir = work / "socket"
        self._run_as_server_user(["mkdir", "-p", str(socket_dir)])
        extra = SERVER_CONF + f"unix_socket_directories = '{socket_dir}'\n"
        self._run_as_server_user(["sh", "-c", f"cat >> '{conf}'"], input=extra)
        self._save_state(
            ClusterState(
                port=free_port(),
                work_dir=str(work),
                bin_dir=str(bin_dir),
                bootstrap_user=ADMIN_USER,
            )
        )

    def start(self) -> None:
        state = self._state()
        if self.is_running():
            return
        if not port_is_free(state.port):
            state.port = free_port()
            self._save_state(state)
        work = Path(state.work_dir)
        result = self._run_as_server_user(
            [
                str(Path(state.bin_dir) / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(work / "data"),
                "-l",
                str(work / "postgres.log"),
                "-o",
                f"-p {state.port}",
            ]
        )
        if result.returncode != 0:
            log = self._run_as_server_user(["tail", "-n", "20", str(work / "postgres.log")]).stdout
            raise LocaldevError(f"PostgreSQL did not start:\n{result.stderr.strip()}\n{log}")

    def stop(self) -> None:
        state = self.load_state()
        if state is None or not self.is_running():
            return
        self._run_as_server_user(
            [
                str(Path(state.bin_dir) / "pg_ctl"),
                "stop",
                "-w",
                "-m",
                "fast",
                "-D",
                str(Path(state.work_dir) / "data"),
            ]
        )

    def destroy(self) -> None:
        """Stop the server and delete every file of this cluster."""
        state = self.load_state()
        self.stop()
        if state is not None:
            shutil.rmtree(state.work_dir, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def record_compat(self, digest: str) -> None:
        state = self._state()
        state.compat_sha256 = digest
        self._save_state(state)
