"""`exchange.send`: the platform requests' way past `httpx.Client.request`, compared with
what `Client.request` does for the same client, request and answer."""

import gzip
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.platforms import exchange
from shared.platforms.base import Platform
from shared.platforms.errors import PlatformError, PlatformUnavailable
from shared.platforms.retry import Cost, Sender, error_for_status
from tests.unit.platforms.support import FakeTime, Recorder

URL = httpx.URL("https://api.example.test/v1/thing?key=hunter2&n=1")


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"Content-Type": "application/json", "X-Echo": request.method},
        json={"path": request.url.path, "body": request.content.decode()},
    )


def _send(
    client: httpx.Client, url: httpx.URL = URL, method: str = "GET", **kwargs: Any
) -> httpx.Response:
    options: dict[str, Any] = {"headers": None, "data": None, "json": None, "timeout": 7.0}
    return exchange.send(client, method, url, **{**options, **kwargs})


def _pair(
    handler: Callable[[httpx.Request], httpx.Response], **client: Any
) -> tuple[Recorder, httpx.Client, Recorder, httpx.Client]:
    fast, slow = Recorder(handler), Recorder(handler)
    return (
        fast,
        httpx.Client(transport=httpx.MockTransport(fast), **client),
        slow,
        httpx.Client(transport=httpx.MockTransport(slow), **client),
    )


def test_this_httpx_has_what_the_direct_path_uses() -> None:
    # Fails on an httpx upgrade that drops a private part `send` leans on: look at
    # shared/platforms/exchange.py before pinning the new httpx.
    assert exchange.SUPPORTED
    assert exchange.direct(httpx.Client(), URL)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {}),
        ("GET", {"headers": {"Authorization": "Bearer t", "user-agent": "ours"}}),
        ("POST", {"data": {"grant_type": "client_credentials", "scope": "a b"}}),
        ("POST", {"json": {"ids": [1, 2], "q": "é"}, "headers": {"Client-Id": "c"}}),
        ("DELETE", {"headers": {"Accept": "application/json"}}),
    ],
)
def test_the_request_and_response_equal_what_client_request_makes(
    method: str, kwargs: dict[str, Any]
) -> None:
    fast, fast_client, slow, slow_client = _pair(_answer, headers={"X-Client": "default"})
    got = _send(fast_client, method=method, **kwargs)
    want = slow_client.request(method, URL, timeout=7.0, **kwargs)
    sent, expected = fast.requests[0], slow.requests[0]
    assert (sent.method, sent.url, sent.headers.raw) == (
        expected.method,
        expected.url,
        expected.headers.raw,
    )
    assert sent.content == expected.content
    assert (
        sent.extensions
        == expected.extensions
        == {"timeout": dict.fromkeys(("connect", "read", "write", "pool"), 7.0)}
    )
    assert (got.status_code, got.headers.raw, got.content) == (
        want.status_code,
        want.headers.raw,
        want.content,
    )
    assert got.json() == want.json()
    assert got.request is sent
    assert got.http_version == want.http_version == "HTTP/1.1"
    assert got.encoding == want.encoding
    assert got.is_closed
    assert got.is_stream_consumed
    assert got.elapsed.total_seconds() >= 0
    assert got.history == []
    assert got.next_request is None


def test_cookies_are_seen_on_the_response_but_never_kept_or_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"Set-Cookie": "__cf_bm=owner-a; Path=/; Domain=api.example.test"},
            text=request.headers.get("cookie", "none"),
        )

    fast, fast_client, _, slow_client = _pair(handler)
    first = _send(fast_client)
    assert first.headers["set-cookie"].startswith("__cf_bm=owner-a")
    assert first.cookies["__cf_bm"] == "owner-a"  # the response's own, as httpx reads it
    assert not fast_client.cookies
    # The next owner's request carries nothing from the first answer.
    assert _send(fast_client).text == "none"
    assert "cookie" not in fast.requests[1].headers
    # (httpx's client would have sent it back: the difference is deliberate.)
    slow_client.get(URL)
    assert slow_client.get(URL).text == "__cf_bm=owner-a"


def test_redirects_are_not_followed_and_say_where_they_point() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "/elsewhere?x=1"})

    fast, fast_client, _, slow_client = _pair(handler)
    got = _send(fast_client, headers={"Authorization": "Bearer t"})
    want = slow_client.request("GET", URL, headers={"Authorization": "Bearer t"}, timeout=7.0)
    assert got.status_code == 302
    assert len(fast.requests) == 1
    assert got.next_request is not None
    assert want.next_request is not None
    assert got.next_request.url == want.next_request.url
    assert got.next_request.headers.raw == want.next_request.headers.raw
    assert "authorization" in got.next_request.headers  # same origin: httpx keeps it


def test_a_redirect_is_still_an_error_through_the_sender() -> None:
    rec = Recorder(lambda _: httpx.Response(301, headers={"Location": "https://x.test/"}))
    time = FakeTime()

    def classify(response: httpx.Response) -> PlatformError:
        return error_for_status(Platform.KICK, response, "moved", wall_now=time.wall)

    sender = Sender(rec.client(), Platform.KICK, time.policy(), 5.0, classify)
    with pytest.raises(PlatformError) as info:
        sender.send("GET", str(URL), cost=Cost())
    assert info.value.status == 301
    assert len(rec.requests) == 1
    assert time.sleeps == []


