"""The gradient-flow experiments behind ``glassnet gradflow``: tables and figures.

Each experiment is a function ``experiment(out_dir, *, quick=False, seed=0)`` that returns an
:class:`ExperimentResult` (tables as lists of dicts, figure paths, notes) and writes its figures
into ``out_dir``. ``quick=True`` runs tiny sizes (a smoke test of a few seconds); the default
sizes are documented in ``docs/gradflow.md`` together with the measured tables.

* :func:`radius_experiment`: a tanh RNN whose recurrent matrix is scaled to a spectral radius;
  gradient norm against distance, and short SGD training with and without clipping.
* :func:`cells_experiment`: RNN vs LSTM vs GRU at an equal parameter budget, trained on the
  adding problem; gradient norm against distance, and heatmaps over time x training step.
* :func:`tasks_experiment`: adding and copy-memory at several T, with and without clipping and
  with truncated BPTT; final loss against the no-memory baselines.
* :func:`arithmetic_experiment`: a constructed ReLU RNN whose gradient doubles or halves exactly
  at every step, measured through the real backward pass.
* :func:`memory_experiment`: the long-memory lab: adding and copy at T = 50/100/200 for thousands
  of updates, with learning curves; :func:`gated_cells_check` is its T = 100 adding case at the
  smallest budget that separates the cells (used by the tests and ``glassnet verify``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..nn import functional as F
from ..nn.rnn import RNN
from .gradients import (
    grad_norms_through_time,
    jacobian_product,
    recurrent_spectrum,
    scale_to_spectral_radius,
)
from .tasks import (
    ADDING_BASELINE,
    CELLS,
    build_model,
    hidden_for_budget,
    make_batch,
    train_task,
)

__all__ = [
    "EXPERIMENTS",
    "ExperimentResult",
    "arithmetic_experiment",
    "cells_experiment",
    "gated_cells_check",
    "memory_experiment",
    "radius_experiment",
    "tasks_experiment",
]


@dataclass
class ExperimentResult:
    """Tables (``{name: [row dict, ...]}``), figure paths and one-line findings."""

    name: str
    tables: dict[str, list[dict[str, Any]]]
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def _viz() -> Any:
    import glassnet.viz as viz  # matplotlib only when figures are drawn

    return viz


def _at(curve: np.ndarray, k: int) -> float:
    return float(curve[k]) if k < len(curve) else float("nan")


# --------------------------------------------------------------------------- (a) radius


def radius_experiment(
    out_dir: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    radii: tuple[float, ...] = (0.5, 0.9, 1.0, 1.1, 1.5),
) -> ExperimentResult:
    """Vanilla tanh RNN with ``W_hh`` scaled to each spectral radius: gradient vs distance.

    For each radius a random Gaussian ``W_hh`` (H x H) is rescaled to that spectral radius; the
    loss reads only the last output (``sum(w * h_{T-1})``, fixed random w) on a batch of
    standard-normal inputs. Measured: ``||dL/dh_{T-1-k}|| / ||dL/dh_{T-1}||`` through the layer's
    backward (BPTT hook) and ``||dh_{T-1}/dh_{T-1-k}||_2`` of sample 0 from the Jacobian product.
    Then the same RNN (input 2, the adding problem at T_train) is trained with plain SGD with and
    without gradient clipping (max norm 1) to see which runs diverge.
    """
    out = Path(out_dir)
    T, H, N, D = (30, 16, 8, 4) if quick else (100, 64, 32, 4)
    T_train, steps, lr = (20, 20, 0.05) if quick else (50, 150, 0.05)
    rng = np.random.default_rng(seed)
    base_w = rng.standard_normal((H, H))
    x = Tensor(rng.standard_normal((T, N, D)))
    w_out = Tensor(rng.standard_normal((N, H)))
    rows, curves, jac_curves, train_rows = [], {}, {}, []
    for rho in radii:
        rnn = RNN(D, H, rng=np.random.default_rng(seed + 1)).double()
        rnn.weight_hh_l0.data[...] = scale_to_spectral_radius(base_w, rho)
        spec = recurrent_spectrum(rnn.weight_hh_l0, "tanh")
        g = grad_norms_through_time(rnn, x, lambda o: (o[0][-1] * w_out).sum())
        ratio = g.by_distance() / g.by_distance()[0]
        jn = jacobian_product(rnn, x).norms_vs_distance()[:T]
        curves[f"radius {rho:g}"] = ratio
        jac_curves[f"radius {rho:g}"] = jn
        row: dict[str, Any] = {
            "radius": rho,
            "sigma_max": round(spec.sigma_max, 4),
            "vanishing_sufficient": spec.vanishing_sufficient,
            "exploding_necessary": spec.exploding_necessary,
        }
        for k in (10, T // 2, T - 1):
            row[f"grad_ratio_k{k}"] = _at(ratio, k)
        for k in (10, T // 2, T - 1):
            row[f"jac_norm_k{k}"] = _at(jn, k)
        rows.append(row)
        for clip in (None, 1.0):
            model = build_model("adding", "RNN", H, rng=np.random.default_rng(seed + 2))
            w = np.random.default_rng(seed + 3).standard_normal((H, H))
            model.rnn.weight_hh_l0.data[...] = scale_to_spectral_radius(w, rho)
            r = train_task(
                "adding", "RNN", T_train, hidden=H, steps=steps, lr=lr, clip=clip,
                optimizer="sgd", seed=seed, model=model,
            )  # fmt: skip
            train_rows.append({"radius": rho, **{k: r[k] for k in _TRAIN_KEYS}})
    viz = _viz()
    figs = [
        viz.plot_gradient_norms(
            curves,
            out / "radius_grad_vs_distance.png",
            title=f"tanh RNN, H={H}, T={T}: ||dL/dh_(T-1-k)|| / ||dL/dh_(T-1)||",
        ),
        viz.plot_gradient_norms(
            jac_curves,
            out / "radius_jacobian_vs_distance.png",
            title="tanh RNN: ||dh_(T-1)/dh_(T-1-k)||_2 (Jacobian product, sample 0)",
            ylabel="spectral norm of the Jacobian product",
        ),
        viz.plot_bar_table(
            [f"radius {r['radius']:g}, clip {r['clip']}" for r in train_rows],
            [r["final_loss"] for r in train_rows],
            out / "radius_training.png",
            baseline=ADDING_BASELINE,
            title=f"Adding problem T={T_train}, plain SGD lr={lr}, {steps} steps (NaN: diverged)",
            xlabel="final MSE",
        ),
    ]
    notes = []
    for r in train_rows:
        if r["diverged"]:
            notes.append(f"radius {r['radius']:g}, clip {r['clip']}: diverged")
    config = {"T": T, "hidden": H, "batch": N, "input": D, "T_train": T_train,
              "train_steps": steps, "lr": lr, "optimizer": "sgd"}  # fmt: skip
    return ExperimentResult(
        "radius", {"radius": rows, "radius_training": train_rows}, figs, notes, config
    )


_TRAIN_KEYS = ("clip", "final_loss", "baseline", "diverged", "max_grad_norm")


# --------------------------------------------------------------------------- (b) cells


def cells_experiment(
    out_dir: str | Path, *, quick: bool = False, seed: int = 0
) -> ExperimentResult:
    """RNN, LSTM and GRU at an equal parameter budget, trained on the adding problem.

    Every ``record_every`` training steps the per-step gradient norms ``||dL/dh_t||`` of a fixed
    probe batch (loss: MSE at the last step) are recorded through the BPTT hook; the rows of the
    heatmap are those records. The table gives ``||dL/dh_{T-1-k}|| / ||dL/dh_{T-1}||`` at
    initialisation and after training.
    """
    out = Path(out_dir)
    T, budget, steps, every = (20, 600, 15, 5) if quick else (50, 2000, 300, 10)
    probe_x, probe_y = make_batch("adding", T, 64, np.random.default_rng(seed + 99))
    rows, final_curves, init_curves, figs = [], {}, {}, []
    viz = _viz()
    for cell in CELLS:
        H = hidden_for_budget(cell, 2, 1, budget)
        records: list[np.ndarray] = []
        rec_steps: list[int] = []

        def on_step(
            step: int,
            model: Any,
            x: Any,
            y: Any,
            records: list = records,
            rec_steps: list = rec_steps,
        ) -> None:
            if step % every == 0:
                records.append(_probe(model, probe_x, probe_y))
                rec_steps.append(step)

        model = build_model("adding", cell, H, rng=np.random.default_rng(seed))
        r = train_task(
            "adding", cell, T, hidden=H, steps=steps, clip=1.0, seed=seed, on_step=on_step,
            model=model,
        )  # fmt: skip
        records.append(_probe(model, probe_x, probe_y))
        rec_steps.append(steps)
        heat = np.stack(records)  # (S, T)
        figs.append(
            viz.plot_gradient_heatmap(
                heat,
                out / f"cells_heatmap_{cell}.png",
                steps=np.array(rec_steps),
                title=f"{cell} (H={H}) on adding T={T}: ||dL/dh_t|| through training",
            )
        )
        init = heat[0][::-1] / heat[0][-1]
        fin = heat[-1][::-1] / heat[-1][-1]
        init_curves[cell], final_curves[cell] = init, fin
        row: dict[str, Any] = {"cell": cell, "hidden": H, "params": r["params"]}
        for k in (5, T // 2, T - 1):
            row[f"init_ratio_k{k}"] = _at(init, k)
        for k in (5, T // 2, T - 1):
            row[f"trained_ratio_k{k}"] = _at(fin, k)
        row.update(final_loss=r["final_loss"], baseline=r["baseline"], seconds=r["seconds"])
        rows.append(row)
    figs.insert(
        0,
        viz.plot_gradient_norms(
            final_curves,
            out / "cells_grad_vs_distance_trained.png",
            title=f"After {steps} steps on adding T={T}: ||dL/dh_(T-1-k)|| / ||dL/dh_(T-1)||",
        ),
    )
    figs.insert(
        1,
        viz.plot_gradient_norms(
            init_curves,
            out / "cells_grad_vs_distance_init.png",
            title=f"At initialisation, adding T={T}: ||dL/dh_(T-1-k)|| / ||dL/dh_(T-1)||",
        ),
    )
    config = {"T": T, "budget": budget, "steps": steps, "record_every": every, "batch": 32,
              "optimizer": "adam", "lr": 1e-2, "clip": 1.0}  # fmt: skip
    return ExperimentResult("cells", {"cells": rows}, figs, [], config)


def _probe(model: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/dh_t|| per step of ``model.rnn`` for the MSE of the read-out at the last step."""

    def loss(o: Any) -> Tensor:
        return F.mse_loss(model.head(o[0][-1]), Tensor(y))

    return grad_norms_through_time(model.rnn, Tensor(x), loss).norms


