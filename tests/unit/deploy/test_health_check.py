"""The deploy workflow's health probe, against a real HTTP server on 127.0.0.1."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.unit.deploy import load_script

health_check = load_script("health_check")

Answer = tuple[int, bytes]


class Scripted:
    """A server that answers /api/health with the given responses, then repeats the last."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.requests = 0

        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                index = min(scripted.requests, len(scripted.answers) - 1)
                scripted.requests += 1
                status, body = scripted.answers[index]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/health"

    def answer(self, *answers: Answer) -> None:
        self.answers = list(answers)


def report(status: str = "ok", **extra: str) -> bytes:
    body = {"status": status, "version": "0.1.0", "database": "reachable", **extra}
    return json.dumps(body).encode()


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted = Scripted()
    thread = threading.Thread(target=scripted.server.serve_forever, daemon=True)
    thread.start()
    yield scripted
    scripted.server.shutdown()
    scripted.server.server_close()


def wait(
    url: str, attempts: int = 5, expect_commit: str | None = None, strict: bool = False
) -> tuple[bool, list[str]]:
    lines: list[str] = []
    healthy = health_check.wait_healthy(
        url,
        attempts=attempts,
        interval_s=0,
        timeout_s=5,
        expect_commit=expect_commit,
        sleep=lambda _s: None,
        out=lines.append,
        strict=strict,
    )
    return healthy, lines


def test_retries_an_unhealthy_answer_until_healthy(server: Scripted) -> None:
    server.answer((503, report("unhealthy")), (503, report("unhealthy")), (200, report()))
    healthy, lines = wait(server.url)
    assert healthy
    assert server.requests == 3
    assert lines[0].startswith("health 1/5: HTTP 503")
    assert lines[-1].startswith("health 3/5: HTTP 200")


def test_gives_up_after_the_last_attempt(server: Scripted) -> None:
    server.answer((503, report("unhealthy")))
    healthy, lines = wait(server.url, attempts=3)
    assert not healthy
    assert server.requests == 3
    assert len(lines) == 3


@pytest.mark.parametrize(
    "answer",
    [
        (200, b"<html>Function host is starting</html>"),  # not JSON
        (200, b"[]"),  # JSON but not a report
        (200, report("unhealthy")),
        (200, report("starting")),  # a status the endpoint never answers
        (500, report()),
        (503, report("degraded")),
    ],
)
def test_only_200_with_status_ok_or_degraded_is_healthy(server: Scripted, answer: Answer) -> None:
    server.answer(answer)
    healthy, _ = wait(server.url, attempts=1)
    assert not healthy


def test_degraded_passes_with_a_warning_unless_strict(server: Scripted) -> None:
    server.answer((200, report("degraded")))
    healthy, lines = wait(server.url, attempts=1)
    assert healthy
    assert "WARNING degraded" in lines[0]
    strict, _ = wait(server.url, attempts=1, strict=True)
    assert not strict


def test_a_previous_package_still_serving_does_not_pass(server: Scripted) -> None:
    server.answer((200, report(commit="old")), (200, report(commit="new")))
    healthy, lines = wait(server.url, expect_commit="new")
    assert healthy
    assert "still the previous package" in lines[0]
    assert server.requests == 2


def test_a_report_without_commit_is_accepted(server: Scripted) -> None:
    server.answer((200, report()))
    healthy, _ = wait(server.url, expect_commit="abc")
    assert healthy


def test_unreachable_host_fails_and_the_cli_exits_1(server: Scripted) -> None:
    url = server.url
    server.server.shutdown()
    server.server.server_close()
    code = health_check.main([url, "--attempts", "2", "--interval", "0", "--timeout", "2"])
    assert code == 1


def test_cli_exits_0_when_healthy(server: Scripted) -> None:
    server.answer((200, report()))
    assert health_check.main([server.url, "--attempts", "1"]) == 0
