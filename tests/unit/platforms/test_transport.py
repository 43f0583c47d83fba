"""The platforms' HTTP layer: SlotTransport against a real loopback server, and
request URLs that equal what httpx builds from `params`."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.platforms import exchange
from shared.platforms.transport import RequestUrls, SlotTransport, encode_query, with_query


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.peers.add(self.client_address)
            self.server.active += 1
            self.server.most = max(self.server.most, self.server.active)
        try:
            if self.path.startswith("/slow"):
                self.server.release.wait(5)
            body = self.path.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with self.server.lock:
                self.server.active -= 1

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.peers: set[tuple[str, int]] = set()
        self.active = 0
        self.most = 0
        self.release = threading.Event()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.release.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def _url(srv: _Server, path: str) -> str:
    host, port = srv.server_address[:2]
    return f"http://{host!s}:{port}{path}"


def test_requests_reuse_at_most_size_connections(server: _Server) -> None:
    transport = SlotTransport(4)
    with httpx.Client(transport=transport, timeout=5) as client:

        def get(i: int) -> str:
            return client.get(_url(server, f"/n/{i}")).text

        with ThreadPoolExecutor(12) as ex:
            answers = list(ex.map(get, range(200)))
        assert answers == [f"/n/{i}" for i in range(200)]
        assert server.most <= 4
        # Keep-alive: 200 requests over at most 4 connections, all slots back.
        assert len(server.peers) <= 4
        assert transport.free == 4


def test_an_open_response_holds_its_slot_until_closed(server: _Server) -> None:
    transport = SlotTransport(1)
    with httpx.Client(transport=transport, timeout=httpx.Timeout(5, pool=0.3)) as client:
        request = client.build_request("GET", _url(server, "/held"))
        held = client.send(request, stream=True)
        assert transport.free == 0
        with pytest.raises(httpx.PoolTimeout, match="busy"):
            client.get(_url(server, "/waits"))
        held.read()
        held.close()
        assert transport.free == 1
        assert client.get(_url(server, "/after")).text == "/after"


def test_a_failed_request_gives_its_slot_back() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once closed
    transport = SlotTransport(2)
    with httpx.Client(transport=transport, timeout=2) as client:
        for _ in range(3):
            with pytest.raises(httpx.ConnectError):
                client.get(f"http://127.0.0.1:{port}/")
        assert transport.free == 2


def test_busy_slots_make_requests_wait_not_fail(server: _Server) -> None:
    transport = SlotTransport(2)
    with httpx.Client(transport=transport, timeout=5) as client, ThreadPoolExecutor(4) as ex:
        slow = [ex.submit(client.get, _url(server, f"/slow/{i}")) for i in range(4)]
        server.release.set()
        assert sorted(f.result().text for f in slow) == [f"/slow/{i}" for i in range(4)]
    assert server.most <= 2


def test_a_closed_transport_refuses_requests() -> None:
    transport = SlotTransport(1)
    transport.close()
    with pytest.raises(RuntimeError, match="closed"):
        transport.handle_request(httpx.Request("GET", "http://127.0.0.1:9/"))
    with pytest.raises(ValueError, match="at least one"):
        SlotTransport(0)


values = st.text(max_size=30)
pairs = st.lists(st.tuples(st.text(min_size=1, max_size=10), values), max_size=8)


@given(pairs)
def test_urls_equal_what_httpx_builds_from_params(params: list[tuple[str, str]]) -> None:
    base = "https://api.example.test/helix/streams"
    built = RequestUrls()(base, params)
    expected = httpx.URL(base, params=params)
    # The same URL as httpx parses it; the pairs stay in the caller's order (httpx
    # groups a repeated name's values together; the values keep their order).
    assert httpx.URL(str(built)) == built
    assert built.copy_with(query=None) == expected.copy_with(query=None)
    assert built.params.multi_items() == expected.params.multi_items()
    assert parse_qsl(built.query.decode(), keep_blank_values=True) == params


@given(st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=5))
def test_mapping_params_too(params: dict[str, str]) -> None:
    base = "http://127.0.0.1:8080/rumble/-livestream-api/get-data"
    assert str(RequestUrls()(base, params)) == str(httpx.URL(base, params=params))


_near_safe = st.text(alphabet="aZ09_.~-=& +%/é", max_size=12)


@given(st.lists(st.tuples(_near_safe, _near_safe), max_size=6))
def test_queries_equal_urlencode_exactly(params: list[tuple[str, str]]) -> None:
    # Mostly unreserved characters, so both the joined fast path and urlencode
    # (a separator, space or non-ASCII character in a name or value) are taken.
    assert encode_query(params) == urlencode(params)
    assert encode_query(dict(params)) == urlencode(dict(params))


def test_queries_of_ids_are_joined_and_anything_else_quoted() -> None:
    ids = [("user_id", str(n)) for n in range(100)]
    assert encode_query(ids) == urlencode(ids)
    assert encode_query([("key", "a=b")]) == "key=a%3Db"
    assert encode_query([("a", "1&b=2")]) == "a=1%26b%3D2"
    assert encode_query([("n", 5)]) == "n=5"  # type: ignore[list-item]
    assert encode_query([("b", b"x y")]) == "b=x+y"  # type: ignore[list-item]
    assert encode_query([("", "")]) == "="


def test_bases_with_a_query_merge_as_httpx_does() -> None:
    urls = RequestUrls()
    base = "https://example.test/feed?fixed=1"
    assert str(urls(base, {"channel_id": "UC x"})) == str(
        httpx.URL(base).copy_merge_params({"channel_id": "UC x"})
    )
    assert urls(base) == httpx.URL(base)
    assert urls("https://example.test/p") == httpx.URL("https://example.test/p")
    assert with_query(httpx.URL("https://example.test/p"), "a=1").params["a"] == "1"


# --- the wire below SlotTransport (shared/platforms/wire.py), against canned bytes ---

Reply = Callable[[bytes], tuple[bytes, bool]]
"""A raw request (head and body) -> the raw answer and whether to close after it."""


class _Canned:
    """A loopback server that answers each request with whatever `reply` returns."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(rest) < length:
                    rest += conn.recv(65536)
                request, buffer = head + b"\r\n\r\n" + rest[:length], rest[length:]
                self.requests.append(request)
                answer, close = self.reply(request)
                if answer:
                    conn.sendall(answer)
                if close:
                    return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def canned() -> Iterator[Callable[[Reply], _Canned]]:
    servers: list[_Canned] = []

    def start(reply: Reply) -> _Canned:
        servers.append(_Canned(reply))
        return servers[-1]

    yield start
    for srv in servers:
        srv.close()


