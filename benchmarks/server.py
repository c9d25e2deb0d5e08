"""Throughput and CPU per request of a real server: plain site, tracking, tracking + visits.

    bash .ci/with-postgres.sh .venv/bin/python -m benchmarks.server   # PostgreSQL
    python -m benchmarks.server --clients 20 --requests 2000          # SQLite

Serves benchmarks.server_site with uvicorn (2 workers, ASGI, the async view)
and gunicorn (2 workers x 8 threads, WSGI, the sync view) on 127.0.0.1 only,
``--repeats`` times per mode (``plain``, ``stamped``, ``tracking``, ``visits``,
``buffered``: see benchmarks.server_settings) in rotating order, and drives each with
``--clients`` concurrent logged-in clients sending ``--requests`` requests in
all (each bounded by ``--timeout`` seconds). Every request writes one row of a
model that is tracked unless the mode is plain. The report gives requests per
second and the server processes' CPU time per request (read from /proc, so
Linux only), medians over the runs, and both as ratios to the plain site (and
CPU to the site whose model has the same columns, stamped by the view). The client shares the
machine: on a small one its CPU shows in requests per second, not in the
servers' CPU per request, which is the figure to compare. Not part of the
test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.server_settings")
django.setup()

import httpx  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402

from benchmarks import rotated  # noqa: E402
from benchmarks.database import ensure_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODES = ("plain", "stamped", "tracking", "visits", "buffered")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def prepare(clients: int) -> list[str]:
    """Tables, one user per client and a session for each; returns the session keys."""
    ensure_database()
    call_command("migrate", verbosity=0)
    call_command("migrate", run_syncdb=True, verbosity=0)
    users = get_user_model()._default_manager
    keys = []
    for index in range(clients):
        user, _ = users.get_or_create(username=f"bench{index}")
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    from django.db import connections

    connections.close_all()  # the servers' workers get the database to themselves
    return keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.server_site:application",
            "--host=127.0.0.1",
            f"--port={port}",
            "--workers=2",
            "--no-access-log",
            "--log-level=warning",
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "benchmarks.server_site:wsgi_application",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--threads=8",
        "--log-level=warning",
    ]


def process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


async def drive(url: str, keys: list[str], requests: int, timeout: float) -> tuple[int, float, int]:
    """``requests`` GETs from ``len(keys)`` concurrent clients; (done, seconds, errors)."""
    remaining = requests
    done = errors = 0

    async def client(key: str) -> None:
        nonlocal remaining, done, errors
        async with httpx.AsyncClient(cookies={"sessionid": key}, timeout=30) as http:
            while remaining > 0:
                remaining -= 1
                response = await http.get(url)
                if response.status_code == 200:
                    done += 1
                else:
                    errors += 1

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client(key) for key in keys)), timeout)
    return done, time.perf_counter() - start, errors


def wait_until_up(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not listen on {port} in {timeout}s")


def measure(
    server: str, mode: str, keys: list[str], requests: int, timeout: float
) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "TRACKABLE_BENCH_MODE": mode,
        "TRACKABLE_BENCH_SERVER": server,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(server_command(server, port), cwd=ROOT, env=env)
    try:
        wait_until_up(port, process)
        url = f"http://127.0.0.1:{port}/{'awrite' if server == 'uvicorn' else 'write'}/"
        asyncio.run(drive(url, keys, min(requests, 20 * len(keys)), timeout))  # warm up
        cpu = process_tree_cpu(process.pid)
        done, seconds, errors = asyncio.run(drive(url, keys, requests, timeout))
        cpu = process_tree_cpu(process.pid) - cpu
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
    if errors:
        raise RuntimeError(f"{server} {mode}: {errors} requests failed")
    return {"rps": done / seconds, "cpu_ms": cpu / done * 1000}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000, help="per server and mode")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--servers", default="uvicorn,gunicorn")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per mode, interleaved (medians reported)"
    )
    args = parser.parse_args(argv)

    keys = prepare(args.clients)
    from django.db import connection

    print(
        f"{connection.vendor}, {args.clients} clients, {args.requests} requests per run, "
        f"{args.repeats} runs per mode in rotating order (medians), "
        f"CPU per request of the server processes"
    )
    for server in args.servers.split(","):
        runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
        for repeat in range(args.repeats):
            for mode in rotated(MODES, repeat):
                runs[mode].append(measure(server, mode, keys, args.requests, args.timeout))
        results = {
            mode: {key: statistics.median(run[key] for run in done) for key in ("rps", "cpu_ms")}
            for mode, done in runs.items()
        }
        plain, stamped = results["plain"], results["stamped"]
        for mode, result in results.items():
            print(
                f"{server:8} {mode:8} {result['rps']:7.1f} req/s "
                f"({result['rps'] / plain['rps']:.2f}x)  "
                f"{result['cpu_ms']:6.2f} ms CPU/request "
                f"({result['cpu_ms'] / plain['cpu_ms']:.2f}x plain, "
                f"{result['cpu_ms'] / stamped['cpu_ms']:.2f}x stamped)"
            )


if __name__ == "__main__":
    main()