def test_gzip_answers_are_decoded() -> None:
    packed = gzip.compress(b'{"data": [1]}')

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"Content-Encoding": "gzip"},
            stream=httpx.ByteStream(packed),
        )

    _, client, _, _ = _pair(handler)
    response = _send(client)
    assert response.json() == {"data": [1]}
    assert response.num_bytes_downloaded == len(packed)
    with pytest.raises(httpx.DecodingError):
        _send(
            httpx.Client(
                transport=httpx.MockTransport(
                    lambda _: httpx.Response(
                        200,
                        headers={"Content-Encoding": "gzip"},
                        stream=httpx.ByteStream(b"not gzip"),
                    )
                )
            )
        )


def test_transport_errors_carry_the_request_as_httpx_attaches_it() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    _, client, _, _ = _pair(handler)
    with pytest.raises(httpx.ConnectError) as info:
        _send(client)
    assert info.value.request.url == URL


def test_the_client_is_opened_and_a_closed_one_refuses() -> None:
    _, client, _, _ = _pair(_answer)
    _send(client)
    with pytest.raises(RuntimeError, match="more than once"):
        client.__enter__()
    client.close()
    assert not exchange.direct(client, URL)
    with pytest.raises(RuntimeError, match="has been closed"):
        _send(client)


def test_the_log_line_is_httpx_own_with_the_credential_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, client, _, _ = _pair(_answer)
    with caplog.at_level(logging.INFO, logger="httpx"):
        _send(client, redact=lambda text: text.replace("hunter2", "***"))
    [record] = [r for r in caplog.records if r.name == "httpx"]
    assert record.getMessage() == (
        'HTTP Request: GET https://api.example.test/v1/thing?key=***&n=1 "HTTP/1.1 200 OK"'
    )


def _hooked(seen: list[str]) -> dict[str, Any]:
    return {"event_hooks": {"request": [lambda r: seen.append(r.method)]}}


@pytest.mark.parametrize(
    "variant",
    ["auth", "hooks", "cookies", "params", "redirects", "userinfo", "subclass", "relative"],
)
def test_clients_configured_otherwise_go_through_client_request(variant: str) -> None:
    seen: list[str] = []

    class Sending(httpx.Client):
        def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
            seen.append("subclass")
            return super().send(request, **kwargs)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/moved":
            return httpx.Response(307, headers={"Location": "/v1/thing"})
        return httpx.Response(200, text=request.headers.get("authorization", "-"))

    transport = httpx.MockTransport(Recorder(handler))
    url = URL
    client: httpx.Client
    match variant:
        case "auth":
            client = httpx.Client(transport=transport, auth=("u", "p"))
        case "hooks":
            client = httpx.Client(transport=transport, **_hooked(seen))
        case "cookies":
            client = httpx.Client(transport=transport, cookies={"c": "1"})
        case "params":
            client = httpx.Client(transport=transport, params={"p": "1"})
        case "redirects":
            client = httpx.Client(transport=transport, follow_redirects=True)
            url = httpx.URL("https://api.example.test/moved")
        case "userinfo":
            client = httpx.Client(transport=transport)
            url = httpx.URL("https://u:p@api.example.test/v1/thing")
        case "subclass":
            client = Sending(transport=transport)
        case _:
            client = httpx.Client(transport=transport, base_url="https://api.example.test/v1/")
            url = httpx.URL("thing")
    assert not exchange.direct(client, url)
    response = _send(client, url)
    assert response.status_code == 200
    assert response.request.url.path == "/v1/thing"
    if variant in ("auth", "userinfo"):
        assert response.text.startswith("Basic ")
    if variant in ("hooks", "subclass"):
        assert seen
    if variant == "cookies":
        assert response.request.headers["cookie"] == "c=1"
    if variant == "params":
        assert response.request.url.params["p"] == "1"
    if variant == "redirects":
        assert len(response.history) == 1


def test_mock_transport_clients_go_the_direct_way_through_the_sender() -> None:
    rec = Recorder(_answer)
    client = rec.client()
    time = FakeTime()
    sender = Sender(
        client,
        Platform.RUMBLE,
        time.policy(),
        5.0,
        lambda r: PlatformUnavailable("x", platform=Platform.RUMBLE),
    )
    assert exchange.direct(client, URL)
    response = sender.send(
        "GET", "https://api.example.test/v1/thing", params={"key": "k"}, cost=Cost()
    )
    assert response.json()["path"] == "/v1/thing"
    assert rec.requests[0].url.params["key"] == "k"
    assert rec.requests[0].headers["user-agent"].startswith("python-httpx/")


def test_prepared_headers_follow_the_client_and_never_leak_between_requests() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        seen = dict(request.headers)
        request.headers["x-scribbled"] = "by the transport"
        return httpx.Response(200, json=seen)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    first = _send(client, headers={"Authorization": "Bearer a"}).json()
    assert first["authorization"] == "Bearer a"
    assert first["host"] == "api.example.test"
    client.headers["User-Agent"] = "StreamTrack"
    second = _send(client, headers={"Authorization": "Bearer b"}).json()
    assert second["user-agent"] == "StreamTrack"
    assert second["authorization"] == "Bearer b"
    assert "x-scribbled" not in second
    assert "authorization" not in _send(client).json()


def test_the_prepared_headers_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange, "_prepared_headers", {})
    client = httpx.Client(transport=httpx.MockTransport(_answer))
    for n in range(exchange._PREPARED_MAX + 10):
        _send(client, headers={"Authorization": f"Bearer {n}"})
    assert len(exchange._prepared_headers) <= exchange._PREPARED_MAX
