"""`LocalHost`: HTTP, timers and queues of one FunctionApp, in this process.

    with LocalHost(app, port=0, settings={"DATABASE_URL": url}) as host:
        httpx.get(f"{host.base_url}/api/health")

The HTTP server runs in a background thread and everything stops on exit:
scheduling and polling first, then the listening socket, then a bounded wait
for invocations still running. `settings` are exported into os.environ for the
host's lifetime, except names the environment already has.
"""

import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import tzinfo
from types import TracebackType
from typing import Self

import azure.functions as func
from azure.functions.decorators.function_app import Function

from localdev.host.httpserver import FunctionsHTTPServer, route_template
from localdev.host.index import FunctionIndex, index_functions
from localdev.host.queues import QueueRunner
from localdev.host.runtime import Invoker
from localdev.host.settings import EnvironmentOverlay, HostConfig, HostError
from localdev.host.timers import Clock, TimerRunner, utc_now

log = logging.getLogger("localdev.host")


class LocalHost:
    """A local Functions host for one app, started on enter and stopped on exit."""

    def __init__(
        self,
        app: func.FunctionApp | Iterable[Function],
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
        settings: Mapping[str, str] | None = None,
        config: HostConfig | None = None,
        timers: bool = True,
        queues: bool = True,
        clock: Clock = utc_now,
        past_due_after: float = 1.0,
        timezone: tzinfo | None = None,
        drain_timeout: float = 30.0,
    ) -> None:
        self.index: FunctionIndex = index_functions(app)  # get_functions(): once per app
        self.config = config or HostConfig()
        self.bind = (host, port)
        self.settings = dict(settings or {})
        self.timers_enabled = timers
        self.queues_enabled = queues
        self.clock = clock
        self.past_due_after = past_due_after
        self.timezone = timezone
        self.drain_timeout = drain_timeout
        self._env = EnvironmentOverlay()
        self._server: FunctionsHTTPServer | None = None
        self._serve_thread: threading.Thread | None = None
        self._timers: TimerRunner | None = None
        self._queues: QueueRunner | None = None

    @property
    def invoker(self) -> Invoker:
        if self._server is None:
            raise RuntimeError("the host is not running")
        return self._server.invoker

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the host is not running")
        return self._server.port

    @property
    def base_url(self) -> str:
        return f"http://{self.bind[0]}:{self.port}"

    def start(self) -> Self:
        kept = self._env.apply(self.settings)
        if kept:
            log.info("already in the environment, so not taken from settings: %s", ", ".join(kept))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        try:
            server = FunctionsHTTPServer(self.bind, self.index.http, self.config.route_prefix)
        except ValueError as exc:  # a route template the host would refuse
            raise HostError(f"bad HTTP route: {exc}") from exc
        except OSError as exc:
            raise HostError(f"cannot listen on {self.bind[0]}:{self.bind[1]}: {exc}") from exc
        self._server = server
        if self.timers_enabled and self.index.timers:
            self._timers = TimerRunner(
                self.index.timers,
                server.invoker,
                clock=self.clock,
                past_due_after=self.past_due_after,
                tz=self.timezone,
            )
        if self.queues_enabled and self.index.queues:
            self._queues = QueueRunner(self.index.queues, server.invoker, self.config)
        self._serve_thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="host-http"
        )
        self._serve_thread.start()
        self._log_auth_levels()
        if self._timers:
            self._timers.start()
        if self._queues:
            self._queues.start()

    def _log_auth_levels(self) -> None:
        keyed = [
            f"{f.name} ({f.auth_level})" for f in self.index.http if f.auth_level != "ANONYMOUS"
        ]
        if keyed:
            log.info(
                "function keys are not enforced locally, as with `func start`: %s", ", ".join(keyed)
            )

    def describe(self) -> list[str]:
        """One line per function, like the list `func start` prints."""
        lines = []
        for fn in self.index.http:
            methods = ",".join(sorted(fn.methods)) if fn.methods else "*"
            path = route_template(self.config.route_prefix, fn.route)
            lines.append(f"{fn.name}: [{methods}] {self.base_url}/{path}")
        if self._timers:
            lines += self._timers.describe()
        elif self.index.timers:
            lines += [f"{t.name}: timerTrigger (disabled)" for t in self.index.timers]
        if self._queues:
            lines += self._queues.describe()
        elif self.index.queues:
            lines += [f"{q.name}: queueTrigger (disabled)" for q in self.index.queues]
        return lines

    def stop(self, drain_timeout: float | None = None) -> bool:
        """Stop everything; False if invocations were still running after the drain timeout."""
        drained = True
        if self._timers:
            self._timers.stop()
        if self._queues:
            self._queues.stop()
        server, self._server = self._server, None
        if server is not None:
            server.draining.set()
            if self._serve_thread is not None:
                server.shutdown()
                self._serve_thread.join()
            server.server_close()
            timeout = self.drain_timeout if drain_timeout is None else drain_timeout
            drained = server.invoker.wait_idle(timeout)
            if not drained:
                log.warning(
                    "%d invocation(s) still running after %gs: leaving them",
                    server.invoker.running,
                    timeout,
                )
        if self._queues:
            self._queues.close()
        self._timers = self._queues = None
        self._serve_thread = None
        self._env.restore()
        return drained

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
