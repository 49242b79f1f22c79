"""``python -m glassnet.experiments NAME... [--quick] [--seed N]``: run and print tables."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from . import (
    acf_table,
    ar_closed_form,
    char_lm,
    digits_cnn,
    format_table,
    latent_regime,
    machine,
    noisy_sine_forecast,
    order_matters,
    sunspots_rmse,
    tau_choice,
    tau_lab,
)


def _tau(quick: bool, seed: int) -> list[dict[str, Any]]:
    rows = tau_lab("sunspots", quick=quick, seed=seed) + tau_lab("co2", quick=quick, seed=seed)
    return rows + tau_choice(rows)


def _gated(quick: bool, seed: int) -> list[dict[str, Any]]:
    from ..diagnostics.experiments import gated_cells_check

    keys = ("cell", "steps", "final_loss", "ratio", "best_ratio", "seconds")
    return [
        {"seed": sd} | {k: r[k] for k in keys}
        for sd in range(seed, seed + (1 if quick else 10))
        for r in gated_cells_check(seed=sd).values()
    ]


EXPERIMENTS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "ar": ar_closed_form,
    "sine": noisy_sine_forecast,
    "sunspots": sunspots_rmse,
    "acf": lambda quick, seed: acf_table(seed=seed),
    "order": order_matters,
    "sonnets": lambda quick, seed: char_lm("sonnets", quick=quick, seed=seed),
    "tragedies": lambda quick, seed: char_lm("tragedies", quick=quick, seed=seed),
    "digits": digits_cnn,
    "tau": _tau,
    "latent": latent_regime,
    "gated": _gated,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glassnet.experiments",
        description="Run the experiments behind docs/results.md.",
    )
    parser.add_argument("names", nargs="+", choices=[*EXPERIMENTS, "all"], metavar="NAME",
                        help=f"one or more of: {', '.join(EXPERIMENTS)}, all")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny smoke-test sizes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names = list(EXPERIMENTS) if "all" in args.names else args.names
    print(f"machine: {machine()}\n")
    for name in names:
        start = time.perf_counter()
        fn = EXPERIMENTS[name]
        rows = fn(quick=args.quick, seed=args.seed)
        samples = [r.pop("sample") for r in rows if "sample" in r]
        print(f"## {name}\n")
        print(format_table(rows))
        for s in samples:
            print("\nsample:\n```\n" + s + "\n```")
        print(f"\n({time.perf_counter() - start:.1f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