def _ok(body: bytes, *extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body) + b"".join(extra)
    return head + b"\r\n" + body


def test_chunked_gzip_answers_are_decoded_as_httpx_does(canned: Callable[[Reply], _Canned]) -> None:
    import gzip

    packed = gzip.compress(b'{"data": [1, 2, 3]}')
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (packed[:7], packed[7:])) + b"0\r\n\r\n"
    )
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n"
        b"Content-Type: application/json\r\n\r\n" + chunked
    )
    srv = canned(lambda _: (answer, False))
    with httpx.Client(transport=SlotTransport(2), timeout=5) as client:
        for _ in range(3):
            response = client.get(srv.url("/x?a=1&b=%20"))
            assert response.json() == {"data": [1, 2, 3]}
            assert response.headers["content-type"] == "application/json"
    assert srv.connections == 1  # kept alive across the three
    assert srv.requests[0].startswith(b"GET /x?a=1&b=%20 HTTP/1.1\r\n")
    assert b"\r\nhost: 127.0.0.1:%d\r\n" % srv.port in srv.requests[0].lower()


def test_a_body_that_ends_with_the_connection(canned: Callable[[Reply], _Canned]) -> None:
    srv = canned(lambda _: (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it", True))
    with httpx.Client(transport=SlotTransport(1), timeout=5) as client:
        assert client.get(srv.url()).text == "all of it"
        assert client.get(srv.url()).text == "all of it"
    assert srv.connections == 2


def test_a_kept_connection_the_server_dropped_is_replaced(
    canned: Callable[[Reply], _Canned],
) -> None:
    # The server closes after every answer without saying so: the next GET finds
    # the connection gone and goes again on a new one.
    srv = canned(lambda _: (_ok(b"fine"), True))
    transport = SlotTransport(1, keepalive_expiry=None)
    with httpx.Client(transport=transport, timeout=5) as client:
        answers = [client.get(srv.url()).text for _ in range(4)]
    assert answers == ["fine"] * 4
    assert srv.connections == 4
    assert transport.free == 1


def test_a_post_sends_its_body_and_is_never_sent_twice(canned: Callable[[Reply], _Canned]) -> None:
    def echo(request: bytes) -> tuple[bytes, bool]:
        return _ok(request.partition(b"\r\n\r\n")[2]), False

    srv = canned(echo)
    with httpx.Client(transport=SlotTransport(1), timeout=5) as client:
        assert client.post(srv.url(), data={"grant": "a b"}).text == "grant=a+b"
    silent = canned(lambda _: (b"", True))  # takes the request, answers nothing
    with httpx.Client(transport=SlotTransport(1), timeout=5) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            client.post(silent.url(), data={"a": "b"})
    assert len(silent.requests) == 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 abc OK\r\n\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "middle of a response"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 300_000 + b"\r\n\r\n", "too large|malformed"),
    ],
)
def test_broken_answers_are_protocol_errors(
    canned: Callable[[Reply], _Canned], answer: bytes, error: str
) -> None:
    srv = canned(lambda _: (answer, True))
    transport = SlotTransport(1)
    with httpx.Client(transport=transport, timeout=5) as client:
        with pytest.raises(httpx.RemoteProtocolError, match=error):
            client.get(srv.url())
    assert transport.free == 1


