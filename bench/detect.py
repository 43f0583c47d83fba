"""`make bench-detect`: how fast streams are noticed, push on versus polling only.

10,000 channels (the bench-monitor mix) in the platform sandbox (its own
process, `--latency-ms` added to every answer) and a fresh local database.
The simulated clock moves in 5-second steps; every 60 seconds a monitor cycle
runs. Three phases over consecutive simulated windows, in the same run:

1. `poll`: polling only (no subscriptions, no deliveries, every channel every
   cycle), as before push;
2. `push`: the subscription manager subscribes every tracked channel it can
   (EventSub within `max_total_cost`, WebSub, Kick), the sandbox delivers to a
   callback server of this process (127.0.0.1, real HTTP, signed in each
   platform's wire format), the push timer applies every step and the cycle
   polls only what push cannot tell (`shared.push.selection`);
3. `push_lossy`: as 2 with 10% of deliveries dropped: streams not noticed
   within their platform's sweep interval (`sweep_interval_s`, each push
   source's own: `PushSource.sweep_interval_s`) are `missed_streams`.

Each phase warms up (`--warmup` minutes; by default 12 for polling and, for
push, 2 more than the longest sweep interval, so that the push phase measures
the sweep in its steady state rather than the quiet before the first turns
come round) before it is measured (`--minutes`).
Detection is truth start to the first step at which `channel_status` shows the
stream live. Requests per cycle are the sandbox's own counters, split into
live-state requests (Get Streams, feeds and videos.list, livestreams; the
push timer's polls included) and follower/subscriber stats. `cpu_s` is this
process's CPU time (monitor, push timer and callbacks) per cycle. The last
line is JSON, figures side by side with their targets.
"""

import argparse
import base64
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr

from bench import monitor as monitor_bench
from bench.monitor import MIX
from localdev import supabase
from localdev.postgres import Cluster
from localdev.seeding import DemoTeam, register
from shared.config import Settings
from shared.crypto import SecretBox
from shared.db import Database
from shared.monitor.cycle import run_cycle
from shared.monitor.service import build_fetchers, rules_from
from shared.platforms.push import PushRefused, PushRequest
from shared.platforms.retry import RetryPolicy
from shared.push import apply, manager
from shared.push.receive import receive
from shared.push.selection import Selector, sweep_interval

STEP_S = 5
CYCLE_S = 60
PUSHING = ("twitch", "youtube", "kick")
LIVE_ENDPOINTS = {
    "twitch.streams": "twitch",
    "youtube.feed": "youtube",
    "youtube.videos": "youtube",
    "kick.livestreams": "kick",
    "rumble.get_data": "rumble",
}
STATS_ENDPOINTS = {"twitch.followers": "twitch", "youtube.channels": "youtube"}
TARGET_P95_S = {"twitch": 10, "kick": 10, "youtube": 90}
EVENTSUB_SECRET = "bench-eventsub-secret-0123"
WEBSUB_SECRET = "bench-websub-secret"


class Sim:
    """The simulated clock, shared with the sandbox process."""

    def __init__(self, http: httpx.Client, control: str) -> None:
        self.http, self.control = http, control
        self.now = datetime.fromisoformat(http.get(f"{control}/clock").json()["now"])

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.http.post(f"{self.control}/clock", json={"advance_s": seconds})


@contextmanager
def callback_server(db: Database, settings_box: dict[str, Settings], sim: Sim) -> Iterator[str]:
    """The app's push callbacks on 127.0.0.1, calling the service the HTTP function calls."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            platform = url.path.removeprefix("/api/push/")
            request = PushRequest(
                self.command,
                {k.lower(): v for k, v in self.headers.items()},
                {k: v[-1] for k, v in parse_qs(url.query).items()},
                body,
            )
            try:
                answer = receive(db, platform, request, settings_box["s"], sim())
                status, text = answer.status, answer.body
            except PushRefused as exc:
                status, text = exc.status, str(exc)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def start_sandbox(
    channels: int, latency_ms: float, seed: int
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The sandbox as bench-monitor starts it; Helix's 800 points a minute lifted, so
    that subscribing 10,000 channels is not the benchmark's minutes."""
    return monitor_bench.start_sandbox(channels, latency_ms, seed, "--twitch-bucket", "1000000")


