"""``python -m bench``: every benchmark of this package, one after the other.

A benchmark is a module of bench/ whose name does not start with ``_`` and
that has a ``main() -> int`` (settings come from BENCH_* variables); helpers
start with ``_`` (or have no main).
The exit status is non-zero when any benchmark missed a goal."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def benchmarks() -> list[str]:
    names = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "main", None)):
            names.append(info.name)
    return sorted(names)


def run() -> int:
    status = 0
    for name in benchmarks():
        print(f"== bench.{name}", flush=True)
        status |= bool(importlib.import_module(f"bench.{name}").main())
    return int(status)


if __name__ == "__main__":
    sys.exit(run())
