"""Azurite's queue service (the npm devDependency) on a free loopback port.

`with Azurite() as azurite:` starts `node_modules/.bin/azurite-queue` on
127.0.0.1 with a throwaway data directory, waits until it accepts connections
and stops it on exit, deleting the data. `azurite.connection_string` is the
emulator's well-known `devstoreaccount1` account with an explicit queue endpoint,
which is what `UseDevelopmentStorage=true` means on the default port 10001.
"""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from localdev import REPO_ROOT
from localdev.postgres import LocaldevError, free_port
from shared.monitor.shards import DEVELOPMENT_STORAGE, normalize_connection_string

AZURITE_QUEUE = REPO_ROOT / "node_modules" / ".bin" / "azurite-queue"
# Azurite's published development account: the same on every machine, not a secret,
# and only ever needed here (production code never holds it).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_QUEUE_PORT = 10001


def connection_string(port: int = AZURITE_QUEUE_PORT, host: str = "127.0.0.1") -> str:
    """A storage connection string for Azurite's queue service at host:port."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"QueueEndpoint=http://{host}:{port}/{AZURITE_ACCOUNT};"
    )


def resolve_connection_string(value: str) -> str:
    """`UseDevelopmentStorage=true` (any case) spelled out as Azurite's account on 10001,
    which is what the Storage SDK makes of it too."""
    if normalize_connection_string(value) == DEVELOPMENT_STORAGE:
        return connection_string()
    return value


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Azurite:
    """A private Azurite queue service, started on enter and removed on exit."""

    host = "127.0.0.1"

    def __init__(self, *, port: int = 0, start_timeout: float = 20.0) -> None:
        self.port = port or free_port()
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._data_dir: Path | None = None
        self._log: Path | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(self.port, self.host)

    def start(self) -> Self:
        if not AZURITE_QUEUE.exists():
            raise LocaldevError(f"{AZURITE_QUEUE.relative_to(REPO_ROOT)} is missing: run `npm ci`")
        if _accepts(self.host, self.port):
            raise LocaldevError(f"port {self.port} on {self.host} is already in use")
        self._data_dir = Path(tempfile.mkdtemp(prefix="streamtrack-azurite-"))
        self._log = self._data_dir / "azurite.log"
        with self._log.open("wb") as log:
            # --loose and --skipApiVersionCheck: accept whatever service version
            # the installed azure-storage-queue speaks. Telemetry off: its client
            # phones home and keeps node alive for seconds after SIGTERM.
            self._process = subprocess.Popen(
                [
                    str(AZURITE_QUEUE),
                    *("--queueHost", self.host, "--queuePort", str(self.port)),
                    *("--location", str(self._data_dir / "data")),
                    "--silent",
                    "--disableTelemetry",
                    "--skipApiVersionCheck",
                    "--loose",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.start_timeout
        while not _accepts(self.host, self.port):
            if self._process.poll() is not None:
                output = self._log.read_text(errors="replace").strip()
                self.stop()
                raise LocaldevError(f"azurite-queue exited at startup: {output or 'no output'}")
            if time.monotonic() > deadline:
                self.stop()
                raise LocaldevError(f"azurite-queue did not listen within {self.start_timeout}s")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        data_dir, self._data_dir = self._data_dir, None
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