# --------------------------------------------------------------------------- (c) tasks


def tasks_experiment(
    out_dir: str | Path, *, quick: bool = False, seed: int = 0
) -> ExperimentResult:
    """Adding and copy-memory: RNN/LSTM/GRU, clipping and truncated BPTT vs the baselines.

    Main grid: every task, T and cell with clipping (max norm 1) and full BPTT. Ablation at
    ``T_ablation``: no clipping, and truncated BPTT with k = 5 and 20 (with clipping).
    """
    out = Path(out_dir)
    Ts: tuple[int, ...]
    if quick:
        Ts, T_ab, steps, budget, batch = (10, 20), 10, 10, 600, 16
    else:
        Ts, T_ab, steps, budget, batch = (10, 50, 100, 200), 100, 250, 2000, 32
    main, ablation = [], []
    for task in ("adding", "copy"):
        D, O = (2, 1) if task == "adding" else (10, 9)
        for cell in CELLS:
            H = hidden_for_budget(cell, D, O, budget)
            kw = dict(hidden=H, steps=steps, batch=batch, seed=seed)
            for T in Ts:
                main.append(train_task(task, cell, T, clip=1.0, **kw))  # type: ignore[arg-type]
            full = [r for r in main if (r["task"], r["cell"], r["T"]) == (task, cell, T_ab)]
            ablation.append(full[0] if full else train_task(task, cell, T_ab, clip=1.0, **kw))  # type: ignore[arg-type]
            ablation.append(train_task(task, cell, T_ab, clip=None, **kw))  # type: ignore[arg-type]
            seq_len = T_ab + (20 if task == "copy" else 0)
            for k in (5, 20):
                if k < seq_len:
                    ablation.append(train_task(task, cell, T_ab, clip=1.0, bptt=k, **kw))  # type: ignore[arg-type]
    viz = _viz()
    figs = []
    for task in ("adding", "copy"):
        names = [f"T={T}" for T in Ts]
        vals = {
            c: [next(r["ratio"] for r in main if (r["task"], r["cell"], r["T"]) == (task, c, T))
                for T in Ts]
            for c in CELLS
        }  # fmt: skip
        figs.append(
            viz.plot_bar_table(
                names, vals, out / f"tasks_{task}.png", baseline=1.0,
                title=f"{task}: final loss / no-memory baseline ({steps} Adam steps, clip 1)",
                xlabel="final loss / baseline", baseline_label="no-memory baseline",
            )
        )  # fmt: skip
        ab = [r for r in ablation if r["task"] == task]
        figs.append(
            viz.plot_bar_table(
                [f"{r['cell']} clip={r['clip']} k={r['bptt']}" for r in ab],
                [r["ratio"] for r in ab],
                out / f"tasks_{task}_ablation.png",
                baseline=1.0,
                title=f"{task} T={T_ab}: clipping and truncation (final loss / baseline)",
                xlabel="final loss / baseline",
            )
        )
    notes = []
    for r in main + ablation:
        if r["diverged"]:
            notes.append(f"{r['task']} {r['cell']} T={r['T']} clip={r['clip']} diverged")
    config = {"T": list(Ts), "T_ablation": T_ab, "steps": steps, "budget": budget,
              "batch": batch, "optimizer": "adam", "lr": 1e-2}  # fmt: skip
    return ExperimentResult(
        "tasks", {"tasks": main, "tasks_ablation": ablation}, figs, notes, config
    )


