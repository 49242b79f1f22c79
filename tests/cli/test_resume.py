"""Interrupt and resume: the numbers equal an uninterrupted run exactly (float64)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import glassnet
from glassnet import nn
from glassnet.cli import tasks
from glassnet.data import CharVocab, DataLoader, TensorDataset
from glassnet.models import CharLM, LeNet
from glassnet.optim import Adam
from glassnet.train import Callback, Trainer, TrainingInterrupted, accuracy


class InterruptAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer, step, logs):
        if step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


def _cnn(seed):
    glassnet.manual_seed(seed)
    digits = glassnet.data.load_digits(normalize=True)
    x = digits.images[:200, None].astype(np.float64)
    y = digits.labels[:200]
    model = LeNet(image_size=8, channels=(4, 8), hidden=(16,), dropout=0.1, dtype=np.float64)
    loader = DataLoader(TensorDataset(x, y), 32, shuffle=True, rng=np.random.default_rng(5))
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        Adam(model.parameters(), lr=1e-2),
        metrics={"acc": accuracy},
        progress=False,
    )
    return trainer, loader


def _charlm(seed):
    glassnet.manual_seed(seed)
    text = glassnet.data.load_shakespeare("sonnets")[:6000]
    vocab = CharVocab(text)
    model = CharLM(len(vocab), embedding_dim=8, hidden_size=16, dtype=np.float64)
    stream = tasks.TextStream(vocab.encode(text), 4, 16, rng=np.random.default_rng(7))
    trainer = Trainer(
        model,
        None,
        Adam(model.parameters(), lr=1e-2),
        clip_grad_norm=1.0,
        callbacks=[stream],
        step_fn=stream.step,
        progress=False,
    )
    return trainer, stream


@pytest.mark.parametrize("build", [_cnn, _charlm], ids=["cnn", "char-lstm"])
def test_resume_equals_uninterrupted(tmp_path, build):
    full, loader = build(0)
    full.fit(loader, 3)
    expected = full.model.state_dict()

    part, loader2 = build(0)
    ckpt = tmp_path / "ckpt.safetensors"
    stop_at = len(loader2) + 3  # in the middle of the second epoch
    part.callbacks.append(InterruptAt(stop_at))
    with pytest.raises(TrainingInterrupted):
        part.fit(loader2, 3, checkpoint_path=ckpt)

    resumed, loader3 = build(99)  # other weights and generators: everything must come from the file
    resumed.fit(loader3, 3, checkpoint_path=ckpt, resume=True)
    got = resumed.model.state_dict()
    assert got.keys() == expected.keys()
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k], err_msg=k)
    assert resumed.history["loss"] == full.history["loss"]
