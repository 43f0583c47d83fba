"""HTTP functions served by LocalHost: routing, request and response as the worker builds them."""

import json
import logging
import threading
from collections.abc import Iterator

import azure.functions as func
import httpx
import pytest
from azure.functions.decorators.function_app import Function

from localdev.host import HostConfig, LocalHost
from shared.config import get_settings
from shared.db import reset_database

GUID = "0b7e1a52-5a43-4c1b-9b4a-3f0c9b1f4f4e"


def make_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="echo/{id:guid}", methods=["POST", "PUT"])
    def echo(req: func.HttpRequest) -> func.HttpResponse:
        seen = {
            "method": req.method,
            "url": req.url,
            "params": dict(req.params),
            "route_params": dict(req.route_params),
            "custom": req.headers.get("x-custom"),
            "content_type": req.headers.get("Content-Type"),
        }
        return func.HttpResponse(
            json.dumps(seen),
            status_code=201,
            headers={"X-Echo": "yes"},
            mimetype="application/json",
        )

    @app.route(route="bytes", methods=["POST"])
    def raw(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(req.get_body()[::-1], mimetype="application/octet-stream")

    @app.route(route="items/{n:int}/{tail?}", methods=["GET"])
    def items(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(json.dumps(dict(req.route_params)), mimetype="application/json")

    @app.route(route="files/{*path}")
    def files(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(req.route_params.get("path", ""))

    @app.route(route="text")
    def text(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("héllo", charset="utf-8")

    @app.route(route="boom")
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret detail from the database")

    @app.route(route="async")
    async def later(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("awaited")

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        LocalHost(make_app(), port=0, timers=False, queues=False) as host,
        httpx.Client(base_url=host.base_url, timeout=5) as client,
    ):
        yield client


def test_request_reaches_the_function_as_the_worker_builds_it(client: httpx.Client) -> None:
    response = client.post(
        f"/api/echo/{GUID}",
        params=[("q", "1"), ("tag", "a"), ("tag", "b")],
        headers={"X-Custom": "v1"},
        json={"k": "v"},
    )
    assert response.status_code == 201
    assert response.headers["x-echo"] == "yes"
    assert response.headers["content-type"] == "application/json"
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["url"] == f"{client.base_url}/api/echo/{GUID}?q=1&tag=a&tag=b"
    assert seen["params"] == {"q": "1", "tag": "a,b"}  # repeated keys joined, as the host does
    assert seen["route_params"] == {"id": GUID}
    assert seen["custom"] == "v1"
    assert seen["content_type"] == "application/json"


def test_binary_body_round_trip(client: httpx.Client) -> None:
    body = bytes(range(256))
    response = client.post("/api/bytes", content=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == body[::-1]


def test_text_mimetype_gets_its_charset(client: httpx.Client) -> None:
    response = client.get("/api/text")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "héllo"


@pytest.mark.parametrize(
    ("path", "route_params"),
    [("/api/items/5", {"n": "5"}), ("/api/items/5/more", {"n": "5", "tail": "more"})],
)
def test_optional_and_constrained_route_params(
    client: httpx.Client, path: str, route_params: dict[str, str]
) -> None:
    assert client.get(path).json() == route_params


def test_catch_all_takes_the_rest_of_the_path(client: httpx.Client) -> None:
    assert client.delete("/api/files/a/b/c.txt").text == "a/b/c.txt"


@pytest.mark.parametrize(
    "path", ["/api/items/five", "/api/echo/not-a-guid", "/api/nowhere", "/items/5", "/"]
)
def test_unknown_route_is_404_problem(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Not Found", "status": 404}


def test_wrong_method_is_405_problem_with_allow(client: httpx.Client) -> None:
    response = client.get(f"/api/echo/{GUID}")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "POST, PUT"
    assert response.json()["status"] == 405


@pytest.mark.parametrize("method", ["QUERY", "PROPFIND"])
def test_methods_unknown_to_http_server_are_routed_too(client: httpx.Client, method: str) -> None:
    response = client.request(method, f"/api/echo/{GUID}")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, PUT"
    assert client.request(method, "/api/nowhere").status_code == 404


def test_exception_is_500_problem_without_traceback(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="localdev.host")
    response = client.get("/api/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
    }
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    [failure] = [r for r in caplog.records if r.exc_info]
    assert "secret detail" in str(failure.exc_info[1])  # type: ignore[index]


def test_async_functions_are_awaited(client: httpx.Client) -> None:
    assert client.get("/api/async").text == "awaited"


def test_route_prefix_from_host_config() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="ping")
    def ping(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("pong")

    with LocalHost(app, port=0, config=HostConfig(route_prefix="")) as host:
        assert httpx.get(f"{host.base_url}/ping").text == "pong"
        assert httpx.get(f"{host.base_url}/api/ping").status_code == 404


def test_real_function_app_health_without_database(
    monkeypatch: pytest.MonkeyPatch, app_functions: dict[str, Function]
) -> None:
    """The project's app, indexed once per session by the shared fixture, served for real."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    reset_database()
    try:
        with LocalHost(app_functions.values(), port=0, timers=False, queues=False) as host:
            lines = host.describe()
            assert f"health: [GET] {host.base_url}/api/health" in lines
            # Every registered function is listed, whatever the app grows into.
            assert {line.split(":", 1)[0] for line in lines} == set(app_functions)
            response = httpx.get(f"{host.base_url}/api/health", timeout=10)
    finally:
        get_settings.cache_clear()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json()["database"] == "not_configured"


def test_port_is_closed_after_stop() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="ping")
    def ping(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("pong")

    with LocalHost(app, port=0) as host:
        url = f"{host.base_url}/api/ping"
        assert httpx.get(url).text == "pong"
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def test_stop_waits_for_running_invocations_within_the_drain_timeout() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    entered, release = threading.Event(), threading.Event()

    @app.route(route="slow")
    def slow(req: func.HttpRequest) -> func.HttpResponse:
        entered.set()
        release.wait(5)
        return func.HttpResponse("finished")

    functions = app.get_functions()  # indexed once, served twice
    responses: list[httpx.Response] = []
    host = LocalHost(functions, port=0).start()
    url = f"{host.base_url}/api/slow"
    caller = threading.Thread(target=lambda: responses.append(httpx.get(url, timeout=10)))
    caller.start()
    assert entered.wait(3)
    assert host.stop(drain_timeout=0.2) is False  # bounded: gives up on a stuck invocation
    release.set()
    caller.join(5)
    assert [r.text for r in responses] == ["finished"]  # and that request still completed

    entered.clear()
    release.clear()
    host = LocalHost(functions, port=0).start()
    url = f"{host.base_url}/api/slow"
    caller = threading.Thread(target=lambda: responses.append(httpx.get(url, timeout=10)))
    caller.start()
    assert entered.wait(3)
    threading.Timer(0.3, release.set).start()
    assert host.stop(drain_timeout=5) is True
    caller.join(5)
    assert [r.text for r in responses] == ["finished", "finished"]
