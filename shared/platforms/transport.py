"""The platforms' HTTP layer below httpx.Client: a connection per request in O(1),
and request URLs built without re-parsing what never changes.

`SlotTransport`: httpcore's `ConnectionPool` re-examines every connection of
the pool under its lock each time a request arrives or a response closes,
and for every idle one counts the idle ones again, so its bookkeeping grows
with the square of the pool (about 250 idle checks per request at a pool of
16), all of it holding the GIL the monitor's other threads need. A
`SlotTransport` keeps `size` slots on a LIFO stack, each an ordinary
`httpx.HTTPTransport` limited to one keep-alive connection: a request takes
the top slot (waiting, within the pool timeout, while all are busy) and its
response gives it back when closed. httpx and httpcore still do everything
else (TLS, keep-alive expiry, reconnecting, exception mapping), on one
connection at a time; the most recently used connections stay warm.

`RequestUrls`: httpx validates every character of a URL string in Python
each time it parses one (twice per request with `params=`). The base URLs a
client sends to are parsed once; the query is encoded exactly as httpx
encodes `params` (`urllib.parse.urlencode`) and set on the parsed base.
"""

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

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
    """`size` one-connection transports, one checked out per request in flight."""

    def __init__(self, size: int, *, keepalive_expiry: float | None = 5.0) -> None:
        if size < 1:
            raise ValueError("a SlotTransport needs at least one slot")
        limits = httpx.Limits(
            max_connections=1, max_keepalive_connections=1, keepalive_expiry=keepalive_expiry
        )
        self.size = size
        # One TLS context for every slot: each would otherwise load the CA bundle.
        tls = httpx.create_ssl_context()
        self._slots = tuple(httpx.HTTPTransport(verify=tls, limits=limits) for _ in range(size))
        self._free = list(self._slots)
        self._ready = threading.Condition(threading.Lock())
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        slot = self._take(timeouts.get("pool"), request)
        try:
            response = slot.handle_request(request)
        except BaseException:
            self._give(slot)
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _GiveBack(response.stream, lambda: self._give(slot))
        return response

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        for slot in self._slots:
            slot.close()

    @property
    def free(self) -> int:
        """Slots not serving a request now."""
        with self._ready:
            return len(self._free)

    def _take(self, timeout: float | None, request: httpx.Request) -> httpx.HTTPTransport:
        with self._ready:
            if not self._ready.wait_for(lambda: self._free or self._closed, timeout):
                raise httpx.PoolTimeout(
                    f"all {self.size} connections stayed busy for the pool timeout",
                    request=request,
                )
            if self._closed:
                raise RuntimeError("the transport is closed")
            return self._free.pop()

    def _give(self, slot: httpx.HTTPTransport) -> None:
        with self._ready:
            self._free.append(slot)
            self._ready.notify()


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
        return with_query(base, urlencode(params))


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
