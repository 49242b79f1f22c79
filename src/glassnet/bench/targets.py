"""The issues' speed targets checked against one or more benchmark runs.

``python -m glassnet.bench.targets RUN.json [RUN.json ...]`` prints a Markdown table: per target,
each case's ratio (ours / PyTorch) in every run, and which cases stay within the target in every
run (or, where the issue says so, whose median over the runs does). A single run on a noisy
machine can move a ratio by a third, so the benchmarks page judges the targets on several
consecutive runs (``glassnet bench all --json``).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# (target as the issues state it, [(label, case name, bound), ...], rule): the rule says what
# must hold the bound, "every" run or the "median" of the runs (issue 15's wording)
TARGETS: list[tuple[str, list[tuple[str, str, float]], str]] = [
    (
        "conv <= 1.5",
        [
            ("a", "conv2d_a/fwd+bwd", 1.5),
            ("b", "conv2d_b/fwd+bwd", 1.5),
            ("c", "conv2d_c/fwd+bwd", 1.5),
            ("d", "conv2d_d/fwd+bwd", 1.5),
            ("e", "conv1d_e/fwd+bwd", 1.5),
        ],
        "every",
    ),
    (
        "LSTM <= 1.3 on (a), (b); <= 2.5 on (c)",
        [("a", "lstm_a/fwd+bwd", 1.3), ("b", "lstm_b/fwd+bwd", 1.3), ("c", "lstm_c/fwd+bwd", 2.5)],
        "every",
    ),
    (
        "GRU <= 1.0",
        [("a", "gru_a/fwd+bwd", 1.0), ("b", "gru_b/fwd+bwd", 1.0), ("c", "gru_c/fwd+bwd", 1.0)],
        "every",
    ),
    (
        "RNN <= 1.0",
        [("a", "rnn_a/fwd+bwd", 1.0), ("b", "rnn_b/fwd+bwd", 1.0), ("c", "rnn_c/fwd+bwd", 1.0)],
        "every",
    ),
    (
        "issue 15: conv (b), (e) <= 1.5; (c), (d) <= 1.3 (median of the runs)",
        [
            ("b", "conv2d_b/fwd+bwd", 1.5),
            ("c", "conv2d_c/fwd+bwd", 1.3),
            ("d", "conv2d_d/fwd+bwd", 1.3),
            ("e", "conv1d_e/fwd+bwd", 1.5),
        ],
        "median",
    ),
    (
        "issue 15: pooling <= 1.3 (median of the runs)",
        [
            ("max a", "max_pool2d_a/fwd+bwd", 1.3),
            ("max b", "max_pool2d_b/fwd+bwd", 1.3),
            ("avg a", "avg_pool2d_a/fwd+bwd", 1.3),
            ("avg b", "avg_pool2d_b/fwd+bwd", 1.3),
        ],
        "median",
    ),
    (
        "issue 15: end to end <= 1.0",
        [
            ("digits", "lenet_digits/time_to_acc", 1.0),
            ("char-LSTM", "charlm_lstm/train_steps", 1.0),
        ],
        "every",
    ),
]


def _ratios(report: dict[str, Any]) -> dict[str, float]:
    return {r["name"]: r["ratio"] for r in report["results"] if r.get("ratio") is not None}


def targets_table(reports: Sequence[dict[str, Any]]) -> str:
    """Markdown table of every target over ``reports`` (``glassnet bench --json`` contents)."""
    if not reports:
        raise ValueError("targets_table expected at least one benchmark report, got none")
    runs = [_ratios(r) for r in reports]
    lines = [
        f"| issue target | case: ratio in run{'s' if len(runs) > 1 else ''} "
        + " / ".join(str(i + 1) for i in range(len(runs)))
        + " | within the target? (every run, or the median where the target says so) |",
        "| --- | --- | --- |",
    ]
    for target, cases, rule in TARGETS:
        cells: list[str] = []
        good: list[str] = []
        bad: list[str] = []
        missing: list[str] = []
        for label, name, bound in cases:
            if any(name not in run for run in runs):
                missing.append(label)
                continue
            values = [run[name] for run in runs]
            cell = f"{label} " + " / ".join(f"{v:.2f}" for v in values)
            if rule == "median":
                middle = statistics.median(values)
                cells.append(f"{cell} (median {middle:.2f})")
                (good if middle <= bound else bad).append(label)
            else:
                cells.append(cell)
                (good if all(v <= bound for v in values) else bad).append(label)
        if not bad and not missing:
            verdict = "yes"
        else:
            parts = [
                f"yes: {', '.join(good)}" if good else "",
                f"no: {', '.join(bad)}" if bad else "",
            ]
            parts.append(f"not measured: {', '.join(missing)}" if missing else "")
            verdict = "; ".join(p for p in parts if p)
        lines.append(f"| {target} | {'; '.join(cells) or '-'} | {verdict} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    try:
        reports = [json.loads(Path(p).read_text()) for p in argv]
        table = targets_table(reports)
    except (OSError, ValueError) as e:
        print(f"glassnet.bench.targets: {e}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, AttributeError):
        print(
            "glassnet.bench.targets: expected the JSON files of 'glassnet bench --json', "
            "each with a 'results' list of cases",
            file=sys.stderr,
        )
        return 2
    print(table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
