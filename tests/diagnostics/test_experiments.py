"""The gradient-flow experiments in quick mode, the tasks, and the ``glassnet gradflow`` CLI."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from glassnet.cli import gradflow
from glassnet.diagnostics.experiments import (
    arithmetic_experiment,
    cells_experiment,
    radius_experiment,
    tasks_experiment,
)
from glassnet.diagnostics.tasks import (
    adding_problem,
    build_model,
    copy_baseline,
    copy_memory,
    hidden_for_budget,
    n_parameters,
    train_task,
)


def test_radius_quick(tmp_path: Path) -> None:
    res = radius_experiment(tmp_path, quick=True)
    rows = res.tables["radius"]
    assert [r["radius"] for r in rows] == [0.5, 0.9, 1.0, 1.1, 1.5]
    g10 = [r["grad_ratio_k10"] for r in rows]
    assert g10 == sorted(g10) and g10[0] < 1e-3  # larger radius, slower decay
    assert [r["vanishing_sufficient"] for r in rows] == [r["sigma_max"] < 1 for r in rows]
    assert len(res.tables["radius_training"]) == 10
    assert all(p.exists() for p in res.figures) and len(res.figures) == 3


def test_cells_quick(tmp_path: Path) -> None:
    res = cells_experiment(tmp_path, quick=True)
    rows = res.tables["cells"]
    assert [r["cell"] for r in rows] == ["RNN", "LSTM", "GRU"]
    params = [r["params"] for r in rows]
    assert max(params) / min(params) < 1.1  # equal budget
    assert all(math.isfinite(r["final_loss"]) for r in rows)
    names = {p.name for p in res.figures}
    assert {"cells_heatmap_LSTM.png", "cells_grad_vs_distance_trained.png"} <= names
    assert all(p.exists() for p in res.figures)


def test_tasks_quick(tmp_path: Path) -> None:
    res = tasks_experiment(tmp_path, quick=True)
    main, ab = res.tables["tasks"], res.tables["tasks_ablation"]
    assert len(main) == 2 * 3 * 2
    for r in main:
        base = 1 / 6 if r["task"] == "adding" else 10 * math.log(8) / (r["T"] + 20)
        assert r["baseline"] == pytest.approx(base) and math.isfinite(r["final_loss"])
    assert {(r["clip"], r["bptt"]) for r in ab if r["task"] == "copy"} == {
        (1.0, 10),
        ("none", 10),
        (1.0, 5),
        (1.0, 20),
    }
    assert all(p.exists() for p in res.figures)


def test_arithmetic_experiment_is_exact(tmp_path: Path) -> None:
    res = arithmetic_experiment(tmp_path)
    rows = res.tables["arithmetic"]
    assert all(r["exact"] for r in rows)
    assert (
        next(r for r in rows if r["factor"] == 2.0 and r["distance_k"] == 10)["grad_h_measured"]
        == 1024.0
    )
    assert (
        next(r for r in rows if r["factor"] == 0.5 and r["distance_k"] == 10)["grad_h_measured"]
        == 0.5**10
    )


def test_task_data() -> None:
    x, y = adding_problem(20, 64, rng=np.random.default_rng(0))
    marks = x[:, :, 1]
    assert (marks.sum(0) == 2).all()
    assert (marks[:10].sum(0) == 1).all() and (marks[10:].sum(0) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * marks).sum(0), rtol=1e-6)
    x, y = copy_memory(7, 5, rng=np.random.default_rng(1))
    tok = x.argmax(-1)
    assert x.shape == (27, 5, 10) and (tok[16] == 9).all()
    assert (y[-10:] == tok[:10]).all() and (y[:17] == 0).all() and (tok[:10] >= 1).all()
    assert copy_baseline(100) == pytest.approx(10 * math.log(8) / 120)


def test_budget_and_truncation_and_divergence_flag() -> None:
    for cell in ("RNN", "LSTM", "GRU"):
        H = hidden_for_budget(cell, 2, 1, 2000)
        assert abs(n_parameters(build_model("adding", cell, H, rng=None)) - 2000) < 150
    # truncated BPTT in chunks gives the same forward output as one call
    model = build_model("copy", "GRU", 6, rng=np.random.default_rng(0))
    x, _ = copy_memory(5, 3, rng=np.random.default_rng(0))
    import glassnet

    full = model(glassnet.tensor(x))[0].data
    chunked = model(glassnet.tensor(x), bptt_steps=4)[0].data
    np.testing.assert_allclose(chunked, full, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="optimizer"):
        train_task("adding", "RNN", 5, hidden=3, steps=1, optimizer="lbfgs")
    r = train_task("adding", "RNN", 10, hidden=4, steps=3, lr=1e6, clip=None, optimizer="sgd")
    assert r["diverged"]


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="glassnet")
    gradflow.register(p.add_subparsers())
    return p.parse_args(argv)


def test_cli_writes_tables_and_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["gradflow", "arithmetic", "--quick", "--seed", "1", "--out", str(tmp_path)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "== arithmetic" in out and "1024" in out
    rows = json.loads((tmp_path / "arithmetic.json").read_text())
    assert rows[10]["grad_h_measured"] == 1024.0
    assert (tmp_path / "arithmetic.csv").read_text().startswith("factor,distance_k")
    assert (tmp_path / "arithmetic.png").exists() and (tmp_path / "config.json").exists()
    for name in ("radius", "cells", "tasks", "arithmetic"):
        with pytest.raises(SystemExit) as e:
            _parse(["gradflow", name, "--help"])
        assert e.value.code == 0
        assert "--quick" in capsys.readouterr().out


def test_cli_rejects_a_file_as_out(tmp_path: Path) -> None:
    from glassnet.cli.main import CLIError

    f = tmp_path / "file"
    f.write_text("x")
    args = _parse(["gradflow", "arithmetic", "--out", str(f)])
    with pytest.raises(CLIError, match="directory"):
        args.func(args)
