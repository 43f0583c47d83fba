"""`python -m localdev host`: run function_app like `func start`, until SIGINT or SIGTERM.

The function list goes to stdout; logs go to stderr.
"""

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from localdev import REPO_ROOT
from localdev.host.index import load_app
from localdev.host.localhost import LocalHost
from localdev.host.settings import (
    EnvironmentOverlay,
    HostError,
    read_host_json,
    read_local_settings,
)

DEFAULT_PORT = 7071


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m localdev host",
        description=(
            "Serve the function app's HTTP functions on 127.0.0.1, fire its timers and poll "
            "its queues, as `func start` does, without Azure Functions Core Tools."
        ),
        epilog=(
            "The Values of local.settings.json are exported as environment variables before "
            "the app is imported; a variable already set in the environment wins over the "
            "file. Function keys are not enforced, as with `func start`. Queue triggers need "
            "their connection setting (e.g. AzureWebJobsStorage=UseDevelopmentStorage=true, "
            "Azurite on 127.0.0.1:10001)."
        ),
    )
    p.add_argument(
        "--port",
        type=int,
        help=f"HTTP port; 0 picks a free one (default: Host.LocalHttpPort, else {DEFAULT_PORT})",
    )
    p.add_argument(
        "--script-root",
        type=Path,
        default=REPO_ROOT,
        help="folder with host.json and the app module (default: the repository root)",
    )
    p.add_argument(
        "--settings",
        type=Path,
        help="local settings file (default: <script-root>/local.settings.json, else "
        "local.settings.example.json with a warning)",
    )
    p.add_argument(
        "--app",
        default="function_app:app",
        help="the FunctionApp as module:attribute (default: function_app:app)",
    )
    p.add_argument("--no-timers", action="store_true", help="do not fire timer triggers")
    p.add_argument("--no-queues", action="store_true", help="do not poll queue triggers")
    p.add_argument(
        "--drain-timeout",
        type=float,
        default=30.0,
        help="on shutdown, seconds to wait for running invocations (default 30)",
    )
    p.add_argument("--verbose", action="store_true", help="debug logging, request lines included")
    return p


def _serve(args: argparse.Namespace) -> int:
    root = args.script_root.resolve()
    config = read_host_json(root / "host.json")
    if args.settings is not None:
        local = read_local_settings(args.settings)
        if local is None:
            raise HostError(f"{args.settings} not found")
    else:
        local = read_local_settings(
            root / "local.settings.json", fallback=root / "local.settings.example.json"
        )
    if local is not None:
        kept = EnvironmentOverlay().apply(local.values)
        if kept:
            logging.getLogger("localdev.host").info(
                "set in the environment, so not taken from %s: %s", local.path.name, ", ".join(kept)
            )
    port = args.port if args.port is not None else (local and local.http_port) or DEFAULT_PORT
    app = load_app(args.app, root)
    host = LocalHost(
        app,
        port=port,
        config=config,
        timers=not args.no_timers,
        queues=not args.no_queues,
        drain_timeout=args.drain_timeout,
    )

    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # A second Ctrl-C while draining exits at once.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    host.start()
    try:
        print("\nFunctions:\n")
        for line in host.describe():
            print(f"\t{line}\n")
        print(f"Host started on {host.base_url}. Press Ctrl+C to shut down.", flush=True)
        while not stopping.wait(0.5):
            pass
        print("Shutting down: waiting for running invocations...", file=sys.stderr, flush=True)
    finally:
        drained = host.stop()
    if not drained:
        # Queue workers are not daemon threads: a stuck invocation would hold the exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="[%(asctime)s] %(message)s",
        stream=sys.stderr,
    )
    # The storage SDK logs every request at INFO.
    logging.getLogger("azure").setLevel(logging.WARNING)
    try:
        return _serve(args)
    except HostError as exc:
        print(f"localdev host: {exc}", file=sys.stderr)
        return 1
