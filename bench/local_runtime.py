"""The local runtime (``make run``) measured from outside: memory idle and after 100 reads, reads per second with
one client against eight at once (the seeded credits order, ``GET /credits/v1/orders/{key}``), and how long it
takes to stop on SIGINT and on SIGTERM. ``python -m bench.local_runtime`` prints the rows alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.run import Row, ratio
from local.run import free_port

ROOT = Path(__file__).resolve().parent.parent
SEEDED_ORDER = "/credits/v1/orders/wc_order_seedCompleted"
READS = 400  # per measurement


@dataclass
class Runtime:
    api: str
    pid: int
    process: subprocess.Popen[bytes]


@contextmanager
def local_runtime(workdir: Path, **env: str) -> Iterator[Runtime]:
    config = workdir / "config.json"
    environment = {
        **os.environ,
        "PORT": str(free_port()),
        "LOCAL_CONFIG_FILE": str(config),
        "LOCAL_SCHEDULES": "off",
        "LOCAL_JSON_LOGS": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        **env,
    }
    with (workdir / "run.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.run"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while not config.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"local runtime did not start: {(workdir / 'run.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield Runtime(json.loads(config.read_text())["api"], process.pid, process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that just ended
            continue
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it (the containers' processes)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            todo += _children(current)
        except FileNotFoundError:
            continue
    return pids


def memory_mb(pid: int) -> tuple[float, float, int]:
    """(RSS, PSS) of the whole process tree in MB, and how many processes it has. PSS shares each page among
    the processes that map it (forked containers share their libraries' pages), so it is what the tree costs."""
    rss = pss = 0
    pids = tree(pid)
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except FileNotFoundError:
            continue
    return rss / 1024, pss / 1024, len(pids)


def reads_per_second(api: str, clients: int, reads: int = READS) -> float:
    def worker(count: int) -> None:
        with httpx.Client(base_url=api, timeout=60) as client:
            for _ in range(count):
                assert client.get(SEEDED_ORDER).status_code == 200

    # Warm: each client's container exists before the clock starts (cold starts are another row).
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, [3] * clients))
        started = time.perf_counter()
        list(pool.map(worker, [reads // clients] * clients))
    return (reads // clients * clients) / (time.perf_counter() - started)


def stop_seconds(runtime: Runtime, signum: int) -> float:
    started = time.monotonic()
    os.kill(runtime.pid, signum)
    runtime.process.wait(timeout=30)
    return time.monotonic() - started


def rows() -> list[Row]:
    out: list[Row] = []
    with tempfile.TemporaryDirectory() as raw:
        workdir = Path(raw)
        with local_runtime(workdir) as runtime:
            httpx.post(f"{runtime.api}/_local/schedules/CreditsSyncFunction", timeout=60).raise_for_status()
            time.sleep(1)
            idle, idle_pss, idle_count = memory_mb(runtime.pid)
            with httpx.Client(base_url=runtime.api, timeout=60) as client:
                for _ in range(100):
                    assert client.get(SEEDED_ORDER).status_code == 200
            loaded, loaded_pss, loaded_count = memory_mb(runtime.pid)
            one = reads_per_second(runtime.api, 1)
            eight = reads_per_second(runtime.api, 8)
            busy, busy_pss, busy_count = memory_mb(runtime.pid)
            sigint = stop_seconds(runtime, signal.SIGINT)
        out += [
            Row("local runtime memory idle, RSS and PSS", f"{idle:.0f}, {idle_pss:.0f} MB", note=f"{idle_count} proc."),
            Row("... after 100 reads", f"{loaded:.0f}, {loaded_pss:.0f} MB", note=f"{loaded_count} proc."),
            Row("... after 8 clients at once", f"{busy:.0f}, {busy_pss:.0f} MB", note=f"{busy_count} proc."),
            Row("local runtime reads/s, 8 clients at once", f"{eight:.0f}", f"{one:.0f} (1 client)", ratio(eight, one)),
            Row("local runtime stop on SIGINT", f"{sigint:.2f} s"),
        ]
        with local_runtime(workdir) as runtime:
            sigterm = stop_seconds(runtime, signal.SIGTERM)
        out.append(Row("local runtime stop on SIGTERM", f"{sigterm:.2f} s"))
    return out


if __name__ == "__main__":
    for row in rows():
        print(f"{row.name}: {row.value} {row.baseline} {row.ratio} {row.note}")
