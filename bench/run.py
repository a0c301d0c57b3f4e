"""``make bench``: one table of measurements, each a ratio against a baseline run in the same process run.

Every module in ``MODULES`` exposes ``rows() -> list[Row]``; a missing module is skipped.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from dataclasses import dataclass

MODULES = [
    "bench.cold_start",
    "bench.warm_memory",
    "bench.layer_size",
    "bench.credits",
    "bench.balance",
    "bench.promo",
    "bench.account",
    "bench.local_runtime",
]


@dataclass
class Row:
    name: str
    value: str
    baseline: str = ""
    ratio: str = ""
    note: str = ""


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rows: list[Row] = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        started = time.perf_counter()
        rows.extend(module.rows())
        print(f"# {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    headers = ("measurement", "value", "baseline", "ratio", "note")
    table = [headers, *((r.name, r.value, r.baseline, r.ratio, r.note) for r in rows)]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(headers))]
    for index, line in enumerate(table):
        print(" | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            print("-+-".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
