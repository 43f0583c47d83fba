"""`make bench-monitor BENCH_ARGS="--scale"`: the monitor at 10,000, 30,000 and
100,000 channels, sharded as production shards.

Per size: a fresh local database, the platform sandbox in its own process
(80 ms latency), a private Azurite queue and as many worker processes as the
machine has cores. Each cycle is the timer's own code (`service.tick`, which
enqueues one shard per MONITOR_SHARD_SIZE due channels once they exceed it)
and the queue function's own code (`service.process_shard` on each message,
parsed as `functions/monitor.py` parses it) in the workers. Simulated time as
in the one-cycle bench: the cycle's clock is the shard's `scheduled_at`.

Per size, on the last line's JSON (`sizes`): `wall_s` (tick to the last shard
written), `cpu_ms_per_request` and `cpu_ms_per_channel` (`shard_cpu_s`: the
workers' CPU, every thread, while running the measured cycle's shards;
`workers_cpu_s` adds their queue polling, the host's job in production; the
timer's tick is `tick_cpu_s`, the sandbox's CPU `sandbox_cpu_s`),
`peak_rss_mb_per_worker`, `requests` and `min_requests`, shards.
`cpu_per_channel_vs_smallest` compares each size with the smallest one
measured in the same run.
"""

import argparse
import base64
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from bench.monitor import MIX, platform_of, process_cpu_s, start_sandbox
from localdev import supabase
from localdev.azurite import Azurite
from localdev.postgres import Cluster
from localdev.sandbox.platforms import endpoint_counters
from localdev.seeding import DemoTeam, register
from shared.config import Settings
from shared.crypto import SecretBox
from shared.db import Database
from shared.monitor import service
from shared.monitor.shards import ShardMessage, queue_client
from shared.platforms.polling import CYCLE_S

SIZES = (10_000, 30_000, 100_000)
QUEUE = "monitor-shards-bench"


# --- the worker process ---------------------------------------------------------------


