"""`make bench-alerts`: 1,000 status changes in one cycle, to their destinations.

100 teams with 10 channels each and 3 destinations each (Discord, Slack, a
signed webhook; 300 in all), every channel alerting `live` to all three: one
monitor write (`write_cycle`) takes 1,000 channels live in one transaction,
3,000 alerts. A delivery run (`Deliverer.run`, what the timer runs) is already
going, as in production; the destinations are the local alert sink with 80 ms
latency and 5 % of requests answered 429 (`Retry-After` 1 s, in Discord's
shape), in a process of its own. A fresh local database, removed at the end.

Prints figures as they come and, on the last line, one JSON object:

- `delivered`, `duplicates`, `lost`: alerts the sink accepted (each message is
  read back to the alerts it carries), accepted more than once, never accepted
  within the budget;
- `p50_s`, `p95_s`, `max_s`: from the cycle's commit to the sink receiving
  the request that carried the alert;
- `lower_bound_s`: the critical path if every request took the latency and
  nothing were limited (the webhook destinations: 10 requests each, one after
  another), next to `p95_s`;
- `write_s` (the cycle's write with the outbox, 3,000 rows) next to
  `write_without_alerts_s` (the same write for 1,000 other channels that no
  rule watches), same run.
"""

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from localdev import supabase
from localdev.alertsink import Received
from localdev.alertsink.server import RECORDS_PATH
from localdev.demo_alerts import owner_claims
from localdev.postgres import Cluster
from shared.alerts import service
from shared.alerts.delivery import Deliverer, DeliveryPolicy
from shared.alerts.models import DestinationCreate, RuleCreate
from shared.config import Settings
from shared.crypto import SecretBox
from shared.db import Database
from shared.monitor import store
from shared.monitor.state import ChannelOutcome, PlatformUsage, RunInfo
from shared.monitor.stitching import Observation, Rules

KINDS = {"discord": "/api/webhooks/{n}/bench", "slack": "/services/TB/B{n}/bench",
         "webhook": "/hooks/{n}"}  # fmt: skip
TEMPLATE = "{channel}|{event}"


Team = tuple[uuid.UUID, uuid.UUID, list[uuid.UUID], list[str]]
"""id, owner, channel ids, channel names"""


def _teams(db: Database, teams: int, per_team: int, prefix: str) -> list[Team]:
    """`teams` teams on the business plan with `per_team` channels each."""
    made = []
    with db.service() as conn:
        for t in range(teams):
            owner = uuid.uuid4()
            conn.execute(
                "insert into auth.users (id, email, aud, role, email_confirmed_at)"
                " values (%s, %s, 'authenticated', 'authenticated', now())",
                (owner, f"bench-{owner.hex[:10]}@example.test"),
            )
            row = conn.execute(
                "insert into public.teams (name, plan_id, created_by) values (%s, 'business', %s)"
                " returning id",
                (f"{prefix} {t}", owner),
            ).fetchone()
            assert row is not None
            channels = [uuid.uuid4() for _ in range(per_team)]
            names = [f"{prefix.lower()}{t}-{n}" for n in range(per_team)]
            conn.execute(
                "insert into public.channels (id, platform, platform_channel_id, display_name)"
                " select id, 'twitch', 'bench-' || id, name"
                " from unnest(%s::uuid[], %s::text[]) as u(id, name)",
                (channels, names),
            )
            conn.execute(
                "insert into public.team_channels (team_id, channel_id)"
                " select %s, id from unnest(%s::uuid[]) as u(id)",
                (row[0], channels),
            )
            made.append((row[0], owner, channels, names))
    return made


