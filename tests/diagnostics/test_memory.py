"""The long-memory lab: the adding baseline, learning curves, and the gated cells against the RNN.

The slow test is the claim that LSTM and GRU fix long-range dependencies that defeat the plain
RNN, at the smallest budget found to show it for every seed of a ten-seed sweep
(``GATED_CHECK``; docs/gradflow.md (e) gives the sweep).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from glassnet.diagnostics.experiments import GATED_CHECK, gated_cells_check, memory_experiment
from glassnet.diagnostics.tasks import ADDING_BASELINE, constant_baseline_mse, train_task


def test_adding_baseline_is_the_variance_of_the_target() -> None:
    """The best constant is the mean 1; its expected MSE is Var(U1 + U2) = 1/6, not 0.1767."""
    assert ADDING_BASELINE == pytest.approx(1 / 6, rel=1e-15)
    n = 400_000
    est = constant_baseline_mse(50, n, rng=np.random.default_rng(0))
    assert abs(est - 1 / 6) < 4 * 0.197 / math.sqrt(n)  # 4 standard errors
    assert abs(est - 0.1767) > 20 * 0.197 / math.sqrt(n)
    # no other constant does better: the MSE of c is 1/6 + (c - 1)^2
    from glassnet.diagnostics.tasks import adding_problem

    _, y = adding_problem(20, n, rng=np.random.default_rng(1))
    mses = {c: float(np.mean((y - c) ** 2)) for c in (0.9, 1.0, 1.1)}
    assert min(mses, key=mses.get) == 1.0


def test_learning_curve_and_early_stop() -> None:
    r = train_task("adding", "GRU", 10, hidden=8, steps=30, eval_every=10, eval_batch=64)
    assert [s for s, _ in r["curve"]] == [0, 10, 20, 30]
    assert r["curve"][-1][1] == r["final_loss"] and r["steps"] == 30
    # stop_ratio larger than any loss: stops at the first evaluation, before any update
    r = train_task("adding", "GRU", 10, hidden=8, steps=30, eval_every=10, stop_ratio=100.0)
    assert r["steps"] == 0 and len(r["curve"]) == 1
    with pytest.raises(ValueError, match="stop_ratio needs eval_every"):
        train_task("adding", "GRU", 10, hidden=8, steps=3, stop_ratio=0.1)
    with pytest.raises(ValueError, match="eval_every must be a positive int"):
        train_task("adding", "GRU", 10, hidden=8, steps=3, eval_every=0)


def test_memory_quick(tmp_path: Path) -> None:
    res = memory_experiment(tmp_path, quick=True)
    rows, curves = res.tables["memory"], res.tables["memory_curves"]
    assert len(rows) == 2 * 2 * 3
    assert {(r["task"], r["T"]) for r in rows} == {
        (t, T) for t in ("adding", "copy") for T in (10, 20)
    }
    assert all(r["steps"] == 60 and math.isfinite(r["final_loss"]) for r in rows)
    assert len(curves) == 12 * 4 and {c["step"] for c in curves} == {0, 20, 40, 60}
    assert [p.name for p in res.figures] == ["memory_adding.png", "memory_copy.png"]
    assert all(p.stat().st_size > 0 for p in res.figures)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_gated_cells_solve_adding_where_the_rnn_fails(seed: int) -> None:
    """Adding T=100: LSTM and GRU below 10% of the baseline within 1600 updates, RNN never
    below half of it in as many."""
    rows = gated_cells_check(seed=seed)
    for cell in ("LSTM", "GRU"):
        assert rows[cell]["ratio"] < 0.1, (cell, rows[cell]["ratio"], rows[cell]["steps"])
        assert rows[cell]["steps"] <= GATED_CHECK["steps"]
    assert rows["RNN"]["steps"] == GATED_CHECK["steps"]
    assert rows["RNN"]["best_ratio"] > 0.5, rows["RNN"]["best_ratio"]
