"""What ``glassnet verify`` runs and writes: the sources of the docs and their generated blocks.

Each block below renders one generated part of ``docs/results.md``, ``docs/gradflow.md`` or
``docs/claims.md`` from the runs in :data:`SOURCES`; the measured numbers of those pages exist
only inside such blocks, so they are always what the code produces. See
:mod:`glassnet.experiments.verify` for how they are compared and rewritten.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._common import format_table
from .charlm import char_lm
from .latent import latent_regime
from .series import acf_table, ar_closed_form, noisy_sine_forecast, order_matters, sunspots_rmse
from .verify import BlockSpec, InlineNumber, Results, Source

DIGITS_SEEDS = (0, 1, 2)
GATED_SEEDS = tuple(range(10))


def _secs(v: float) -> str:
    """A wall time, written with its unit so that comparisons skip it."""
    return f"{v:.2g} s" if v < 10 else f"{v:.0f} s"


def _table(
    rows: list[dict[str, Any]], cols: dict[str, str | Callable[[dict], Any]], digits: int = 4
) -> str:
    """A Markdown table: each column is a row key or a function of the row."""
    out = [{h: (c(r) if callable(c) else r.get(c, "")) for h, c in cols.items()} for r in rows]
    return format_table(out, digits=digits)


# ----------------------------------------------------------------------------- sources


def _digits(quick: bool, out: Path) -> Any:
    from .digits import digits_cnn

    size: dict[str, Any] = {"epochs": 4} if quick else {}
    ablation = digits_cnn(
        channels=(16, 32), hidden=(64,), batch_norm=False, dropout=0.0, weight_decay=0.0, **size
    )
    seeds = DIGITS_SEEDS[:1] if quick else DIGITS_SEEDS
    return {"seeds": {sd: digits_cnn(seed=sd, **size) for sd in seeds}, "ablation": ablation}


def _tau(models: tuple[str, ...]) -> Callable[[bool, Path], Any]:
    def run(quick: bool, out: Path) -> Any:
        from .tau import plot_tau_lab, tau_lab

        rows = tau_lab("sunspots", quick=quick, models=models) + tau_lab(
            "co2", quick=quick, models=models
        )
        if len(models) > 1:
            plot_tau_lab(rows, out)
        return rows

    return run


def _gradflow(name: str) -> Callable[[bool, Path], Any]:
    def run(quick: bool, out: Path) -> Any:
        from ..diagnostics.experiments import EXPERIMENTS

        return EXPERIMENTS[name](out, quick=quick)

    return run


def _gated(quick: bool, out: Path) -> Any:
    from ..diagnostics.experiments import gated_cells_check

    return {sd: gated_cells_check(seed=sd) for sd in (GATED_SEEDS[:1] if quick else GATED_SEEDS)}


def _quick_sized(
    fn: Callable[..., Any], *args: Any, **quick_kw: Any
) -> Callable[[bool, Path], Any]:
    """A source calling ``fn(*args, quick=quick)`` (plus ``quick_kw`` at quick size)."""

    def run(quick: bool, out: Path) -> Any:
        return fn(*args, quick=quick, **(quick_kw if quick else {}))

    return run


_EXP = "OPENBLAS_NUM_THREADS=1 python -m glassnet.experiments "
SOURCES: dict[str, Source] = {
    s.name: s
    for s in [
        Source("ar", _quick_sized(ar_closed_form), True, _EXP + "ar"),
        # same code, two AMD EPYC machines: the k=64 MLP-AR error 0.2471 and 0.2782
        Source("sine", _quick_sized(noisy_sine_forecast), True, _EXP + "sine", portable=False),
        Source("sunspots", _quick_sized(sunspots_rmse), False, _EXP + "sunspots"),
        Source("acf", lambda quick, out: acf_table(), True, _EXP + "acf"),
        Source("order", _quick_sized(order_matters), False, _EXP + "order"),
        # lr 1e-2 makes the 3-epoch quick model learn something (the test does the same)
        Source("sonnets", _quick_sized(char_lm, "sonnets", lr=1e-2), False, _EXP + "sonnets"),
        Source("tragedies", _quick_sized(char_lm, "tragedies"), False, _EXP + "tragedies"),
        Source("digits", _digits, False, _EXP + "digits"),
        Source("tau_linear", _tau(("linear AR",)), True, _EXP + "tau"),
        Source("tau", _tau(("linear AR", "MLP-AR")), False, _EXP + "tau"),
        Source("latent", _quick_sized(latent_regime), False, _EXP + "latent"),
        Source("arithmetic", _gradflow("arithmetic"), True, "glassnet gradflow arithmetic"),
        # exploding-gradient training: the largest gradient norm 1.71e19 and 1.84e19 on two
        # machines, 7.16e29 on one of them with one BLAS thread
        Source("radius", _gradflow("radius"), True, "glassnet gradflow radius", portable=False),
        Source("cells", _gradflow("cells"), False, "glassnet gradflow cells"),
        Source("tasks", _gradflow("tasks"), False, "glassnet gradflow tasks"),
        Source("memory", _gradflow("memory"), False, "glassnet gradflow memory"),
        Source("gated", _gated, False, _EXP + "gated"),
    ]
}


# ----------------------------------------------------------------------------- results.md


def _ar(r: Results) -> str:
    rows = r["ar"]
    closed = max(x["rel_diff"] for x in rows if "closed form" in x["fit"])
    gd = rows[-1]
    table = _table(
        rows,
        {
            "fit": "fit",
            "reference": "reference",
            "rel_diff": "rel_diff",
            "steps": "steps",
            "steps to 1e-3": "steps_to_1e-3",
            "time": lambda x: _secs(x["seconds"]),
        },
    )
    return (
        f"{table}\n\nAcceptance: closed form equals OLS to {closed:.0e} (target 1e-8); gradient "
        f"descent is within 1e-3 after {gd['steps_to_1e-3']} steps and at {gd['rel_diff']:.0e} "
        f"after {gd['steps']} (target 1e-3)."
    )


def _sine(r: Results) -> str:
    rows = r["sine"]
    models = [k for k in rows[0] if k != "k" and not k.startswith("oracle")]
    growing = [m for m in models if all(a[m] < b[m] for a, b in itertools.pairwise(rows))]
    table = _table(rows, {"k": "k", **{m: m for m in rows[0] if m != "k"}})
    one = rows[0]["linear AR(4), least squares"]
    return (
        f"{table}\n\nAcceptance: one-step MSE {one:.4f} against the noise variance 0.04 "
        f"(realised on these values: {rows[0]['oracle sin(0.01 t)']:.4f}). The k-step error grows "
        f"with k for {len(growing)} of the {len(models)} models ({', '.join(growing)})."
    )


def _sunspots(r: Results) -> str:
    rows = r["sunspots"]
    persistence = rows[0]["test RMSE"]
    learned = rows[2:]
    below = [x["model"] for x in learned if x["test RMSE"] < persistence]
    best = min(learned, key=lambda x: x["test RMSE"])
    table = _table(
        rows,
        {
            "model": "model",
            "test RMSE": "test RMSE",
            "std over seeds": "std over seeds",
            "seeds": lambda x: x["seeds"] if x["std over seeds"] != "" else "",
            "train time per seed": lambda x: (
                _secs(x["train seconds"]) if x["train seconds"] != "" else ""
            ),
        },
    )
    return (
        f"{table}\n\nAcceptance: {len(below)} of the {len(learned)} learned models beat "
        f"persistence ({persistence:.2f}); the lowest test RMSE is {best['model']}'s "
        f"({best['test RMSE']:.2f})."
    )


def _acf(r: Results) -> str:
    return format_table(r["acf"], digits=3)


def _order(r: Results) -> str:
    rows = r["order"]
    mean_rmse = {
        x["series"]: x["RMSE trained on shuffled copy"]
        for x in rows
        if x["model"].startswith("reference")
    }
    models = [x for x in rows if not x["model"].startswith("reference")]
    rel = [x["RMSE trained on shuffled copy"] / mean_rmse[x["series"]] for x in models]
    ratios = [x["ratio shuffled/true"] for x in models]
    return (
        f"{_table(rows, {k: k for k in rows[0]})}\n\nTrained on the shuffled copy, every model's "
        f"test RMSE is {min(ratios):.1f}x to {max(ratios):.0f}x what it is when trained in true "
        f"order, and {min(rel):.2f}x to {max(rel):.2f}x the RMSE of the constant training-mean "
        "forecast (second column of the reference rows)."
    )


def _charlm(r: Results) -> str:
    corpora = {name: r[name] for name in ("sonnets", "tragedies")}
    summary, per_epoch = [], []
    for name, rows in corpora.items():
        last = rows[-1]
        best = min(rows, key=lambda x: x["val perplexity"])
        ppl = f"{last['val perplexity']:.2f}"
        if best is not last:
            ppl += f" (best {best['val perplexity']:.2f} at epoch {best['epoch']})"
        summary.append(
            {
                "corpus": name,
                "train / val chars": f"{last['train chars']:,} / {last['val chars']:,}",
                "vocab": last["vocab"],
                "epochs": last["epoch"],
                "val perplexity": ppl,
                "unigram val perplexity": last["unigram val perplexity"],
                "training time": _secs(last["seconds"]),
            }
        )
    shown = {1, 2, 3, 5, 10, 15}  # and each corpus's best and last epoch
    for rows in corpora.values():
        shown |= {rows[-1]["epoch"], min(rows, key=lambda x: x["val perplexity"])["epoch"]}
    epochs = sorted(
        e for e in shown if any(x["epoch"] == e for rows in corpora.values() for x in rows)
    )
    for name, rows in corpora.items():
        by = {x["epoch"]: x["val perplexity"] for x in rows}
        per_epoch.append({"epoch": name} | {str(e): by.get(e, "") for e in epochs})
    ratios = [
        rows[-1]["unigram val perplexity"] / rows[-1]["val perplexity"] for rows in corpora.values()
    ]
    samples = "\n\n".join(
        f"{name.capitalize()}, prefix `{_prefix(name)}`:\n```\n{rows[-1]['sample']}\n```"
        for name, rows in corpora.items()
    )
    return (
        f"{format_table(summary)}\n\nValidation perplexity by epoch:\n\n"
        f"{format_table(per_epoch)}\n\nAcceptance: validation perplexity {ratios[0]:.1f}x "
        f"(sonnets) and {ratios[1]:.1f}x (tragedies) below the unigram perplexity. Samples "
        f"(temperature 0.8, after warming up on the prefix):\n\n{samples}"
    )


def _prefix(name: str) -> str:
    from .charlm import PREFIXES

    return PREFIXES[name].replace("\n", "\\n")


def _digits_block(r: Results) -> str:
    res = r["digits"]
    rows = []
    for sd, epochs in res["seeds"].items():
        last = epochs[-1]
        rows.append(
            {
                "seed (split and initialisation)": sd,
                "test accuracy": f"{last['test acc']:.2%}",
                f"test errors (of {last['test images']})": last["test errors"],
                f"training time ({last['epoch']} epochs)": _secs(last["seconds"]),
            }
        )
    ab = res["ablation"][-1]
    accs = [x["test acc"] for x in (e[-1] for e in res["seeds"].values())]
    return (
        f"{format_table(rows)}\n\nAcceptance: {min(accs):.2%} or more on the held-out split for "
        f"every seed tried (target 98%). Without batch norm, dropout and weight decay (and "
        f"with the smaller network below) seed 0 gives {ab['test acc']:.2%} ({ab['test errors']} "
        f"errors, {_secs(ab['seconds'])}), training accuracy {ab['train acc']:.2%}:"
    )


def _tau_block(r: Results) -> str:
    from .tau import tau_choice

    rows = r["tau"]
    parts = []
    for series in dict.fromkeys(x["series"] for x in rows):
        by: dict[int, dict[str, Any]] = {}
        for x in rows:
            if x["series"] != series:
                continue
            short = "AR" if x["model"] == "linear AR" else "MLP"
            d = by.setdefault(x["tau"], {"tau": x["tau"], "chosen by validation": ""})
            d[f"{short} validation RMSE"] = x["val RMSE"]
            d[f"{short} test RMSE"] = x["test RMSE"]
            if x["chosen"]:
                d["chosen by validation"] = ", ".join(
                    filter(None, [d["chosen by validation"], short])
                )
        parts.append(f"{series}:\n\n{format_table(list(by.values()))}")
    choice = tau_choice(rows)
    wins = []
    for series in dict.fromkeys(x["series"] for x in rows):
        test = {(x["model"], x["tau"]): x["test RMSE"] for x in rows if x["series"] == series}
        taus = sorted({tau for _, tau in test})
        n = sum(test[("MLP-AR", t)] < test[("linear AR", t)] for t in taus)
        wins.append(f"{n} of the {len(taus)} taus on {series}")
    return (
        "\n\n".join(parts)
        + "\n\nThe choice, against what it was blind to:\n\n"
        + format_table(choice)
        + f"\n\nThe MLP-AR has a lower test RMSE than the linear AR at {' and '.join(wins)}."
    )


def _latent_block(r: Results) -> str:
    from .latent import window_crossover

    rows = r["latent"]
    table = _table(
        rows,
        {
            "forecaster": "forecaster",
            "tau": "tau",
            "test MSE": "test MSE",
            "/ Bayes": "/ Bayes",
            "training time": lambda x: _secs(x["seconds"]) if x["seconds"] != "" else "",
        },
    )
    lines = []
    for name in [x["forecaster"] for x in rows if x["forecaster"].endswith("hidden 16")]:
        c = window_crossover(rows, name)
        lines.append(
            f"the {name} (test MSE {c['test MSE']:.4f}, {c['test MSE'] / rows[0]['test MSE']:.3f}x "
            f"Bayes) beats every linear AR(tau) tried up to tau = "
            f"{c['beats_every_linear_ar_up_to']} and the window bound of every tau tried up to "
            f"{c['beats_every_window_up_to']}"
        )
    return f"{table}\n\nMeasured: " + "; ".join(lines) + "."


# ----------------------------------------------------------------------------- gradflow.md


def _arithmetic(r: Results) -> str:
    rows = r["arithmetic"].tables["arithmetic"]
    by = {(x["factor"], x["distance_k"]): x for x in rows}
    table = []
    for k in [*range(11), "dL/dx_0"]:
        up, down = by[(2.0, k)], by[(0.5, k)]
        table.append(
            {
                "k": k,
                "f = 2: measured": up["grad_h_measured"],
                "2^k": up["expected_f_pow_k"],
                "f = 1/2: measured": down["grad_h_measured"],
                "(1/2)^k": down["expected_f_pow_k"],
                "exact": up["exact"] and down["exact"],
            }
        )
    n_exact = sum(x["exact"] for x in rows)
    return (
        f"{format_table(table, digits=10)}\n\n{n_exact} of the {len(rows)} measured values equal "
        "`f^k` exactly (bit for bit: powers of two)."
    )


def _radius(r: Results) -> str:
    t = r["radius"].tables
    top = t["radius"][-1]
    far = [k for k in top if k.startswith("grad_ratio_k")][-1]
    train = t["radius_training"]
    div = [f"radius {x['radius']:g} clip {x['clip']}" for x in train if x["diverged"]]
    learned = [x for x in train if not x["diverged"]]
    big = max(train, key=lambda x: x["max_grad_norm"])
    finals = [x["final_loss"] for x in learned]
    return (
        f"{format_table(t['radius'], digits=3)}\n\nTraining the RNN on the adding problem "
        f"(table below): diverged: {', '.join(div) or 'none'}; the largest gradient norm was "
        f"{big['max_grad_norm']:.3g} (radius {big['radius']:g}, clip {big['clip']}). The "
        f"gradient ratio at the longest distance runs from {t['radius'][0][far]:.3g} (radius "
        f"{t['radius'][0]['radius']:g}) to {top[far]:.3g} (radius {top['radius']:g}).\n\n"
        f"{format_table(train, digits=3)}\n\nFinal MSE of the runs that did not diverge: "
        f"{min(finals):.3g} to {max(finals):.3g} (baseline 1/6 = {train[0]['baseline']:.4f})."
    )


def _cells(r: Results) -> str:
    rows = r["cells"].tables["cells"]
    cols = {k: k for k in rows[0] if k != "seconds"}
    return _table(rows, cols, digits=3)


def _tasks(r: Results) -> str:
    t = r["tasks"].tables
    cols = [
        "task",
        "cell",
        "T",
        "hidden",
        "params",
        "final_loss",
        "baseline",
        "ratio",
        "diverged",
        "max_grad_norm",
    ]
    ab_cols = [
        "task",
        "cell",
        "T",
        "clip",
        "bptt",
        "final_loss",
        "baseline",
        "ratio",
        "diverged",
        "max_grad_norm",
    ]
    return (
        f"{_table(t['tasks'], {c: c for c in cols}, digits=3)}\n\nAblation at T = 100:\n\n"
        f"{_table(t['tasks_ablation'], {c: c for c in ab_cols}, digits=3)}"
    )


def _memory(r: Results) -> str:
    rows = r["memory"].tables["memory"]
    cols = {k: k for k in rows[0] if k not in ("seconds", "diverged")}
    cols["training time"] = lambda x: _secs(x["seconds"])
    found = []
    for task in dict.fromkeys(x["task"] for x in rows):
        for level, what in ((0.1, "below 10% of the baseline"), (1.0, "below the baseline")):
            per_cell = []
            for cell in dict.fromkeys(x["cell"] for x in rows):
                Ts = [
                    str(x["T"])
                    for x in rows
                    if (x["task"], x["cell"]) == (task, cell) and x["ratio"] < level
                ]
                per_cell.append(f"{cell} at T = {', '.join(Ts)}" if Ts else f"{cell} at none")
            found.append(f"{task}, final loss {what}: {'; '.join(per_cell)}.")
    return _table(rows, cols, digits=3) + "\n\n" + "\n".join(f"* {f}" for f in found)


def _gated_block(r: Results) -> str:
    res = r["gated"]
    rows = []
    for sd, by in res.items():
        rows.append(
            {"seed": sd}
            | {
                f"{c} updates to < 10%": by[c]["steps"] if by[c]["ratio"] < 0.1 else "never"
                for c in ("LSTM", "GRU")
            }
            | {
                "RNN lowest loss / baseline": by["RNN"]["best_ratio"],
                "RNN final / baseline": by["RNN"]["ratio"],
            }
        )
    ok = sum(
        all(by[c]["ratio"] < 0.1 for c in ("LSTM", "GRU")) and by["RNN"]["best_ratio"] > 0.5
        for by in res.values()
    )
    return f"{format_table(rows, digits=3)}\n\nThe check holds for {ok} of the {len(res)} seeds."


def _timings(r: Results) -> str:
    lines = ["```"]
    for name, what in (
        ("arithmetic", "(d) exact doubling / halving"),
        ("radius", "(a) spectral radius 0.5 .. 1.5"),
        ("cells", "(b) RNN vs LSTM vs GRU, trained"),
        ("tasks", "(c) adding / copy-memory grid, 250 updates"),
        ("memory", "(e) long-memory lab, 3000 updates"),
    ):
        r[name]
        lines.append(f"glassnet gradflow {name:<10} # {what:<44} {_secs(r.seconds[name])}")
    return "\n".join([*lines, "```"])


# ----------------------------------------------------------------------------- claims.md


def _claims(r: Results) -> str:
    from .claims import CLAIMS

    rows = [
        {
            "#": c.number,
            "claim": c.claim,
            "glassnet verify asserts": c.check,
            "with --quick": c.quick,
            "CI tests": "<br>".join(f"`{t}`" for t in c.tests),
        }
        for c in CLAIMS
    ]
    return format_table(rows)


_G = "gradflow.md"
_R = "results.md"
BLOCKS: list[BlockSpec] = [
    BlockSpec("claims.md", "claims", (), _claims, rtol=0.0),
    BlockSpec(_R, "ar", ("ar",), _ar, rtol=1e-6, atol=1e-12),
    BlockSpec(_R, "sine", ("sine",), _sine),
    BlockSpec(_R, "sunspots", ("sunspots",), _sunspots),
    BlockSpec(_R, "acf", ("acf",), _acf, rtol=1e-6),
    BlockSpec(_R, "order", ("order",), _order),
    BlockSpec(_R, "charlm", ("sonnets", "tragedies"), _charlm),
    BlockSpec(_R, "digits", ("digits",), _digits_block),
    BlockSpec(
        _R, "tau", ("tau",), _tau_block, figures=("tau/tau_lab_sunspots.png", "tau/tau_lab_co2.png")
    ),
    BlockSpec(_R, "latent", ("latent",), _latent_block),
    BlockSpec(_G, "arithmetic", ("arithmetic",), _arithmetic, rtol=0.0),
    BlockSpec(_G, "radius", ("radius",), _radius, rtol=1e-3),
    BlockSpec(_G, "cells", ("cells",), _cells),
    BlockSpec(_G, "tasks", ("tasks",), _tasks),
    BlockSpec(
        _G,
        "memory",
        ("memory",),
        _memory,
        figures=("memory/memory_adding.png", "memory/memory_copy.png"),
    ),
    BlockSpec(_G, "gated", ("gated",), _gated_block),
    BlockSpec(_G, "timings", ("arithmetic", "radius", "cells", "tasks", "memory"), _timings),
]

# The README quotes the digits CNN's accuracy at the command's default, seed 0.
INLINE: list[InlineNumber] = [
    InlineNumber(
        "README.md",
        "readme.digits",
        r"the digits CNN\s+\((\d+(?:\.\d+)?)% held-out accuracy\)",
        ("digits",),
        lambda r: f"{100 * r['digits']['seeds'][0][-1]['test acc']:.1f}",
    )
]

__all__ = ["BLOCKS", "INLINE", "SOURCES"]
