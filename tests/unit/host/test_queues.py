"""Queue triggers against a real Azurite: base64 bodies, delete on success, poison on failure."""

import base64
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import azure.functions as func
import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, QueueMessage, TextBase64EncodePolicy

from localdev.azurite import Azurite
from localdev.host import HostConfig, LocalHost
from localdev.host.queues import connection_string, decode_body

FAST = HostConfig(max_dequeue_count=2, visibility_timeout=0, max_polling_interval=0.2)


@pytest.fixture(scope="module")
def storage() -> Iterator[str]:
    with Azurite() as azurite:
        yield azurite.connection_string


def queue_app(queue_name: str, handler: Callable[[func.QueueMessage], None]) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    app.queue_trigger(arg_name="msg", queue_name=queue_name, connection="TestStorage")(
        app.function_name("work")(handler)
    )
    return app


def client(storage: str, name: str, *, base64_encode: bool = True) -> QueueClient:
    """A client for the queue, created here if the host has not yet."""
    policy = TextBase64EncodePolicy() if base64_encode else None
    queue = QueueClient.from_connection_string(storage, name, message_encode_policy=policy)
    try:
        queue.create_queue()
    except ResourceExistsError:
        pass
    return queue


def peek(queue: QueueClient) -> list[QueueMessage]:
    return list(queue.peek_messages(max_messages=32))


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_message_is_processed_once_and_deleted(storage: str) -> None:
    name = f"work-{uuid.uuid4().hex[:8]}"
    seen: list[func.QueueMessage] = []
    done = threading.Event()

    def work(msg: func.QueueMessage) -> None:
        seen.append(msg)
        done.set()

    with (
        LocalHost(queue_app(name, work), port=0, settings={"TestStorage": storage}, config=FAST),
        client(storage, name) as queue,
    ):
        sent = queue.send_message('{"channel": "héllo"}')
        assert done.wait(5)
        assert wait_for(lambda: not peek(queue), 3)
        time.sleep(0.3)  # long enough for a second delivery to show up, were there one
    [msg] = seen
    assert isinstance(msg, func.QueueMessage)
    assert msg.get_body() == '{"channel": "héllo"}'.encode()
    assert msg.get_json() == {"channel": "héllo"}
    assert msg.id == sent.id
    assert msg.dequeue_count == 1
    assert msg.insertion_time is not None
    assert msg.expiration_time is not None
    assert msg.pop_receipt


def test_failing_message_moves_to_poison_after_max_dequeue_count(storage: str) -> None:
    name = f"fail-{uuid.uuid4().hex[:8]}"
    attempts: list[int | None] = []

    def work(msg: func.QueueMessage) -> None:
        attempts.append(msg.dequeue_count)
        raise RuntimeError("always")

    with (
        LocalHost(queue_app(name, work), port=0, settings={"TestStorage": storage}, config=FAST),
        client(storage, name) as queue,
        client(storage, f"{name}-poison", base64_encode=False) as poison,
    ):
        queue.send_message("payload")
        assert wait_for(lambda: bool(peek(poison)), 10)
        [moved] = peek(poison)
        assert not peek(queue)
    assert attempts == [1, 2]
    assert base64.b64decode(moved.content) == b"payload"  # moved as stored, still base64


def test_body_that_is_not_base64_fails_without_reaching_the_function(storage: str) -> None:
    name = f"raw-{uuid.uuid4().hex[:8]}"
    calls: list[func.QueueMessage] = []
    config = HostConfig(max_dequeue_count=1, max_polling_interval=0.2)

    def work(msg: func.QueueMessage) -> None:
        calls.append(msg)

    app = queue_app(name, work)
    with (
        LocalHost(app, port=0, settings={"TestStorage": storage}, config=config),
        client(storage, name, base64_encode=False) as queue,
        client(storage, f"{name}-poison", base64_encode=False) as poison,
    ):
        queue.send_message("not base64!")
        assert wait_for(lambda: bool(peek(poison)), 5)
    assert calls == []


def test_development_storage_means_azurite_on_10001() -> None:
    env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    conn = connection_string("AzureWebJobsStorage", env)
    assert conn is not None
    assert "AccountName=devstoreaccount1" in conn
    assert "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1" in conn
    # The host also looks the setting up with the AzureWebJobs prefix.
    assert connection_string("Storage", env) == conn
    assert connection_string("Missing", env) is None


def test_message_encoding() -> None:
    assert decode_body(base64.b64encode(b"\x00\xff").decode(), "base64") == b"\x00\xff"
    assert decode_body("plain", "none") == b"plain"
    with pytest.raises(ValueError, match="base64"):
        decode_body("not base64!", "base64")