def worker() -> int:
    """Take shards off the queue until told to stop; one JSON line per shard done."""
    settings = Settings()
    sim = {"now": datetime.fromisoformat("2000-01-01T00:00:00+00:00")}
    fetchers = service.build_fetchers(settings, clock=lambda: sim["now"])
    db = Database(str(settings.database_url), max_size=2)
    client = queue_client(service.storage_connection(settings), settings.monitor_queue_name)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    try:
        while not stop.is_set():
            got = False
            for message in client.receive_messages(messages_per_page=1, visibility_timeout=300):
                got = True
                cpu, started = time.process_time(), time.perf_counter()
                # As functions/monitor.py reads a queue message.
                shard = ShardMessage.model_validate_json(message.content)
                sim["now"] = shard.scheduled_at
                report = service.process_shard(
                    shard, settings=settings, database=db, fetchers=fetchers,
                    clock=lambda s=shard: s.scheduled_at,
                )  # fmt: skip
                client.delete_message(message)
                line = {
                    "cycle_id": str(shard.cycle_id),
                    "shard_index": shard.shard_index,
                    "cpu_s": time.process_time() - cpu,
                    "wall_s": time.perf_counter() - started,
                    "finished": time.time(),
                    "channels": report.channels_checked,
                    "pending": report.channels_pending,
                    "requests": report.requests,
                    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
                print(json.dumps(line), flush=True)
                break
            if not got:
                time.sleep(0.05)
    finally:
        db.close()
    return 0


# --- the orchestrator -----------------------------------------------------------------


class Workers:
    """`n` worker processes and the shard reports they print."""

    def __init__(self, n: int, env: dict[str, str]) -> None:
        self.lock = threading.Condition()
        self.done: list[dict[str, Any]] = []
        command = [sys.executable, "-m", "bench.scale", "--worker"]
        self.procs = [
            subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, **env},
            )
            for _ in range(n)
        ]
        for proc in self.procs:
            threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                report = {**json.loads(line), "pid": proc.pid}
                with self.lock:
                    self.done.append(report)
                    self.lock.notify_all()

    def wait_for(self, cycle_id: str, shards: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                mine = [r for r in self.done if r["cycle_id"] == cycle_id]
                if len(mine) >= shards:
                    return mine
                if any(p.poll() is not None for p in self.procs):
                    raise RuntimeError("a worker process died")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(mine)} of {shards} shards done in {timeout} s")
                self.lock.wait(min(left, 1.0))

    def cpu_s(self) -> float:
        return sum(process_cpu_s(p.pid) or 0.0 for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def measure(channels: int, args: argparse.Namespace) -> dict[str, Any]:
    cluster = Cluster("bench")
    cluster.destroy()
    url = supabase.up(cluster, seed=False)
    proc, env = start_sandbox(channels, args.latency_ms, args.seed)
    control = env["TWITCH_API_URL"].removesuffix("/twitch/helix") + "/_sandbox"
    db = Database(url, max_size=2)
    azurite = Azurite().start()
    workers: Workers | None = None
    try:
        key = os.urandom(32)
        worker_env = {
            **env,
            "DATABASE_URL": url,
            "CREDENTIALS_ENCRYPTION_KEY": base64.b64encode(key).decode(),
            "AzureWebJobsStorage": azurite.connection_string,
            "MONITOR_QUEUE_NAME": QUEUE,
        }
        settings = Settings(
            database_url=url,
            credentials_encryption_key=SecretStr(worker_env["CREDENTIALS_ENCRYPTION_KEY"]),
            azure_storage_connection=azurite.connection_string,
            monitor_queue_name=QUEUE,
            **{k.lower(): v for k, v in env.items()},
        )
        with httpx.Client(timeout=30) as http:
            population: list[dict[str, Any]] = http.get(f"{control}/channels").json()["channels"]
            started = time.perf_counter()
            # One statement per table for the whole population: no statement timeout.
            seeding = Database(url, max_size=1, statement_timeout_ms=0)
            try:
                register(seeding, population, [DemoTeam("Bench", "business")], SecretBox(key))
            finally:
                seeding.close()
            print(f"{channels}: registered in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)  # fmt: skip
            sim = {"now": datetime.fromisoformat(http.get(f"{control}/clock").json()["now"])}
            workers = Workers(args.workers, worker_env)

            def cycle() -> tuple[float, float, list[dict[str, Any]], int]:
                began, tick_cpu = time.time(), time.process_time()
                result = service.tick(settings=settings, database=db, clock=lambda: sim["now"])
                tick_cpu = time.process_time() - tick_cpu
                assert workers is not None
                if result.report is not None:  # not sharded: ran here
                    raise RuntimeError("the cycle was not sharded: raise --channels")
                cycle_id = str(result.dispatched[0].cycle_id)
                shards = workers.wait_for(cycle_id, len(result.dispatched), timeout=600)
                wall = max(s["finished"] for s in shards) - began
                return wall, tick_cpu, shards, len(result.dispatched)

            for i in range(1 + args.warmup):
                wall, _, shards, _ = cycle()
                pending = sum(s["pending"] for s in shards)
                print(f"{channels}: warm-up {i}: {wall:.1f} s, {pending} pending", file=sys.stderr)
                sim["now"] += timedelta(seconds=CYCLE_S)
                http.post(f"{control}/clock", json={"advance_s": CYCLE_S})
            time.sleep(5.5)  # Rumble: one request per key per 5 real seconds
            http.post(f"{control}/counters/reset")
            sandbox_before, workers_before = process_cpu_s(proc.pid), workers.cpu_s()
            wall, tick_cpu, shards, count = cycle()
            workers_cpu = workers.cpu_s() - workers_before
            sandbox_after = process_cpu_s(proc.pid)
            counters: dict[str, int] = http.get(f"{control}/counters").json()
        rss = {}
        for report in workers.done:
            rss[report["pid"]] = max(rss.get(report["pid"], 0.0), report["rss_mb"])
    finally:
        if workers is not None:
            workers.stop()
        azurite.stop()
        db.close()
        proc.terminate()
        proc.wait(10)
        cluster.destroy()
    endpoints = set(endpoint_counters())
    requests: Counter[str] = Counter()
    for endpoint, n in counters.items():
        if endpoint in endpoints and platform_of(endpoint) in MIX:
            requests[platform_of(endpoint)] += n
    total = sum(requests.values())
    shard_cpu = sum(s["cpu_s"] for s in shards)
    n = Counter(c["platform"] for c in population)
    share = {p: math.ceil(n[p] * CYCLE_S / settings.stats_interval_s) for p in n}
    feeds = math.ceil(n["youtube"] * CYCLE_S / settings.youtube_feed_interval_s)
    minimum = {
        # as bench/monitor.py, less the videos.list calls (their count depends on the
        # live mix the sandbox shows): the fixed part of the minimum
        "twitch": math.ceil(n["twitch"] / 100) + share["twitch"],
        "youtube_feeds_and_channels": feeds + math.ceil(share["youtube"] / 50),
        "kick": math.ceil(n["kick"] / 50),
        "rumble": n["rumble"],
    }
    return {
        "channels": channels,
        "shards": count,
        "workers": args.workers,
        "wall_s": round(wall, 3),
        "workers_cpu_s": round(workers_cpu, 3),
        "shard_cpu_s": round(shard_cpu, 3),
        "tick_cpu_s": round(tick_cpu, 3),
        "sandbox_cpu_s": None
        if sandbox_before is None or sandbox_after is None
        else round(sandbox_after - sandbox_before, 3),
        "cpu_ms_per_request": round(shard_cpu * 1000 / total, 3) if total else None,
        "cpu_ms_per_channel": round(shard_cpu * 1000 / channels, 4),
        "peak_rss_mb_per_worker": round(max(rss.values()), 1) if rss else None,
        "requests": dict(sorted(requests.items())),
        "min_requests": minimum,
        "channels_checked": sum(s["channels"] for s in shards),
        "channels_pending": sum(s["pending"] for s in shards),
    }


def main(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(SIZES)
    results = []
    for size in sizes:
        results.append(measure(size, args))
        print(json.dumps(results[-1]), file=sys.stderr)
    base = results[0]["cpu_ms_per_channel"]
    for r in results:
        r["cpu_per_channel_vs_smallest"] = round(r["cpu_ms_per_channel"] / base, 3)
    largest = results[-1]
    targets = {
        "cpu_per_channel_within_1_2x_of_smallest": largest["cpu_per_channel_vs_smallest"] <= 1.2,
        "peak_rss_per_worker_within_300_mb": all(
            (r["peak_rss_mb_per_worker"] or 0) <= 300 for r in results
        ),
    }
    print(json.dumps({"scale": True, "sizes": results, "targets_met": targets}))
    return 0


if __name__ == "__main__":
    if "--worker" in sys.argv:
        sys.exit(worker())
    raise SystemExit("run through bench.monitor --scale")
