"""The issue-5 experiments in quick mode: they run, are deterministic, and say something true."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from glassnet.experiments import (
    acf_table,
    ar_closed_form,
    char_lm,
    digits_cnn,
    format_table,
    noisy_sine_forecast,
    order_matters,
    stratified_split,
    sunspots_rmse,
)
from glassnet.experiments.__main__ import main
from glassnet.experiments.digits import random_shift


def test_ar_closed_form_meets_the_acceptance_figures():
    rows = ar_closed_form(quick=True)
    closed = [r for r in rows if "closed form" in r["fit"]]
    assert closed and all(r["rel_diff"] < 1e-8 for r in closed)
    gd = rows[-1]
    assert gd["rel_diff"] < 1e-3 and isinstance(gd["steps_to_1e-3"], int)


def test_noisy_sine_errors_grow_with_the_horizon():
    rows = noisy_sine_forecast(quick=True)
    ar = [r["linear AR(4), least squares"] for r in rows]
    assert [r["k"] for r in rows] == [1, 4, 16, 64]
    assert 0.03 < ar[0] < 0.06  # close to the noise variance 0.04
    assert all(a < b for a, b in itertools.pairwise(ar))
    assert rows == noisy_sine_forecast(quick=True)  # deterministic


def test_sunspots_table_has_every_model_and_ar_beats_persistence():
    rows = {r["model"].split(" ")[0]: r["test RMSE"] for r in sunspots_rmse(quick=True)}
    assert set(rows) == {"persistence", "training", "linear", "MLP-AR(9),", "RNN", "LSTM", "GRU"}
    assert rows["linear"] < rows["persistence"] < rows["training"]


def test_acf_table_separates_ordered_and_shuffled_series():
    rows = acf_table(lags=(1, 2))
    assert len(rows) == 6
    for true, shuffled in zip(rows[::2], rows[1::2]):
        assert true["r_1"] > 0.8
        assert abs(shuffled["r_1"]) < 2 * true["2/sqrt(T)"]


def test_order_matters_for_the_ar_model():
    rows = order_matters(quick=True)
    ar = [r for r in rows if r["model"].startswith("linear AR")]
    assert len(ar) == 3 and len(rows) == 9
    assert all(
        r["RMSE trained on shuffled copy"] > 1.5 * r["RMSE trained in true order"] for r in ar
    )


def test_char_lm_quick_run():
    rows = char_lm("sonnets", quick=True, lr=1e-2)
    last = rows[-1]
    assert last["val perplexity"] < last["unigram val perplexity"]
    assert last["sample"].startswith("Shall I compare thee")
    assert last["vocab"] > 30 and last["train chars"] == 18000


def test_digits_quick_run_and_split():
    rows = digits_cnn(quick=True)
    assert rows[-1]["test images"] == 359 and rows[-1]["train images"] == 300
    assert rows[-1]["test acc"] > 0.5
    labels = np.repeat(np.arange(3), [10, 20, 30])
    tr, te = stratified_split(labels, 0.2, rng=np.random.default_rng(0))
    assert np.bincount(labels[te]).tolist() == [2, 4, 6]
    assert sorted(np.concatenate([tr, te]).tolist()) == list(range(60))
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(labels, 1.0, rng=np.random.default_rng(0))


def test_random_shift_moves_whole_images():
    img = np.zeros((50, 1, 4, 4), np.float32)
    img[:, 0, 1, 1] = 1.0
    out = random_shift(img, 1, -1.0, rng=np.random.default_rng(0))
    assert out.shape == img.shape
    assert np.all((out == 1.0).sum(axis=(1, 2, 3)) == 1)  # the dot moved, never lost
    where = np.argwhere(out[:, 0] == 1.0)[:, 1:]  # (50, 2)
    assert set(map(tuple, where.tolist())) == {(r, c) for r in range(3) for c in range(3)}
    assert (out == -1.0).any()  # filled from outside


def test_format_table_and_cli(capsys):
    table = format_table([{"a": 1, "b": 0.123456}, {"a": "x|y", "c": True}], digits=3)
    assert table.splitlines() == [
        "| a | b | c |", "| --- | --- | --- |", "| 1 | 0.123 |  |", "| x\\|y |  | True |",
    ]  # fmt: skip
    assert main(["acf", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "machine:" in out and "| sunspots (yearly) |" in out