# --------------------------------------------------------------------------- (d) arithmetic


def arithmetic_experiment(
    out_dir: str | Path, *, quick: bool = False, seed: int = 0
) -> ExperimentResult:
    """A ReLU RNN whose gradient doubles (``W_hh = 2``) or halves (``W_hh = 1/2``) per step.

    One hidden unit, ``W_ih = 1``, no bias, input 1 at t = 0 and 0 afterwards, so every state is
    positive (ReLU' = 1) and ``h_t = f^t``. The loss is ``h_{T-1}`` (T = 11), so BPTT multiplies
    the gradient by exactly ``f`` per step: ``dL/dh_{T-1-k} = f^k``, 1024 at k = 10 for f = 2.
    The values are read by the BPTT hook inside the layer's backward pass; ``dL/dx_0`` comes
    from the ordinary ``.grad`` of the input. ``quick`` and ``seed`` do not change anything:
    the construction is deterministic and instant.
    """
    out = Path(out_dir)
    T = 11
    rows: list[dict[str, Any]] = []
    curves = {}
    for f in (2.0, 0.5):
        rnn = RNN(1, 1, nonlinearity="relu", bias=False).double()
        rnn.weight_ih_l0.data[...] = 1.0
        rnn.weight_hh_l0.data[...] = f
        xa = np.zeros((T, 1, 1))
        xa[0] = 1.0
        x = Tensor(xa, requires_grad=True)
        g = grad_norms_through_time(rnn, x, lambda o: o[0][-1].sum())
        by_k = g.by_distance()
        jac = jacobian_product(rnn, xa).norms_vs_distance()
        curves[f"factor {f:g}"] = by_k
        for k in range(T):
            rows.append({
                "factor": f,
                "distance_k": k,
                "grad_h_measured": float(by_k[k]),
                "expected_f_pow_k": f**k,
                "exact": bool(by_k[k] == f**k),
                "jacobian_product": float(jac[k]),
            })  # fmt: skip
        rows.append({
            "factor": f, "distance_k": "dL/dx_0", "grad_h_measured": float(x.grad.data[0, 0, 0]),  # type: ignore[union-attr]
            "expected_f_pow_k": f ** (T - 1), "exact": bool(x.grad.data[0, 0, 0] == f ** (T - 1)),  # type: ignore[union-attr]
            "jacobian_product": float(jac[T - 1]),  # dh_(T-1)/dh_0, and dh_0/dx_0 = 1
        })  # fmt: skip
    fig = _viz().plot_gradient_norms(
        curves,
        out / "arithmetic.png",
        title="ReLU RNN with W_hh = 2 or 1/2: dL/dh_(T-1-k) measured in BPTT",
        ylabel="dL/dh (measured)",
    )
    exact = all(r["exact"] for r in rows)
    notes = [f"all {len(rows)} measured values equal f^k exactly: {exact}"]
    return ExperimentResult("arithmetic", {"arithmetic": rows}, [fig], notes, {"T": T})


