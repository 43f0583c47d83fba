"""Command line: `python -m localdev db up|down|reset|url|psql|status`, `types`."""

import argparse
import os
import sys
from pathlib import Path

from localdev import supabase
from localdev.postgres import Cluster, LocaldevError


def _db(args: argparse.Namespace) -> int:
    cluster = Cluster(args.name)
    match args.action:
        case "up":
            print(supabase.up(cluster, seed=not args.no_seed))
        case "reset":
            cluster.destroy()
            print(supabase.up(cluster, seed=not args.no_seed))
        case "down":
            cluster.stop()
        case "destroy":
            cluster.destroy()
        case "url":
            print(cluster.admin_url if args.admin else cluster.url)
        case "status":
            running = cluster.is_running()
            print(f"{args.name}: {'running at ' + cluster.url if running else 'stopped'}")
            return 0 if running else 3
        case "psql":
            state = cluster.load_state()
            if state is None or not cluster.is_running():
                raise LocaldevError(f"local database {args.name!r} is not running: run `db up`")
            psql = str(Path(state.bin_dir) / "psql")
            os.execv(psql, [psql, cluster.admin_url if args.admin else cluster.url, *args.rest])
    return 0


def _types(args: argparse.Namespace) -> int:
    cluster = Cluster(args.name)
    url = supabase.up(cluster)
    text = supabase.generate_types(url)
    if args.check:
        if supabase.TYPES_TS.read_text() != text:
            print("supabase/types/database.ts is stale: run `make types`", file=sys.stderr)
            return 1
        return 0
    supabase.TYPES_TS.parent.mkdir(parents=True, exist_ok=True)
    supabase.TYPES_TS.write_text(text)
    print(f"wrote {supabase.TYPES_TS.relative_to(supabase.REPO_ROOT)}", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from localdev import demo

    return demo.run(args.rest)


def _host(args: argparse.Namespace) -> int:
    from localdev.host.cli import main as host_main

    return host_main(args.rest)


def _sandbox(args: argparse.Namespace) -> int:
    from localdev.sandbox.cli import main as sandbox_main

    return sandbox_main(args.rest)


# Commands that parse their own options: everything after the name goes through untouched.
PASSTHROUGH = {"host": "_host", "sandbox": "_sandbox", "demo": "_demo"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in PASSTHROUGH:
        handler = globals()[PASSTHROUGH[argv[0]]]
        try:
            return int(handler(argparse.Namespace(rest=argv[1:])))
        except LocaldevError as exc:
            print(f"localdev: {exc}", file=sys.stderr)
            return 1
    parser = argparse.ArgumentParser(prog="python -m localdev")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the local PostgreSQL cluster with Supabase compatibility")
    db.add_argument("action", choices=["up", "down", "reset", "destroy", "url", "status", "psql"])
    db.add_argument("--name", default="dev", help="cluster name (default: dev)")
    db.add_argument("--no-seed", action="store_true", help="skip supabase/seed.sql")
    db.add_argument(
        "--admin",
        action="store_true",
        help="url/psql: as the bootstrap superuser supabase_admin instead of postgres "
        "(platform set-up only; migrations and the app use postgres, as on Supabase)",
    )
    db.set_defaults(handler=_db)

    types = sub.add_parser("types", help="write supabase/types/database.ts")
    types.add_argument("--name", default="dev")
    types.add_argument("--check", action="store_true", help="fail when the file is stale")
    types.set_defaults(handler=_types)

    sysdeps = sub.add_parser("sysdeps", help="install (as root) or name the system packages")
    sysdeps.set_defaults(handler=lambda _args: postgres_sysdeps())

    sandbox = sub.add_parser(
        "sandbox",
        add_help=False,  # `sandbox --help` is the sandbox's own
        help="serve the platform sandbox (Twitch, YouTube, Rumble) on 127.0.0.1",
    )
    sandbox.add_argument("rest", nargs=argparse.REMAINDER, help="sandbox options (--help)")
    sandbox.set_defaults(handler=_sandbox)

    host = sub.add_parser(
        "host",
        add_help=False,  # `host --help` is the host's own
        help="serve function_app on 127.0.0.1:7071 and fire its timers, like `func start`",
    )
    host.add_argument("rest", nargs=argparse.REMAINDER, help="host options (--help)")
    host.set_defaults(handler=_host)

    demo = sub.add_parser("demo", help="bring up the local database and exercise the app")
    demo.set_defaults(handler=_demo)

    # Only `db psql` passes unknown arguments through (to psql).
    args, extra = parser.parse_known_args(argv)
    if extra and not (args.command == "db" and args.action == "psql"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.rest = [*getattr(args, "rest", []), *extra]
    try:
        return int(args.handler(args))
    except LocaldevError as exc:
        print(f"localdev: {exc}", file=sys.stderr)
        return 1


def postgres_sysdeps() -> int:
    from localdev import sysdeps

    return sysdeps.main()


if __name__ == "__main__":
    sys.exit(main())
