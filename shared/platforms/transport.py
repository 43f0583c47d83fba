"""The platforms' HTTP layer below httpx.Client: a connection per request in O(1)
over a lean HTTP/1.1 wire, and request URLs built without re-parsing what never changes.

`SlotTransport`: httpcore's `ConnectionPool` re-examined every connection of
the pool under its lock each time a request arrived or a response closed
(about 250 idle checks per request at a pool of 16), and httpcore with h11
then spent about 0.4 ms of Python per request on events, state machines and
header validation, all of it holding the GIL the monitor's other threads need.
A `SlotTransport` lets at most `size` requests be in flight (a counter under a
condition, so waiting is bounded by the pool timeout) and keeps each origin's
idle keep-alive connections on a LIFO stack (the most recently used stay
warm; one idle longer than `keepalive_expiry`, or that the server closed, is
dropped). Each request goes out on a `shared.platforms.wire.Connection`: the
request head httpx built, one `sendall`, llhttp's C parser over the answer.
A kept-alive connection the server dropped meanwhile is replaced once for
requests safe to repeat. What the wire does not do (a streamed request body,
HEAD) goes through an ordinary `httpx.HTTPTransport`. httpx still does
everything above the transport: URLs, headers, auth, redirects, decoding
(`shared.platforms.exchange` builds and reads the platforms' requests with
httpx's own pieces, without the client's cookie jar and generators).

`RequestUrls`: httpx validates every character of a URL string in Python
each time it parses one (twice per request with `params=`). The base URLs a
client sends to are parsed once; the query is encoded exactly as httpx
encodes `params` (`urllib.parse.urlencode`) and set on the parsed base.
Parameters that need no escaping (ids, logins, keys: nearly all of them) are
joined as they are, after one check of the whole query; `urlencode` quotes
each name and value with four Python calls, 100 of them for a batch of ids.
"""

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from shared.platforms.wire import Body, Connection, Origin, request_head

Params = Mapping[str, str] | Sequence[tuple[str, str]]


class _GiveBack(httpx.SyncByteStream):
    """A response body that hands its slot back once closed (exactly once)."""

    def __init__(self, stream: httpx.SyncByteStream, give_back: Callable[[], None]) -> None:
        self._stream = stream
        self._give_back: Callable[[], None] | None = give_back

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            give_back, self._give_back = self._give_back, None
            if give_back is not None:
                give_back()


class SlotTransport(httpx.BaseTransport):
    """At most `size` requests in flight, each on a keep-alive connection of its origin."""

    def __init__(self, size: int, *, keepalive_expiry: float | None = 5.0) -> None:
        if size < 1:
            raise ValueError("a SlotTransport needs at least one slot")
        self.size = size
        self.keepalive_expiry = keepalive_expiry
        # One TLS context for every connection: each would otherwise load the CA bundle.
        self._tls = httpx.create_ssl_context()
        self._tls.set_alpn_protocols(["http/1.1"])
        self._idle: dict[Origin, list[Connection]] = {}
        self._busy = 0
        self._ready = threading.Condition(threading.Lock())
        self._closed = False
        # What the wire connection does not do (a streamed request body, an
        # HTTP/1.1 answer to HEAD, a scheme other than http(s)): httpx's own.
        self._fallback: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        url = request.url
        origin: Origin = (url.raw_scheme, url.raw_host, url.port or _PORTS.get(url.raw_scheme, 0))
        self._take(timeouts.get("pool"), request)
        try:
            body = _body_of(request)
            if body is None or request.method == "HEAD" or origin[0] not in _PORTS:
                response = self._fallback_transport().handle_request(request)
                assert isinstance(response.stream, httpx.SyncByteStream)
                response.stream = _GiveBack(response.stream, self._give)
                return response
            response = self._exchange(origin, request, body, timeouts.get("connect"))
        except BaseException:
            self._give()
            raise
        assert isinstance(response.stream, Body)
        response.stream.release = self._give
        return response

    def _exchange(
        self, origin: Origin, request: httpx.Request, body: bytes, connect: float | None
    ) -> httpx.Response:
        head = request_head(request)
        conn = self._idle_connection(origin)
        if conn is not None:
            try:
                return self._keep(conn, conn.send(request, head, body))
            except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError):
                # A kept-alive connection the server dropped meanwhile: once more on a
                # new one, for requests that are safe to repeat (as browsers do).
                if request.method not in _IDEMPOTENT:
                    raise
        conn = Connection.open(origin, self._tls, connect, request)
        return self._keep(conn, conn.send(request, head, body))

    def _keep(self, conn: Connection, response: httpx.Response) -> httpx.Response:
        if not conn.closed:
            with self._ready:
                idle = self._idle.setdefault(conn.origin, [])
                if len(idle) < self.size and not self._closed:
                    idle.append(conn)
                    conn = None  # type: ignore[assignment]
            if conn is not None:
                conn.close()
        return response

    def _idle_connection(self, origin: Origin) -> Connection | None:
        """The most recently used live connection to `origin` (stale ones closed)."""
        while True:
            with self._ready:
                idle = self._idle.get(origin)
                conn = idle.pop() if idle else None
            if conn is None or conn.reusable(self.keepalive_expiry):
                return conn
            conn.close()

    def _fallback_transport(self) -> httpx.HTTPTransport:
        with self._ready:
            if self._fallback is None:
                limits = httpx.Limits(
                    max_connections=self.size, keepalive_expiry=self.keepalive_expiry
                )
                self._fallback = httpx.HTTPTransport(verify=self._tls, limits=limits)
            return self._fallback

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
            idle = [c for conns in self._idle.values() for c in conns]
            self._idle.clear()
            fallback = self._fallback
        for conn in idle:
            conn.close()
        if fallback is not None:
            fallback.close()

    @property
    def free(self) -> int:
        """Slots not serving a request now."""
        with self._ready:
            return self.size - self._busy

    def _take(self, timeout: float | None, request: httpx.Request) -> None:
        with self._ready:
            if not self._ready.wait_for(lambda: self._busy < self.size or self._closed, timeout):
                raise httpx.PoolTimeout(
                    f"all {self.size} connections stayed busy for the pool timeout",
                    request=request,
                )
            if self._closed:
                raise RuntimeError("the transport is closed")
            self._busy += 1

    def _give(self) -> None:
        with self._ready:
            self._busy -= 1
            self._ready.notify()


