"""One platform request through an `httpx.Client`, without what platform requests never use.

`httpx.Client.request` spent more Python per platform request than the
transport under it: a cookie jar fed every response (an `email.Message`
and a `urllib` request built per answer, though no platform API sets a
cookie we want back), the client's headers, params and cookies merged
into a fresh request, auth and redirect generators, a timer stream, all
of it holding the GIL the monitor's other threads wait for.

`send` does what `Client.request` then `Client.send` do for a client
configured as the platform clients are (no auth, no event hooks, no
client params or cookies, redirects not followed), by the same public
pieces: `httpx.Request` built from the client's headers merged with the
call's, the client's own transport for the URL (its mounts, a test's
`MockTransport`), the response read and bound to its request, the
client's default encoding, `elapsed`, a redirect's `next_request`, the
client's `httpx` log line. What it does not do: keep cookies. A
`Set-Cookie` stays visible on the response and is never sent back: the
clients are shared by every team's requests, so a cookie one owner's key
earned must not ride along with the next owner's request. Any other
client (auth, hooks, cookies or params of its own, redirects followed,
a subclass overriding how it sends) goes through `Client.request`.

A body-less request's headers (Host, the client's, the call's: what
`httpx.Request` would normalise again for every request) are prepared once
per combination and copied into each request (at most 512 combinations
kept: credentials rotate).

A body `shared.platforms.wire` received whole, with no Content-Encoding to
undo, becomes the response's content as it is: what `Response.read()`
leaves behind, without its decoder and chunker generators.

It leans on private parts of httpx: `Client._transport_for_url`, `_state`,
`_build_redirect_request`, `_default_encoding`, and the `Response._content`
and `_num_bytes_downloaded` that `read()` sets. `SUPPORTED` says whether
this httpx has them, every request goes through `Client.request` when it
does not, and a test fails on an httpx upgrade that drops one.
"""

import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import httpx
from httpx import _client as _httpx_client

from shared.platforms.wire import Body

_log = logging.getLogger("httpx")
"""httpx's own logger: its per-request INFO line, written as httpx writes it."""

_ClientState: Any = getattr(_httpx_client, "ClientState", None)


def _supported() -> bool:
    methods = ("_transport_for_url", "_build_redirect_request")
    if _ClientState is None or not hasattr(_ClientState, "OPENED"):
        return False
    if not all(callable(getattr(httpx.Client, name, None)) for name in methods):
        return False
    probe = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(204)))
    read = httpx.Response(200, content=b"")
    return {"_default_encoding", "_state"} <= vars(probe).keys() and {
        "_content",
        "_num_bytes_downloaded",
    } <= vars(read).keys()


SUPPORTED = _supported()
"""Whether this httpx's Client has the private parts `send` uses (a test pins it)."""

_SENDING = (
    "request",
    "send",
    "build_request",
    "_send_handling_auth",
    "_send_handling_redirects",
    "_send_single_request",
    "_transport_for_url",
)
_plain_types: dict[type, bool] = {}


def _plain_type(kind: type) -> bool:
    """`httpx.Client` itself, or a subclass that sends as it does."""
    plain = _plain_types.get(kind)
    if plain is None:
        plain = all(getattr(kind, name) is getattr(httpx.Client, name) for name in _SENDING)
        _plain_types[kind] = plain
    return plain


def direct(client: httpx.Client, url: httpx.URL) -> bool:
    """Whether `send` may skip `Client.request` for this client and URL."""
    hooks = client.event_hooks
    return (
        SUPPORTED
        and _plain_type(type(client))
        and client.auth is None
        and not hooks["request"]
        and not hooks["response"]
        and not client.follow_redirects
        and not client.params
        and not client.cookies
        and not client.is_closed
        and url.is_absolute_url
        and not url.userinfo
    )


def send(
    client: httpx.Client,
    method: str,
    url: httpx.URL,
    *,
    headers: Mapping[str, str] | None,
    data: Mapping[str, str] | None,
    json: Any,
    timeout: float,
    redact: Callable[[str], str] = str,
) -> httpx.Response:
    """The read response, as `client.request(method, url, headers=..., data=..., json=...,
    timeout=timeout)` returns it (without cookies: see the module's docstring).

    `redact` is applied to the URL in httpx's log line (it may carry a credential).
    """
    body: dict[str, Any] = {"json": json} if json is not None else {}
    if not direct(client, url):
        return client.request(method, url, headers=headers, data=data, timeout=timeout, **body)
    # What `Client.build_request` makes of `timeout=<float>`: httpx.Timeout(t).as_dict().
    timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    if data is None and json is None and method in _BODILESS:
        request = httpx.Request(
            method,
            url,
            headers=_prepared(client, url, headers),
            stream=httpx.ByteStream(b""),
            extensions={"timeout": timeouts},
        )
        request.read()
    else:
        merged = httpx.Headers(client.headers)
        if headers:
            merged.update(headers)
        request = httpx.Request(
            method, url, headers=merged, data=data, extensions={"timeout": timeouts}, **body
        )
    transport = client._transport_for_url(url)
    if client._state is not _ClientState.OPENED:
        client._state = _ClientState.OPENED
    start = time.perf_counter()
    try:
        response = transport.handle_request(request)
    except httpx.RequestError as exc:
        exc.request = request  # as httpx's request_context does
        raise
    if not isinstance(response.stream, httpx.SyncByteStream):
        response.close()
        raise RuntimeError("the transport answered with an async stream")
    response.request = request
    response.default_encoding = client._default_encoding
    if _log.isEnabledFor(logging.INFO):
        _log.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            redact(str(request.url)),
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
    try:
        if response.has_redirect_location:
            # Not followed (the client's setting): where it points, as httpx leaves it.
            response.next_request = client._build_redirect_request(request, response)
        _read(response)
    except BaseException:
        response.close()
        raise
    finally:
        response.elapsed = timedelta(seconds=time.perf_counter() - start)
    return response


_BODILESS = frozenset({"GET", "DELETE", "OPTIONS", "HEAD"})
"""Methods whose body-less requests httpx gives no content headers."""
_PREPARED_MAX = 512
_prepared_headers: dict[tuple[Any, ...], httpx.Headers] = {}


def _prepared(
    client: httpx.Client, url: httpx.URL, headers: Mapping[str, str] | None
) -> httpx.Headers:
    """The headers `httpx.Request` gives a body-less request from the client's headers
    merged with `headers` (Host first, then the merge), normalised once per combination."""
    key = (url.netloc, tuple(client.headers.raw), tuple(headers.items()) if headers else ())
    prepared = _prepared_headers.get(key)
    if prepared is None:
        merged = httpx.Headers(client.headers)
        if headers:
            merged.update(headers)
        prepared = httpx.Request("GET", url, headers=merged).headers
        if len(_prepared_headers) >= _PREPARED_MAX:
            _prepared_headers.clear()  # tokens rotate: never an ever-growing map of them
        _prepared_headers[key] = prepared
    return prepared


def _read(response: httpx.Response) -> None:
    """`response.read()`; a body the wire received whole with no encoding is taken as is."""
    stream = response.stream
    if not isinstance(stream, Body) or "content-encoding" in response.headers:
        response.read()
        return
    # What read() leaves behind, without its decoder and chunker generators.
    response._content = stream.content
    response._num_bytes_downloaded = len(stream.content)
    response.is_stream_consumed = True
    response.close()