def live_now(db: Database) -> set[tuple[str, str, str]]:
    with db.service() as conn:
        rows = conn.execute(
            "select c.platform::text, c.platform_channel_id, st.platform_stream_id"
            " from public.channel_status st join public.channels c on c.id = st.channel_id"
            " where st.is_live"
        ).fetchall()
    return {(r[0], r[1], r[2]) for r in rows}


def counters(http: httpx.Client, control: str, reset: bool = False) -> dict[str, int]:
    got: dict[str, int] = http.get(f"{control}/counters").json()
    if reset:
        http.post(f"{control}/counters/reset")
    return got


def phase(
    name: str,
    *,
    db: Database,
    http: httpx.Client,
    control: str,
    sim: Sim,
    settings: Settings,
    ids: list[Any],
    push: bool,
    warmup_min: int,
    minutes: int,
    tail_s: dict[str, float],
) -> dict[str, Any]:
    """Run one phase; detection delays per platform and requests per cycle."""
    policy = RetryPolicy.from_settings(settings, sleep=lambda _s: None)
    fetchers = build_fetchers(settings, clock=sim, key_interval_s=0, policy=policy)
    rules = rules_from(settings)
    select = Selector(settings) if push else None
    seen: dict[tuple[str, str, str], datetime] = {}
    per_cycle: dict[str, list[int]] = defaultdict(list)
    per_endpoint: dict[str, list[int]] = defaultdict(list)
    stats_cycle: dict[str, list[int]] = defaultdict(list)
    cycles = 0
    cpu = 0.0
    measure_from = sim.now + timedelta(minutes=warmup_min)
    end = measure_from + timedelta(minutes=minutes)
    started = sim.now
    counters(http, control, reset=True)
    if push:
        http.post(f"{control}/push", json={"deliver": True})  # start the delivery clock here
    while sim.now < end:
        for _ in range(CYCLE_S // STEP_S):
            sim.advance(STEP_S)
            measuring = sim.now > measure_from
            began = time.process_time()
            if push:
                http.post(f"{control}/push", json={"deliver": True})
                apply.apply_pending(db, fetchers, rules, clock=sim)
            cpu += (time.process_time() - began) if measuring else 0.0
            for key in live_now(db):
                seen.setdefault(key, sim.now)
        began = time.process_time()
        run_cycle(db, fetchers, rules, budget_s=settings.monitor_time_budget_s, only=ids,
                  clock=sim, select=select)  # fmt: skip
        measuring = sim.now > measure_from
        if measuring:
            cpu += time.process_time() - began
            cycles += 1
        for key in live_now(db):
            seen.setdefault(key, sim.now)
        got = counters(http, control, reset=True)
        if measuring:
            live: dict[str, int] = defaultdict(int)
            stats: dict[str, int] = defaultdict(int)
            for endpoint, n in got.items():
                if endpoint in LIVE_ENDPOINTS:
                    live[LIVE_ENDPOINTS[endpoint]] += n
                    per_endpoint[endpoint].append(n)
                if endpoint in STATS_ENDPOINTS:
                    stats[STATS_ENDPOINTS[endpoint]] += n
            for platform in MIX:
                per_cycle[platform].append(live[platform])
                stats_cycle[platform].append(stats[platform])
    truth = http.get(
        f"{control}/truth",
        params={"from": started.isoformat(), "to": end.isoformat(), "viewers": "false"},
    ).json()
    delays: dict[str, list[float]] = defaultdict(list)
    never: dict[str, int] = defaultdict(int)
    # Streams that start while measured, early enough to be seen before the end
    # (`tail`: the slowest path the phase relies on, per platform) and lasting
    # longer than that.
    for channel in truth["channels"]:
        platform = channel["platform"]
        tail = timedelta(seconds=tail_s[platform])
        last_start = end - tail
        for stream in channel["streams"]:
            if stream["start"] is None or stream["end"] is None:
                continue
            start = datetime.fromisoformat(stream["start"].replace("Z", "+00:00"))
            stop = datetime.fromisoformat(stream["end"].replace("Z", "+00:00"))
            if not measure_from <= start < last_start:
                continue
            if stop - start < tail:
                continue
            sid = stream.get("platform_stream_id") or stream["id"]
            at = seen.get((platform, channel["id"], sid))
            if at is None:
                never[platform] += 1
                continue
            delays[platform].append(max(0.0, (at - start).total_seconds()))
    print(f"{name}: {sum(len(d) for d in delays.values())} streams detected, "
          f"{sum(never.values())} never, {cycles} cycles", file=sys.stderr)  # fmt: skip
    return {
        "delays": delays,
        "never": dict(never),
        "requests": {p: statistics.mean(v) for p, v in per_cycle.items() if v},
        "requests_by_endpoint": {e: statistics.mean(v) for e, v in per_endpoint.items() if v},
        "stats_requests": {p: statistics.mean(v) for p, v in stats_cycle.items() if v},
        "cpu_s": cpu / cycles if cycles else None,
    }


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/detect.py")
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--warmup", type=int, default=None,
        help="simulated minutes before measuring (default: 2 more than the longest sweep)",
    )  # fmt: skip
    parser.add_argument("--minutes", type=int, default=20, help="simulated minutes measured")
    parser.add_argument("--loss", type=float, default=0.1)
    parser.add_argument(
        "--sweep-s", type=int, default=None, help="PUSH_SWEEP_INTERVAL_S (default: the setting's)"
    )
    parser.add_argument(
        "--youtube-sweep-s", type=int, default=None,
        help="YOUTUBE_PUSH_SWEEP_INTERVAL_S (default: the setting's)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    cluster = Cluster("bench-detect")
    cluster.destroy()
    url = supabase.up(cluster, seed=False)
    proc, env = start_sandbox(args.channels, args.latency_ms, args.seed)
    control = env["TWITCH_API_URL"].removesuffix("/twitch/helix") + "/_sandbox"
    db = Database(url, max_size=8)
    try:
        key = os.urandom(32)
        base: dict[str, Any] = {
            "database_url": url,
            "credentials_encryption_key": SecretStr(base64.b64encode(key).decode()),
            **{k.lower(): v for k, v in env.items()},
        }
        if args.sweep_s is not None:
            base["push_sweep_interval_s"] = args.sweep_s
        if args.youtube_sweep_s is not None:
            base["youtube_push_sweep_interval_s"] = args.youtube_sweep_s
        # Each push platform's sweep, as the selection reads it (`PushSource.sweep_interval_s`).
        sweeps = {p: round(sweep_interval(p, Settings(**base)).total_seconds()) for p in PUSHING}
        longest = max(sweeps.values())
        # Polling settles within a feed interval; push only once every sweep has come round.
        poll_warmup = args.warmup if args.warmup is not None else 12
        warmup = args.warmup if args.warmup is not None else max(12, longest // 60 + 2)
        tail = dict.fromkeys(MIX, 360.0)
        lossy_tail = {p: float(sweeps.get(p, longest) + 2 * CYCLE_S) for p in MIX}
        with httpx.Client(timeout=120) as http:
            population = http.get(f"{control}/channels").json()["channels"]
            registered = register(db, population, [DemoTeam("Bench", "business")], SecretBox(key))
            ids = list(registered.channels.values())
            sim = Sim(http, control)
            poll_settings = Settings(**base)
            results = {"poll": phase(
                "poll", db=db, http=http, control=control, sim=sim, settings=poll_settings,
                ids=ids, push=False, warmup_min=poll_warmup, minutes=args.minutes, tail_s=tail,
            )}  # fmt: skip
            box: dict[str, Settings] = {}
            with callback_server(db, box, sim) as callback:
                public_key = http.get(env["KICK_API_URL"] + "/public-key").json()["data"][
                    "public_key"
                ]
                push_settings = Settings(
                    **base,
                    push_callback_base_url=callback,
                    twitch_eventsub_secret=SecretStr(EVENTSUB_SECRET),
                    youtube_websub_secret=SecretStr(WEBSUB_SECRET),
                    kick_webhook_public_key=public_key,
                )
                box["s"] = push_settings
                http.post(f"{control}/push", json={"kick_webhook_url": f"{callback}/api/push/kick"})
                began = time.perf_counter()
                synced = manager.tick(settings=push_settings, database=db, http=http,
                                      clock=sim, max_changes=100_000)  # fmt: skip
                print(f"subscriptions in {time.perf_counter() - began:.1f} s: "
                      + ", ".join(f"{p} {r.chosen}/{r.wanted}" for p, r in synced.items()),
                      file=sys.stderr)  # fmt: skip
                results["push"] = phase(
                    "push", db=db, http=http, control=control, sim=sim, settings=push_settings,
                    ids=ids, push=True, warmup_min=warmup, minutes=args.minutes, tail_s=tail,
                )  # fmt: skip
                http.post(f"{control}/push", json={"faults": {"loss_rate": args.loss},
                                                   "reset_stats": True})  # fmt: skip
                results["push_lossy"] = phase(
                    "push_lossy", db=db, http=http, control=control, sim=sim,
                    settings=push_settings, ids=ids, push=True, warmup_min=2,
                    minutes=args.minutes + longest // 60, tail_s=lossy_tail,
                )  # fmt: skip
                pushed = http.get(f"{control}/push").json()
    finally:
        db.close()
        proc.terminate()
        proc.wait(10)
        cluster.destroy()

    def by_mode(key: str, q: float) -> dict[str, dict[str, float | None]]:
        return {
            mode: {p: pct(results[mode]["delays"].get(p, []), q) for p in MIX}
            for mode in ("push", "poll")
        }

    p50, p95 = by_mode("delays", 0.5), by_mode("delays", 0.95)
    requests = {
        mode: {p: round(results[mode]["requests"].get(p, 0), 1) for p in MIX}
        for mode in ("push", "poll")
    }
    lossy = results["push_lossy"]
    # Each platform judged against its own sweep: later than that (and a cycle) is missed.
    missed_by = {
        p: sum(1 for d in lossy["delays"].get(p, []) if d > sweeps[p] + CYCLE_S)
        + lossy["never"].get(p, 0)
        for p in PUSHING
    }
    missed = sum(missed_by.values()) + sum(n for p, n in lossy["never"].items() if p not in PUSHING)
    ratio = {
        p: round(requests["push"][p] / requests["poll"][p], 3) if requests["poll"][p] else None
        for p in PUSHING
    }
    result = {
        "channels": args.channels,
        "latency_ms": args.latency_ms,
        "minutes_measured": args.minutes,
        "sweep_interval_s": sweeps,
        "warmup_minutes": {"poll": poll_warmup, "push": warmup},
        "detect_p50_s": p50,
        "detect_p95_s": p95,
        "streams_measured": {
            mode: {p: len(results[mode]["delays"].get(p, [])) for p in MIX}
            for mode in ("push", "poll", "push_lossy")
        },
        "requests_per_cycle": requests,
        "push_to_poll_requests": ratio,
        "stats_requests_per_cycle": {
            mode: {p: round(results[mode]["stats_requests"].get(p, 0), 1) for p in MIX}
            for mode in ("push", "poll")
        },
        "missed_streams": missed,
        "missed_streams_by_platform": missed_by,
        "lossy_deliveries": pushed["stats"],
        "lossy_detect_p95_s": {p: pct(lossy["delays"].get(p, []), 0.95) for p in MIX},
        "cpu_s": {
            mode: round(results[mode]["cpu_s"], 3) if results[mode]["cpu_s"] else None
            for mode in ("push", "poll")
        },
        "live_requests_by_endpoint": {
            mode: {e: round(n, 1) for e, n in sorted(results[mode]["requests_by_endpoint"].items())}
            for mode in ("push", "poll")
        },
    }
    targets = {
        "push_p95_within_target": all(
            (p95["push"].get(p) or math.inf) <= limit for p, limit in TARGET_P95_S.items()
        ),
        "push_requests_at_most_25_percent": all(
            r is not None and r <= 0.25 for r in ratio.values()
        ),
        "no_stream_missed_longer_than_the_sweep": missed == 0,
    }
    print(json.dumps({**result, "targets": TARGET_P95_S, "targets_met": targets}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