# --------------------------------------------------------------------------- (e) memory lab

MEMORY_TS = (50, 100, 200)
MEMORY_STEPS = 3000
MEMORY_LR = 2e-2


def _first_below(curve: list[tuple[int, float]], level: float) -> int | str:
    """The first evaluated update count whose loss is below ``level``, or "never"."""
    return next((step for step, loss in curve if loss < level), "never")


def memory_experiment(
    out_dir: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    Ts: tuple[int, ...] = MEMORY_TS,
    steps: int = MEMORY_STEPS,
    lr: float = MEMORY_LR,
) -> ExperimentResult:
    """Adding and copy-memory for RNN, LSTM and GRU at T = 50/100/200, thousands of updates.

    One recurrent layer + linear read-out at about 2000 parameters (as in :func:`tasks_experiment`),
    Adam, batch 32 of fresh sequences per update, gradient norm clipped at 1, full BPTT. Every
    ``steps // 30`` updates the loss on 1000 fixed evaluation sequences is recorded (the learning
    curve). Table ``memory``: the final loss, its ratio to the no-memory baseline and the first
    evaluation at which the loss was below 10% of the baseline; table ``memory_curves``: every
    recorded point. Figures ``memory_adding.png`` and ``memory_copy.png``: the curves, one panel
    per T.
    """
    out = Path(out_dir)
    if quick:
        Ts, steps, every, n_eval = (10, 20), 60, 20, 64
    else:
        every, n_eval = max(1, steps // 30), 1000
    rows, curves = [], []
    for task in ("adding", "copy"):
        D, O = (2, 1) if task == "adding" else (10, 9)
        for T in Ts:
            for cell in CELLS:
                H = hidden_for_budget(cell, D, O, 2000)
                r = train_task(
                    task, cell, T, hidden=H, steps=steps, lr=lr, clip=1.0, seed=seed,
                    eval_every=every, eval_batch=n_eval,
                )  # fmt: skip
                curve = r.pop("curve")
                rows.append(
                    {k: r[k] for k in ("task", "cell", "T", "hidden", "params", "steps")}
                    | {
                        "final_loss": r["final_loss"],
                        "baseline": r["baseline"],
                        "ratio": r["ratio"],
                        "first_below_10pct": _first_below(curve, 0.1 * r["baseline"]),
                        "diverged": r["diverged"],
                        "seconds": r["seconds"],
                    }
                )
                curves += [
                    {"task": task, "cell": cell, "T": T, "step": st, "loss": loss,
                     "ratio": loss / r["baseline"]}
                    for st, loss in curve
                ]  # fmt: skip
    figs = [
        plot_learning_curves(
            [c for c in curves if c["task"] == task],
            out / f"memory_{task}.png",
            title=f"{task}: loss / no-memory baseline on {n_eval} held-out sequences",
        )
        for task in ("adding", "copy")
    ]
    config = {"T": list(Ts), "steps": steps, "eval_every": every, "eval_sequences": n_eval,
              "budget": 2000, "batch": 32, "optimizer": "adam", "lr": lr, "clip": 1.0}  # fmt: skip
    return ExperimentResult("memory", {"memory": rows, "memory_curves": curves}, figs, [], config)


def plot_learning_curves(curves: list[dict[str, Any]], path: str | Path, *, title: str) -> Path:
    """One panel per T: loss / baseline against updates for each cell (log scale)."""
    from ..viz._common import figure, save

    Ts = list(dict.fromkeys(c["T"] for c in curves))
    with figure((3.2 * len(Ts) + 0.6, 3.4)) as fig:
        axes = fig.subplots(1, len(Ts), sharey=True, squeeze=False)[0]
        for ax, T in zip(axes, Ts):
            for k, cell in enumerate(CELLS):
                pts = [c for c in curves if c["T"] == T and c["cell"] == cell]
                ax.plot([c["step"] for c in pts], [max(c["ratio"], 1e-6) for c in pts],
                        color=f"C{k}", linewidth=1.5, label=cell)  # fmt: skip
            ax.axhline(1.0, color="0.3", linestyle="--", linewidth=1.0)
            ax.axhline(0.1, color="0.6", linestyle=":", linewidth=1.0)
            ax.set_yscale("log")
            ax.set_title(f"T = {T}")
            ax.set_xlabel("updates")
            ax.grid(True, which="major")
        axes[0].set_ylabel("loss / baseline (dashed: 1, dotted: 0.1)")
        axes[-1].legend(loc="lower left")
        fig.suptitle(title)
        return save(fig, path)


# The smallest configuration found that separates the cells on adding T = 100 for every seed
# tried (docs/gradflow.md (e) gives the sweep): LSTM and GRU fall below 10% of the baseline within
# the budget, the RNN stays near the baseline for the whole budget.
GATED_CHECK = {"T": 100, "steps": 1600, "lr": 2e-2, "eval_every": 100, "eval_batch": 1000}


def gated_cells_check(seed: int = 0, **overrides: Any) -> dict[str, dict[str, Any]]:
    """Adding T = 100 for RNN, LSTM and GRU at the ``GATED_CHECK`` budget; one row per cell.

    Gated cells stop at the first evaluation below 10% of the baseline (``steps`` then says
    when); the RNN always trains for the whole budget. Rows are :func:`train_task` rows plus
    ``best_ratio``, the lowest evaluated loss over the baseline.
    """
    cfg = GATED_CHECK | overrides
    out = {}
    for cell in CELLS:
        H = hidden_for_budget(cell, 2, 1, 2000)
        r = train_task(
            "adding", cell, cfg["T"], hidden=H, steps=cfg["steps"], lr=cfg["lr"], clip=1.0,
            seed=seed, eval_every=cfg["eval_every"], eval_batch=cfg["eval_batch"],
            stop_ratio=None if cell == "RNN" else 0.1,
        )  # fmt: skip
        r["best_ratio"] = min(loss for _, loss in r["curve"]) / r["baseline"]
        out[cell] = r
    return out


EXPERIMENTS = {
    "radius": radius_experiment,
    "cells": cells_experiment,
    "tasks": tasks_experiment,
    "arithmetic": arithmetic_experiment,
    "memory": memory_experiment,
}