def _configure(
    db: Database, sink: "RemoteSink", settings: Settings, teams: list[Team]
) -> set[tuple[str, str]]:
    """Three destinations per team, each alerting every channel's `live`; the alerts
    expected, as (sink path, text)."""
    expected = set()
    n = 0
    for team_id, owner, _, names in teams:
        claims = owner_claims(owner)
        for kind, path in KINDS.items():
            n += 1
            where = path.format(n=n)
            body = DestinationCreate(kind=kind, name=kind, url=SecretStr(sink.url(where)))  # type: ignore[arg-type]  # fmt: skip
            made = service.create_destination(db, claims, team_id, body, settings)
            rule = RuleCreate(destination_id=made.id, event="live", template=TEMPLATE)  # type: ignore[arg-type]  # fmt: skip
            service.create_rule(db, claims, team_id, rule)
            expected |= {(where, f"{name}|went live") for name in names}
    return expected


def _write_cycle(db: Database, channels: list[uuid.UUID], at: datetime) -> float:
    """One monitor write taking `channels` live; seconds from the first SQL to the commit."""
    rules = Rules(grace=timedelta(minutes=10), max_gap=timedelta(minutes=10))
    began = time.perf_counter()
    with db.service() as conn:
        due = store.due_channels(conn, at, only=channels)
        outcomes = {
            c: ChannelOutcome(observation=Observation(at, True, f"s-{c.hex[:8]}", "Bench stream",
                                                      "Chess", 120, at - timedelta(seconds=30)))
            for c in channels
        }  # fmt: skip
        store.write_cycle(conn, due, outcomes, {"twitch": PlatformUsage(requests=10)}, rules,
                          RunInfo(started_at=at))  # fmt: skip
    return time.perf_counter() - began


