"""Push against the sandbox: deliveries sent in process to the app's callback service.

The sandbox's fake platforms build every delivery and handshake in their wire
format (headers, body, signature); `callbacks` hands each to
`shared.push.receive.receive` as the HTTP function would, with the sandbox's
simulated clock as "now".
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from localdev.sandbox import Sandbox
from localdev.sandbox.kick_events import public_pem
from localdev.sandbox.push import Outgoing
from shared.config import Settings
from shared.db import Database
from shared.monitor import store
from shared.monitor.state import ChannelOutcome, PlatformUsage, RunInfo
from shared.monitor.stitching import Rules
from shared.platforms.polling import Observation, PollTarget
from shared.platforms.push import PushRefused, PushRequest
from shared.push.receive import receive

RULES = Rules(grace=timedelta(minutes=10), max_gap=timedelta(minutes=10))
CALLBACK_BASE = "https://streamtrack.example.test"
EVENTSUB_SECRET = "sandbox-eventsub-secret-0123"
WEBSUB_SECRET = "sandbox-websub-secret"


def push_settings(sandbox: Sandbox, **extra: Any) -> Settings:
    values: dict[str, Any] = {k.lower(): v for k, v in sandbox.settings_env().items()}
    values |= {
        "push_callback_base_url": CALLBACK_BASE,
        "twitch_eventsub_secret": SecretStr(EVENTSUB_SECRET),
        "youtube_websub_secret": SecretStr(WEBSUB_SECRET),
        "kick_webhook_public_key": public_pem(),
    }
    return Settings(**(values | extra))


def callbacks(
    db: Database, settings: Settings, sandbox: Sandbox, log: list[tuple[str, int]] | None = None
) -> Callable[[Outgoing], tuple[int, bytes]]:
    def send(out: Outgoing) -> tuple[int, bytes]:
        path = urlsplit(out.url).path
        platform = path.removeprefix("/api/push/")
        request = PushRequest(
            out.method, {k.lower(): v for k, v in out.headers.items()}, dict(out.query), out.body
        )
        try:
            answer = receive(db, platform, request, settings, sandbox.clock.now())
        except PushRefused as exc:
            if log is not None:
                log.append((platform, exc.status))
            return exc.status, str(exc).encode()
        if log is not None:
            log.append((platform, answer.status))
        return answer.status, answer.body.encode()

    return send


def connect(
    db: Database, settings: Settings, sandbox: Sandbox, log: list[tuple[str, int]] | None = None
) -> None:
    sandbox.push_to(
        callbacks(db, settings, sandbox, log), kick_webhook_url=f"{CALLBACK_BASE}/api/push/kick"
    )


@dataclass
class Scripted:
    """A platform fetcher answering what the test says (the platform side of a poll)."""

    platform: str
    answers: dict[str, Observation] = field(default_factory=dict)
    asked: list[list[PollTarget]] = field(default_factory=list)
    concurrency: int = 1

    @property
    def client(self) -> Any:
        raise NotImplementedError

    def fetch(
        self, channels: Sequence[PollTarget], now: datetime, deadline: float
    ) -> tuple[dict[uuid.UUID, ChannelOutcome], PlatformUsage]:
        self.asked.append(list(channels))
        got = {
            c.id: ChannelOutcome(observation=self.answers[c.platform_channel_id])
            for c in channels
            if c.platform_channel_id in self.answers
        }
        return got, PlatformUsage(requests=1)


def channel(database: Database, team: uuid.UUID, platform: str, pcid: str) -> uuid.UUID:
    cid = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id) values (%s, %s, %s)",
            (cid, platform, pcid),
        )
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)", (team, cid)
        )
    return cid


def unique_pcid() -> str:
    return str(uuid.uuid4().int % 10**12)


def poll(database: Database, cid: uuid.UUID, obs: Observation) -> None:
    with database.service() as conn:
        due = store.due_channels(conn, obs.observed_at, only=[cid])
        store.write_cycle(
            conn, due, {cid: ChannelOutcome(observation=obs)}, {}, RULES,
            RunInfo(started_at=obs.observed_at),
        )  # fmt: skip
