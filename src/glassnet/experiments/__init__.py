"""The experiments behind ``docs/results.md``: each returns its result table as a list of dicts.

Every function is deterministic given ``seed`` and takes ``quick=True`` for a seconds-long
smoke run (used by the tests; its figures are not the published ones).

- ``ar_closed_form``: AR(tau) on sunspots, closed form against OLS, gradient descent against both;
- ``noisy_sine_forecast``: one-step and k-step-ahead errors on the noisy sine;
- ``sunspots_rmse``: persistence, mean, AR, MLP-AR, RNN, LSTM, GRU on held-out sunspots;
- ``acf_table`` and ``order_matters``: why the order of a series matters;
- ``char_lm``: character LSTM on the sonnets or the tragedies (perplexity, time, sample);
- ``digits_cnn``: LeNet on the 8x8 digits (held-out accuracy, time).

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
from .series import (
    acf_table,
    ar_closed_form,
    noisy_sine_forecast,
    order_matters,
    sunspots_rmse,
)

__all__ = [
    "acf_table",
    "ar_closed_form",
    "char_lm",
    "digits_cnn",
    "format_table",
    "machine",
    "noisy_sine_forecast",
    "order_matters",
    "stratified_split",
    "sunspots_rmse",
]
