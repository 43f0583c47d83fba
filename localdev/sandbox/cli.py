"""`python -m localdev sandbox`: serve the platform sandbox on 127.0.0.1 until Ctrl-C.

The environment that points StreamTrack at it goes to stdout (`export K=V`
lines); everything else to stderr.
"""

import argparse
import logging
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from localdev.sandbox.faults import DEFAULTS, SCOPES
from localdev.sandbox.platforms import FaultFlag, Option, default_mix, fakes
from localdev.sandbox.server import Sandbox

_FAULT_FLAGS = (
    ("error_rate", float, "share of requests answered 5xx (500/502/503)"),
    ("rate_limit_rate", float, "share answered 429 (Retry-After, or Twitch Ratelimit-*)"),
    ("timeout_rate", float, "share that time out (see --timeout-mode, --hold-s)"),
    ("timeout_mode", str, "hold: answer after --hold-s; close: drop the connection"),
    ("hold_s", float, "how long a held request waits (default 30)"),
    ("malformed_rate", float, "share answered 200 with a broken body"),
    ("malformed_mode", str, "truncate: cut in half; types: values of the wrong types"),
    ("retry_after_s", int, "Retry-After / reset seconds on injected 429s (default 2)"),
    ("stale_s", float, "a stream is listed this long after it ended (an API cache)"),
)


def build_parser() -> argparse.ArgumentParser:
    names = [f.display_name for f in fakes().values()]
    p = argparse.ArgumentParser(
        prog="python -m localdev sandbox",
        description=f"Serve fake {', '.join(names[:-1])} and {names[-1]} APIs on 127.0.0.1.",
    )
    mix = ",".join(f"{name}={share}" for name, share in default_mix().items())
    p.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    p.add_argument("--seed", type=int, default=1, help="population and schedule seed")
    p.add_argument("--channels", type=int, default=300, help="number of channels")
    p.add_argument("--mix", default=mix, help="platform shares")
    p.add_argument("--start", help="simulated clock start, ISO 8601 (default: real time)")
    p.add_argument(
        "--rate", type=float, default=1.0, help="simulated seconds per second (0: frozen)"
    )
    for option in _options():
        flag = "--" + option.name.replace("_", "-")
        p.add_argument(flag, type=option.kind, default=option.default, help=option.help)
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every platform answer")
    p.add_argument("--jitter-ms", type=float, default=0.0, help="latency +/- this much")
    for name, kind, text in _FAULT_FLAGS:
        p.add_argument("--" + name.replace("_", "-"), type=kind, help=text)
    for _, switch in _fault_flags():
        p.add_argument(switch.flag, action="store_true", help=switch.help)
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="[PLATFORM.]SETTING=VALUE",
        help="a fault setting for one platform (or all), e.g. twitch.error_rate=0.2; repeatable",
    )
    p.add_argument("--duration", type=float, help="serve this many seconds, then exit")
    p.add_argument("--env-file", type=Path, help="also write the environment here (KEY=VALUE)")
    p.add_argument("--verbose", action="store_true", help="log every request")
    return p


def _options() -> list[Option]:
    return [option for fake in fakes().values() for option in fake.options]


def _fault_flags() -> list[tuple[str, FaultFlag]]:
    return [(name, flag) for name, fake in fakes().items() for flag in fake.fault_flags]


def fault_spec(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The fault flags as `{scope: {setting: value}}`."""
    spec: dict[str, dict[str, Any]] = {s: {} for s in SCOPES}
    for name, _, _ in _FAULT_FLAGS:
        if getattr(args, name) is not None:
            spec["global"][name] = getattr(args, name)
    for scope, switch in _fault_flags():
        if getattr(args, switch.flag.removeprefix("--").replace("-", "_")):
            spec[scope][switch.setting] = True
    for item in args.fault:
        target, sep, value = item.partition("=")
        scope, dot, setting = target.rpartition(".")
        if not sep or setting not in DEFAULTS or (dot and scope not in SCOPES):
            raise ValueError(f"--fault {item!r}: expected [PLATFORM.]SETTING=VALUE")
        spec[scope or "global"][setting] = value
    return {k: v for k, v in spec.items() if v}


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv[1:] if argv[:1] == ["--"] else argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        sandbox = Sandbox(
            seed=args.seed,
            channels=args.channels,
            mix=args.mix,
            start=args.start,
            rate=args.rate,
            port=args.port,
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            faults=fault_spec(args),
            verbose=args.verbose,
            **{o.name: getattr(args, o.name) for o in _options()},
        )
    except ValueError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sandbox:
        env = sandbox.settings_env()
        mix = Counter(c.platform for c in sandbox.population.channels)
        clock = sandbox.clock.state()
        print(f"StreamTrack platform sandbox: {sandbox.url}", file=sys.stderr)
        print(
            f"  seed {args.seed}, {len(sandbox.population.channels)} channels "
            f"({', '.join(f'{p} {n}' for p, n in sorted(mix.items()))}); clock "
            + (
                f"simulated, now {clock['now']} at {clock['rate']}x"
                if clock["simulated"]
                else "real"
            ),
            file=sys.stderr,
        )
        print(
            f"  control: {sandbox.url}/_sandbox/  (channels, truth, counters, faults, clock)",
            file=sys.stderr,
        )
        for key, value in env.items():
            print(f"export {key}={value}")
        sys.stdout.flush()
        if args.env_file:
            args.env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        print("Ctrl-C to stop." if args.duration is None else "", file=sys.stderr, end="\n")
        try:
            stop.wait(args.duration)
        except KeyboardInterrupt:
            pass
    return 0
