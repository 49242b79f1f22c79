"""The experiments behind ``docs/results.md``: each returns its result table as a list of dicts.

Every function is deterministic given ``seed`` and takes ``quick=True`` for a seconds-long
smoke run (used by the tests; its figures are not the published ones).

- ``ar_closed_form``: AR(tau) on sunspots, closed form against OLS, gradient descent against both;
- ``noisy_sine_forecast``: one-step and k-step-ahead errors on the noisy sine;
- ``sunspots_rmse``: persistence, mean, AR, MLP-AR, RNN, LSTM, GRU on held-out sunspots;
- ``acf_table`` and ``order_matters``: why the order of a series matters;
- ``char_lm``: character LSTM on the sonnets or the tragedies (perplexity, time, sample);
- ``digits_cnn``: LeNet on the 8x8 digits (held-out accuracy, time);
- ``tau_lab`` and ``tau_choice``: held-out error against tau, tau chosen by validation;
- ``latent_regime``: a hidden regime that a recurrent forecaster keeps and no window does.

``glassnet verify`` (:mod:`glassnet.experiments.verify`) runs them all, checks the seed's
claims (:mod:`glassnet.experiments.claims`) and regenerates the numbers of the docs.

From the command line: ``python -m glassnet.experiments NAME [--quick] [--seed N]``.

>>> from glassnet.experiments import acf_table, format_table
>>> rows = acf_table(lags=(1,))
>>> round(rows[0]["r_1"], 3)
0.82
"""

from __future__ import annotations

from ._common import format_table, machine
from .charlm import char_lm
from .digits import digits_cnn, stratified_split
from .latent import latent_regime
from .series import (
    acf_table,
    ar_closed_form,
    noisy_sine_forecast,
    order_matters,
    sunspots_rmse,
)
from .tau import tau_choice, tau_lab

__all__ = [
    "acf_table",
    "ar_closed_form",
    "char_lm",
    "digits_cnn",
    "format_table",
    "latent_regime",
    "machine",
    "noisy_sine_forecast",
    "order_matters",
    "stratified_split",
    "sunspots_rmse",
    "tau_choice",
    "tau_lab",
]
