"""The tau lab: validation inside the training years only, and a choice that beats small windows."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.data import load_sunspots
from glassnet.experiments.tau import FIXED_TAU, plot_tau_lab, tau_choice, tau_lab


def test_validation_choice_beats_small_windows() -> None:
    rows = tau_lab("sunspots", models=("linear AR",)) + tau_lab("co2", models=("linear AR",))
    for c in tau_choice(rows):
        assert c["test RMSE (chosen)"] < 0.8 * c["test RMSE (tau=1)"]
        assert c["test RMSE (chosen)"] < 1.1 * c["test RMSE (best)"]
        block = [r for r in rows if r["series"] == c["series"]]
        assert sum(r["chosen"] for r in block) == 1
        chosen = next(r for r in block if r["chosen"])
        assert chosen["val RMSE"] == min(r["val RMSE"] for r in block)
        assert c["fixed tau of (c), (d)"] == FIXED_TAU[c["series"]]
    # the closed form of section (c) of docs/results.md: AR(9) refitted on the training years
    sun = {r["tau"]: r for r in rows if r["series"] == "sunspots"}
    assert sun[9]["test RMSE"] == pytest.approx(19.44, abs=0.005)


def test_the_test_years_never_reach_the_choice() -> None:
    """Scramble the test years: validation RMSEs and the chosen tau do not move."""
    x = load_sunspots().values
    n_train = round(0.8 * x.shape[0])
    scrambled = x.copy()
    scrambled[n_train:] = np.random.default_rng(0).permutation(x[n_train:]) * 3.0
    kw = dict(taus=(1, 3, 9, 20), models=("linear AR", "MLP-AR"), quick=True)
    a, b = tau_lab(x, **kw), tau_lab(scrambled, **kw)
    assert [r["val RMSE"] for r in a] == [r["val RMSE"] for r in b]
    assert [r["chosen"] for r in a] == [r["chosen"] for r in b]
    assert [r["test RMSE"] for r in a] != [r["test RMSE"] for r in b]


def test_figures_and_bad_input(tmp_path) -> None:
    rows = tau_lab("sunspots", quick=True, models=("linear AR",))
    assert [r["tau"] for r in rows] == [1, 5, 12, 30]
    paths = plot_tau_lab(rows, tmp_path)
    assert [p.name for p in paths] == ["tau_lab_sunspots.png"] and paths[0].stat().st_size > 0
    with pytest.raises(ValueError, match="'sunspots', 'co2' or an array"):
        tau_lab("nile")
    with pytest.raises(ValueError, match="taus="):
        tau_lab(np.arange(50.0))
    with pytest.raises(ValueError, match="models must be among"):
        tau_lab("sunspots", models=("ridge",))
