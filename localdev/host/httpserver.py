"""The HTTP side of the local host: `/<routePrefix>/<route>` to HTTP-triggered functions.

Each request becomes a real `azure.functions.HttpRequest` and the returned
`HttpResponse` is written back with the Content-Type the Python worker would
send. The worker's params and headers are plain mappings, so repeated query
keys and headers are joined with commas (ASP.NET's StringValues as one string).
404 and 405 are problem+json; so is the 500 for a function that raised, whose
traceback goes to the log only.
"""

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from localdev.host.index import HttpFunction
from localdev.host.routing import Matched, MethodNotAllowed, Router
from localdev.host.runtime import Invoker

log = logging.getLogger("localdev.host")

PROBLEM_JSON = "application/problem+json"
MAX_BODY = 100 * 1024 * 1024  # the Functions host's request size limit


def _joined(pairs: list[tuple[str, str]], *, fold_case: bool) -> dict[str, str]:
    joined: dict[str, str] = {}
    names: dict[str, str] = {}
    for key, value in pairs:
        canonical = names.setdefault(key.lower() if fold_case else key, key)
        joined[canonical] = f"{joined[canonical]},{value}" if canonical in joined else value
    return joined


def route_template(prefix: str, route: str) -> str:
    return "/".join(p for p in (prefix.strip("/"), route.strip("/")) if p)


def encode_response(result: object) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for a function's return value, as the Python worker sends them."""
    response = func.HttpResponse(result) if isinstance(result, str | bytes) else result
    if not isinstance(response, func.HttpResponse):
        raise TypeError(f"expected azure.functions.HttpResponse, got {type(result).__name__}")
    hop_by_hop = ("content-length", "transfer-encoding", "connection")
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in hop_by_hop]
    if not any(k.lower() == "content-type" for k, _ in headers):
        mimetype = response.mimetype
        text = mimetype.startswith("text/")
        headers.append(
            ("Content-Type", f"{mimetype}; charset={response.charset}" if text else mimetype)
        )
    return response.status_code, headers, response.get_body() or b""


class FunctionsHTTPServer(ThreadingHTTPServer):
    """Serves the indexed HTTP functions; one thread per connection."""

    daemon_threads = True  # shutdown waits for invocations through the Invoker instead

    def __init__(
        self, address: tuple[str, int], functions: tuple[HttpFunction, ...], prefix: str
    ) -> None:
        self.router: Router[HttpFunction] = Router()
        for fn in functions:
            self.router.add(route_template(prefix, fn.route), fn.methods, fn)
        self.invoker = Invoker()
        self.draining = threading.Event()
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is not the host's problem.
        log.debug("connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: FunctionsHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "localdev-host"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 413/400 for one that cannot be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(65537).split(b";", 1)[0].strip()
                length = int(line or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537).strip():  # trailers
                        pass
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY:
                    self._problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close=True)
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._problem(HTTPStatus.BAD_REQUEST, "bad Content-Length", close=True)
            return None
        if length > MAX_BODY:
            self._problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close=True)
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        if self.server.draining.is_set():
            self._problem(HTTPStatus.SERVICE_UNAVAILABLE, "the host is shutting down", close=True)
            return
        body = self._read_body()
        if body is None:
            return
        parts = urlsplit(self.path)
        found = self.server.router.resolve(self.command, parts.path)
        if found is None:
            self._problem(HTTPStatus.NOT_FOUND)
            return
        if isinstance(found, MethodNotAllowed):
            allow = ", ".join(sorted(found.allowed))
            self._problem(HTTPStatus.METHOD_NOT_ALLOWED, headers={"Allow": allow})
            return
        self._invoke(found, parts.query, body)

    def _invoke(self, found: Matched[HttpFunction], query: str, body: bytes) -> None:
        fn = found.target
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.port}"
        request = func.HttpRequest(
            method=self.command,
            url=f"http://{host}{self.path}",
            headers=_joined(list(self.headers.items()), fold_case=True),
            params=_joined(parse_qsl(query, keep_blank_values=True), fold_case=False),
            route_params=found.route_params,
            body=body,
        )
        try:
            result = self.server.invoker.invoke(
                fn.name,
                fn.func,
                "This function was programmatically called via the host APIs.",
                **{fn.arg_name: request},
            )
        except Exception:
            # Logged with its traceback by the invoker; the client learns nothing more.
            self._problem(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        try:
            status, headers, payload = encode_response(result)
        except TypeError:
            log.exception("function %r returned something that is not an HTTP response", fn.name)
            self._problem(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _problem(
        self,
        status: HTTPStatus,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        doc: dict[str, Any] = {"type": "about:blank", "title": status.phrase, "status": status}
        if detail:
            doc["detail"] = detail
        payload = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", PROBLEM_JSON)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch
    do_TRACE = _dispatch

    def __getattr__(self, name: str) -> Any:
        # Kestrel accepts any method token (QUERY, PROPFIND...), so the router sees it
        # and a route answers 405 with Allow, as for PUT; http.server alone answers 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)
