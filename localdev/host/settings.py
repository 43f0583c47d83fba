"""What the Functions host reads besides the app: local.settings.json and host.json.

`local.settings.json` `Values` become environment variables, and a variable
already set in the environment wins, as with `func start`. `host.json` gives
the HTTP route prefix and the queue trigger's options. `%NAME%` in a binding
(a timer schedule, a queue name) is an app setting, resolved from the
environment.
"""

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev.postgres import LocaldevError

log = logging.getLogger("localdev.host")


class HostError(LocaldevError):
    """The app or its configuration cannot be served; the message says what to change."""


@dataclass(frozen=True)
class HostConfig:
    """The host.json options the local host honours (Azure's defaults otherwise)."""

    route_prefix: str = "api"
    batch_size: int = 16
    """Queue messages fetched and run at once, per queue function."""
    new_batch_threshold: int | None = None
    """Fetch more when this few or fewer are running (default: half of batch_size)."""
    max_dequeue_count: int = 5
    """Attempts before a message moves to `<queue>-poison`."""
    visibility_timeout: float = 0.0
    """Seconds a failed message stays hidden before its next attempt."""
    max_polling_interval: float = 2.0
    """Longest wait between polls of an empty queue. Azure's default is 60 s; the
    WebJobs SDK uses 2 s in development, and so does this host."""
    message_encoding: str = "base64"
    function_timeout: float = 600.0
    """Also how long a received message stays invisible while its function runs."""

    @property
    def batch_threshold(self) -> int:
        return (
            self.batch_size // 2 if self.new_batch_threshold is None else self.new_batch_threshold
        )


_TIMESPAN = re.compile(r"^(?:(?P<d>\d+)\.)?(?P<h>\d+):(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)$")


def parse_timespan(value: object, what: str) -> float:
    """Seconds in a .NET TimeSpan string (`[d.]hh:mm:ss[.fff]`); a bare number is milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000  # host.json v1 wrote intervals as milliseconds
    match = _TIMESPAN.match(str(value).strip())
    if not match:
        raise HostError(f"host.json: {what} {value!r} is not a TimeSpan like 00:00:30")
    days = int(match["d"] or 0)
    return days * 86400 + int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])


def read_host_json(path: Path) -> HostConfig:
    if not path.exists():
        log.warning("%s not found: using the Functions host defaults", path)
        return HostConfig()
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise HostError(f"{path} is not valid JSON: {exc}") from exc
    extensions = doc.get("extensions") or {}
    http: dict[str, Any] = extensions.get("http") or {}
    queues: dict[str, Any] = extensions.get("queues") or {}
    defaults = HostConfig()
    config = HostConfig(
        route_prefix=str(http.get("routePrefix", defaults.route_prefix)).strip("/"),
        batch_size=int(queues.get("batchSize", defaults.batch_size)),
        new_batch_threshold=(
            int(queues["newBatchThreshold"]) if "newBatchThreshold" in queues else None
        ),
        max_dequeue_count=int(queues.get("maxDequeueCount", defaults.max_dequeue_count)),
        visibility_timeout=(
            parse_timespan(queues["visibilityTimeout"], "visibilityTimeout")
            if "visibilityTimeout" in queues
            else defaults.visibility_timeout
        ),
        max_polling_interval=(
            parse_timespan(queues["maxPollingInterval"], "maxPollingInterval")
            if "maxPollingInterval" in queues
            else defaults.max_polling_interval
        ),
        message_encoding=str(queues.get("messageEncoding", "base64")).lower(),
        function_timeout=(
            parse_timespan(doc["functionTimeout"], "functionTimeout")
            if doc.get("functionTimeout")
            else defaults.function_timeout
        ),
    )
    if not 1 <= config.batch_size <= 32:
        raise HostError(f"host.json: queues.batchSize must be 1..32, not {config.batch_size}")
    if config.max_dequeue_count < 1:
        raise HostError("host.json: queues.maxDequeueCount must be at least 1")
    if config.message_encoding not in ("base64", "none"):
        raise HostError(
            f"host.json: queues.messageEncoding must be base64 or none, "
            f"not {config.message_encoding!r}"
        )
    return config


@dataclass(frozen=True)
class LocalSettings:
    """The parts of local.settings.json the host uses."""

    path: Path
    values: dict[str, str]
    http_port: int | None


def read_local_settings(path: Path, fallback: Path | None = None) -> LocalSettings | None:
    """`path`, else `fallback` with a warning, else None (no settings at all)."""
    if not path.exists():
        if fallback is None or not fallback.exists():
            log.warning("%s not found: running with the environment only", path)
            return None
        log.warning("%s not found: using %s instead", path.name, fallback.name)
        path = fallback
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise HostError(f"{path} is not valid JSON: {exc}") from exc
    if doc.get("IsEncrypted"):
        raise HostError(f"{path} is encrypted: decrypt it with `func settings decrypt`")
    values = doc.get("Values") or {}
    bad = sorted(key for key, value in values.items() if not isinstance(value, str))
    if bad:
        raise HostError(f"{path}: Values must be strings; not so for {', '.join(bad)}")
    port = (doc.get("Host") or {}).get("LocalHttpPort")
    return LocalSettings(path=path, values=dict(values), http_port=int(port) if port else None)


class EnvironmentOverlay:
    """Exports settings into os.environ without overriding what is already set; undoable."""

    def __init__(self) -> None:
        self._added: list[str] = []

    def apply(self, values: Mapping[str, str]) -> list[str]:
        """Export `values`; return the names left alone because the environment has them."""
        kept = []
        for key, value in values.items():
            if key in os.environ:
                kept.append(key)
            else:
                os.environ[key] = value
                self._added.append(key)
        return kept

    def restore(self) -> None:
        for key in self._added:
            os.environ.pop(key, None)
        self._added.clear()


_APP_SETTING = re.compile(r"%([^%\s]+)%")


def resolve_app_settings(value: str, what: str, env: Mapping[str, str] | None = None) -> str:
    """Replace each `%NAME%` with the app setting NAME, as the host's name resolver does."""
    env = os.environ if env is None else env

    def lookup(match: re.Match[str]) -> str:
        name = match[1]
        if name not in env:
            raise HostError(f"{what}: app setting {name!r} (from %{name}%) is not set")
        return env[name]

    return _APP_SETTING.sub(lookup, value)
