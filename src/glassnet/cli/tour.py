"""``glassnet tour``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "tour",
        help="walk through the whole library on bundled data (offline, under a minute)",
        description=(
            "Convolution as mathematics and as a layer, a CNN on digits, the choice of tau by "
            "validation, AR vs latent-AR forecasting of sunspots, gradient flow in RNN/LSTM/GRU "
            "and a character LSTM on the sonnets; prints a summary and writes report.html with "
            "the figures."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("runs/tour"), help="output directory")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of a few seconds")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..tour import run_tour

    run_tour(args.out, quick=args.quick, seed=args.seed)
    return 0