_PORTS = {b"http": 80, b"https": 443}
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _body_of(request: httpx.Request) -> bytes | None:
    """The request's body if it is already in memory (None: it streams)."""
    stream = request.stream
    if isinstance(stream, httpx.ByteStream):
        return b"".join(stream)
    try:
        return request.content
    except httpx.RequestNotRead:
        return None


def _can_set_query() -> bool:
    """Whether this httpx keeps a parsed URL as a named tuple we may copy with a query."""
    probe = httpx.URL("http://127.0.0.1/")
    return hasattr(getattr(probe, "_uri_reference", None), "_replace")


_FAST = _can_set_query()


class RequestUrls:
    """Request URLs for one client: each base parsed once, the query set on a copy."""

    def __init__(self) -> None:
        self._bases: dict[str, httpx.URL] = {}

    def __call__(self, url: str, params: Params | None = None) -> httpx.URL:
        base = self._bases.get(url)
        if base is None:
            base = self._bases[url] = httpx.URL(url)  # a benign race: both parse the same
        if not params:
            return base
        if base.query or base.fragment:
            return base.copy_merge_params(httpx.QueryParams(list(_items(params))))
        return with_query(base, encode_query(params))


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~=&-]*")
"""What `quote_plus` leaves as it is (letters, digits, `_.-~`), plus the separators."""


def encode_query(params: Params) -> str:
    """`urllib.parse.urlencode(params)`, without quoting what needs no quoting.

    The fast path joins the pairs and checks the result once: every character
    unreserved or a separator, and exactly one `=` per pair and one `&`
    between pairs, so no name or value held a separator of its own.
    """
    items = list(_items(params))
    if all(type(k) is str and type(v) is str for k, v in items):
        query = "&".join([f"{k}={v}" for k, v in items])
        if (
            _UNRESERVED.fullmatch(query)
            and query.count("=") == len(items)
            and query.count("&") == len(items) - 1
        ):
            return query
    return urlencode(items)


def with_query(base: httpx.URL, query: str) -> httpx.URL:
    """`base` with `query` (already encoded, as urlencode writes it)."""
    if not _FAST:
        return httpx.URL(f"{base}?{query}")
    # httpx's own parsed form (checked by _can_set_query; tests compare the result
    # with httpx parsing the whole URL): an encoded query needs no re-validation.
    url = httpx.URL.__new__(httpx.URL)
    reference: Any = base._uri_reference
    url._uri_reference = reference._replace(query=query)
    return url


def _items(params: Params) -> Iterator[tuple[str, str]]:
    yield from params.items() if isinstance(params, Mapping) else params
