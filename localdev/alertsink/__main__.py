"""`python -m localdev.alertsink`: the alert sink in a process of its own.

Prints its base URL on the first line of stdout and serves until stopped;
`GET <url>/_sink/received` answers what it accepted (the benchmark reads it).
"""

import argparse
import signal
import sys
import threading

from localdev.alertsink import AlertSink


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.alertsink")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--rate-limited", type=float, default=0, help="share of 429 answers")
    parser.add_argument("--retry-after-s", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with AlertSink(latency_s=args.latency_ms / 1000, rate_limit_share=args.rate_limited,
                   retry_after_s=args.retry_after_s, seed=args.seed) as sink:  # fmt: skip
        sys.stdout.write(sink.url("") + "\n")
        sys.stdout.flush()
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
