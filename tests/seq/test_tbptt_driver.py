"""The one truncated-BPTT driver: window arithmetic, exact resumption from its state_dict, the
Trainer face (TBPTTLoader), and the users built on it (train_lm_epoch, TextStream)."""

from __future__ import annotations

import os
import signal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet.cli import tasks
from glassnet.data import CharVocab, sequential_batches, sequential_streams
from glassnet.models import CharLM, detach_state
from glassnet.nn.utils import clip_grad_norm_
from glassnet.optim import SGD, Adam
from glassnet.seq import TBPTTLoader, TBPTTStream, next_token_loss, tbptt_train, train_lm_epoch
from glassnet.train import Callback, Trainer, TrainingInterrupted

from .test_tbptt import LM, mse, stream


def _old_windows(T: int, k1: int, k2: int) -> list[tuple[int, int, int]]:
    """(start, split, end) as the loop the driver replaced computed them, update by update."""
    out, start, end = [], 0, 0
    while end < T:
        new_end = min(end + k1, T)
        split = min(max(start, new_end + k1 - k2), new_end)
        out.append((start, split, new_end))
        start, end = split, new_end
    return out


@given(T=st.integers(1, 40), k1=st.integers(1, 9), extra=st.integers(0, 9))
def test_windows_are_the_incremental_ones(T: int, k1: int, extra: int) -> None:
    s = TBPTTStream(np.zeros((T, 1, 1)), np.zeros((T, 1, 1)), k1, k1 + extra)
    got = [(w.start, w.split, w.end) for w in s.windows()]
    assert got == _old_windows(T, k1, k1 + extra)
    assert len(s) == len(got)
    for w in s.windows():
        assert w.inputs.shape[0] == w.end - w.start and w.targets.shape[0] == w.n_loss


