"""The fitting functions report progress on request, without changing what they compute."""

from __future__ import annotations

import io
import re

import numpy as np

import glassnet
from glassnet.data import CharVocab
from glassnet.models import MLPAR, CharLM, RNNForecaster
from glassnet.optim import Adam
from glassnet.progress import Progress
from glassnet.seq import lm as LM
from glassnet.seq.forecast import fit_rnn_forecaster, fit_window_model


def _fit(fn, model_fn, progress):
    glassnet.manual_seed(0)
    series = np.sin(np.arange(120) / 5.0)
    return fn(model_fn(), series, epochs=3, rng=np.random.default_rng(0), progress=progress)


def test_forecaster_fits_report_each_epoch_and_compute_the_same():
    for fn, model_fn in (
        (fit_rnn_forecaster, lambda: RNNForecaster("gru", hidden_size=4)),
        (fit_window_model, lambda: MLPAR(4, hidden=4)),
    ):
        out = io.StringIO()
        loud = _fit(fn, model_fn, Progress("lines", file=out, interval=0))
        assert loud == _fit(fn, model_fn, None)
        lines = out.getvalue().splitlines()
        assert len(lines) == 3, lines
        assert re.fullmatch(rf"{fn.__name__}  3/3 \(100%\)  loss [0-9.e-]+  \d+\.\ds", lines[-1])


def test_lm_epoch_reports_its_batches_with_the_running_loss():
    text = "abcd efgh " * 30
    vocab = CharVocab(text)
    glassnet.manual_seed(0)
    model = CharLM(len(vocab), embedding_dim=4, hidden_size=8)
    out = io.StringIO()
    loss = LM.train_lm_epoch(
        model,
        text,
        Adam(model.parameters(), lr=1e-2),
        vocab=vocab,
        batch_size=4,
        num_steps=8,
        rng=np.random.default_rng(0),
        progress=Progress("lines", file=out, interval=0),
        desc="epoch 1/1",
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 9 and lines[-1].startswith("epoch 1/1  9/9 (100%)")
    assert f"loss {loss:.4g}" in lines[-1]  # the running mean ends at the epoch's mean
