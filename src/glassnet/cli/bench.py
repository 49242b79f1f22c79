"""``glassnet bench``: the benchmark suite against PyTorch CPU (see docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

GROUP_CHOICES = ("conv", "pool", "rnn", "train", "all")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options shared by ``glassnet bench`` and ``benchmarks/run.py``."""
    p.add_argument(
        "group", nargs="?", default="all", choices=GROUP_CHOICES, help="cases to run (default: all)"
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: smaller shapes, 2 timed calls per side"
    )
    p.add_argument(
        "--json", type=Path, metavar="PATH", help="also write the results as JSON (default: none)"
    )
    p.add_argument(
        "--markdown",
        type=Path,
        metavar="PATH",
        help="replace the table between the bench-table markers of PATH (docs/benchmarks.md; "
        "default: none)",
    )
    p.add_argument(
        "--repeat", type=int, metavar="N", help="timed calls per side (default: 12, 2 with --quick)"
    )
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurements")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="time glassnet against PyTorch CPU, side by side (conv, pool, rnn, train)",
        description=(
            "Runs each case on glassnet and (when installed) PyTorch CPU with identical shapes, "
            "weights and data, alternating, after warm-up; prints median/min/spread, the ratio "
            "ours/PyTorch, GFLOPS against the measured float32 GEMM peak and peak memory."
        ),
    )
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..bench import GROUPS, format_table, run_suite
    from ..bench.suite import write_json, write_markdown_page
    from .main import CLIError

    if args.repeat is not None and args.repeat < 1:
        raise CLIError(f"--repeat expected a positive number of calls, got {args.repeat}")
    for path in (args.json, args.markdown):
        if path is not None and path.is_dir():
            raise CLIError(f"expected a file path, got the directory {path}")
    groups = GROUPS if args.group == "all" else (args.group,)
    report = run_suite(
        groups,
        quick=args.quick,
        repeat=args.repeat,
        memory=not args.no_memory,
        progress=sys.stderr,
    )
    print(format_table(report))
    if args.json is not None:
        write_json(report, args.json)
    if args.markdown is not None:
        write_markdown_page(report, args.markdown)
    return 0
