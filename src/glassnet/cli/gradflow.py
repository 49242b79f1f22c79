"""``glassnet gradflow``: gradient flow through time, measured (vanishing, exploding, gated cells).

Subcommands ``radius``, ``cells``, ``tasks`` and ``arithmetic`` each run one experiment of
:mod:`glassnet.diagnostics.experiments`, print its tables and write them (JSON and CSV) with the
figures into the run directory.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from pathlib import Path
from typing import Any

HELP = {
    "radius": "tanh RNN with W_hh at spectral radius 0.5..1.5: gradient vs distance; SGD +- clip",
    "cells": "RNN vs LSTM vs GRU at equal parameters, trained on adding: gradient vs distance",
    "tasks": "adding and copy-memory at T=10..200: cells, clipping, truncated BPTT vs baselines",
    "arithmetic": "a ReLU RNN whose gradient doubles or halves exactly per step (1024 after 10)",
    "memory": "long-memory lab: adding and copy at T=50/100/200, 3000 updates, learning curves",
}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "gradflow",
        help="measure vanishing and exploding gradients through time (RNN, LSTM, GRU)",
        description=(
            "Experiments on gradient flow in backpropagation through time. Each subcommand "
            "prints its tables and writes <name>.json, <name>.csv and PNG figures to --out."
        ),
    )
    subs = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    for name, text in HELP.items():
        q = subs.add_parser(name, help=text, description=text)
        q.add_argument(
            "--out",
            type=Path,
            default=Path(f"runs/gradflow/{name}"),
            help="output directory",
        )
        q.add_argument(
            "--quick", action="store_true", help="tiny sizes: a smoke run of a few seconds"
        )
        q.add_argument("--seed", type=int, default=0, help="random seed")
        q.set_defaults(func=run, experiment=name)
    p.set_defaults(func=_help(p))


def _help(parser: argparse.ArgumentParser) -> Any:
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 0

    return show


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.4g}"
    return str(v)


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of ``rows`` (the union of their keys as columns)."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    cells = [[_fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _json_safe(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if hasattr(v, "item"):
        return _json_safe(v.item())
    return v


def write_tables(out: Path, tables: dict[str, list[dict[str, Any]]]) -> list[Path]:
    paths = []
    for name, rows in tables.items():
        clean = [{k: _json_safe(v) for k, v in r.items()} for r in rows]
        jp = out / f"{name}.json"
        jp.write_text(json.dumps(clean, indent=1) + "\n")
        cols: list[str] = []
        for r in clean:
            cols += [k for k in r if k not in cols]
        cp = out / f"{name}.csv"
        with cp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            w.writerows(clean)
        paths += [jp, cp]
    return paths


def run(args: argparse.Namespace) -> int:
    from ..diagnostics.experiments import EXPERIMENTS
    from .main import CLIError

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out must be a directory, got the file {out}")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = EXPERIMENTS[args.experiment](out, quick=args.quick, seed=args.seed)
    seconds = time.perf_counter() - t0
    files = write_tables(out, res.tables)
    (out / "config.json").write_text(
        json.dumps({"experiment": res.name, "quick": args.quick, "seed": args.seed,
                    "seconds": round(seconds, 1), **res.config}, indent=1) + "\n"
    )  # fmt: skip
    for name, rows in res.tables.items():
        print(f"== {name}")
        print(format_table(rows))
        print()
    for note in res.notes:
        print(f"note: {note}")
    print(f"{res.name}: {seconds:.1f} s; wrote {len(files) + len(res.figures) + 1} files to {out}")
    return 0