def test_state_dict_resumes_exactly() -> None:
    """Stop after 3 of 6 windows, continue a fresh stream (and model copy) from state_dict."""
    x, y = stream(22)
    resets = np.random.default_rng(9).random((22, 3)) < 0.1
    full = LM().double()
    ref = tbptt_train(full, x, y, 4, 7, mse, SGD(full.parameters(), lr=0.05), resets=resets)

    model = LM().double()
    opt = SGD(model.parameters(), lr=0.05)
    a = TBPTTStream(x, y, 4, 7, resets=resets)
    losses = []
    for w in a.windows():
        pred, target = a.forward(model, w)
        loss = mse(pred, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if a.index == 3:
            break
    saved = a.state_dict()
    assert saved["index"] == 3 and isinstance(saved["state"][0], np.ndarray)
    b = TBPTTStream(x, y, 4, 7, resets=resets)
    b.load_state_dict(saved)
    for w in b.windows():
        pred, target = b.forward(model, w)
        loss = mse(pred, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_array_equal(losses, ref.losses)
    for p, q in zip(model.parameters(), full.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_windows_run_in_order_and_positions_are_checked() -> None:
    x, y = stream(10)
    s = TBPTTStream(x, y, 3, 5)
    w0, w1 = s.window(0), s.window(1)
    with pytest.raises(ValueError, match="in order: the next is 0, got 1"):
        s.forward(LM().double(), w1)
    s.forward(LM().double(), w0)
    with pytest.raises(IndexError, match="4 windows"):
        s.window(4)
    with pytest.raises(ValueError, match=r"position must be in \[0, 4\]"):
        s.load_state_dict({"index": 5, "state": None})


class InterruptAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_batch_end(self, trainer: Any, step: int, logs: Any) -> None:
        if step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


def _trainer(seed: int) -> tuple[Trainer, TBPTTLoader]:
    x, y = stream(30)
    model = LM().double()
    r = np.random.default_rng(seed)
    for p in model.parameters():  # seed 0 keeps LM's weights
        p.data = p.data + (0.1 * r.standard_normal(p.shape) if seed else 0.0)
    loader = TBPTTLoader(x, y, 4, 7, loss_fn=mse)
    opt = Adam(model.parameters(), lr=1e-2)
    trainer = Trainer(model, None, opt, callbacks=[loader], step_fn=loader.step, progress=False)
    return trainer, loader


def test_the_trainers_steps_are_the_drivers_updates() -> None:
    trainer, loader = _trainer(0)
    trainer.fit(loader, 1)
    x, y = stream(30)
    model = LM().double()
    ref = tbptt_train(model, x, y, 4, 7, mse, Adam(model.parameters(), lr=1e-2))
    for p, q in zip(trainer.model.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    steps = [w.n_loss for w in TBPTTStream(x, y, 4, 7).windows()]  # the Trainer weighs by steps
    np.testing.assert_allclose(trainer.history["loss"][0], np.average(ref.losses, weights=steps))


def test_loader_under_the_trainer_resumes_exactly(tmp_path: Any) -> None:
    full, loader = _trainer(0)
    full.fit(loader, 2)
    part, loader2 = _trainer(0)
    ckpt = tmp_path / "ckpt.safetensors"
    part.callbacks.append(InterruptAt(len(loader2) + 3))  # in the middle of epoch 2
    with pytest.raises(TrainingInterrupted):
        part.fit(loader2, 2, checkpoint_path=ckpt)
    resumed, loader3 = _trainer(99)  # other weights: the state must come from the file
    resumed.fit(loader3, 2, checkpoint_path=ckpt, resume=True)
    for k, v in full.model.state_dict().items():
        np.testing.assert_array_equal(resumed.model.state_dict()[k], v, err_msg=k)
    assert resumed.history["loss"] == full.history["loss"]


def test_loader_refuses_a_state_from_another_position() -> None:
    _, loader = _trainer(0)
    loader.load_state_dict({"index": 2, "state": None})
    with pytest.raises(ValueError, match="before window 2, not 3"):
        next(loader.iter_batches(loader.epoch_order(), start=3))


def test_evaluation_carries_nothing() -> None:
    trainer, loader = _trainer(0)
    before = loader.state_dict()
    metrics = trainer.evaluate(loader)
    assert np.isfinite(metrics["loss"])
    assert loader.state_dict()["index"] == before["index"] == 0


def test_train_lm_epoch_is_the_detach_every_batch_loop() -> None:
    """The driver reproduces the hand-written loop over sequential_batches it replaced."""
    text = "the quick brown fox jumps over the lazy dog. " * 12
    v = CharVocab(text)
    a = CharLM(len(v), 4, 8, cell="gru", rng=np.random.default_rng(0), dtype=np.float64)
    b = CharLM(len(v), 4, 8, cell="gru", rng=np.random.default_rng(0), dtype=np.float64)
    mean = train_lm_epoch(
        a, text, SGD(a.parameters(), lr=0.5), vocab=v, batch_size=3, num_steps=7,
        rng=np.random.default_rng(5),
    )  # fmt: skip
    opt, state, losses = SGD(b.parameters(), lr=0.5), None, []
    for X, Y in sequential_batches(v.encode(text), 3, 7, rng=np.random.default_rng(5)):
        logits, state = b(X, detach_state(state))
        loss = next_token_loss(logits, Y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(b.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    assert mean == np.mean(losses)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


@given(L=st.integers(13, 80), B=st.integers(1, 4), T=st.integers(1, 6), seed=st.integers(0, 9))
def test_sequential_streams_are_the_batches_side_by_side(L: int, B: int, T: int, seed: int) -> None:
    ids = np.arange(L) * 3
    if L - 1 < B * T:
        return
    X, Y = sequential_streams(ids, B, T, rng=np.random.default_rng(seed))
    batches = list(sequential_batches(ids, B, T, rng=np.random.default_rng(seed)))
    assert X.shape == (B, T * len(batches)) == Y.shape
    for k, (xb, yb) in enumerate(batches):
        np.testing.assert_array_equal(X[:, k * T : (k + 1) * T], xb.data)
        np.testing.assert_array_equal(Y[:, k * T : (k + 1) * T], yb.data)


def test_text_stream_on_the_shortest_text() -> None:
    """batch_size * seq_len + 1 characters: every epoch's offset still leaves a whole batch."""
    ids = np.arange(4 * 5 + 1) % 7
    s = tasks.TextStream(ids, 4, 5, rng=np.random.default_rng(0))
    for _ in range(20):
        assert len(list(s.iter_batches(s.epoch_order()))) == 1


def test_text_stream_reads_a_state_saved_before_the_position_was() -> None:
    ids = np.arange(200) % 7
    s = tasks.TextStream(ids, 2, 5, rng=np.random.default_rng(0))
    h, c = np.ones((1, 2, 3)), np.zeros((1, 2, 3))
    s.load_state_dict({"state": [h, c]})  # the format of earlier checkpoints
    next(s.iter_batches(np.array([0]), start=4))
    assert s.stream is not None and s.stream.index == 4
    assert isinstance(s.stream.state, tuple)
    np.testing.assert_array_equal(s.stream.state[0].data, h)