def _alerts_in(request: Received) -> list[str]:
    """The alerts one accepted request carried, as `<channel>|live` texts."""
    body = request.json()
    if "embeds" in body:
        return [e["description"] for e in body["embeds"]]
    if "blocks" in body:
        return [b["text"]["text"].split("\n")[0] for b in body["blocks"]]
    return [body["data"]["message"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts")
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--channels-per-team", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=80)
    parser.add_argument("--rate-limited", type=float, default=0.05)
    parser.add_argument("--retry-after-s", type=float, default=1.0)
    parser.add_argument("--budget-s", type=float, default=60)
    parser.add_argument("--cluster", default="bench-alerts")
    args = parser.parse_args(argv)

    cluster = Cluster(args.cluster)
    cluster.destroy()
    key = os.urandom(32)
    try:
        url = supabase.up(cluster, seed=False)
        settings = Settings(
            database_url=url,
            alerts_allow_loopback=True,  # the sink listens on 127.0.0.1
            credentials_encryption_key=SecretStr(base64.b64encode(key).decode()),
        )
        # The pool the Functions worker has (DATABASE_POOL_MAX_SIZE): senders share it.
        db = Database(url, max_size=settings.database_pool_max_size)
        with RemoteSink(args.latency_ms, args.rate_limited, args.retry_after_s) as sink:
            result = _run(args, db, sink, settings, key)
        db.close()
    finally:
        cluster.destroy()
    targets = {
        "lost": result["lost"] == 0,
        "duplicates": result["duplicates"] == 0,
        "p95_s<=5": result["p95_s"] is not None and result["p95_s"] <= 5,
    }
    print(json.dumps({**result, "targets_met": targets}))
    return 0


def _run(
    args: argparse.Namespace, db: Database, sink: "RemoteSink", settings: Settings, key: bytes
) -> dict[str, Any]:
    began = time.perf_counter()
    watched = _teams(db, args.teams, args.channels_per_team, "Bench")
    quiet = [c for t in _teams(db, args.teams, args.channels_per_team, "Quiet") for c in t[2]]
    expected = _configure(db, sink, settings, watched)
    print(f"{len(watched)} teams, {len(watched) * len(KINDS)} destinations, "
          f"{sum(len(t[2]) for t in watched)} channels in "
          f"{time.perf_counter() - began:.1f} s", file=sys.stderr)  # fmt: skip
    at = datetime.now(UTC)
    [warm] = _teams(db, 1, 10, "Warm")
    _write_cycle(db, warm[2], at)  # the first write of a session pays for its caches
    quiet_s = _write_cycle(db, quiet, at)

    deliverer = Deliverer(db, SecretBox(key), service.client_for(settings),
                          DeliveryPolicy.from_settings(settings))  # fmt: skip
    report: dict[str, Any] = {}

    def deliver() -> None:
        done = deliverer.run(args.budget_s)
        report.update({name: getattr(done, name) for name in done.__slots__})

    running = threading.Thread(target=deliver, name="delivery-run", daemon=True)
    running.start()
    time.sleep(1.0)  # the run is up and idle, as the timer's would be
    changed = [c for t in watched for c in t[2]]
    write_s = _write_cycle(db, changed, at + timedelta(seconds=1))
    committed = time.time()
    print(f"cycle committed: {len(changed)} changes in {write_s:.2f} s", file=sys.stderr)
    deadline = time.monotonic() + args.budget_s - 2
    while time.monotonic() < deadline and not expected <= _seen(sink.received()):
        time.sleep(1.0)
    running.join(timeout=args.budget_s + 10)
    deliverer.close()

    counts: Counter[tuple[str, str]] = Counter()
    latency: dict[tuple[str, str], float] = {}
    received = sink.received()
    for request in received:
        for alert in _alerts_in(request):
            counts[(request.path, alert)] += 1
            latency.setdefault((request.path, alert), request.at - committed)
    got = set(counts) & expected
    waits = sorted(latency[k] for k in got)
    return {
        "changes": len(changed),
        "teams": len(watched),
        "destinations": len(watched) * len(KINDS),
        "alerts": len(expected),
        "delivered": len(got),
        "duplicates": sum(n - 1 for k, n in counts.items() if k in expected),
        "lost": len(expected - got),
        "unexpected": len(set(counts) - expected),
        "p50_s": round(statistics.median(waits), 3) if waits else None,
        "p95_s": round(waits[int(0.95 * (len(waits) - 1))], 3) if waits else None,
        "max_s": round(waits[-1], 3) if waits else None,
        # the webhook destinations: one request per alert, one after another
        "lower_bound_s": round(args.channels_per_team * args.latency_ms / 1000, 3),
        "requests": report.get("requests"),
        "rate_limited": sink.rate_limited(),
        "write_s": round(write_s, 3),
        "write_without_alerts_s": round(quiet_s, 3),
        "latency_ms": args.latency_ms,
        "rate_limited_share": args.rate_limited,
    }


def _seen(received: list[Received]) -> set[tuple[str, str]]:
    return {(r.path, a) for r in received for a in _alerts_in(r)}


class RemoteSink:
    """The alert sink in a process of its own (`python -m localdev.alertsink`), so its
    work is not on this process's interpreter, as a real destination's would not be."""

    def __init__(self, latency_ms: float, rate_limited: float, retry_after_s: float) -> None:
        self._args = ["--latency-ms", str(latency_ms), "--rate-limited", str(rate_limited),
                      "--retry-after-s", str(retry_after_s), "--seed", "15"]  # fmt: skip
        self._proc: subprocess.Popen[str] | None = None
        self.base = ""

    def __enter__(self) -> "RemoteSink":
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "localdev.alertsink", *self._args],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self._proc.stdout is not None
        self.base = self._proc.stdout.readline().strip()
        if not self.base.startswith("http://127.0.0.1:"):
            raise RuntimeError("the alert sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)

    def url(self, path: str) -> str:
        return self.base + path

    def _records(self) -> dict[str, Any]:
        answer = httpx.get(self.base + RECORDS_PATH, timeout=30)
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]

    def received(self) -> list[Received]:
        return [
            Received(r["path"], r["headers"], base64.b64decode(r["body"]), r["at"])
            for r in self._records()["received"]
        ]

    def rate_limited(self) -> int:
        return int(self._records()["rate_limited"])


if __name__ == "__main__":
    sys.exit(main())
