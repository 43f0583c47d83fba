"""Scale-out: the timer dispatches shards through a real Azurite queue, and the
queue function (served by the local host like the Functions host would) runs them."""

import base64
import os
import time
from collections.abc import Iterator

import pytest
from azure.functions.decorators.function_app import Function
from azure.storage.queue import QueueClient

from localdev.azurite import Azurite
from localdev.host.localhost import LocalHost
from localdev.host.settings import HostConfig
from localdev.sandbox import Sandbox
from localdev.seeding import DemoTeam, register
from shared.config import Settings, get_settings
from shared.crypto import SecretBox
from shared.db import Database, reset_database
from shared.monitor import service
from shared.monitor.shards import ShardMessage

QUEUE = "monitor-shards-test"


@pytest.fixture
def azurite() -> Iterator[Azurite]:
    with Azurite() as running:
        yield running


def wait_for(condition, timeout: float = 30) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_shards_round_trip(
    database: Database,
    database_url: str,
    azurite: Azurite,
    app_functions: dict[str, Function],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = os.urandom(32)
    # Twitch and Rumble only: YouTube's staggered first discovery would leave
    # some channels pending, which is not what this test is about.
    with Sandbox(seed=77, channels=45, mix="twitch=0.6,rumble=0.4", rate=0) as sb:
        env = {
            **sb.settings_env(),
            "DATABASE_URL": database_url,
            "AzureWebJobsStorage": azurite.connection_string,
            "MONITOR_QUEUE_NAME": QUEUE,
            "MONITOR_SHARD_SIZE": "20",
            "CREDENTIALS_ENCRYPTION_KEY": base64.b64encode(key).decode(),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        reset_database()
        registered = register(
            database, sb.channels(), [DemoTeam("Shards", "business")], SecretBox(key)
        )
        mine = list(registered.channels.values())

        # Other tests' channels are due too: shard only ours, as the timer would.
        monkeypatch.setattr(service, "due_channel_ids", lambda _db, _now: mine)
        result = service.tick(settings=Settings(), database=database, clock=sb.clock.now)
        assert result.report is None
        assert len(result.dispatched) == 3  # 45 channels, 20 per shard
        assert sorted(len(m.channel_ids) for m in result.dispatched) == [5, 20, 20]
        cycle_id = result.dispatched[0].cycle_id

        # A malformed message must end in the poison queue, not loop forever.
        raw = QueueClient.from_connection_string(azurite.connection_string, QUEUE)
        raw.send_message(base64.b64encode(b'{"cycle_id": "not a uuid"}').decode())

        config = HostConfig(max_dequeue_count=2, max_polling_interval=0.2)
        with LocalHost(list(app_functions.values()), config=config, timers=False, queues=True):

            def runs() -> int:
                with database.service() as conn:
                    row = conn.execute(
                        "select count(*) from public.monitor_runs where cycle_id = %s",
                        (cycle_id,),
                    ).fetchone()
                return int(row[0]) if row else 0

            assert wait_for(lambda: runs() == 3)
            poison = QueueClient.from_connection_string(
                azurite.connection_string, f"{QUEUE}-poison"
            )
            assert wait_for(lambda: poison.get_queue_properties().approximate_message_count == 1)
    reset_database()
    get_settings.cache_clear()
    with database.service() as conn:
        rows = conn.execute(
            "select trigger, shard_index, shard_count, channels_checked from public.monitor_runs"
            " where cycle_id = %s order by shard_index",
            (cycle_id,),
        ).fetchall()
        samples = conn.execute(
            "select count(distinct channel_id) from public.viewer_samples"
            " where channel_id = any(%s)",
            (mine,),
        ).fetchone()
    assert [r[:3] for r in rows] == [("queue", 0, 3), ("queue", 1, 3), ("queue", 2, 3)]
    assert sum(r[3] for r in rows) == 45
    assert samples == (45,)


def test_a_shard_message_is_validated() -> None:
    with pytest.raises(ValueError, match="shard_index"):
        ShardMessage.model_validate(
            {
                "cycle_id": "00000000-0000-0000-0000-000000000001",
                "shard_index": 2,
                "shard_count": 2,
                "scheduled_at": "2026-11-24T12:00:00Z",
                "channel_ids": ["00000000-0000-0000-0000-000000000002"],
            }
        )
