"""Azurite's queue service starts, speaks the Storage queue API, and stops."""

import socket

from azure.storage.queue import QueueClient

from localdev.azurite import AZURITE_ACCOUNT as ACCOUNT_NAME
from localdev.azurite import Azurite


def test_queue_round_trip_then_port_closed() -> None:
    with Azurite() as azurite:
        assert f"QueueEndpoint=http://127.0.0.1:{azurite.port}/{ACCOUNT_NAME}" in (
            azurite.connection_string
        )
        queue = QueueClient.from_connection_string(azurite.connection_string, "round-trip")
        queue.create_queue()
        queue.send_message("hello")
        [message] = list(queue.receive_messages(max_messages=1, visibility_timeout=5))
        assert message.content == "hello"
        assert message.dequeue_count == 1
        queue.delete_message(message)
        assert list(queue.receive_messages(max_messages=1)) == []
        queue.close()
        port = azurite.port
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
