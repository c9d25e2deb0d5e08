"""CPU per request of the benchmark site's modes, in one process each, without a server.

    bash .ci/with-postgres.sh .venv/bin/python -m benchmarks.request_cpu   # PostgreSQL
    python -m benchmarks.request_cpu --requests 3000                       # SQLite

The site and modes of ``benchmarks.server`` (``plain``, ``stamped``,
``tracking``, ``visits``, ``buffered``; see benchmarks.server_settings), each
mode in a child process that sends ``--requests`` logged-in GETs of the
writing view straight through Django's ``WSGIHandler`` and reads its own CPU
time (all its threads: the visit buffer's writer too, flushed before the
clock stops). No server, client or network shares the measurement, so the
figures move much less than ``benchmarks.server``'s; what they leave out is
the server's own work per request. Modes run ``--repeats`` times in rotating
order; the report gives medians and ratios to the plain and the stamped site.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import rotated

ROOT = Path(__file__).resolve().parent.parent
MODES = ("plain", "stamped", "tracking", "visits", "buffered")


def serve(keys: list[str], requests: int) -> float:
    """CPU microseconds per request of this process's mode (a child process)."""
    from benchmarks.middleware import environ
    from benchmarks.server_site import wsgi_application
    from django_trackable.buffering import flush_visits

    def start_response(status: str, headers: Any) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"the view answered {status}")

    def request(index: int) -> None:
        get = environ("/write/", keys[index % len(keys)], server_name="127.0.0.1")
        body = wsgi_application(get, start_response)
        b"".join(body)
        body.close()  # type: ignore[attr-defined]

    for index in range(min(requests, 200)):  # warm up: imports, caches, connection
        request(index)
    flush_visits()
    start = time.process_time()
    for index in range(requests):
        request(index)
    flush_visits()
    return (time.process_time() - start) / requests * 1e6


def measure(mode: str, keys: list[str], requests: int) -> float:
    env = {**os.environ, "TRACKABLE_BENCH_MODE": mode, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "benchmarks.request_cpu",
        "--child",
        "--requests",
        str(requests),
    ]
    done = subprocess.run(
        command, input=json.dumps(keys), capture_output=True, text=True, env=env, cwd=ROOT
    )
    if done.returncode:
        raise RuntimeError(f"{mode}: {done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="users, one session each")
    parser.add_argument("--requests", type=int, default=2000, help="per mode and run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode, interleaved")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.server_settings")
    django.setup()
    if args.child:
        print(f"{serve(json.loads(sys.stdin.read()), args.requests):.1f}")
        return

    from benchmarks.server import prepare

    keys = prepare(args.clients)
    from django.db import connection

    print(
        f"{connection.vendor}, {args.requests} requests per run, {args.repeats} runs per mode "
        "in rotating order (medians), CPU per request, in process (no server)"
    )
    runs: dict[str, list[float]] = {mode: [] for mode in MODES}
    for repeat in range(args.repeats):
        for mode in rotated(MODES, repeat):
            runs[mode].append(measure(mode, keys, args.requests))
    cpu = {mode: statistics.median(samples) for mode, samples in runs.items()}
    for mode, value in cpu.items():
        print(
            f"{mode:8} {value:8.0f} µs CPU/request "
            f"({value / cpu['plain']:.2f}x plain, {value / cpu['stamped']:.2f}x stamped)"
        )


if __name__ == "__main__":
    main()
