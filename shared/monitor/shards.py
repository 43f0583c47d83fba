"""Scale-out: a cycle split into shards carried by an Azure Storage queue.

The timer enqueues one `ShardMessage` per shard when the due channels exceed
`MONITOR_SHARD_SIZE`; the queue-triggered function runs each shard as a cycle
restricted to its channels. Messages are base64-encoded, as the Functions
host's queue trigger expects by default; a message that keeps failing goes to
`<queue>-poison` after host.json's `maxDequeueCount`.

`UseDevelopmentStorage=true` (the local settings' value) is resolved by the
Azure Storage SDK itself, to Azurite's well-known account on 127.0.0.1; this
module only normalises the flag's spelling, and holds no development key.
"""

from datetime import datetime
from uuid import UUID

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.telemetry.context import TRACEPARENT

DEVELOPMENT_STORAGE = "UseDevelopmentStorage=true"


def normalize_connection_string(value: str) -> str:
    """The connection string for the SDK: `UseDevelopmentStorage=true` in any case
    (other fields ignored, as the host does) in the one spelling the SDK reads."""
    fields = dict(p.split("=", 1) for p in value.strip().rstrip(";").split(";") if "=" in p)
    flags = {k.lower(): v.lower() for k, v in fields.items()}
    if flags.get("usedevelopmentstorage") == "true":
        return DEVELOPMENT_STORAGE
    return value


# Stay well below the queue's 64 KiB message limit (base64 adds a third).
MAX_CHANNELS_PER_MESSAGE = 1_000


class ShardMessage(BaseModel):
    """One shard of a monitoring cycle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cycle_id: UUID
    shard_index: int = Field(ge=0)
    shard_count: int = Field(ge=1)
    scheduled_at: datetime
    """When the timer dispatched the cycle (aware UTC)."""
    channel_ids: list[UUID] = Field(min_length=1, max_length=MAX_CHANNELS_PER_MESSAGE)
    past_due: bool = False
    traceparent: str | None = Field(default=None, max_length=55)
    """The dispatching timer's W3C trace context: the shard continues its trace (timer
    and queue invocations are not correlated by the host). Absent in older messages."""

    @model_validator(mode="after")
    def _index_below_count(self) -> "ShardMessage":
        if self.shard_index >= self.shard_count:
            raise ValueError("shard_index must be below shard_count")
        if self.scheduled_at.tzinfo is None:
            raise ValueError("scheduled_at must carry a time zone")
        if self.traceparent is not None and not TRACEPARENT.match(self.traceparent):
            raise ValueError("traceparent must be a W3C traceparent (version 00)")
        return self


def queue_client(connection_string: str, queue_name: str) -> QueueClient:
    """A client that speaks the Functions host's base64 message encoding."""
    return QueueClient.from_connection_string(
        connection_string,
        queue_name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
    )


def enqueue(client: QueueClient, messages: list[ShardMessage]) -> None:
    try:
        client.create_queue()
    except ResourceExistsError:
        pass
    for message in messages:
        client.send_message(message.model_dump_json())
