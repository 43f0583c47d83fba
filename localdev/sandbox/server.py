"""The HTTP server (standard library, one thread per connection) and the in-process `Sandbox`."""

import json
import logging
import socket
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from localdev.sandbox import control
from localdev.sandbox.accounting import Counters
from localdev.sandbox.app import SandboxApp
from localdev.sandbox.clock import SandboxClock, to_epoch
from localdev.sandbox.context import Context
from localdev.sandbox.faults import Faults
from localdev.sandbox.messages import DROP, Request, json_response
from localdev.sandbox.platforms import endpoint_counters, fake, fakes
from localdev.sandbox.population import Population
from localdev.sandbox.push import PushHub, Send
from localdev.sandbox.push import set_faults as set_push_faults
from localdev.sandbox.schedule import Schedule
from localdev.sandbox.truth import truth

log = logging.getLogger("localdev.sandbox")
HOST = "127.0.0.1"


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024
    """Listen backlog: a benchmark opens a hundred-odd connections at once."""
    daemon_threads = True

    def __init__(self, port: int, app: SandboxApp, verbose: bool) -> None:
        self.app = app
        self.verbose = verbose
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "StreamTrackSandbox/1"
    sys_version = ""
    timeout = 120
    """Idle keep-alive connections are closed after this many seconds."""
    wbufsize = -1
    """Buffered: headers and body leave in one write, flushed after each request."""
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle's algorithm and delayed ACKs add ~40 ms to keep-alive requests.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.track(self.connection, add=False)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        req = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            resp = self.server.app.handle(req)
        except Exception:
            log.exception("sandbox handler failed for %s %s", self.command, self.path)
            resp = json_response(500, {"error": "sandbox handler failed", "path": url.path})
        if resp is DROP:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            log.info("%s %s", self.address_string(), format % args)


class Sandbox:
    """The platform sandbox on a free 127.0.0.1 port, served from a background thread.

    with Sandbox(seed=1, channels=300, start="2025-03-01T18:00:00Z", rate=0) as sb:
        env = sb.settings_env()      # TWITCH_API_URL=http://127.0.0.1:PORT/twitch/helix, ...
        sb.clock.advance(600)        # ten simulated minutes later
        sb.truth(start, end)         # what really happened
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        channels: int = 300,
        mix: str | dict[str, float] | None = None,
        start: datetime | str | float | None = None,
        rate: float = 1.0,
        port: int = 0,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        faults: dict[str, Any] | None = None,
        verbose: bool = False,
        **platform_options: Any,
    ) -> None:
        """`platform_options`: the fakes' own settings (`youtube_quota`, `twitch_bucket`...,
        see each platform's `FAKE.options`)."""
        population = Population(seed, channels, mix)
        self.clock = SandboxClock(start, rate)
        self.ctx = Context(
            seed=seed,
            population=population,
            schedule=Schedule(population),
            clock=self.clock,
            counters=Counters((*endpoint_counters(), *_extra_counters())),
            faults=Faults(seed),
            state={**_platform_state(platform_options), "push": PushHub(seed)},
        )
        latency = {"latency_ms": latency_ms, "jitter_ms": jitter_ms}
        control.set_faults(self.ctx, {k: v for k, v in latency.items() if v})
        if faults:
            control.set_faults(self.ctx, faults)
        self._port, self._verbose = port, verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.app = SandboxApp(self.ctx)

    def start(self) -> Self:
        if self._server is None:
            self._server = _Server(self._port, self.app, self._verbose)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sandbox-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.app.stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def population(self) -> Population:
        return self.ctx.population

    def settings_env(self) -> dict[str, str]:
        """Environment values that point StreamTrack's `Settings` at this sandbox."""
        env: dict[str, str] = {}
        for platform in fakes().values():
            env |= platform.settings_env(self.url)
        return env

    def counters(self) -> dict[str, int]:
        return self.ctx.counter_snapshot()

    def reset_counters(self) -> None:
        self.ctx.reset_counters()

    def set_faults(self, *, reset: bool = False, **settings: Any) -> dict[str, Any]:
        """Merge fault settings (`None` removes one); `reset=True` clears them all first.

        A platform's name with a dict sets that platform's scope
        (`twitch={"error_rate": 1}`); any other keyword is a global setting.
        """
        scoped = {k: v for k, v in settings.items() if k in fakes() and v is not None}
        bare = {k: v for k, v in settings.items() if k not in fakes()}
        body: dict[str, Any] = {"reset": reset, "global": bare, **scoped}
        control.set_faults(self.ctx, body)
        return self.ctx.faults.snapshot()

    def channels(self, platform: str | None = None) -> list[dict[str, Any]]:
        return [c.public() for c in self.population.channels if platform in (None, c.platform)]

    def truth(
        self,
        start: datetime | str | float,
        end: datetime | str | float,
        channel: str | None = None,
        viewers: bool = True,
        platform: str | None = None,
    ) -> dict[str, Any]:
        """Ground truth over [start, end): see `localdev.sandbox.truth`."""
        return truth(self.ctx, to_epoch(start), to_epoch(end), channel, viewers, platform)

    # --- push (issue 14) ----------------------------------------------------------------

    @property
    def push(self) -> PushHub:
        """Every push subscription the fakes hold, and their deliveries."""
        hub = self.ctx.state["push"]
        assert isinstance(hub, PushHub)
        return hub

    def push_to(self, send: Send, *, kick_webhook_url: str | None = None) -> None:
        """Send deliveries (and handshakes) with `send` instead of HTTP; Kick's webhook URL."""
        self.push.send = send
        if kick_webhook_url is not None:
            self.push.kick_webhook_url = kick_webhook_url

    def deliver_push(self, until: datetime | str | float | None = None) -> int:
        """Deliver every event up to `until` (default: the sandbox's now); returns how many."""
        at = self.clock.time() if until is None else to_epoch(until)
        return self.push.deliver_until(self.ctx, at)

    def set_push_faults(self, **settings: Any) -> dict[str, Any]:
        """Loss, duplicates, bad signatures, delay and reordering of deliveries."""
        faults = set_push_faults(self.ctx, settings)
        return {name: getattr(faults, name) for name in faults.__slots__}  # type: ignore[attr-defined]

    def revoke_twitch_tokens(self) -> int:
        """Invalidate every token the fake token endpoint issued (its own control)."""
        revoke = fake("twitch").controls[("POST", "/_sandbox/twitch/revoke")]
        answer = revoke(self.ctx, Request("POST", "/_sandbox/twitch/revoke", {}, {}))
        return int(json.loads(answer.body)["revoked"])


def _extra_counters() -> list[str]:
    return [name for platform in fakes().values() for name in platform.extra_counters]


def _platform_state(options: dict[str, Any]) -> dict[str, Any]:
    """Each fake's state from its options (defaults where not given); unknown ones refused."""
    known = {o.name: o for p in fakes().values() for o in p.options}
    unknown = set(options) - set(known)
    if unknown:
        raise TypeError(f"unknown sandbox option(s): {', '.join(sorted(unknown))}")
    state: dict[str, Any] = {}
    for name, platform in fakes().items():
        if platform.state is not None:
            values = {o.name: options.get(o.name, o.default) for o in platform.options}
            state[name] = platform.state(values)
    return state
