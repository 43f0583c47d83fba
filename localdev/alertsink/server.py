"""The alert sink's HTTP server (see the package docstring)."""

import base64
import json
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

MAX_BODY = 1 << 20
RECORDS_PATH = "/_sink/received"
"""GET: every accepted request as JSON (bodies in base64)."""


@dataclass(frozen=True, slots=True)
class Received:
    """One request the sink accepted."""

    path: str
    headers: Mapping[str, str]
    body: bytes
    at: float
    """Wall-clock epoch seconds when it arrived (before the sink's latency)."""

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    sink: "AlertSink"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the sink is for tests and the demo

    def do_POST(self) -> None:
        arrived = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY))
        sink = self.server.sink
        status, headers, payload = sink._answer(
            self.path, dict(self.headers.items()), body, arrived
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def do_GET(self) -> None:
        if self.path != RECORDS_PATH:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        # What the sink accepted, for a process that runs it in another (the benchmark).
        sink = self.server.sink
        records = [
            {"path": r.path, "at": r.at, "headers": dict(r.headers),
             "body": base64.b64encode(r.body).decode()}
            for r in sink.received()
        ]  # fmt: skip
        payload = json.dumps({"received": records, "rate_limited": sink.rate_limited}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class AlertSink:
    """Records alert requests on 127.0.0.1; see the package docstring."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        rate_limit_share: float = 0.0,
        retry_after_s: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.latency_s = latency_s
        self.rate_limit_share = rate_limit_share
        self.retry_after_s = retry_after_s
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._statuses: dict[str, int] = {}
        self._limit_next: dict[str, int] = {}
        self.rate_limited = 0
        self.refused = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> "AlertSink":
        server = _Server(("127.0.0.1", 0), _Handler)
        server.sink = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="alertsink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "AlertSink":
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the sink is not running"
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # --- control and records ------------------------------------------------------

    def set_status(self, path: str, status: int | None) -> None:
        """Answer `status` to requests for `path` (None: back to normal)."""
        with self._lock:
            if status is None:
                self._statuses.pop(path, None)
            else:
                self._statuses[path] = status

    def limit_next(self, path: str, times: int = 1) -> None:
        """Answer the next `times` requests for `path` with a 429 (Discord's shape)."""
        with self._lock:
            self._limit_next[path] = self._limit_next.get(path, 0) + times

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self.rate_limited = self.refused = 0
            self._limit_next.clear()

    def _answer(
        self, path: str, headers: dict[str, str], body: bytes, arrived: float
    ) -> tuple[int, dict[str, str], bytes]:
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._lock:
            forced = self._statuses.get(path)
            limited = forced is None and self._random.random() < self.rate_limit_share
            if forced is None and self._limit_next.get(path, 0) > 0:
                self._limit_next[path] -= 1
                limited = True
            if forced is not None:
                self.refused += 1
            elif limited:
                self.rate_limited += 1
            else:
                self._received.append(Received(path, headers, body, arrived))
        if forced is not None:
            message = json.dumps({"message": "Unknown Webhook", "code": 10015}).encode()
            return forced, {"Content-Type": "application/json"}, message
        if limited:
            wait = self.retry_after_s
            limit_headers = {
                "Content-Type": "application/json",
                "Retry-After": f"{wait:g}",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{wait:.3f}",
                "X-RateLimit-Bucket": "sink",
            }
            payload = {"message": "You are being rate limited.", "retry_after": wait,
                       "global": False}  # fmt: skip
            return 429, limit_headers, json.dumps(payload).encode()
        return 204, {}, b""
