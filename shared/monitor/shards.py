"""Scale-out: a cycle split into shards carried by an Azure Storage queue.

The timer enqueues one `ShardMessage` per shard when the due channels exceed
`MONITOR_SHARD_SIZE`; the queue-triggered function runs each shard as a cycle
restricted to its channels. Messages are base64-encoded, as the Functions
host's queue trigger expects by default; a message that keeps failing goes to
`<queue>-poison` after host.json's `maxDequeueCount`.
"""

from datetime import datetime
from uuid import UUID

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy
from pydantic import BaseModel, ConfigDict, Field, model_validator

# Azurite's published development account: the same on every machine, not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_QUEUE_PORT = 10001


def azurite_connection_string(port: int = AZURITE_QUEUE_PORT, host: str = "127.0.0.1") -> str:
    """A storage connection string for Azurite's queue service at host:port."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"QueueEndpoint=http://{host}:{port}/{AZURITE_ACCOUNT};"
    )


def resolve_connection_string(value: str) -> str:
    """`UseDevelopmentStorage=true` (any case, other fields ignored) means local Azurite."""
    fields = dict(p.split("=", 1) for p in value.strip().rstrip(";").split(";") if "=" in p)
    flags = {k.lower(): v.lower() for k, v in fields.items()}
    if flags.get("usedevelopmentstorage") == "true":
        return azurite_connection_string()
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

    @model_validator(mode="after")
    def _index_below_count(self) -> "ShardMessage":
        if self.shard_index >= self.shard_count:
            raise ValueError("shard_index must be below shard_count")
        if self.scheduled_at.tzinfo is None:
            raise ValueError("scheduled_at must carry a time zone")
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
