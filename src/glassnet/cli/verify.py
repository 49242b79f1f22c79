"""``glassnet verify``: check every claim and every documented number against fresh runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="check the seed's claims and regenerate every number of docs/results.md and "
        "docs/gradflow.md (--quick: the fast subset CI runs)",
        description=(
            "Runs one asserting check per claim (docs/claims.md) and regenerates every generated "
            "block of docs/results.md, docs/gradflow.md and docs/claims.md, failing where a "
            "documented number drifts from what the code measures (wall times are rewritten, "
            "never compared). The full run takes tens of minutes on 2 cores; --quick runs the "
            "claims at small sizes and the blocks that are cheap at full size. Run it as "
            "OPENBLAS_NUM_THREADS=1 glassnet verify, the setting the docs were measured with."
        ),
    )
    p.add_argument("--quick", action="store_true", help="small sizes: the check CI runs")
    p.add_argument(
        "--write", action="store_true", help="rewrite the regenerated blocks (and figures)"
    )
    p.add_argument("--docs", type=Path, default=None, help="folder of the pages (default: docs/)")
    p.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help="only these claim numbers, pages (results.md) or blocks (tau, memory, ...) "
        "(default: all)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="keep the runs' files here (default: temporary)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..experiments._common import machine
    from ..experiments.verify import verify

    print(f"machine: {machine()}")
    report = verify(
        quick=args.quick, write=args.write, docs_dir=args.docs, only=tuple(args.only or ()),
        out_dir=args.out,
    )  # fmt: skip
    failed = [c for c in report.claims if not c[2]]
    drift = [b for b in report.blocks if b[2] in ("drift", "error")]
    skipped = sum(b[2] == "skipped" for b in report.blocks)
    print(
        f"verify: {len(report.claims) - len(failed)} of {len(report.claims)} claims hold; "
        f"{len(report.blocks) - len(drift) - skipped} blocks agree"
        + (" (written)" if args.write else "")
        + f", {len(drift)} drifted, {skipped} skipped"
    )
    return 0 if report.ok else 1