def test_a_silent_server_is_a_read_timeout(canned: Callable[[Reply], _Canned]) -> None:
    srv = canned(lambda _: (b"", False))
    with httpx.Client(transport=SlotTransport(1), timeout=httpx.Timeout(5, read=0.2)) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(srv.url())


def test_head_goes_through_httpx_own_transport(server: _Server) -> None:
    with httpx.Client(transport=SlotTransport(1), timeout=5) as client:
        assert client.head(_url(server, "/h")).status_code in (200, 501)


# --- exchange.send over the wire: what Client.request would hand back -----------------


def _direct(client: httpx.Client, url: str) -> httpx.Response:
    return exchange.send(
        client, "GET", httpx.URL(url), headers=None, data=None, json=None, timeout=5.0
    )


@pytest.mark.parametrize("encoded", [False, True])
def test_direct_reads_equal_client_reads(canned: Callable[[Reply], _Canned], encoded: bool) -> None:
    import gzip

    raw = b'{"data": [1, 2, 3]}'
    body = gzip.compress(raw) if encoded else raw
    extra = (b"Content-Encoding: gzip\r\n",) if encoded else ()
    srv = canned(lambda _: (_ok(body, b"Content-Type: application/json\r\n", *extra), False))
    transport = SlotTransport(1)
    with httpx.Client(transport=transport, timeout=5) as client:
        got, want = _direct(client, srv.url("/d?k=1")), client.get(srv.url("/d?k=1"))
        assert transport.free == 1  # read whole, closed: the slot is back
        assert (got.status_code, got.headers.raw, got.content) == (
            want.status_code,
            want.headers.raw,
            want.content,
        )
        assert got.content == raw
        assert got.json() == {"data": [1, 2, 3]}
        assert got.num_bytes_downloaded == want.num_bytes_downloaded == len(body)
        assert got.is_closed
        assert got.is_stream_consumed
        assert list(got.iter_bytes()) == list(want.iter_bytes()) == [raw]
        assert got.http_version == "HTTP/1.1"
        assert got.request.url == want.request.url
        assert got.elapsed.total_seconds() > 0
    assert srv.requests[0] == srv.requests[1]  # the same bytes on the wire
    assert srv.connections == 1


def test_a_streamed_wire_response_still_holds_its_slot(canned: Callable[[Reply], _Canned]) -> None:
    srv = canned(lambda _: (_ok(b"x"), False))
    transport = SlotTransport(1)
    with httpx.Client(transport=transport, timeout=5) as client:
        held = client.send(client.build_request("GET", srv.url()), stream=True)
        assert transport.free == 0
        assert held.read() == b"x"
        assert transport.free == 1
        held.close()
        assert transport.free == 1  # given back once


def test_a_kept_connection_takes_each_requests_own_timeout(
    canned: Callable[[Reply], _Canned],
) -> None:
    answers = iter([(_ok(b"first"), False), (b"", False)])  # then silence on the same one
    srv = canned(lambda _: next(answers))
    with httpx.Client(transport=SlotTransport(1), timeout=5) as client:
        assert client.get(srv.url()).text == "first"
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            client.get(srv.url(), timeout=0.2)
        assert time.monotonic() - started < 2
    assert srv.connections == 1
