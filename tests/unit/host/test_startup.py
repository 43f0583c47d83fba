"""Starting the host: what it refuses, what it reads, and the command line end to end."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import azure.functions as func
import httpx
import pytest

from localdev import REPO_ROOT
from localdev.host import HostError, LocalHost
from localdev.host.cli import build_parser
from localdev.host.settings import (
    EnvironmentOverlay,
    read_host_json,
    read_local_settings,
    resolve_app_settings,
)


def anonymous_app() -> func.FunctionApp:
    return func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def test_output_binding_it_cannot_serve_fails_with_one_clear_line() -> None:
    app = anonymous_app()

    @app.route(route="enqueue")
    @app.queue_output(arg_name="out", queue_name="jobs", connection="AzureWebJobsStorage")
    def enqueue(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
        return func.HttpResponse()

    with pytest.raises(HostError) as caught:
        LocalHost(app, port=0)
    message = str(caught.value)
    assert "\n" not in message
    assert "'enqueue'" in message
    assert "'out'" in message
    assert "queue" in message


def test_trigger_it_cannot_serve_fails_the_start() -> None:
    app = anonymous_app()

    @app.blob_trigger(arg_name="blob", path="uploads/{name}", connection="AzureWebJobsStorage")
    def on_upload(blob: func.InputStream) -> None:
        pass

    with pytest.raises(HostError, match=r"'on_upload'.*'blob' \(blobTrigger, in\)"):
        LocalHost(app, port=0)


def test_parameter_without_binding_fails_the_start() -> None:
    app = anonymous_app()

    @app.route(route="ctx")
    def with_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return func.HttpResponse()

    with pytest.raises(HostError, match="parameter 'context'"):
        LocalHost(app, port=0)


def test_bad_route_template_fails_the_start() -> None:
    app = anonymous_app()

    @app.route(route="items/{id:nosuch}")
    def items(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse()

    with pytest.raises(HostError, match="nosuch"), LocalHost(app, port=0):
        pass


def test_host_json_options(tmp_path: Path) -> None:
    path = tmp_path / "host.json"
    path.write_text(
        json.dumps(
            {
                "version": "2.0",
                "functionTimeout": "00:05:00",
                "extensions": {
                    "http": {"routePrefix": "/v1/"},
                    "queues": {
                        "batchSize": 4,
                        "maxDequeueCount": 3,
                        "visibilityTimeout": "00:00:30",
                        "maxPollingInterval": "00:00:01.500",
                        "messageEncoding": "none",
                    },
                },
            }
        )
    )
    config = read_host_json(path)
    assert config.route_prefix == "v1"
    assert (config.batch_size, config.batch_threshold, config.max_dequeue_count) == (4, 2, 3)
    assert config.visibility_timeout == 30
    assert config.max_polling_interval == 1.5
    assert config.message_encoding == "none"
    assert config.function_timeout == 300


def test_project_host_json_defaults() -> None:
    config = read_host_json(REPO_ROOT / "host.json")
    assert (config.route_prefix, config.batch_size, config.max_dequeue_count) == ("api", 16, 5)


def test_local_settings_fall_back_to_the_example(tmp_path: Path) -> None:
    example = tmp_path / "local.settings.example.json"
    example.write_text(json.dumps({"IsEncrypted": False, "Values": {"A": "1"}}))
    settings = read_local_settings(tmp_path / "local.settings.json", fallback=example)
    assert settings is not None
    assert settings.path == example
    assert settings.values == {"A": "1"}


def test_local_settings_values_must_be_strings(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"Values": {"PORT": 5}}))
    with pytest.raises(HostError, match="PORT"):
        read_local_settings(path)


def test_environment_wins_over_settings_and_overlay_is_undone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOST_TEST_SET", "from-env")
    monkeypatch.delenv("HOST_TEST_NEW", raising=False)
    overlay = EnvironmentOverlay()
    kept = overlay.apply({"HOST_TEST_SET": "from-file", "HOST_TEST_NEW": "from-file"})
    assert kept == ["HOST_TEST_SET"]
    assert os.environ["HOST_TEST_SET"] == "from-env"
    assert os.environ["HOST_TEST_NEW"] == "from-file"
    overlay.restore()
    assert "HOST_TEST_NEW" not in os.environ
    assert os.environ["HOST_TEST_SET"] == "from-env"


def test_app_settings_in_binding_expressions() -> None:
    env = {"QUEUE": "jobs"}
    assert resolve_app_settings("%QUEUE%-in", "queueName", env) == "jobs-in"
    with pytest.raises(HostError, match="'MISSING'"):
        resolve_app_settings("%MISSING%", "queueName", env)


def test_help_says_the_environment_wins() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "a variable already set in the environment wins" in text
    assert "--no-timers" in text


SAMPLE_APP = """
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="greet", methods=["GET"])
def greet(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(os.environ["GREETING"] + "," + os.environ["OTHER"])
"""


def test_command_line_serves_then_exits_0_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "host_sample_app.py").write_text(textwrap.dedent(SAMPLE_APP))
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0"}))
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"Values": {"GREETING": "file", "OTHER": "file"}})
    )
    env = {**os.environ, "GREETING": "env"}
    env.pop("OTHER", None)
    command = [sys.executable, "-m", "localdev", "host", "--port", "0"]
    command += ["--script-root", str(tmp_path), "--app", "host_sample_app:app"]
    with subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            listing = []
            for line in process.stdout:
                listing.append(line.strip())
                if line.startswith("Host started on"):
                    break
            base_url = listing[-1].split()[3].rstrip(".")
            assert f"greet: [GET] {base_url}/api/greet" in listing
            assert httpx.get(f"{base_url}/api/greet", timeout=5).text == "env,file"
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0
        finally:
            if process.poll() is None:
                process.kill()
        assert process.stderr is not None
        log = process.stderr.read()
    assert "function keys are not enforced locally" in log
    assert "greet (FUNCTION)" in log
