"""One HTTP/1.1 keep-alive connection, parsed by llhttp (`httptools`), below httpx.

httpx stays the client (request building, redirects, auth, decoding, errors);
this replaces what httpcore and h11 do per request in Python (about 0.4 ms of
CPU a request on the monitor's machine: event objects, state machines, header
validation, `Trace` context managers) with a socket, one `sendall` of the
request httpx built, and llhttp's C parser over what comes back. Only what the
platforms' clients send is handled here: HTTP/1.1 over TCP or TLS, request
bodies already in memory; anything else is the caller's to route elsewhere
(`SlotTransport` keeps an ordinary `httpx.HTTPTransport` for it).

Errors are httpx's own (`ConnectError`, `ReadTimeout`, `RemoteProtocolError`...),
raised with the request, so `Sender` maps them exactly as before.
"""

import select
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import httptools
import httpx

MAX_HEADER_BYTES = 256 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
"""A platform answer larger than this is refused (no API of theirs comes near it)."""
RECV_SIZE = 256 * 1024

Origin = tuple[bytes, bytes, int]
"""(scheme, host, port) of the connection, as httpx's `URL.raw` spells them."""


class Body(httpx.SyncByteStream):
    """A response body received whole; `release` runs once when it is closed.

    `content` is what came off the wire (before any Content-Encoding is undone):
    `shared.platforms.exchange` hands it to the response without httpx's decoder
    chain when there is no encoding to undo.
    """

    __slots__ = ("content", "release")

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.release: Callable[[], None] | None = None

    def __iter__(self) -> Iterator[bytes]:
        yield self.content

    def close(self) -> None:
        release, self.release = self.release, None
        if release is not None:
            release()


class _Message:
    """llhttp's callbacks for one response: status, headers, body, completion."""

    __slots__ = (
        "chunks",
        "done",
        "header_bytes",
        "headers",
        "headers_done",
        "keep_alive",
        "parser",
        "size",
    )  # fmt: skip

    def __init__(self) -> None:
        self.parser: Any = None
        self.keep_alive = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.header_bytes = 0
        self.done = False
        self.headers_done = False

    def on_message_begin(self) -> None:
        # An interim (1xx) answer before this one leaves nothing behind.
        self.headers.clear()
        self.chunks.clear()
        self.size = self.header_bytes = 0
        self.done = self.headers_done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > MAX_HEADER_BYTES:
            raise ValueError("response headers too large")
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        # llhttp forgets it once the message is complete: read it now.
        self.keep_alive = bool(self.parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_BODY_BYTES:
            raise ValueError("response body too large")
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.done = True


class Connection:
    """A connection to one origin; `send` one request at a time (the caller's slot)."""

    __slots__ = ("_closed", "_idle_since", "_requests", "_sock", "origin")

    def __init__(self, origin: Origin, sock: socket.socket) -> None:
        self.origin = origin
        self._sock = sock
        self._idle_since = time.monotonic()
        self._closed = False
        self._requests = 0

    @classmethod
    def open(
        cls, origin: Origin, tls: ssl.SSLContext | None, timeout: float | None, request: Any
    ) -> "Connection":
        scheme, host, port = origin
        name = host.decode("ascii")
        try:
            sock = socket.create_connection((name, port), timeout=timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == b"https":
                assert tls is not None
                sock = tls.wrap_socket(sock, server_hostname=name.strip("[]"))
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(
                str(exc) or "TLS handshake timed out", request=request
            ) from exc
        except OSError as exc:  # ssl.SSLError is an OSError
            sock.close()
            raise httpx.ConnectError(str(exc), request=request) from exc
        return cls(origin, sock)

    @property
    def closed(self) -> bool:
        return self._closed

    def reusable(self, keepalive_expiry: float | None) -> bool:
        """Idle, not expired, and the server has not closed or written to it since."""
        if self._closed:
            return False
        if keepalive_expiry is not None and time.monotonic() - self._idle_since > keepalive_expiry:
            return False
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return False
        # Readable while idle means the server closed it (or sent garbage).
        return not readable

    @property
    def reused(self) -> bool:
        return self._requests > 0

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._sock.close()
            except OSError:
                pass

    def send(self, request: httpx.Request, head: bytes, body: bytes) -> httpx.Response:
        """One request and its whole answer; the connection stays open only if reusable."""
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        sock = self._sock
        self._requests += 1
        try:
            sock.settimeout(timeouts.get("write"))
            sock.sendall(head + body if len(body) < 65536 else head)
            if len(body) >= 65536:
                sock.sendall(body)
        except TimeoutError as exc:
            self.close()
            raise httpx.WriteTimeout(str(exc) or "write timed out", request=request) from exc
        except OSError as exc:
            self.close()
            raise httpx.WriteError(str(exc), request=request) from exc
        message = _Message()
        parser = message.parser = httptools.HttpResponseParser(message)
        received = 0
        try:
            sock.settimeout(timeouts.get("read"))
            while not message.done:
                data = sock.recv(RECV_SIZE)
                if not data:
                    if message.headers_done and not _framed(message.headers):
                        break  # a body delimited by the connection's end
                    self.close()
                    if received == 0:
                        raise httpx.RemoteProtocolError(
                            "Server disconnected without sending a response.", request=request
                        )
                    raise httpx.RemoteProtocolError(
                        "Server disconnected in the middle of a response.", request=request
                    )
                received += len(data)
                parser.feed_data(data)
        except TimeoutError as exc:
            self.close()
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except httptools.HttpParserError as exc:
            self.close()
            raise httpx.RemoteProtocolError(f"malformed response: {exc}", request=request) from exc
        except ValueError as exc:  # over a size limit (raised by a callback)
            self.close()
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except OSError as exc:
            self.close()
            raise httpx.ReadError(str(exc), request=request) from exc
        status = parser.get_status_code()
        if not message.done or not message.keep_alive:
            self.close()
        else:
            self._idle_since = time.monotonic()
        # stream=, not content=: httpx decodes (gzip...) as the response is read.
        return httpx.Response(
            status,
            headers=message.headers,
            stream=Body(b"".join(message.chunks)),
            extensions={"http_version": b"HTTP/" + parser.get_http_version().encode()},
        )


def _framed(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the answer says where its body ends (else: at the connection's end)."""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            return True
        if lowered == b"transfer-encoding" and b"chunked" in value.lower():
            return True
    return False


def request_head(request: httpx.Request) -> bytes:
    """The request line and headers, as httpx built them."""
    target = request.url.raw_path or b"/"
    lines = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)
